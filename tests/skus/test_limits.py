"""Upload limits (#18): each hostile file is refused with a message naming the limit, in both languages,
and the SKUs on record stay as they were."""

from __future__ import annotations

import io
import os
import re
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.cli import main
from bot.i18n import t, to_plain_text
from bot.skus.limits import UploadLimits, UploadRefused, check_xlsx_archive, sniff_delimiter
from bot.skus.read import SkuFileError, read_sku_file
from bot.skus.records import SkuRecords
from bot.store import Store

# A row at the sheet's very last line number, Excel's row 1,048,576.
LAST_ROW = (
    '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>Z9</t></is></c>'
    '<c r="B1048576" t="inlineStr"><is><t>apparel</t></is></c><c r="C1048576"><v>15</v></c></row>'
)
GOOD = b"sku,category,price\nA1,apparel,15\nA2,beauty,9\n"


def message(error: SkuFileError, lang: str = "en") -> str:
    return to_plain_text(error.message(lang))


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_sheet_xml(data: bytes, edit: object) -> bytes:
    """The .xlsx `data` with its first sheet's XML passed through `edit` (a str -> str function)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = edit(content.decode()).encode()  # type: ignore[operator]
            target.writestr(entry.filename, content)
    return out.getvalue()


def test_size_cap_names_the_limit_in_both_languages() -> None:
    limits = UploadLimits(max_bytes=1024)
    data = GOOD + b"".join(b"B%04d,apparel,15\n" % i for i in range(100))
    with pytest.raises(UploadRefused) as caught:
        read_sku_file(data, "a.csv", limits)
    assert "larger than 1 KB" in message(caught.value)
    assert "超过 1 KB" in message(caught.value, "zh")
    assert "earlier SKUs are unchanged" in message(caught.value)
    at_limit = data[: data.rindex(b"\n", 0, 1024) + 1]
    assert len(read_sku_file(at_limit, "a.csv", limits).rows) > 2  # within the limit: read


def test_default_size_cap_is_below_telegrams_twenty_megabytes() -> None:
    assert UploadLimits().max_bytes == 10 * 1024 * 1024
    data = b"sku,category,price\n" + b"A,apparel,15\n" * (10 * 1024 * 1024 // 13 + 1)
    with pytest.raises(UploadRefused) as caught:
        read_sku_file(data, "a.csv")
    assert "larger than 10 MB" in message(caught.value)


def test_row_cap_counts_sku_rows_not_blank_ones() -> None:
    limits = UploadLimits(max_rows=2)
    assert len(read_sku_file(GOOD + b"\n\n,,\n", "a.csv", limits).rows) == 2
    with pytest.raises(UploadRefused) as caught:
        read_sku_file(GOOD + b"A3,apparel,15\n", "a.csv", limits)
    assert message(caught.value).endswith("the file has more than 2 rows.")
    assert "超过 2 行" in message(caught.value, "zh")


def test_hundred_thousand_columns_refused_in_bounded_memory() -> None:
    header = "sku,category,price," + ",".join(f"c{i}" for i in range(100_000))
    data = (header + "\nA1,apparel,15\n").encode()
    tracemalloc.start()
    try:
        with pytest.raises(UploadRefused) as caught:
            read_sku_file(data, "wide.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "row 1 has more than 1,000 columns" in message(caught.value)
    assert "第 1 行超过 1,000 列" in message(caught.value, "zh")
    assert peak < 64 * 1024 * 1024


def test_wide_xlsx_row_is_refused_and_padding_is_not_counted() -> None:
    wide = xlsx([["sku", "category", "price", *[f"c{i}" for i in range(1_100)]], ["A1", "apparel", 15]])
    with pytest.raises(UploadRefused) as caught:
        read_sku_file(wide, "wide.xlsx")
    assert "more than 1,000 columns" in message(caught.value)
    # A sheet that declares the largest range Excel has (A1:XFD1048576) is read as the rows it holds.
    padded = with_sheet_xml(
        xlsx([["sku", "category", "price"], ["A1", "apparel", 15]]),
        lambda text: re.sub(r'<dimension ref="[^"]*" ?/>', '<dimension ref="A1:XFD1048576"/>', text).replace(
            "</sheetData>", f"{LAST_ROW}</sheetData>"
        ),
    )
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(padded)).read("xl/worksheets/sheet1.xml")
    # (Read by the declared range, the million rows between would each be 16,384 cells: hours.)
    assert [row.sku for row in read_sku_file(padded, "padded.xlsx").rows] == ["A1", "Z9"]


def test_cell_cap_names_row_and_column() -> None:
    data = b"sku,category,price,name\nA1,apparel,15,ok\nA2,apparel,15," + b"x" * 5_001 + b"\n"
    with pytest.raises(UploadRefused) as caught:
        read_sku_file(data, "a.csv")
    assert "row 3, column 4: the cell holds more than 5,000 characters" in message(caught.value)
    assert "第 3 行第 4 列" in message(caught.value, "zh")


def test_zip_bomb_refused_from_the_directory_before_openpyxl() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    data = bomb.getvalue()
    assert len(data) < 100_000
    with pytest.raises(UploadRefused) as caught:
        read_sku_file(data, "bomb.xlsx")
    assert "“xl/worksheets/sheet1.xml” is compressed more than 100 times" in message(caught.value)
    assert "压缩比超过 100 倍" in message(caught.value, "zh")


def test_unpacked_size_cap() -> None:
    data = xlsx([["sku", "category", "price"], *[[f"S{i}", os.urandom(8).hex(), 15] for i in range(3000)]])
    limits = UploadLimits(max_unpacked_bytes=100 * 1024)
    with pytest.raises(UploadRefused) as caught:
        check_xlsx_archive(data, limits)
    assert "would unpack to more than 100 KB" in message(caught.value)
    assert len(read_sku_file(data, "ok.xlsx").rows) == 3000


def test_formula_cells_are_values_or_missing() -> None:
    data = xlsx([["sku", "category", "price"], ["A1", "apparel", "=10+5"]])
    with pytest.raises(SkuFileError) as caught:
        read_sku_file(data, "formula.xlsx")  # no cached value: openpyxl never evaluates a formula
    assert "row 2, column “price”: the value is missing" in message(caught.value)


def test_sniffing_reads_a_bounded_sample() -> None:
    assert sniff_delimiter("a\tb\tc\n1,2") == "\t"
    assert sniff_delimiter("a,b,c\tx\n") == ","
    # No line break at all: the first 64 KB decide, the rest is never scanned.
    assert sniff_delimiter("a," * 40_000 + "\t" * 100_000) == ","


def test_refused_upload_keeps_the_skus_on_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "bot.db"
    good, bomb = tmp_path / "good.csv", tmp_path / "wide.csv"
    good.write_bytes(GOOD)
    bomb.write_bytes(("sku,category,price," + ",".join("c" * 3 for _ in range(2_000)) + "\n").encode())
    assert main(["skus", "import", str(good), "--chat", "7", "--db", str(db), "--lang", "en"]) == 0
    status = main(["skus", "import", str(bomb), "--chat", "7", "--db", str(db), "--lang", "en"])
    assert status == 2
    assert "more than 1,000 columns" in capsys.readouterr().err
    with Store(db) as store:
        assert [row.sku for row in SkuRecords(store).rows(7)] == ["A1", "A2"]


def test_limits_come_from_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "bot.db"\n\n[skus]\nmax_rows = 1\n', encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)
    status = main(["skus", "import", str(good), "--chat", "7", "--config", str(config), "--lang", "zh"])
    assert status == 2
    assert "文件超过 1 行" in capsys.readouterr().err
    assert t("en", "skus_limit_cell", row=1, column=2, limit="5")  # every new key exists in both
    assert t("zh", "skus_limit_unpacked", limit="1 MB")
