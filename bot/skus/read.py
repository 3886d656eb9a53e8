"""Read a seller's SKU file: Amazon's Fee Preview report (tab-separated), a CSV (UTF-8 or GBK), an .xlsx.

Headers are matched by name, not position: any letter case, spaces, hyphens or underscores, English or
Chinese (`COLUMN_NAMES`). Unknown columns are ignored. A bad value stops the import with the row and the
column named (`SkuFileError`, a UserInputError), so nothing is half-imported.

A price is Money from the moment it is read: the row's marketplace decides its currency, and a
`currency` column, where the file has one, must agree. European exports write decimal commas (`12,5`),
often with `;` between columns: a `;`-separated file reads every comma as a decimal comma; elsewhere
`12,5` and `0,125` are decimal commas and `1,234` a thousands separator. An unquoted `12,5` in a
comma-separated file splits into two cells: the row is refused with exactly that reason.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.catalog import LENGTH_UNITS, WEIGHT_UNITS, to_inches, to_pounds
from bot.money import Money
from bot.skus.errors import SkuFileError
from bot.skus.limits import (
    DEFAULT_LIMITS,
    UploadLimits,
    bounded_rows,
    check_size,
    check_xlsx_archive,
    readable_xlsx,
)

__all__ = [
    "MARKETPLACE_CURRENCY",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "SkuFile",
    "SkuFileError",
    "SkuRow",
    "parse_amount",
    "read_sku_file",
]

MAX_FILE_BYTES = DEFAULT_LIMITS.max_bytes  # the default upload limits: bot/skus/limits.py
MAX_ROWS = DEFAULT_LIMITS.max_rows
MAX_PRICE = Decimal(1_000_000)
MAX_SIDE = Decimal(10_000)
MAX_WEIGHT = Decimal(100_000)

# Our field -> the header names sellers and Amazon use for it (folded: lower case, "_" for - and space).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "seller_sku", "msku", "merchant_sku", "卖家sku", "商品sku", "sku编码"),
    "asin": ("asin",),
    "name": ("product_name", "name", "title", "item_name", "商品名称", "品名", "名称", "标题"),
    "category": ("category", "product_group", "fee_category", "类目", "品类", "分类", "商品类目"),
    "price": ("sales_price", "price", "your_price", "售价", "价格", "单价", "销售价"),
    "list_price": ("your_price",),
    "marketplace": ("marketplace", "amazon_store", "store", "site", "站点", "市场", "国家"),
    "currency": ("currency", "币种", "货币"),
    "size_tier": ("size_tier", "product_size_tier", "product_size_weight_band", "尺寸分段", "尺寸"),
    "longest": ("longest_side", "length", "长", "长度", "最长边"),
    "median": ("median_side", "width", "宽", "宽度", "次长边"),
    "shortest": ("shortest_side", "height", "高", "高度", "最短边"),
    "dimension_unit": ("unit_of_dimension", "dimension_unit", "length_unit", "尺寸单位", "长度单位"),
    "weight": ("item_package_weight", "weight", "package_weight", "重量", "包装重量"),
    "weight_unit": ("unit_of_weight", "weight_unit", "重量单位"),
    "monthly_units": ("monthly_units", "units_per_month", "月销量", "月销售量"),
    "days_of_supply": ("days_of_supply", "historical_days_of_supply", "供货天数", "库存天数", "可售天数"),
    # The fulfilment fee the Fee Preview report states: US, UK and Europe name it; Canada's report gives
    # only its two parts, pick-pack and weight handling (the US report gives both, and their sum).
    # A seller's own file may carry the same figure (used, like the report's, where we hold no card).
    "report_fba_fee": (
        "expected_fulfillment_fee_per_unit",
        "expected_domestic_fulfilment_fee_per_unit",
        "fba_fee",
        "fulfillment_fee",
        "fulfilment_fee",
        "fba费用",
        "配送费",
        "fba配送费",
    ),
    "report_pick_pack": ("estimated_pick_pack_fee_per_unit",),
    "report_weight_handling": ("estimated_weight_handling_fee_per_unit",),
}
REQUIRED = ("sku", "category", "price")

# Units as Amazon's report and sellers write them.
UNIT_WORDS = {
    "in": "in", "inch": "in", "inches": "in", "英寸": "in",
    "cm": "cm", "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "厘米": "cm",
    "mm": "mm", "millimeter": "mm", "millimeters": "mm", "毫米": "mm",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "磅": "lb",
    "oz": "oz", "ounce": "oz", "ounces": "oz", "盎司": "oz",
    "kg": "kg", "kilogram": "kg", "kilograms": "kg", "公斤": "kg", "千克": "kg",
    "g": "g", "gram": "g", "grams": "g", "克": "g",
}  # fmt: skip
# What Amazon's reports (and sellers) put in a cell for "no value": read as an empty cell.
NOT_AVAILABLE = frozenset({"--", "-", "—", "n/a", "na", "none", "null"})
# Each marketplace's currency: it decides the currency of every amount of a SKU sold there.
MARKETPLACE_CURRENCY = {
    "US": "USD", "UK": "GBP", "DE": "EUR", "FR": "EUR", "IT": "EUR", "ES": "EUR",
    "CA": "CAD", "MX": "MXN", "JP": "JPY", "EU": "EUR",
}  # fmt: skip
# A file without a marketplace column (Amazon's Fee Preview reports have none): its currency names the
# marketplace. The euro names the European stores DE, FR, IT and ES as one, "EU": they share one referral
# schedule and one fuel surcharge, and the Europe variant of the report does not say which store it is.
CURRENCY_MARKETPLACE = {"USD": "US", "GBP": "UK", "CAD": "CA", "MXN": "MX", "JPY": "JP", "EUR": "EU"}
# How sellers and Amazon write a currency in a `currency` cell.
CURRENCY_WORDS = {
    "usd": "USD", "$": "USD", "us$": "USD", "美元": "USD", "gbp": "GBP", "£": "GBP", "英镑": "GBP",
    "eur": "EUR", "€": "EUR", "欧元": "EUR", "cad": "CAD", "c$": "CAD", "加元": "CAD",
    "mxn": "MXN", "墨西哥比索": "MXN", "jpy": "JPY", "円": "JPY", "日元": "JPY",
}  # fmt: skip
MARKETPLACE_WORDS = {
    "us": "US", "usa": "US", "amazon.com": "US", "美国": "US", "美国站": "US",
    "uk": "UK", "gb": "UK", "amazon.co.uk": "UK", "英国": "UK", "英国站": "UK",
    "de": "DE", "amazon.de": "DE", "德国": "DE", "fr": "FR", "amazon.fr": "FR", "法国": "FR",
    "it": "IT", "amazon.it": "IT", "意大利": "IT", "es": "ES", "amazon.es": "ES", "西班牙": "ES",
    "ca": "CA", "amazon.ca": "CA", "加拿大": "CA", "mx": "MX", "amazon.com.mx": "MX", "墨西哥": "MX",
    "jp": "JP", "amazon.co.jp": "JP", "日本": "JP", "eu": "EU", "europe": "EU", "欧洲": "EU", "欧洲站": "EU",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SkuRow:
    row: int  # the line (or sheet row) in the file, header = 1
    sku: str
    category: str  # as written: an Amazon product-group or the seller's own word
    price: Money  # in the marketplace's currency
    marketplace: str
    asin: str | None = None
    name: str | None = None
    size_tier: str | None = None
    # Sides sorted longest first, in inches; weight in pounds. None when the file does not give them.
    longest: Decimal | None = None
    median: Decimal | None = None
    shortest: Decimal | None = None
    weight_lb: Decimal | None = None
    monthly_units: int | None = None
    days_of_supply: Decimal | None = None
    # The fulfilment fee per unit a Fee Preview report states (its own estimate), where it states one.
    report_fba_fee: Money | None = None

    @property
    def currency(self) -> str:
        """The currency of every amount of this SKU: its marketplace's."""
        return self.price.currency


