"""Right numbers on the SKU side (#16): every amount in its marketplace's currency from the moment a price
is read, totals per currency, impact lines per rule and marketplace, apparel not priced on a non-apparel
card, the Fee Preview report's own fulfilment fee where we hold no rate card (all five public variants),
decimal commas; and the /impact overview that leads with the coming changes (#17).

Hand computations from policies/amazon.toml: R-A1 adds 3.5% to the US and Canadian FBA fee from
2026-04-17, R-A2 1.5% in ten European stores; the 2026 US card charges $3.32 for a small standard 2 oz
item priced $10-$50. Surcharges round half-up to the cent per unit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import POLICIES, context
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database
from support.sku_files import VARIANTS, variant_report

from bot.catalog.load import Catalog, load_catalog
from bot.cli import main
from bot.i18n import t, to_plain_text
from bot.money import Money
from bot.reminders.outbox import Delivery
from bot.reminders.text import render_digest
from bot.skus.impact import FeeChange, FeeModel, fee_changes, impact_of
from bot.skus.personal import ImpactLines
from bot.skus.read import SkuFileError, SkuRow, parse_amount, read_sku_file
from bot.skus.records import SkuRecords
from bot.skus.tables import SKU_MIGRATIONS
from bot.skus.text import choose_change, impact_detail, impact_line, impact_overview
from bot.store import ChatSettings, Migrations, Store, migrate

SURCHARGE_DAY = dt.date(2026, 4, 17)
CARD_DAY = dt.date(2026, 1, 15)

# A seller's own file mixing three marketplaces. The US SKU is measured (our US card prices it); the UK
# and German ones carry the FBA fee their Fee Preview report states, since we hold no UK or EU card.
MIXED_CSV = (
    b"sku,category,price,marketplace,monthly_units,longest_side,median_side,shortest_side,"
    b"unit_of_dimension,weight,unit_of_weight,fba_fee\n"
    b"US-1,Home,20.00,US,100,6,4,0.5,in,2,oz,\n"
    b"UK-1,clothing,14,UK,80,,,,,,,2.50\n"
    b"DE-1,Health and Beauty,12.50,DE,50,,,,,,,2.60\n"
)


def change_on(catalog: Catalog, day: dt.date) -> FeeChange:
    return next(change for change in fee_changes(catalog) if change.day == day)


def message(error: SkuFileError) -> str:
    return to_plain_text(t("en", error.key, **error.values))


def refused(data: bytes, name: str = "skus.csv") -> str:
    with pytest.raises(SkuFileError) as caught:
        read_sku_file(data, name)
    return message(caught.value)


# --- a currency from the moment a price is read ---


def test_the_marketplace_decides_the_currency_of_every_amount() -> None:
    rows = read_sku_file(MIXED_CSV, "mixed.csv").rows
    assert [(row.sku, row.price, row.report_fba_fee) for row in rows] == [
        ("US-1", Money(Decimal("20.00"), "USD"), None),
        ("UK-1", Money(Decimal("14"), "GBP"), Money(Decimal("2.50"), "GBP")),
        ("DE-1", Money(Decimal("12.50"), "EUR"), Money(Decimal("2.60"), "EUR")),
    ]


def test_a_currency_column_must_agree_with_the_marketplace() -> None:
    agreeing = b"sku,category,price,marketplace,currency\nA,clothing,14,UK,GBP\nB,home,9,DE,\xe2\x82\xac\n"
    assert [row.price for row in read_sku_file(agreeing, "a.csv").rows] == [
        Money(Decimal(14), "GBP"),
        Money(Decimal(9), "EUR"),
    ]
    text = refused(b"sku,category,price,marketplace,currency\nA,clothing,14,US,USD\nB,clothing,14,UK,USD\n")
    assert text == (
        "row 3, column “currency”: the currency USD does not agree with the marketplace UK, whose prices "
        "are in GBP."
    )
    assert "row 2, column “Currency”: “dollars” is not a currency" in refused(
        b"sku,category,price,Currency\nA,clothing,14,dollars\n"
    )
    # Without a marketplace column the currency names it: pounds are the UK, euros the European stores.
    pounds, euros = read_sku_file(b"sku,category,price,currency\nA,home,9,GBP\nB,home,9,EUR\n", "c.csv").rows
    assert (pounds.marketplace, euros.marketplace) == ("UK", "EU")


def test_a_uk_row_is_shown_in_pounds(catalog: Catalog) -> None:
    # The row: `...,clothing,14,UK,80` was printed "$14.00". The report fee rises 1.5% (R-A2).
    row = read_sku_file(
        b"sku,category,price,marketplace,monthly_units,fba_fee\nC1,clothing,14,UK,80,2.50\n", "f"
    )
    result = impact_of(FeeModel(catalog), change_on(catalog, SURCHARGE_DAY), row.rows)
    text = to_plain_text(impact_detail(result, context()))
    assert "• C1 at £14.00: £0.00 → £0.04 (+£0.04/unit, +£3.20/month)" in text  # 2.50 x 1.5% = 0.0375
    assert "Total: +£3.20/month; 1 of 1 SKUs affected." in text
    assert "$" not in text and "€" not in text


# --- decimal commas ---


@pytest.mark.parametrize(
    ("raw", "decimal_comma", "expected"),
    [
        ("12,5", False, "12.5"),
        ("0,125", False, "0.125"),
        ("1.234,56", False, "1234.56"),
        ("2,60 €", False, "2.60"),
        ("1,234", False, "1234"),  # three digits after the comma: a thousands separator
        ("$1,234.50", False, "1234.50"),
        ("1,234", True, "1.234"),  # in a ;-separated file every comma is a decimal comma
        ("1.234,5", True, "1234.5"),
        ("12,5,1", False, None),
    ],
)
def test_decimal_commas(raw: str, decimal_comma: bool, expected: str | None) -> None:
    value = parse_amount(raw, decimal_comma)
    assert value == (None if expected is None else Decimal(expected))


def test_a_semicolon_file_reads_decimal_commas() -> None:
    data = b"sku;category;price;marketplace;weight;unit_of_weight\nD1;Home;12,5;DE;0,4;kg\n"
    row = read_sku_file(data, "export.csv").rows[0]
    assert (row.price, row.marketplace) == (Money(Decimal("12.5"), "EUR"), "DE")
    assert row.weight_lb is not None and round(row.weight_lb, 3) == Decimal("0.882")


def test_an_unquoted_decimal_comma_in_a_comma_file_is_refused_with_that_reason() -> None:
    # Before: "5" was read as the marketplace ("not a marketplace I know").
    text = refused(b"sku,category,price,marketplace\nA,home,9.99,US\nB,home,12,5,DE\n")
    assert text.startswith("row 3 has 5 cells but the header has 4: a decimal comma such as 12,5")
    # Quoted, it is one cell and read as 12.5; trailing empty cells are no reason to refuse.
    quoted = read_sku_file(b'sku,category,price,marketplace\nB,home,"12,5",DE,,\n', "q.csv").rows[0]
    assert quoted.price == Money(Decimal("12.5"), "EUR")


# --- the five Fee Preview variants and the report's own fee ---


@pytest.mark.parametrize(
    ("variant", "cells", "marketplace", "fee"),
    [
        ("US", {"expected-fulfillment-fee-per-unit": "3.32"}, "US", Money(Decimal("3.32"), "USD")),
        ("UK", {"expected-domestic-fulfilment-fee-per-unit": "2.50"}, "UK", Money(Decimal("2.50"), "GBP")),
        (
            "UK-future",
            {
                "expected-domestic-fulfilment-fee-per-unit": "2.50",
                "expected-future-domestic-fulfilment-fee-per-unit": "2.70",
            },
            "UK",
            Money(Decimal("2.50"), "GBP"),  # today's fee, not the announced future one
        ),
        (
            "Europe",
            {"expected-domestic-fulfilment-fee-per-unit": "2.60"},
            "EU",
            Money(Decimal("2.60"), "EUR"),
        ),
        (
            "Canada",
            {"estimated-pick-pack-fee-per-unit": "3.00", "estimated-weight-handling-fee-per-unit": "1.50"},
            "CA",
            Money(Decimal("4.50"), "CAD"),  # Canada states the two parts only
        ),
    ],
)
def test_each_fee_preview_variant(variant: str, cells: dict[str, str], marketplace: str, fee: Money) -> None:
    data = variant_report(variant, [{"sku": "S1", "product-group": "Toy", "your-price": "19.99", **cells}])
    assert len(data.splitlines()[0].split(b"\t")) == len(VARIANTS[variant])
    file = read_sku_file(data, "Fee Preview.txt")
    assert file.kind == "fee-preview"
    (row,) = file.rows
    assert (row.marketplace, row.price.currency, row.report_fba_fee) == (marketplace, fee.currency, fee)
    assert row.price.amount == Decimal("19.99") and row.weight_lb is not None  # 150 g, 20 x 15 x 2 cm


def test_europe_report_gets_the_surcharge_on_its_own_fee(catalog: Catalog) -> None:
    # amazon.de, Europe variant: a €2.60 domestic fulfilment fee; 1.5% of it is €0.039 -> €0.04.
    data = variant_report(
        "Europe",
        [{"sku": "E1", "product-group": "Health and Beauty", "your-price": "12.00",
          "expected-domestic-fulfilment-fee-per-unit": "2.60"}],
    )  # fmt: skip
    rows = read_sku_file(data, "Fee Preview.txt").rows
    model = FeeModel(catalog)
    assert model.category(rows[0]) == "beauty"  # "Health and Beauty" maps through the product-group table
    result = impact_of(model, change_on(catalog, SURCHARGE_DAY), rows)
    assert [(item.sku.sku, item.per_unit) for item in result.affected] == [
        ("E1", Money(Decimal("0.04"), "EUR"))
    ]
    text = to_plain_text(impact_detail(result, context()))
    assert (
        "FBA fee as your file states it (the Fee Preview report's fulfilment fee, or your fba_fee column) "
        in text
    )
    assert "for 1 SKUs (EU: we hold no rate card there); surcharges are applied to that fee: E1" in text
    assert "+€0.04/unit" in text and "$" not in text


def test_canada_report_gets_the_surcharge_on_pick_pack_and_weight_handling(catalog: Catalog) -> None:
    # 3.5% of (3.00 + 1.50) = 0.1575 -> C$0.16 a unit (R-A1 covers Canada).
    data = variant_report(
        "Canada",
        [{"sku": "C1", "product-group": "Apparel", "your-price": "25.00",
          "estimated-pick-pack-fee-per-unit": "3.00", "estimated-weight-handling-fee-per-unit": "1.50"}],
    )  # fmt: skip
    rows = read_sku_file(data, "Fee Preview.txt").rows
    model = FeeModel(catalog)
    assert model.mapper.category_of("Apparel") == "apparel" and model.is_apparel(rows[0])
    result = impact_of(model, change_on(catalog, SURCHARGE_DAY), rows)
    assert [item.per_unit for item in result.affected] == [Money(Decimal("0.16"), "CAD")]
    assert not result.unmapped  # mapped; only its Canadian referral schedule is not in our catalog
    line = impact_line(result, "en")
    assert line is not None and "up to +C$0.16 a unit" in to_plain_text(line)


def test_a_us_report_keeps_our_card_when_it_can_place_the_sku(catalog: Catalog) -> None:
    # Our card is the reference where we hold one: the report's own figure is not used in the US.
    data = variant_report(
        "US",
        [{"sku": "U1", "product-group": "Toy", "your-price": "20.00",
          "expected-fulfillment-fee-per-unit": "9.99",
          "longest-side": "6", "median-side": "4", "shortest-side": "0.5", "unit-of-dimension": "inches",
          "item-package-weight": "2", "unit-of-weight": "ounces"}],
    )  # fmt: skip
    result = impact_of(FeeModel(catalog), change_on(catalog, SURCHARGE_DAY), read_sku_file(data, "f").rows)
    assert [item.per_unit for item in result.affected] == [Money(Decimal("0.12"), "USD")]  # 3.32 x 3.5%
    assert result.from_report == []


# --- apparel ---


def test_apparel_is_not_priced_on_the_non_apparel_card(catalog: Catalog) -> None:
    csv = (
        b"sku,category,price,monthly_units,longest_side,median_side,shortest_side,unit_of_dimension,weight,"
        b"unit_of_weight\nDRESS,Apparel,30.00,10,6,4,0.5,in,2,oz\nMUG,Home,30.00,10,6,4,0.5,in,2,oz\n"
    )
    rows = read_sku_file(csv, "f.csv").rows
    model = FeeModel(catalog)
    assert model.placement(rows[0], CARD_DAY) is None and model.placement(rows[1], CARD_DAY) is not None
    result = impact_of(model, change_on(catalog, CARD_DAY), rows)
    assert [item.sku.sku for item in result.affected] == ["MUG"]
    assert [row.sku for row in result.not_included["fba_apparel"]] == ["DRESS"]
    text = to_plain_text(impact_detail(result, context()))
    assert "Apparel FBA fee not computed for 1 SKUs (the rate cards we hold exclude apparel): DRESS" in text
    zh = to_plain_text(impact_detail(result, context("zh")))
    assert "服装SKU未计算FBA费用" in zh


# --- totals per currency; impact lines per rule and marketplace ---


def test_totals_per_currency_and_lines_per_rule(catalog: Catalog) -> None:
    rows = read_sku_file(MIXED_CSV, "mixed.csv").rows
    result = impact_of(FeeModel(catalog), change_on(catalog, SURCHARGE_DAY), rows)
    # US 3.32 x 3.5% = 0.12 x 100; UK 2.50 x 1.5% = 0.04 x 80; DE 2.60 x 1.5% = 0.04 x 50.
    assert list(result.monthly_total) == [
        Money(Decimal("2.00"), "EUR"),
        Money(Decimal("3.20"), "GBP"),
        Money(Decimal("12.00"), "USD"),
    ]
    text = to_plain_text(impact_detail(result, context()))
    assert "Total: +€2.00/month, +£3.20/month, +$12.00/month; 3 of 3 SKUs affected." in text
    # A reminder digest: the US 3.5% item and the EU 1.5% item each carry their own line.
    lines = ImpactLines(catalog, rows, "en", dt.date(2026, 4, 10))
    us = to_plain_text(lines("amazon-us-fuel-surcharge-2026", SURCHARGE_DAY) or "")
    eu = to_plain_text(lines("amazon-eu-fuel-surcharge-2026", SURCHARGE_DAY) or "")
    assert "For your SKUs: +$12.00/month, 1 SKUs affected; /impact 2026-04-17" in us
    assert "For your SKUs: +€2.00/month, +£3.20/month, 2 SKUs affected; /impact 2026-04-17" in eu
    # /impact R-A2 is that rule's change alone: the European SKUs, not the US one.
    only_eu = impact_of(FeeModel(catalog), choose_change(catalog, ["R-A2"], dt.date(2026, 12, 6)), rows)
    assert [item.sku.sku for item in only_eu.affected] == ["DE-1", "UK-1"]  # by currency: EUR, GBP
    assert "$" not in to_plain_text(impact_detail(only_eu, context()))


def test_a_digest_carries_one_line_per_rule_and_marketplace(catalog: Catalog) -> None:
    # The reminder digest of 2026-04-17: the US 3.5% item and the EU 1.5% item, each with its own line
    # (once both carried the same per-date line).
    rows = read_sku_file(MIXED_CSV, "mixed.csv").rows
    items = [
        Delivery(
            id=number,
            chat_id=1,
            kind="reminder",
            key=f"k{number}",
            lead=7,
            due_at=dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC),
            event_date=SURCHARGE_DAY,
            payload={"rule_id": rule, "event_id": "effective", "date": "2026-04-17"},
            status="sending",
            late=False,
            attempts=1,
            last_error=None,
            message_id=None,
        )
        for number, rule in enumerate(["amazon-us-fuel-surcharge-2026", "amazon-eu-fuel-surcharge-2026"], 1)
    ]
    settings = ChatSettings(1, "private", None, "en", "UTC", "09:00", (7,), None, None, True, "")
    lines = ImpactLines(catalog, rows, "en", dt.date(2026, 4, 10))
    now = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)
    text = to_plain_text(render_digest(catalog, items, settings, now, lines))
    us = "For your SKUs: +$12.00/month, 1 SKUs affected; /impact 2026-04-17"
    eu = "For your SKUs: +€2.00/month, +£3.20/month, 2 SKUs affected; /impact 2026-04-17"
    assert text.count(us) == 1 and text.count(eu) == 1
    assert text.index("3.5%") < text.index(us) < text.index("1.5%") < text.index(eu)


def test_zero_a_month_carries_its_currency(catalog: Catalog) -> None:
    # No US fee of a UK SKU changes on the day the US card changes: "£0.00", not "0" nor "$0.00".
    uk = read_sku_file(b"sku,category,price,marketplace,monthly_units\nK1,home,14,UK,10\n", "f").rows
    result = impact_of(FeeModel(catalog), change_on(catalog, SURCHARGE_DAY), uk)
    text = to_plain_text(impact_detail(result, context()))
    assert "Total: £0.00/month; 0 of 1 SKUs affected." in text


def test_overview_leads_with_coming_changes_per_currency(catalog: Catalog) -> None:
    rows = read_sku_file(MIXED_CSV, "mixed.csv").rows
    for lang in ("en", "zh"):
        text = to_plain_text(impact_overview(catalog, rows, context(lang, today=dt.date(2026, 4, 1))))
        assert "✔️" not in text and "summed" not in text and "合计 " not in text
        coming, _, past = text.partition("Already in force" if lang == "en" else "已经生效")
        assert "2026-04-17" in coming and "2026-01-15" in past  # the coming change first, the past after
        if lang == "en":
            assert (
                "+€2.00/month, +£3.20/month, +$12.00/month, 3 SKUs affected; most: DE-1 (+€2.00/month), "
                "UK-1 (+£3.20/month), US-1 (+$12.00/month)"
            ) in coming
        else:
            assert (
                "每月 +€2.00、每月 +£3.20、每月 +$12.00，影响 3 个SKU；影响最大：DE-1（每月 +€2.00）"
                in coming
            )
        # A change in no marketplace of these SKUs (Japan's 2026-04-01 referral fees) is not listed.
        # Names are escaped once for Telegram's HTML, never twice.
        named = [dataclasses.replace(rows[0], sku="A&B"), *rows[1:]]
        html = impact_overview(catalog, named, context(lang, today=dt.date(2026, 4, 1)))
        assert "A&amp;B" in html and "&amp;amp;" not in html
        assert "2026-04-01 —" not in text
    past_dates = [line.split(" — ")[0][2:] for line in past.splitlines() if line.startswith("• ")]
    assert past_dates == sorted(past_dates, reverse=True)  # latest first


# --- stored rows: migration 2 gives them their marketplace's currency ---


def test_migration_gives_stored_rows_their_marketplace_currency(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = Database(path)
    first_step_only = Migrations("skus", SKU_MIGRATIONS.steps[:1], move_chat=SKU_MIGRATIONS.move_chat)
    migrate(db, [first_step_only])
    for row, (sku, marketplace, currency) in enumerate(
        [("A", "US", None), ("B", "UK", None), ("C", "DE", None), ("D", "UK", "USD")], start=2
    ):
        db.execute(
            "INSERT INTO seller_skus (chat_id, sku, row, category, price, marketplace, currency) "
            "VALUES (7, ?, ?, 'home', '14', ?, ?)",
            [sku, row, marketplace, currency],
        )
    db.execute(
        "INSERT INTO seller_sku_imports VALUES (7, 'old.csv', 'csv', 4, '2026-01-01T00:00:00+00:00', NULL)"
    )
    db.conn.commit()
    db.close()
    store = Store(path)  # runs the remaining steps
    try:
        rows = SkuRecords(store).rows(7)
        assert [(row.sku, str(row.price)) for row in rows] == [
            ("A", "$14.00"), ("B", "£14.00"), ("C", "€14.00"), ("D", "£14.00"),
        ]  # fmt: skip
        assert store.schema_versions["skus"] == 2
    finally:
        store.close()


def test_report_fee_survives_storage(tmp_path: Path, store: Store) -> None:
    file = read_sku_file(MIXED_CSV, "mixed.csv")
    SkuRecords(store).replace(5, file, "mixed.csv")
    assert SkuRecords(store).rows(5) == file.rows


# --- properties ---


@functools.cache
def shipped_catalog() -> Catalog:
    return load_catalog(POLICIES)


SYMBOL = {"USD": "$", "GBP": "£", "EUR": "€"}
MARKETS = {"US": "USD", "UK": "GBP", "DE": "EUR"}
cents = st.decimals(min_value=Decimal("1.00"), max_value=Decimal("300.00"), places=2)


@st.composite
def sku_rows(draw: st.DrawFn) -> list[SkuRow]:
    count = draw(st.integers(min_value=1, max_value=12))
    rows = []
    for index in range(count):
        marketplace = draw(st.sampled_from(sorted(MARKETS)))
        currency = MARKETS[marketplace]
        measured = marketplace == "US" and draw(st.booleans())
        fee = draw(st.none() | st.decimals(min_value=Decimal("0.50"), max_value=Decimal("20"), places=2))
        rows.append(
            SkuRow(
                row=index + 2,
                sku=f"S{index}",
                category=draw(st.sampled_from(["Home", "Toy", "Apparel", "Beauty"])),
                price=Money(draw(cents), currency),
                marketplace=marketplace,
                longest=Decimal(6) if measured else None,
                median=Decimal(4) if measured else None,
                shortest=Decimal("0.5") if measured else None,
                weight_lb=Decimal("0.125") if measured else None,
                monthly_units=draw(st.none() | st.integers(min_value=0, max_value=5000)),
                report_fba_fee=None if fee is None else Money(fee, currency),
            )
        )
    return rows


@settings(max_examples=40, deadline=None)
@given(rows=sku_rows(), day=st.sampled_from([SURCHARGE_DAY, CARD_DAY, dt.date(2024, 1, 15)]))
def test_per_currency_totals_equal_the_sum_of_their_skus(rows: list[SkuRow], day: dt.date) -> None:
    catalog = shipped_catalog()
    result = impact_of(FeeModel(catalog), change_on(catalog, day), rows)
    for total in result.monthly_total:
        mine = [
            item.monthly for item in result.affected if item.monthly and item.sku.currency == total.currency
        ]
        assert total == sum(mine, Money.zero(total.currency))
    assert {item.sku.currency for item in result.affected if item.monthly} == {
        total.currency for total in result.monthly_total
    }


@settings(max_examples=40, deadline=None)
@given(rows=sku_rows(), day=st.sampled_from([SURCHARGE_DAY, CARD_DAY, dt.date(2024, 1, 15)]))
def test_no_sku_amount_is_rendered_in_another_currency(rows: list[SkuRow], day: dt.date) -> None:
    catalog = shipped_catalog()
    result = impact_of(FeeModel(catalog), change_on(catalog, day), rows)
    text = to_plain_text(impact_detail(result, context()))
    by_name = {row.sku: row for row in rows}
    for line in text.splitlines():
        if not line.startswith("• S"):
            continue
        name = line[2:].split(":")[0].split(" ")[0]
        mine = by_name[name].currency
        others = [symbol for currency, symbol in SYMBOL.items() if currency != mine]
        assert SYMBOL[mine] in line and not any(symbol in line for symbol in others), line
    for item in result.affected:
        assert {item.before.currency, item.after.currency, item.per_unit.currency} == {item.sku.currency}


# --- the command line ---


def test_cli_impact_of_a_mixed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(MIXED_CSV)
    chart = tmp_path / "chart.png"
    argv = ["impact", str(mixed), "--date", "2026-04-17", "--today", "2026-12-06", "--chart", str(chart)]
    assert main([*argv, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Total: +€2.00/month, +£3.20/month, +$12.00/month; 3 of 3 SKUs affected." in out
    assert "• US-1 at $20.00:" in out and "• UK-1 at £14.00:" in out and "• DE-1 at €12.50:" in out
    # One chart per currency: an axis never mixes them.
    for currency in ("EUR", "GBP", "USD"):
        assert (tmp_path / f"chart-{currency}.png").read_bytes().startswith(b"\x89PNG")
    assert main(["impact", str(mixed), "--today", "2026-04-01", "--lang", "en"]) == 0
    overview = capsys.readouterr().out
    assert "+€2.00/month, +£3.20/month, +$12.00/month" in overview and "per unit summed" not in overview
