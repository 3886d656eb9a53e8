"""Issue 22's fee kinds in the real engine and the real loader: a fixed fee chosen by the price band
(eBay US's per-order fee, Mercado Livre Brazil's fixed fee under R$79) and an extra fee that is a share of
the price plus a fixed part (Etsy's US payment processing, 3% + $0.25).

Expected figures come from shared/reference/policy-facts-2027.md (N-21, N-23, N-24), worked out by hand."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT

from bot.catalog.fees import compare
from bot.catalog.load import Catalog, CatalogError, load_catalog
from bot.catalog.schema import FeeSchedule

DEC_6 = dt.date(2026, 12, 6)


def charged(schedule: FeeSchedule, price: str, day: dt.date = DEC_6) -> tuple[Decimal, Decimal]:
    """(fee, fixed part) the engine charges on `price` on `day`."""
    current = compare(schedule, Decimal(price), day).current
    assert current is not None, (schedule.id, price, day)
    return current.fee, current.fixed_part


# --- eBay US: $0.30 on orders of $10 or less, $0.40 above (N-23) ----------------------------------------


@pytest.mark.parametrize(
    ("price", "fee"),
    [("0.01", "0.30"), ("9.99", "0.30"), ("10.00", "0.30"), ("10.01", "0.40"), ("250.00", "0.40")],
)
def test_ebay_us_per_order_fee_by_order_total(catalog: Catalog, price: str, fee: str) -> None:
    schedule = catalog.fee_schedules[("ebay", "US", "everything-else")]
    assert schedule.currency == "USD"
    assert charged(schedule, price) == (Decimal(fee), Decimal(fee))  # the fixed part is the whole fee


def test_ebay_us_per_order_fee_starts_on_2024_03_15(catalog: Catalog) -> None:
    schedule = catalog.fee_schedules[("ebay", "US", "everything-else")]
    assert compare(schedule, Decimal("18"), dt.date(2024, 3, 14)).current is None  # nothing on record before
    assert charged(schedule, "18", dt.date(2024, 3, 15)) == (Decimal("0.40"), Decimal("0.40"))


# --- Mercado Livre Brazil: the fixed fee per unit under R$79 (N-21) ---------------------------------------


@pytest.mark.parametrize(
    ("price", "fee"),
    [
        ("1.00", "0.50"),  # 50% of the price
        ("12.50", "6.25"),  # 50% × 12.50, the last price of the first band
        ("12.51", "6.25"),  # the first price of the R$6.25 band
        ("29.00", "6.25"),
        ("29.01", "6.50"),
        ("50.00", "6.50"),
        ("50.01", "6.75"),
        ("78.99", "6.75"),
        ("79.00", "0.00"),  # R$79 and more: no fixed fee
        ("500.00", "0.00"),
    ],
)
def test_mercado_livre_brazil_fixed_fee_bands(catalog: Catalog, price: str, fee: str) -> None:
    schedule = catalog.fee_schedules[("mercado-libre", "BR", "everything-else")]
    assert schedule.currency == "BRL"
    assert charged(schedule, price) == (Decimal(fee), Decimal(fee))


def test_mercado_livre_half_of_the_price_rounds_half_up(catalog: Catalog) -> None:
    schedule = catalog.fee_schedules[("mercado-libre", "BR", "everything-else")]
    assert charged(schedule, "0.05")[0] == Decimal("0.03")  # 0.025 -> 0.03
    assert compare(schedule, Decimal("30"), dt.date(2026, 3, 1)).current is None  # from 2026-03-02 only
    assert catalog.schedule_rule[schedule.id].confidence == "low"


# --- Etsy US: payment processing 3% + $0.25 beside the 6.5% transaction fee (N-24) -------------------------


@pytest.mark.parametrize(
    ("price", "transaction", "processing", "total"),
    [
        ("18.00", "1.17", "0.79", "1.96"),  # 6.5% × 18 = 1.17; 3% × 18 + 0.25 = 0.79
        ("10.00", "0.65", "0.55", "1.20"),
        ("0.50", "0.03", "0.27", "0.30"),  # 0.0325 -> 0.03; 0.015 + 0.25 = 0.265 -> 0.27 (half up)
    ],
)
def test_etsy_payment_processing_is_an_extra_fee_line_added_to_the_total(
    catalog: Catalog, price: str, transaction: str, processing: str, total: str
) -> None:
    schedule = catalog.fee_schedules[("etsy", "US", "everything-else")]
    current = compare(schedule, Decimal(price), DEC_6).current
    assert current is not None
    assert current.fee == Decimal(transaction)
    extras = {extra.extra.label.en: extra for extra in current.extras}
    assert extras["Payment processing (US)"].amount == Decimal(processing)
    assert extras["Listing fee"].extra.condition is not None  # shown, per listing, not added
    assert current.total == Decimal(total)


# --- the loader stays strict: a bad band is named with file, rule id and field ---------------------------

HEADER = """
platform = "demo"
name = { en = "Demo", zh = "示例" }
time_zone = "America/New_York"

