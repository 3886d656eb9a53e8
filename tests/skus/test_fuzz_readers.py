"""The three SKU readers (Fee Preview TSV, CSV, .xlsx) under Hypothesis (#18): whatever the bytes, the
answer is the SKUs or a SkuFileError naming what is wrong, never another exception, in bounded memory."""

from __future__ import annotations

import io
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from support.sku_files import SMALL, fee_preview, fee_preview_row

from bot.i18n import to_plain_text
from bot.skus.read import SkuFile, SkuFileError, read_sku_file

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = st.sampled_from(["Fee Preview.txt", "skus.csv", "skus.xlsx", "report", "商品.csv"])
# What a cell of a sheet can hold, formulas and error values included.
CELLS = st.one_of(
    st.none(),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30),  # what Excel can store
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["=1/0", "=SUM(A1:A9)", "#DIV/0!", '=HYPERLINK("x")', "--", "1e999999", "-0"]),
)


def read_or_refuse(data: bytes, name: str) -> SkuFile | None:
    """The reader's answer; a refusal must carry a message in both languages."""
    try:
        return read_sku_file(data, name)
    except SkuFileError as error:
        assert to_plain_text(error.message("en")) and to_plain_text(error.message("zh"))
        return None


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


TSV = fee_preview([fee_preview_row("A1", "Apparel", "15.00", SMALL, "2", "ounces")])
XLSX = workbook([["sku", "category", "price"], ["A1", "apparel", 15], ["A2", "beauty", 9.5]])


@FUZZ
@given(st.binary(max_size=4096), NAMES)
def test_random_bytes(data: bytes, name: str) -> None:
    read_or_refuse(data, name)


@FUZZ
@given(st.sampled_from([TSV, XLSX, b"sku,category,price\nA1,apparel,15\n"]), st.data())
def test_truncated_and_flipped_files(original: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(original)))
    name = "skus.xlsx" if original is XLSX else "skus.txt"
    read_or_refuse(original[:cut], name)
    position = data.draw(st.integers(0, len(original) - 1))
    flipped = bytearray(original)
    flipped[position] ^= data.draw(st.integers(1, 255))
    read_or_refuse(bytes(flipped), name)


@FUZZ
@given(
    st.text(alphabet=st.sampled_from("sku,categorypri\t\n\r\"'价格类目 \x00\ufeff"), max_size=300),
    st.sampled_from(["utf-8", "utf-16", "gbk", "cp1252", "utf-8-sig", "latin-1"]),
)
def test_text_in_any_encoding(text: str, encoding: str) -> None:
    read_or_refuse(text.encode(encoding, errors="replace"), "skus.csv")
    read_or_refuse(("sku\tcategory\tprice\n" + text).encode(encoding, errors="replace"), "report.txt")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(CELLS, max_size=6), max_size=6))
def test_xlsx_cells_of_any_kind(rows: list[list[object]]) -> None:
    header: list[object] = ["sku", "category", "price", "weight", "unit_of_weight"]
    read_or_refuse(workbook([header, *rows]), "skus.xlsx")


def test_hundred_thousand_columns_in_each_reader_in_bounded_memory() -> None:
    wide = ["sku", "category", "price", *(f"c{i}" for i in range(100_000))]
    files = {
        "wide.csv": (",".join(wide) + "\nA1,apparel,15\n").encode(),
        "wide.txt": ("\t".join(wide) + "\nA1\tapparel\t15\n").encode(),
        "wide.xlsx": workbook([wide[:16_384], ["A1", "apparel", 15]]),  # Excel's most: 16,384 columns
    }
    for name, data in files.items():
        tracemalloc.start()
        try:
            assert read_or_refuse(data, name) is None, name
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 100 * 1024 * 1024, (name, peak)