@dataclass(frozen=True, slots=True)
class SkuFile:
    kind: str  # "fee-preview", "csv", "xlsx"
    rows: list[SkuRow]
    ignored_columns: list[str]


def _fold(header: str) -> str:
    return re.sub(r"[\s\-_/]+", "_", header.strip().strip("\ufeff").casefold()).strip("_")


_LOOKUP = {name: field for field, names in COLUMN_NAMES.items() for name in names if field != "list_price"}


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Our field -> its column index (the first column naming it), and the header names we ignore."""
    found: dict[str, int] = {}
    ignored = []
    for index, name in enumerate(header):
        folded = _fold(name)
        if folded == "your_price":
            found.setdefault("list_price", index)
            continue
        field = _LOOKUP.get(folded)
        if field is None:
            if name.strip():
                ignored.append(name.strip())
            continue
        found.setdefault(field, index)
    return found, ignored


# Header names only Amazon's reports have: a tab-separated file with one of them is Amazon's export.
_AMAZON_REPORT_COLUMNS = (b"fnsku", b"product-group", b"expected-fulfillment-fee", b"estimated-fee-total")


def _is_utf16(data: bytes) -> bool:
    """Excel's "Unicode Text" (a Fee Preview report opened and saved in Excel): UTF-16 with a BOM."""
    return data[:2] in (b"\xff\xfe", b"\xfe\xff")


