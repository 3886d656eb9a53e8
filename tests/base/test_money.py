"""Money carries its currency: no sum, difference or comparison across currencies; totals per currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.money import CurrencyMismatch, Money, Totals

CURRENCIES = ["USD", "GBP", "EUR", "JPY", "CAD"]
amounts = st.decimals(min_value=-10_000, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)
moneys = st.builds(Money, amounts, st.sampled_from(CURRENCIES))


def test_same_currency_adds_and_formats() -> None:
    total = Money(Decimal("1.80"), "USD") + Money(Decimal("1.26"), "USD")
    assert total == Money(Decimal("3.06"), "USD")
    assert total.format() == "$3.06"
    assert (-total).format() == "-$3.06"
    assert (Money(Decimal("14"), "GBP") * 80).format() == "£1,120.00"


@pytest.mark.parametrize("operation", ["add", "sub", "lt"])
def test_two_currencies_never_mix(operation: str) -> None:
    dollars, pounds = Money(Decimal(14), "USD"), Money(Decimal(14), "GBP")
    with pytest.raises(CurrencyMismatch, match="USD and GBP"):
        if operation == "add":
            dollars + pounds
        elif operation == "sub":
            dollars - pounds
        else:
            assert dollars < pounds


def test_a_code_that_is_not_iso_4217_is_refused() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(Decimal(1), "$")


def test_yen_round_to_whole_yen() -> None:
    assert Money(Decimal("620.5"), "JPY").rounded() == Money(Decimal(621), "JPY")


def test_totals_keep_one_sum_per_currency() -> None:
    totals = Totals([Money(Decimal(2), "USD"), Money(Decimal(3), "GBP"), Money(Decimal(5), "USD")])
    assert len(totals) == 2
    assert totals.format() == "£3.00 + $7.00"
    assert totals.get("EUR") == Money.zero("EUR")


@given(st.lists(moneys, max_size=30))
def test_per_currency_totals_equal_the_sum_of_their_amounts(items: list[Money]) -> None:
    totals = Totals(items)
    assert {m.currency for m in totals} == {m.currency for m in items}
    for total in totals:
        assert total.amount == sum((m.amount for m in items if m.currency == total.currency), Decimal(0))
