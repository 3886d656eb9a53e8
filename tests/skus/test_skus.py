"""A seller's SKUs: reading Fee Preview / CSV / .xlsx files, bad files, per-chat storage, and the impact of
fee changes checked against hand computations from the policy files (price-band boundaries included)."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import POLICIES, context
from openpyxl import Workbook
from support.sku_files import SMALL, fee_preview, fee_preview_row

from bot.answers.cards import ChatContext
from bot.catalog.load import Catalog, load_catalog
from bot.cli import main
from bot.i18n import t, to_plain_text
from bot.money import Money
from bot.reminders.outbox import Delivery
from bot.reminders.text import render_digest
from bot.skus.categories import CategoryMapper
from bot.skus.impact import FeeChange, FeeModel, fee_changes, impact_of
from bot.skus.personal import ImpactLineCache, ImpactLines, coming_lines
from bot.skus.read import SkuFile, SkuFileError, SkuRow, read_sku_file
from bot.skus.records import SkuRecords, skus_version
from bot.skus.text import choose_change, impact_detail, impact_line
from bot.store import ChatSettings, Store


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def change_on(catalog: Catalog, day: dt.date) -> FeeChange:
    return next(change for change in fee_changes(catalog) if change.day == day)


def message(error: SkuFileError) -> str:
    return to_plain_text(t("en", error.key, **error.values))


# --- reading files ---


def test_fee_preview_as_exported() -> None:
    data = fee_preview(
        [
            fee_preview_row("A1", "Apparel", "15.00", SMALL, "2", "ounces"),
            fee_preview_row(
                "B2", "Home", "24.99", ("30.48", "20.32", "2.54"), "0.5", "kilograms", "centimeters"
            ),
        ]
    )
    file = read_sku_file(data, "Fee Preview.txt")
    assert file.kind == "fee-preview"
    first, second = file.rows
    assert (first.sku, first.category, first.price, first.marketplace) == (
        "A1",
        "Apparel",
        usd("15.00"),
        "US",
    )
    assert first.weight_lb == Decimal("0.125") and first.longest == Decimal(6)
    assert second.longest == Decimal(12) and second.shortest == Decimal(1)  # cm -> in
    assert round(second.weight_lb or Decimal(0), 4) == Decimal("1.1023")  # kg -> lb
    assert "fnsku" in file.ignored_columns and "sku" not in file.ignored_columns


def test_fee_preview_european_variant() -> None:
    header = (
        "sku\tfnsku\tasin\tamazon-store\tproduct-name\tproduct-group\tyour-price\tsales-price\tcurrency\t"
    )
    header += "product-size-weight-band\texpected-domestic-fulfilment-fee-per-unit"
    data = (header + "\nS1\tF\tB\tDE\tName\tBeauty\t12.00\t\tEUR\tSmall envelope\t2.00\n").encode()
    row = read_sku_file(data, "report.txt").rows[0]
    assert (row.marketplace, row.price, row.size_tier) == (
        "DE",
        Money(Decimal("12.00"), "EUR"),
        "Small envelope",
    )


def test_fee_preview_variants_not_available_unmeasured_and_unicode_text() -> None:
    rows = [
        fee_preview_row("A1", "Apparel", "15.00", SMALL, "2", "ounces"),
        # Not measured yet: "--" for the sides and tier, 0 for the weight; no sale price: "--".
        fee_preview_row("B2", "Home", "24.99", ("--", "--", "--"), "0", "pounds").replace(
            "Small Standard", "--"
        ),
        fee_preview_row("C3", "Toy", "9.99", ("0", "0", "0"), "--", "--"),
    ]
    rows[1] = rows[1].replace("\t24.99\t24.99\t", "\t24.99\t--\t")
    data = fee_preview(rows)
    first, second, third = read_sku_file(data, "Fee Preview.txt").rows
    assert first.longest == Decimal(6) and first.weight_lb == Decimal("0.125")
    assert second.price == usd("24.99")  # "--" sale price: the listed price
    assert (second.longest, second.weight_lb, second.size_tier) == (None, None, None)
    assert (third.longest, third.weight_lb) == (None, None)  # 0 x 0 x 0 is not measured, not tiny
    # Opened in Excel and saved as "Unicode Text": UTF-16 with a BOM, the same rows.
    unicode_text = data.decode().encode("utf-16")
    assert read_sku_file(unicode_text, "Fee Preview.txt").rows == [first, second, third]
    # Amazon's report in Windows-1252 (not UTF-8): names keep their accents; a GBK CSV stays GBK.
    latin = fee_preview([fee_preview_row("D4", "Beauty", "12.00", SMALL, "2", "ounces")])
    latin = latin.replace(b"Item D4", "Crème brûlée".encode("cp1252"))
    assert read_sku_file(latin, "Fee Preview.txt").rows[0].name == "Crème brûlée"
    # An amazon-store column with the store's domain.
    mexico = b"sku\tamazon-store\tproduct-group\tyour-price\nM1\tamazon.com.mx\tToy\t199\n"
    assert read_sku_file(mexico, "report.txt").rows[0].marketplace == "MX"


def test_unmeasured_sku_has_its_fba_fee_not_included(catalog: Catalog) -> None:
    rows = read_sku_file(
        fee_preview([fee_preview_row("Z", "Apparel", "20.00", ("0", "0", "0"), "0", "pounds")]), "f.txt"
    ).rows
    result = impact_of(FeeModel(catalog), change_on(catalog, dt.date(2026, 1, 15)), rows)
    assert [row.sku for row in result.not_included["fba"]] == ["Z"] and not result.affected


def test_csv_chinese_headers_in_gbk() -> None:
    text = "SKU,类目,售价,站点,月销量,长,宽,高,尺寸单位,重量,重量单位\n"
    text += "女装-01,服装,19.99,美国,120,10,8,1,cm,200,克\n"
    row = read_sku_file(text.encode("gbk"), "商品.csv").rows[0]
    assert (row.sku, row.category, row.price, row.marketplace) == ("女装-01", "服装", usd("19.99"), "US")
    assert row.monthly_units == 120 and row.longest is not None and row.weight_lb is not None


def test_header_case_spaces_and_underscores() -> None:
    data = b"SKU,Category,Price,Monthly Units,DAYS_OF_SUPPLY\nx,apparel,9.99,5,12\n"
    row = read_sku_file(data, "a.csv").rows[0]
    assert row.monthly_units == 5 and row.days_of_supply == Decimal(12)


def test_xlsx_sheet() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "category", "price", "marketplace", "monthly_units"])
    sheet.append(["X-1", "Apparel", 18.99, "US", 40])
    sheet.append(["X-2", "Jewelry", 20, "US", None])
    buffer = io.BytesIO()
    book.save(buffer)
    file = read_sku_file(buffer.getvalue(), "skus.xlsx")
    assert file.kind == "xlsx"
    assert [(r.sku, r.price, r.monthly_units) for r in file.rows] == [
        ("X-1", usd("18.99"), 40),
        ("X-2", usd("20"), None),
    ]


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png", "not a table"),
        (b"%PDF-1.4 ...", "report.pdf", "not a table"),
        (b"A1,apparel,15\nA2,apparel,16\n", "a.csv", "not a header"),
        (b"foo,bar,baz\n1,2,3\n", "a.csv", "not a header"),
        (b"sku,price\nA1,15\n", "a.csv", "lacks the column(s) category"),
        (
            b"sku,category,price\nA1,apparel,fifteen\n",
            "a.csv",
            "row 2, column “price”: “fifteen” is not a number",
        ),
        (
            b"sku,category,price\nA1,apparel,15\nA2,apparel,-3\n",
            "a.csv",
            "row 3, column “price”: “-3” is negative",
        ),
        (b"sku,category,price\nA1,apparel,0\n", "a.csv", "row 2, column “price”: the price is 0"),
        (
            b"sku,category,price,length,width,height,unit_of_dimension\nA1,apparel,15,1,2,3,furlongs\n",
            "a.csv",
            "row 2, column “unit_of_dimension”: “furlongs” is not a unit",
        ),
        (b"sku,category,price\nA1,apparel,15\nA1,apparel,16\n", "a.csv", "“A1” appears twice: rows 2 and 3"),
        (b"sku,category,price\n", "a.csv", "no rows"),
        (b"   \n", "a.csv", "empty"),
        (
            b"sku,category,price\nA1,apparel,15\n".replace(b"apparel", b"\xff\xfe\xfa"),
            "a.csv",
            "neither UTF-8",
        ),
        (b"PK\x03\x04 not really a zip", "x.xlsx", "cannot be opened"),
    ],
)
def test_bad_files_name_row_and_column(data: bytes, name: str, expected: str) -> None:
    with pytest.raises(SkuFileError) as caught:
        read_sku_file(data, name)
    assert expected in message(caught.value)


def test_twenty_megabytes_of_noise() -> None:
    noise = os.urandom(20 * 1024 * 1024 + 1)
    with pytest.raises(SkuFileError) as caught:
        read_sku_file(noise, "noise.csv")
    assert "larger than 10 MB" in message(caught.value)
    with pytest.raises(SkuFileError) as caught:
        read_sku_file(b"\x01\x00" + os.urandom(1024 * 1024), "noise.txt")
    assert "not a table" in message(caught.value)


# --- storage ---


def test_replace_is_all_or_nothing(tmp_path: Path) -> None:
    good = read_sku_file(b"sku,category,price\nA1,apparel,15\nA2,beauty,9\n", "first.csv")
    with Store(tmp_path / "bot.sqlite3") as store:
        records = SkuRecords(store)
        assert records.replace(7, good, "first.csv") == 2
        # A file whose rows cannot all be stored (the same SKU twice) changes nothing.
        row = good.rows[0]
        broken = SkuFile("csv", [row, row], [])
        with pytest.raises(Exception, match="UNIQUE"):
            records.replace(7, broken, "second.csv")
        assert [r.sku for r in records.rows(7)] == ["A1", "A2"]
        info = records.info(7)
        assert info is not None and (info.file_name, info.rows) == ("first.csv", 2)
        assert records.rows(8) == [] and records.has_skus(7) and not records.has_skus(8)
        assert records.delete(7) == 2 and records.info(7) is None and records.rows(7) == []


def test_skus_follow_a_group_migration(tmp_path: Path) -> None:
    file = read_sku_file(b"sku,category,price\nA1,apparel,15\n", "a.csv")
    with Store(tmp_path / "bot.sqlite3") as store:
        store.ensure_chat(-5, "group", "Team", "en")
        SkuRecords(store).replace(-5, file, "a.csv")
        store.migrate_chat(-5, -1005)
        records = SkuRecords(store)
        assert [r.sku for r in records.rows(-1005)] == ["A1"] and records.rows(-5) == []
        assert records.info(-5) is None and records.info(-1005) is not None


def test_restart_keeps_skus(tmp_path: Path) -> None:
    file = read_sku_file(b"sku,category,price,weight,unit_of_weight\nA1,apparel,15.5,3,oz\n", "a.csv")
    with Store(tmp_path / "bot.sqlite3") as store:
        SkuRecords(store).replace(1, file, "a.csv")
    with Store(tmp_path / "bot.sqlite3") as store:
        assert SkuRecords(store).rows(1) == file.rows


# --- categories ---


def test_category_words_and_product_groups(catalog: Catalog) -> None:
    mapper = CategoryMapper(catalog)
    assert mapper.find("Apparel") == "apparel"
    assert mapper.find("gl_baby_product") == "baby"
    assert mapper.find("服装") == "apparel"
    assert mapper.find("Personal Computer") == "computers"
    assert mapper.find("Home") == "home-kitchen"
    assert mapper.find("Sundries") is None  # no fee category of ours: listed, never guessed
    assert mapper.find("") is None


def test_seller_category_typos_map_only_when_close_and_whole(catalog: Catalog) -> None:
    mapper = CategoryMapper(catalog)
    # One letter off in a long word: the same category words the questions use, misspelt.
    assert mapper.find("Jewelery") == "jewelry"
    assert mapper.find("Electornics") == "consumer-electronics"
    assert mapper.find("Sneaker") == "footwear"
    # Below SAFE_TYPO_SCORE (a transposition scores 87.5): listed, not guessed.
    assert mapper.find("Jewlery") is None
    # A category word inside a longer cell is not that category ("Health and Beauty" is, as the product
    # group Amazon's European reports write for Beauty, Health and Personal Care: the table says so).
    assert mapper.find("Health and Beauty", "DE") == "beauty"
    assert mapper.find("Beauty Kits") is None
    assert mapper.find("Clothing, Shoes & Jewelry") is None
    assert mapper.find("Kitchen Tools") is None
    # A close word of another platform's category ("electronic" is TikTok Shop's) is not an Amazon one.
    assert mapper.find("Electric") is None


def test_seller_category_needs_a_schedule_in_the_marketplace(catalog: Catalog) -> None:
    mapper = CategoryMapper(catalog)
    assert mapper.find("Fine Art", "US") == "fine-art"
    assert mapper.find("Fine Art", "DE") is None  # no fine-art schedule for amazon.de in the catalog
    assert mapper.find("Apparel", "MX") is None
    assert mapper.find("Apparel", "DE") == "apparel"


def test_unmapped_rows_are_listed_in_the_impact(catalog: Catalog) -> None:
    rows = [sku("J", "20.00", group="Jewelery"), sku("H", "20.00", group="Beauty Kits")]
    change = next(c for c in fee_changes(catalog) if c.day == dt.date(2026, 1, 15))
    result = impact_of(FeeModel(catalog), change, rows)
    assert [row.sku for row in result.unmapped] == ["H"]


def test_product_group_table_names_real_categories(catalog: Catalog) -> None:
    import tomllib

    data = tomllib.loads((POLICIES / "mappings" / "amazon-product-groups.toml").read_text(encoding="utf-8"))
    known = {category.id for category in catalog.platforms["amazon"].categories}
    assert set(data["groups"].values()) <= known
    # The catalog holds the table, folded: "gl_Baby_Product" and "baby product" are one key.
    assert catalog.product_groups["amazon"]["baby product"] == "baby"
    assert len(catalog.product_groups["amazon"]) == len(data["groups"])


def test_a_bad_product_group_table_is_a_policy_problem_naming_file_and_group(tmp_path: Path) -> None:
    from bot.catalog.load import CatalogError

    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    table = folder / "mappings" / "amazon-product-groups.toml"
    table.write_text(table.read_text(encoding="utf-8") + '"gadgets" = "no-such-category"\n', encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(folder)
    assert [(p.file, p.field) for p in raised.value.problems] == [
        ("mappings/amazon-product-groups.toml", "groups.gadgets")
    ]
    assert "unknown category 'no-such-category'" in str(raised.value)
    table.write_text('platform = "nowhere"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="unknown platform 'nowhere'"):
        load_catalog(folder)


# --- impact, by hand from the policy files ---


def sku(
    name: str, price: str, group: str = "Home", weight: str | None = "0.125", units: int | None = 100
) -> SkuRow:
    return SkuRow(
        row=1,
        sku=name,
        category=group,
        price=Money(Decimal(price), "USD"),
        marketplace="US",
        longest=Decimal(6) if weight else None,
        median=Decimal(4) if weight else None,
        shortest=Decimal("0.5") if weight else None,
        weight_lb=Decimal(weight) if weight else None,
        monthly_units=units,
    )


def test_fba_card_change_at_band_boundaries(catalog: Catalog) -> None:
    # Small standard, 2 oz or less. 2025 card: <$10 $2.29, $10 and up $3.06. 2026: 2.43 / 3.32 / 3.58.
    skus = [sku("under", "9.99"), sku("at-10", "10.00"), sku("at-50", "50.00"), sku("over-50", "50.01")]
    result = impact_of(FeeModel(catalog), change_on(catalog, dt.date(2026, 1, 15)), skus)
    per_sku = {item.sku.sku: item.per_unit for item in result.affected}
    assert per_sku == {
        "under": usd("0.14"),  # 2.43 - 2.29
        "at-10": usd("0.26"),  # 3.32 - 3.06 ($10.00 counted in $10-$50; the answer says it is unsure)
        "at-50": usd("0.26"),  # 3.32 - 3.06
        "over-50": usd("0.52"),  # 3.58 - 3.06
    }
    assert list(result.monthly_total) == [usd("118.00")]  # (0.14 + 0.26 + 0.26 + 0.52) x 100
    assert result.affected[0].sku.sku == "over-50"
    # $10.00 -> $9.99 saves 0.89 in fees; $50.01 -> $50.00 saves 0.26; both on a boundary no source settles.
    assert [(c.sku.sku, c.fee_saving, c.boundary_unsure) for c in result.crossings] == [
        ("at-10", usd("0.89"), True),
        ("over-50", usd("0.26"), True),
    ]


def test_surcharge_change(catalog: Catalog) -> None:
    skus = [sku("a", "20.00"), sku("no-size", "20.00", weight=None)]
    result = impact_of(FeeModel(catalog), change_on(catalog, dt.date(2026, 4, 17)), skus)
    assert [(i.sku.sku, i.per_unit, i.monthly) for i in result.affected] == [
        ("a", usd("0.12"), usd("12.00"))  # 3.32 x 3.5% = 0.1162
    ]
    assert [row.sku for row in result.not_included["surcharge"]] == ["no-size"]


def test_referral_change_at_15_and_20_dollars(catalog: Catalog) -> None:
    # Apparel, 2024-01-15: 17% -> 5% up to $15.00, 10% up to $20.00, 17% above.
    prices = ["15.00", "15.01", "20.00", "20.01"]
    skus = [sku(p, p, group="Apparel", weight=None, units=10) for p in prices]
    result = impact_of(FeeModel(catalog), change_on(catalog, dt.date(2024, 1, 15)), skus)
    per_sku = {item.sku.sku: item.per_unit for item in result.affected}
    assert per_sku == {
        "15.00": usd("-1.80"),  # 2.55 -> 0.75
        "15.01": usd("-1.05"),  # 2.55 -> 1.50
        "20.00": usd("-1.40"),  # 3.40 -> 2.00
    }  # $20.01 stays at 17%: not affected
    assert list(result.monthly_total) == [usd("-42.50")]
    crossing = next(c for c in result.crossings if c.sku.sku == "15.01")
    assert (crossing.new_price, crossing.fee_saving, crossing.net) == (
        usd("15.00"),
        usd("0.75"),
        usd("0.74"),
    )
    assert "fba" not in result.not_included  # the FBA fee did not change that day: nothing to miss


def test_unmapped_rows_are_listed(catalog: Catalog) -> None:
    skus = [sku("home", "15.00", group="Sundries", weight=None)]
    result = impact_of(FeeModel(catalog), change_on(catalog, dt.date(2024, 1, 15)), skus)
    assert result.affected == [] and [r.sku for r in result.unmapped] == ["home"]
    assert [r.sku for r in result.not_included["referral"]] == ["home"]
    text = to_plain_text(impact_detail(result, context()))
    assert "Referral fee not included for 1 SKUs" in text and "“Sundries”" in text


def test_low_inventory_fee_where_days_known(catalog: Catalog) -> None:
    # 2024-04-01: no FBA rate card yet (ours starts 2024-04-15), so the tier comes from the file's size
    # tier when it names a row of the fee table; 10 days of supply: the 0-14 band, $0.89 small standard.
    low = SkuRow(1, "low", "Home", usd("20"), "US", size_tier="Small Standard", monthly_units=10,
                 days_of_supply=Decimal(10))  # fmt: skip
    enough = SkuRow(2, "enough", "Home", usd("20"), "US", size_tier="Small Standard",
                    days_of_supply=Decimal(28))  # fmt: skip
    no_days = SkuRow(3, "no-days", "Home", usd("20"), "US", size_tier="Small Standard")
    no_tier = SkuRow(4, "no-tier", "Home", usd("20"), "US", size_tier="Envelope", days_of_supply=Decimal(5))
    result = impact_of(
        FeeModel(catalog), change_on(catalog, dt.date(2024, 4, 1)), [low, enough, no_days, no_tier]
    )
    assert [(i.sku.sku, i.per_unit, i.monthly) for i in result.affected] == [
        ("low", usd("0.89"), usd("8.90"))
    ]
    assert [r.sku for r in result.not_included["low_inventory"]] == ["no-days", "no-tier"]


def test_detail_line_and_choice(catalog: Catalog) -> None:
    ctx: ChatContext = context(today=dt.date(2026, 12, 1))
    assert choose_change(catalog, ["R-A1"], ctx.today).day == dt.date(2026, 4, 17)
    assert choose_change(catalog, ["2026-01-15"], ctx.today).day == dt.date(2026, 1, 15)
    with pytest.raises(Exception, match="impact_no_change_on"):
        choose_change(catalog, ["2026-01-16"], ctx.today)
    result = impact_of(FeeModel(catalog), change_on(catalog, dt.date(2026, 4, 17)), [sku("a", "20.00")])
    line = impact_line(result, "en")
    assert line is not None and "+$12.00/month" in to_plain_text(line) and "/impact 2026-04-17" in line
    empty = impact_of(FeeModel(catalog), change_on(catalog, dt.date(2026, 4, 17)), [])
    assert impact_line(empty, "en") is None


# --- the command line ---


def test_cli_import_and_impact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "fee-preview.txt"
    report.write_bytes(
        fee_preview(
            [
                fee_preview_row("A1", "Apparel", "15.00", SMALL, "2", "ounces"),
                fee_preview_row("H1", "Sundries", "10.00", SMALL, "2", "ounces"),
            ]
        )
    )
    db = tmp_path / "bot.sqlite3"
    assert main(["skus", "import", str(report), "--chat", "42", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Imported 2 SKUs" in out and "“Sundries”" in out
    assert main(["skus", "show", "--chat", "42", "--db", str(db)]) == 0
    assert "2 SKUs from “fee-preview.txt”" in capsys.readouterr().out
    chart = tmp_path / "chart.png"
    argv = ["impact", str(report), "--date", "2026-01-15", "--today", "2026-12-01", "--chart", str(chart)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Impact of 2026-01-15" in out and "+$0.26/unit" in out
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert main(["impact", str(report), "--today", "2026-12-01"]) == 0
    assert "/impact 2026-04-17" in capsys.readouterr().out
    assert main(["impact", str(report), "--rule", "R-A1", "--lang", "zh", "--today", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert "2026-04-17 的影响" in out and "类目无法对应" in out
    assert main(["skus", "delete", "--chat", "42", "--db", str(db)]) == 0
    assert "Erased 2 SKUs" in capsys.readouterr().out


def test_cli_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"sku,category,price\nA1,apparel,abc\n")
    assert main(["impact", str(bad)]) == 2
    assert "row 2, column “price”" in capsys.readouterr().err


# --- the impact line in reminders and alerts ---


def _delivery(kind: str, payload: dict[str, str], event_date: dt.date | None) -> Delivery:
    return Delivery(
        id=1, chat_id=1, kind=kind, key="k", lead=7, due_at=dt.datetime(2026, 1, 8, 9, tzinfo=dt.UTC),
        event_date=event_date, payload=payload, status="sending", late=False, attempts=1, last_error=None,
        message_id=None,
    )  # fmt: skip


def test_cached_impact_line_follows_reimports_erases_and_reloads(tmp_path: Path, catalog: Catalog) -> None:
    # By hand as above, 100 units each: 9.99 / 10.00 / 50.01: +$92.00; then 50.01 (+0.52) and, unmapped but
    # sized, $5 (+0.14; 2.29 -> 2.43) and one without size (no FBA fee): +$66.00, 2 SKUs.
    rule, day, today = "amazon-us-fba-fee-update-2026", dt.date(2026, 1, 15), dt.date(2026, 1, 8)
    boundaries = SkuFile("csv", [sku("under", "9.99"), sku("at-10", "10.00"), sku("over-50", "50.01")], [])
    # The same file name and row count, imported within the same second: only the content differs.
    same_shape = SkuFile(
        "csv", [sku("a", "50.01"), sku("b", "50.01", weight=None), sku("c", "5", "Sundries")], []
    )
    cache = ImpactLineCache()
    with Store(tmp_path / "bot.sqlite3") as store:
        assert cache.lines_for(store, catalog, 1, "en", today) is None  # no SKUs: today's text
        records = SkuRecords(store)
        records.replace(1, boundaries, "skus.csv")
        lines = cache.lines_for(store, catalog, 1, "en", today)
        assert lines is not None and "+$92.00/month, 3 SKUs" in to_plain_text(lines(rule, day) or "")
        again = cache.lines_for(store, catalog, 1, "en", today)
        assert again is not None and again(rule, day) == lines(rule, day)
        assert again(rule, None) == lines(rule, day)  # a change alert about the rule: the same change
        assert cache.computed == 1, "later reminders of the change reuse the line"
        records.replace(1, same_shape, "skus.csv")
        after_import = cache.lines_for(store, catalog, 1, "en", today)
        assert after_import is not None and "+$66.00/month, 2 SKUs" in to_plain_text(
            after_import(rule, day) or ""
        )
        zh = cache.lines_for(store, catalog, 1, "zh", today)
        assert zh is not None and "每月 +$66.00" in to_plain_text(zh(rule, day) or "")
        reloaded = load_catalog(POLICIES)  # a /reload: a new catalog object, computed again
        computed = cache.computed
        after_reload = cache.lines_for(store, reloaded, 1, "en", today)
        assert after_reload is not None and after_reload(rule, day) == after_import(rule, day)
        assert cache.computed == computed + 1
        records.delete(1)
        assert cache.lines_for(store, reloaded, 1, "en", today) is None


def test_lines_computed_at_import_are_used_only_for_that_import(tmp_path: Path, catalog: Catalog) -> None:
    rule, day, today = "amazon-us-fba-fee-update-2026", dt.date(2026, 1, 15), dt.date(2026, 1, 8)
    boundaries = [sku("under", "9.99"), sku("at-10", "10.00"), sku("over-50", "50.01")]
    cache = ImpactLineCache(max_chats=1)
    with Store(tmp_path / "bot.sqlite3") as store:
        records = SkuRecords(store)
        records.replace(1, SkuFile("csv", boundaries, []), "skus.csv")
        version = skus_version(store, 1)
        ahead = coming_lines(catalog, boundaries, "en", today)
        assert dt.date(2026, 4, 17) in {key[0] for key in ahead} and (dt.date(2024, 1, 15), "en") not in ahead
        assert not cache.holds_current(store, 1)
        cache.put(store, catalog, 1, version, ahead)
        assert cache.holds_current(store, 1)
        lines = cache.lines_for(store, catalog, 1, "en", today)
        assert lines is not None and "+$92.00/month" in to_plain_text(lines(rule, day) or "")
        assert cache.computed == 0, "the reminder read the line computed at import"
        # Lines of an import another one replaced meanwhile are dropped, not shown for the new SKUs.
        records.replace(1, SkuFile("csv", boundaries[2:], []), "skus.csv")
        cache.put(store, catalog, 1, version, ahead)
        assert not cache.holds_current(store, 1)
        lines = cache.lines_for(store, catalog, 1, "en", today)
        assert lines is not None and "+$52.00/month, 1 SKUs" in to_plain_text(lines(rule, day) or "")
        assert cache.computed == 1
        # One chat kept at most here: another chat's lines push this one's out.
        records.replace(2, SkuFile("csv", boundaries[:1], []), "skus.csv")
        assert (other := cache.lines_for(store, catalog, 2, "en", today)) is not None and other(rule, day)
        assert (again := cache.lines_for(store, catalog, 1, "en", today)) is not None and again(rule, day)
        assert cache.computed == 3


def test_reminder_of_the_2026_card_carries_the_impact_line(catalog: Catalog) -> None:
    # The reminder a week before 2026-01-15, for a chat whose SKUs sit at the band boundaries:
    # (0.14 + 0.26 + 0.52) x 100 units = +$92.00 a month, by hand from the policy files.
    rows = [sku("under", "9.99"), sku("at-10", "10.00"), sku("over-50", "50.01")]
    event = {"rule_id": "amazon-us-fba-fee-update-2026", "event_id": "effective", "date": "2026-01-15"}
    reminder = _delivery("reminder", event, dt.date(2026, 1, 15))
    now = dt.datetime(2026, 1, 8, 9, tzinfo=dt.UTC)
    for lang, expected in (("en", "For your SKUs: +$92.00/month, 3 SKUs affected"), ("zh", "每月 +$92.00")):
        settings = ChatSettings(1, "private", None, lang, "UTC", "09:00", (7,), None, None, True, "")
        lines = ImpactLines(catalog, rows, lang, dt.date(2026, 1, 8))
        text = to_plain_text(render_digest(catalog, [reminder], settings, now, lines))
        assert expected in text and "/impact 2026-01-15" in text
        assert "/impact" not in to_plain_text(render_digest(catalog, [reminder], settings, now))
    # A change alert about the rule names its coming change; a rule without fee data gets no line.
    alert = _delivery("alert", {"rule_id": "amazon-us-fba-fee-update-2026", "summary_en": "Changed."}, None)
    settings = ChatSettings(1, "private", None, "en", "UTC", "09:00", (7,), None, None, True, "")
    lines = ImpactLines(catalog, rows, "en", dt.date(2026, 1, 8))
    assert "+$92.00/month" in to_plain_text(render_digest(catalog, [alert], settings, now, lines))
    other = _delivery("alert", {"rule_id": "amazon-us-inform-consumers-act", "summary_en": "Changed."}, None)
    assert "For your SKUs" not in to_plain_text(render_digest(catalog, [other], settings, now, lines))


def test_variations_sharing_fee_inputs_each_count(catalog: Catalog) -> None:
    rows = [sku("red", "10.00", units=5), sku("blue", "10.00", units=7), sku("green", "10.00", units=None)]
    result = impact_of(FeeModel(catalog), change_on(catalog, dt.date(2026, 1, 15)), rows)
    assert [(i.sku.sku, i.per_unit, i.monthly) for i in result.affected] == [
        ("blue", usd("0.26"), usd("1.82")),
        ("red", usd("0.26"), usd("1.30")),
        ("green", usd("0.26"), None),
    ]
    assert [c.sku.sku for c in result.crossings] == ["blue", "red", "green"]
    assert result.without_units == 1


def test_impact_leaves_the_garbage_collector_as_it_found_it(catalog: Catalog) -> None:
    import gc

    change = next(c for c in fee_changes(catalog) if c.day == dt.date(2026, 1, 15))
    assert gc.isenabled()
    impact_of(FeeModel(catalog), change, [sku("A", "20.00")])
    assert gc.isenabled()
    gc.disable()
    try:
        impact_of(FeeModel(catalog), change, [sku("A", "20.00")])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_europe_surcharge_is_not_included_without_an_eu_rate_card(catalog: Catalog) -> None:
    # R-A2 adds 1.5% to the FBA fee in Germany from 2026-04-17; we hold no EU card, so no fee to add to.
    german = SkuRow(
        row=2, sku="de-1", category="Apparel", price=Money(Decimal("20.00"), "EUR"), marketplace="DE",
        longest=Decimal(6), median=Decimal(4), shortest=Decimal("0.5"), weight_lb=Decimal("0.125"),
        monthly_units=100,
    )  # fmt: skip
    result = impact_of(
        FeeModel(catalog), change_on(catalog, dt.date(2026, 4, 17)), [german, sku("us", "20.00")]
    )
    assert [row.sku for row in result.not_included["surcharge"]] == ["de-1"]
    assert [item.sku.sku for item in result.affected] == ["us"]  # the US SKU pays R-A1's 3.5%
    text = to_plain_text(impact_detail(result, context()))
    assert "Fuel surcharge not included for 1 SKUs" in text and "de-1" in text