def _decode(data: bytes) -> str:
    if _is_utf16(data):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SkuFileError("skus_encoding") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Amazon's own tab-separated reports that are not UTF-8 are Windows-1252 (names such as "Crème");
    # a Chinese Excel CSV is GBK (GB18030 is its superset). The header, plain ASCII, tells them apart.
    first = data.split(b"\n", 1)[0].lower()
    if b"\t" in first and first.isascii() and any(mark in first for mark in _AMAZON_REPORT_COLUMNS):
        return data.decode("cp1252", errors="replace")
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SkuFileError("skus_encoding") from None


def _text_rows(data: bytes) -> tuple[str, str, Iterator[list[str]]]:
    """The file's kind, its column separator and its rows."""
    text = _decode(data)
    first = text[:65536].split("\n", 1)[0]  # a bounded sample: a huge first line cannot make this slow
    tabs, commas, semicolons = first.count("\t"), first.count(","), first.count(";")
    if tabs >= max(1, commas, semicolons):
        delimiter = "\t"
    elif semicolons > commas:
        delimiter = ";"  # a European export: its commas are decimal commas
    else:
        delimiter = ","
    kind = "fee-preview" if delimiter == "\t" else "csv"
    return kind, delimiter, iter(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # only .xlsx imports need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SkuFileError("skus_bad_xlsx", error=str(error)[:200]) from None
    sheet = book.worksheets[0]
    sheet.reset_dimensions()  # a sheet's declared size can pad every row to 16,384 empty columns
    try:
        for values in sheet.iter_rows(values_only=True):
            yield ["" if value is None else _cell_text(value) for value in values]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float):
        # Excel stores 18.99 as a binary float; repr gives its shortest exact decimal form.
        return repr(value).removesuffix(".0") if value.is_integer() else repr(value)
    return str(value)


def _looks_binary(data: bytes) -> bool:
    head = data[:4096]
    return b"\x00" in head