[[categories]]
id = "widgets"
name = { en = "Widgets", zh = "小部件" }

[[rules]]
id = "demo-us-fee"
marketplaces = ["US"]
topic = "fees"
title = { en = "Demo fee", zh = "示例费用" }
summary = { en = "A demo.", zh = "示例。" }
confidence = "high"

[[rules.sources]]
url = "https://example.com/demo"
says = "demo"
confidence = "high"

[[rules.fee_schedules]]
id = "demo-us-widgets"
category = "widgets"
marketplace = "US"
currency = "USD"
basis = { en = "price", zh = "价格" }

[[rules.fee_schedules.versions]]
tiers = [{ above = 0, rate = "0" }]
"""


def problems(tmp_path: Path, version_lines: str) -> list[str]:
    (tmp_path / "demo.toml").write_text(HEADER + version_lines, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    return [str(problem) for problem in caught.value.problems]


def test_good_bands_load(tmp_path: Path) -> None:
    text = 'fixed_fee_bands = [{ above = 0, up_to = 10, amount = "0.30" }, { above = 10, amount = "0.40" }]\n'
    (tmp_path / "demo.toml").write_text(HEADER + text, encoding="utf-8")
    schedule = load_catalog(tmp_path).fee_schedules[("demo", "US", "widgets")]
    assert charged(schedule, "10") == (Decimal("0.30"), Decimal("0.30"))


FIELD = "demo.toml rule demo-us-fee field fee_schedules[0].versions[0]"


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        (
            'fixed_fee_bands = [{ above = 0, up_to = 10, amount = "0.30" }, { above = 11, amount = "0.40" }]',
            "fixed_fee_bands[1]: bands are unsorted, overlap or leave a gap (above 11 after up_to 10)",
        ),
        (
            'fixed_fee_bands = [{ above = 1, up_to = 10, amount = "0.30" }, { above = 10, amount = "0.40" }]',
            "fixed_fee_bands[0]: the first band must start above 0",
        ),
        (
            'fixed_fee_bands = [{ above = 0, up_to = 10, amount = "0.30" }]',
            "fixed_fee_bands: the last band must be open-ended",
        ),
        (
            'fixed_fee_bands = [{ above = 0, amount = "0.30" }, { above = 10, amount = "0.40" }]',
            "fixed_fee_bands[0]: only the last band may be open-ended",
        ),
        (
            'fixed_fee_bands = [{ above = 0, up_to = 0, amount = "0.30" }, { above = 0, amount = "0.40" }]',
            "fixed_fee_bands[0]: up_to must be greater than above",
        ),
        (
            'fixed_fee = "0.30"\nfixed_fee_bands = [{ above = 0, amount = "0.40" }]',
            "give fixed_fee or fixed_fee_bands, not both",
        ),
    ],
)
def test_bad_bands_are_named_with_file_rule_and_field(tmp_path: Path, bands: str, expected: str) -> None:
    found = problems(tmp_path, bands + "\n")
    assert any(problem.startswith(FIELD) and expected in problem for problem in found), found


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        (
            'fixed_fee_bands = [{ above = 0, amount = "0.30", share_of_price = "0.5" }]',
            "fixed_fee_bands[0]",
            "give exactly one of amount and share_of_price",
        ),
        (
            "fixed_fee_bands = [{ above = 0 }]",
            "fixed_fee_bands[0]",
            "give exactly one of amount and share_of_price",
        ),
        (
            'fixed_fee_bands = [{ above = 0, share_of_price = "1.5" }]',
            "fixed_fee_bands[0].share_of_price",
            "",
        ),
        ("fixed_fee_bands = [{ above = 0, amount = 0.3 }]", "fixed_fee_bands[0].amount", "not a float"),
        (
            'extra_fees = [{ label = { en = "x", zh = "x" }, share_of_fee = "0.02",'
            ' share_of_price = "0.03" }]',
            "extra_fees[0]",
            "share_of_fee stands alone",  # not beside share_of_price either
        ),
        (
            'extra_fees = [{ label = { en = "x", zh = "x" } }]',
            "extra_fees[0]",
            "give one of per_item, share_of_fee and share_of_price",
        ),
    ],
)
def test_bad_band_and_extra_fields_are_named(tmp_path: Path, line: str, field: str, expected: str) -> None:
    found = problems(tmp_path, line + "\n")
    assert any(problem.startswith(f"{FIELD}.{field}") and expected in problem for problem in found), found


def test_policybot_check_counts_the_new_schedules_per_platform_and_marketplace() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    # fee schedules: platform, marketplace, categories, versions, currency, also for
    assert ["ebay", "US", "1", "1", "USD", "-"] in lines
    assert ["mercado-libre", "BR", "1", "1", "BRL", "-"] in lines
    assert ["etsy", "US", "1", "1", "USD", "-"] in lines
