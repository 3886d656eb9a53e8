"""The fee engine on the shipped schedules: tier boundaries, marginal slices, minimums, dated versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.catalog.fees import charge, compare, version_span
from bot.catalog.load import Catalog
from bot.catalog.schema import FeeSchedule
from bot.money import format_money, format_rate, round_cents

AFTER_CUT = dt.date(2024, 1, 15)
BEFORE_CUT = dt.date(2024, 1, 14)


def schedule(catalog: Catalog, platform: str, market: str, category: str) -> FeeSchedule:
    return catalog.fee_schedules[(platform, market, category)]


def fee_on(catalog: Catalog, key: tuple[str, str, str], price: str, day: dt.date) -> Decimal:
    result = compare(schedule(catalog, *key), Decimal(price), day)
    assert result.current is not None
    return result.current.fee


APPAREL = ("amazon", "US", "apparel")


@pytest.mark.parametrize(
    ("price", "fee"),
    [
        ("0.01", "0.30"),  # the per-item minimum
        ("6.00", "0.30"),  # 5% = 0.30 exactly
        ("6.20", "0.31"),
        ("14.99", "0.75"),  # 0.7495 rounds half-up
        ("15.00", "0.75"),  # exactly $15.00 is still 5%
        ("15.01", "1.50"),  # 10% from just above $15.00
        ("18.00", "1.80"),
        ("20.00", "2.00"),  # exactly $20.00 is still 10%
        ("20.01", "3.40"),  # 17% above $20.00: 3.4017
        ("100.00", "17.00"),
    ],
)
def test_apparel_bands_after_the_2024_cut(catalog: Catalog, price: str, fee: str) -> None:
    assert fee_on(catalog, APPAREL, price, AFTER_CUT) == Decimal(fee)


def test_apparel_was_flat_17_percent_the_day_before(catalog: Catalog) -> None:
    assert fee_on(catalog, APPAREL, "18.00", BEFORE_CUT) == Decimal("3.06")
    assert fee_on(catalog, APPAREL, "15.00", BEFORE_CUT) == Decimal("2.55")
    assert fee_on(catalog, APPAREL, "1.00", BEFORE_CUT) == Decimal("0.30")


def test_apparel_comparison_names_old_and_new(catalog: Catalog) -> None:
    result = compare(schedule(catalog, *APPAREL), Decimal("18"), dt.date(2026, 11, 25))
    assert result.current is not None and result.previous is not None
    assert result.current.since == AFTER_CUT
    assert (result.previous.fee, result.current.fee) == (Decimal("3.06"), Decimal("1.80"))
    assert result.previous.until == AFTER_CUT
    assert result.upcoming is None


@pytest.mark.parametrize(
    ("category", "price", "fee"),
    [
        ("beauty", "10.00", "0.80"),  # whole-price: 8% up to and including $10
        ("beauty", "10.01", "1.50"),  # then 15% on the whole price
        ("grocery", "15.00", "1.20"),
        ("grocery", "15.01", "2.25"),
        ("jewelry", "250.00", "50.00"),  # marginal: 20% of 250
        ("jewelry", "300.00", "52.50"),  # 20% of 250 + 5% of 50
        ("watches", "2000.00", "255.00"),  # 16% of 1500 + 3% of 500
        ("furniture", "300.00", "40.00"),  # 15% of 200 + 10% of 100
        ("compact-appliances", "400.00", "53.00"),  # 15% of 300 + 8% of 100
        ("electronics-accessories", "150.00", "19.00"),  # 15% of 100 + 8% of 50
        ("amazon-device-accessories", "20.00", "9.00"),
        ("automotive", "1.00", "0.30"),  # 12% = 0.12, below the minimum
        ("computers", "100.00", "8.00"),
    ],
)
def test_other_amazon_us_categories(catalog: Catalog, category: str, price: str, fee: str) -> None:
    assert fee_on(catalog, ("amazon", "US", category), price, AFTER_CUT) == Decimal(fee)


def test_marginal_slices_are_reported(catalog: Catalog) -> None:
    jewelry = schedule(catalog, "amazon", "US", "jewelry")
    result = charge(jewelry, len(jewelry.versions) - 1, Decimal("300"))
    assert [(s.amount, s.fee) for s in result.slices] == [
        (Decimal("250"), Decimal("50.00")),
        (Decimal("50"), Decimal("2.50")),
    ]


TIKTOK_US = ("tiktok-shop", "US", "standard")


def test_tiktok_us_history(catalog: Catalog) -> None:
    # 2% + $0.30 per order before 2024-04-01, 6% from then, 8% from 2024-07-01.
    assert fee_on(catalog, TIKTOK_US, "20", dt.date(2024, 3, 31)) == Decimal("0.70")
    assert fee_on(catalog, TIKTOK_US, "20", dt.date(2024, 4, 1)) == Decimal("1.20")
    assert fee_on(catalog, TIKTOK_US, "20", dt.date(2024, 6, 30)) == Decimal("1.20")
    assert fee_on(catalog, TIKTOK_US, "20", dt.date(2024, 7, 1)) == Decimal("1.60")
    assert fee_on(catalog, ("tiktok-shop", "US", "electronics"), "20", dt.date(2024, 7, 1)) == Decimal("1.20")
    assert fee_on(catalog, ("tiktok-shop", "US", "pre-owned"), "20", dt.date(2024, 7, 1)) == Decimal("1.00")


def test_tiktok_uk_has_no_version_before_it_starts(catalog: Catalog) -> None:
    uk = schedule(catalog, "tiktok-shop", "UK", "standard")
    before = compare(uk, Decimal("10"), dt.date(2024, 9, 1))
    assert before.current is None
    assert before.upcoming is not None and before.upcoming.since == dt.date(2024, 9, 2)
    assert fee_on(catalog, ("tiktok-shop", "UK", "standard"), "10", dt.date(2024, 9, 2)) == Decimal("0.90")


def test_upcoming_version_is_announced_before_its_date(catalog: Catalog) -> None:
    result = compare(schedule(catalog, *TIKTOK_US), Decimal("20"), dt.date(2024, 5, 1))
    assert result.upcoming is not None
    assert result.upcoming.since == dt.date(2024, 7, 1)
    assert result.upcoming.fee == Decimal("1.60")


def test_version_spans_chain_without_gaps(catalog: Catalog) -> None:
    for sched in catalog.fee_schedules.values():
        for index in range(len(sched.versions) - 1):
            _, until = version_span(sched, index)
            assert until == sched.versions[index + 1].effective_from


def test_money_rounding_and_display() -> None:
    assert round_cents(Decimal("0.005")) == Decimal("0.01")
    assert round_cents(Decimal("0.0049")) == Decimal("0.00")
    assert round_cents(Decimal("2.675")) == Decimal("2.68")  # a float would give 2.67
    assert format_money(Decimal("-1.26"), "USD") == "-$1.26"
    assert format_money(Decimal("1500"), "USD") == "$1,500.00"
    assert format_money(Decimal("5"), "RON") == "5.00 RON"
    assert format_rate(Decimal("0.025")) == "2.5%"
    assert format_rate(Decimal("0.17")) == "17%"