def read_sku_file(data: bytes, file_name: str, limits: UploadLimits = DEFAULT_LIMITS) -> SkuFile:
    """The SKUs in a file, or SkuFileError (UploadRefused past a limit) naming what is wrong and where."""
    check_size(len(data), limits)
    if not data.strip():
        raise SkuFileError("skus_empty_file")
    lower = file_name.casefold()
    delimiter = ""
    if data[:4] == b"PK\x03\x04" or lower.endswith((".xlsx", ".xlsm")):
        check_xlsx_archive(data, limits)
        kind, rows = "xlsx", readable_xlsx(_xlsx_rows(data))
    elif lower.endswith((".xls", ".pdf", ".png", ".jpg", ".jpeg", ".zip", ".doc", ".docx")) or (
        _looks_binary(data) and not _is_utf16(data)
    ):
        raise SkuFileError("skus_wrong_type", name=file_name)
    else:
        kind, delimiter, rows = _text_rows(data)
    rows = bounded_rows(rows, limits)
    try:
        header = next(rows)
    except StopIteration:
        raise SkuFileError("skus_empty_file") from None
    except csv.Error as error:
        raise SkuFileError("skus_bad_text", row=1, error=str(error)) from None
    columns, ignored = _columns(header)
    if not columns:
        raise SkuFileError("skus_no_header", first=", ".join(h for h in header[:5] if h)[:120])
    missing = [field for field in REQUIRED if field not in columns and not _has_fallback(field, columns)]
    if missing:
        raise SkuFileError("skus_missing_columns", columns=", ".join(missing), found=", ".join(header[:12]))
    parsed: list[SkuRow] = []
    seen: dict[str, int] = {}
    line = 1
    try:
        for values in rows:
            line += 1
            if not any(value.strip() for value in values):
                continue
            if len(parsed) >= MAX_ROWS:
                raise SkuFileError("skus_too_many_rows", limit=f"{MAX_ROWS:,}")
            if (
                delimiter == ","
                and len(values) > len(header)
                and any(v.strip() for v in values[len(header) :])
            ):
                raise SkuFileError(
                    "skus_split_decimal_comma", row=line, cells=len(values), columns=len(header)
                )
            row = _row(line, values, columns, header, decimal_comma=delimiter == ";")
            if row.sku in seen:
                raise SkuFileError("skus_duplicate", sku=row.sku, row=line, first=seen[row.sku])
            seen[row.sku] = line
            parsed.append(row)
    except csv.Error as error:
        raise SkuFileError("skus_bad_text", row=line, error=str(error)) from None
    if not parsed:
        raise SkuFileError("skus_no_rows")
    return SkuFile(kind, parsed, ignored)


def _has_fallback(field: str, columns: dict[str, int]) -> bool:
    return field == "price" and "list_price" in columns


class _Cells:
    """The cells of one row by field, with the row and column for error messages."""

    def __init__(
        self, line: int, values: list[str], columns: dict[str, int], header: list[str], decimal_comma: bool
    ) -> None:
        self.line, self.values, self.columns, self.header = line, values, columns, header
        self.decimal_comma = decimal_comma

    def text(self, field: str) -> str:
        index = self.columns.get(field)
        if index is None or index >= len(self.values):
            return ""
        return self.values[index].strip()

    def column(self, field: str) -> str:
        return self.header[self.columns[field]].strip()

    def value(self, field: str) -> str:
        """The cell's text, empty where the file says "no value" ("--" in Amazon's reports)."""
        raw = self.text(field)
        return "" if raw.casefold() in NOT_AVAILABLE else raw

    def number(self, field: str, limit: Decimal) -> Decimal | None:
        raw = self.value(field)
        if not raw:
            return None
        value = parse_amount(raw, self.decimal_comma)
        if value is None or not value.is_finite():
            raise SkuFileError("skus_not_a_number", row=self.line, column=self.column(field), value=raw)
        if value < 0:
            raise SkuFileError("skus_negative", row=self.line, column=self.column(field), value=raw)
        if value > limit:
            raise SkuFileError("skus_too_large", row=self.line, column=self.column(field), value=raw)
        return value

    def unit(self, field: str, allowed: dict[str, Decimal]) -> str | None:
        raw = self.value(field)
        if not raw:
            return None
        unit = UNIT_WORDS.get(raw.casefold())
        if unit is None or unit not in allowed:
            raise SkuFileError("skus_bad_unit", row=self.line, column=self.column(field), value=raw)
        return unit


# A price as written: an optional currency sign or code before or after, then the figure.
_CURRENCY_MARK = re.compile(r"^(?:us\$|c\$|\$|£|€|¥|￥|usd|gbp|eur|cad)\s*|\s*(?:€|£|\$|usd|gbp|eur|cad)$")
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}|0,\d+|\d{1,3}(?:\.\d{3})+,\d+")  # 12,5 / 0,125 / 1.234,56
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 1,234 / 1,234.50


