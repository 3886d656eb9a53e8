"""Issue 16 in the catalog: prices carry their currency into the fee engines, the Prime clothing tiers,
the usual peak window and the categories a rate card excludes, as data. Real policy files, no mocks."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import POLICIES
from pydantic import ValidationError

from bot.catalog import (
    FbaPeakWindow,
    Package,
    charge,
    compare,
    peak_window,
    prime_applies,
    quote,
    quote_price,
    referral_fee,
)
from bot.catalog.load import Catalog, CatalogError, load_catalog
from bot.money import CurrencyMismatch, Money

DAY = dt.date(2026, 12, 6)
PACKAGE = Package.of((Decimal(10), Decimal(8), Decimal(1)), Decimal("0.375"))


def test_referral_fee_takes_money_in_the_schedules_currency(catalog: Catalog) -> None:
    uk = catalog.fee_schedules[("amazon", "UK", "apparel")]
    comparison = referral_fee(uk, Money(Decimal(18), "GBP"), DAY)
    assert comparison.current is not None and comparison.current.fee == Decimal("1.80")
    assert comparison == compare(uk, Decimal(18), DAY)  # the Decimal core, kept for the SKU side
    with pytest.raises(CurrencyMismatch):
        referral_fee(uk, Money(Decimal(18), "USD"), DAY)


def test_quote_price_takes_money_in_the_cards_currency(catalog: Catalog) -> None:
    dollars = quote_price(catalog, "US", PACKAGE, Money(Decimal(18), "USD"), DAY)
    assert dollars is not None and dollars.total == Decimal("4.35")
    assert dollars == quote(catalog, "US", PACKAGE, Decimal(18), DAY)
    with pytest.raises(CurrencyMismatch):
        quote_price(catalog, "US", PACKAGE, Money(Decimal(18), "GBP"), DAY)
    assert quote_price(catalog, "US", PACKAGE, Money(Decimal(18), "USD"), dt.date(2020, 1, 1)) is None


@pytest.mark.parametrize(
    ("market", "price", "standard", "prime"),
    [
        ("UK", "50", "7.50", "6.70"),  # 15% of £50; 15% × £40 + 7% × £10
        ("UK", "40", "6.00", "6.00"),  # at the threshold: not above it, the standard rate
        ("UK", "100", "15.00", "10.20"),  # 15% × £40 + 7% × £60
        ("EU", "45", "6.75", "6.75"),
        ("EU", "50", "7.50", "7.10"),  # 15% × €45 + 7% × €5
    ],
)
def test_prime_clothing_tiers(catalog: Catalog, market: str, price: str, standard: str, prime: str) -> None:
    schedule = catalog.fee_schedules[("amazon", market, "apparel")]
    for index in range(len(schedule.versions)):  # before and since 2025-12-15: the rule is in both
        assert charge(schedule, index, Decimal(price)).fee == Decimal(standard)
        as_prime = charge(schedule, index, Decimal(price), prime=True)
        assert as_prime.fee == Decimal(prime)
        assert as_prime.prime_applied == prime_applies(schedule.versions[index], Decimal(price))


def test_prime_has_no_effect_where_no_rule_is_on_record(catalog: Catalog) -> None:
    us = catalog.fee_schedules[("amazon", "US", "apparel")]
    assert charge(us, len(us.versions) - 1, Decimal(50), prime=True).fee == Decimal("8.50")


def test_usual_peak_window_is_data_with_its_last_announced_season(catalog: Catalog) -> None:
    found = peak_window(catalog, "US")
    assert found is not None
    rule, window = found
    assert rule.id == "amazon-us-holiday-peak-fulfillment-fee" and rule.sources
    assert (window.start, window.end) == ((10, 15), (1, 14))
    assert (window.last_from, window.last_until) == (dt.date(2025, 10, 15), dt.date(2026, 1, 14))
    assert [(e.non_peak, e.peak) for e in window.examples] == [
        (Decimal("3.15"), Decimal("3.34")),
        (Decimal("4.67"), Decimal("5.00")),
        (Decimal("12.27"), Decimal("13.31")),
    ]
    assert peak_window(catalog, "UK") is None  # no UK/DE card, so no UK peak on /fba
    inside = [dt.date(2026, 10, 15), dt.date(2026, 12, 31), dt.date(2027, 1, 1), dt.date(2027, 1, 14)]
    outside = [dt.date(2026, 10, 14), dt.date(2027, 1, 15), dt.date(2026, 6, 1)]
    assert all(window.contains(day) for day in inside)
    assert not any(window.contains(day) for day in outside)


@pytest.mark.parametrize("bad", ["13-01", "10-32", "02-30", "1015", 1015])
def test_peak_window_month_day_is_checked(bad: object) -> None:
    with pytest.raises(ValidationError):
        FbaPeakWindow.model_validate(
            {
                "marketplaces": ["US"],
                "start": bad,
                "end": "01-14",
                "currency": "USD",
                "last_from": "2025-10-15",
                "last_until": "2026-01-14",
            }
        )


def test_a_window_within_one_year() -> None:
    window = FbaPeakWindow.model_validate(
        {
            "marketplaces": ["US"],
            "start": "03-01",
            "end": "03-31",
            "currency": "USD",
            "last_from": "2025-03-01",
            "last_until": "2025-03-31",
        }
    )
    assert window.contains(dt.date(2026, 3, 15)) and not window.contains(dt.date(2026, 4, 1))


def test_cards_exclude_apparel_and_apparel_is_a_category(catalog: Catalog) -> None:
    cards = [card for rule in catalog.rules.values() for card in rule.fba_rate_cards]
    assert cards and all(card.excludes == ["apparel"] for card in cards)
    assert "apparel" in {category.id for category in catalog.platforms["amazon"].categories}


def test_marketplace_currency_is_checked(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    path = folder / "marketplaces.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('currency = "USD"', 'currency = "dollar"', 1))
    with pytest.raises(CatalogError, match="currency"):
        load_catalog(folder)