def parse_amount(raw: str, decimal_comma: bool = False) -> Decimal | None:
    """A figure as sellers' files write it, or None: "12.5", "$1,234.50", "12,5", "1.234,56", "2,60 €".

    With `decimal_comma` (a `;`-separated file) every comma is a decimal comma and dots group thousands.
    """
    text = _CURRENCY_MARK.sub("", raw.strip().casefold()).replace(" ", "").replace("\u00a0", "")
    if (decimal_comma and "," in text) or _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(".", "").replace(",", ".")
    elif _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _row(
    line: int, values: list[str], columns: dict[str, int], header: list[str], decimal_comma: bool = False
) -> SkuRow:
    cells = _Cells(line, values, columns, header, decimal_comma)
    sku = cells.text("sku")
    if not sku:
        raise SkuFileError("skus_missing_value", row=line, column=cells.column("sku"))
    price = cells.number("price", MAX_PRICE) if "price" in columns else None
    if price is None and "list_price" in columns:
        price = cells.number("list_price", MAX_PRICE)
    if price is None:
        column = cells.column("price") if "price" in columns else cells.column("list_price")
        raise SkuFileError("skus_missing_value", row=line, column=column)
    if price == 0:
        raise SkuFileError("skus_zero_price", row=line, column=cells.column("price"))
    marketplace, currency = _marketplace_and_currency(cells)
    sides = [cells.number(field, MAX_SIDE) for field in ("longest", "median", "shortest")]
    weight = cells.number("weight", MAX_WEIGHT)
    longest = median = shortest = weight_lb = None
    # A side or weight of 0 is a product not measured yet, not a package of no size: its FBA fee is
    # then not included rather than computed for the smallest tier.
    if all(side is not None and side > 0 for side in sides):
        unit = cells.unit("dimension_unit", LENGTH_UNITS)
        if unit is None:
            raise SkuFileError("skus_missing_unit", row=line, what="unit_of_dimension")
        inches = sorted((to_inches(side, unit) for side in sides if side is not None), reverse=True)
        longest, median, shortest = inches
    if weight is not None and weight > 0:
        unit = cells.unit("weight_unit", WEIGHT_UNITS)
        if unit is None:
            raise SkuFileError("skus_missing_unit", row=line, what="unit_of_weight")
        weight_lb = to_pounds(weight, unit)
    units = cells.number("monthly_units", Decimal(100_000_000))
    days = cells.number("days_of_supply", Decimal(100_000))
    return SkuRow(
        row=line,
        sku=sku[:100],
        category=cells.text("category")[:100],
        price=Money(price, currency),
        marketplace=marketplace,
        asin=cells.text("asin")[:20] or None,
        name=cells.text("name")[:200] or None,
        size_tier=cells.value("size_tier")[:60] or None,
        longest=longest,
        median=median,
        shortest=shortest,
        weight_lb=weight_lb,
        monthly_units=int(units) if units is not None else None,
        days_of_supply=days,
        report_fba_fee=_report_fba_fee(cells, currency),
    )


def _report_fba_fee(cells: _Cells, currency: str) -> Money | None:
    """The report's own fulfilment fee: its total where it states one, else pick-pack + weight handling."""
    # A fee of 0 is the report's "not applicable" (as "--" is): not a fulfilment that costs nothing.
    stated = cells.number("report_fba_fee", MAX_PRICE)
    if stated:
        return Money(stated, currency)
    parts = [cells.number(field, MAX_PRICE) for field in ("report_pick_pack", "report_weight_handling")]
    total = sum((part for part in parts if part is not None), Decimal(0))
    return Money(total, currency) if total else None


def _marketplace_and_currency(cells: _Cells) -> tuple[str, str]:
    """The row's marketplace, and its currency, which a `currency` cell may state but must agree with."""
    written = cells.value("currency")
    stated = CURRENCY_WORDS.get(written.casefold()) if written else None
    if written and stated is None:
        raise SkuFileError(
            "skus_bad_currency", row=cells.line, column=cells.column("currency"), value=written
        )
    raw = cells.value("marketplace")
    if raw:
        found = MARKETPLACE_WORDS.get(raw.casefold())
        if found is None:
            raise SkuFileError(
                "skus_bad_marketplace", row=cells.line, column=cells.column("marketplace"), value=raw
            )
        marketplace = found
    elif stated is None:
        marketplace = "US"  # a plain list of prices with neither column: Amazon.com, as /start says
    else:
        marketplace = CURRENCY_MARKETPLACE[stated]
    currency = MARKETPLACE_CURRENCY[marketplace]
    if stated is not None and stated != currency:
        raise SkuFileError(
            "skus_currency_disagrees",
            row=cells.line,
            column=cells.column("currency"),
            value=written,
            marketplace=marketplace,
            currency=currency,
        )
    return marketplace, currency
