"""Issue #17: /impact takes a change's name in the seller's words, not only a date, a rule id or R-A1."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.catalog.load import Catalog
from bot.errors import UserInputError
from bot.skus.text import choose_change

TODAY = dt.date(2026, 12, 1)
FUEL = {"amazon-us-fuel-surcharge-2026", "amazon-eu-fuel-surcharge-2026"}


@pytest.mark.parametrize(
    "words", ["燃油附加费", "燃油费", "fuel surcharge", "FBA fuel and logistics surcharge"]
)
def test_the_fuel_surcharge_by_any_of_its_names(catalog: Catalog, words: str) -> None:
    change = choose_change(catalog, words.split(), TODAY)
    assert change.day == dt.date(2026, 4, 17)
    assert {rule.id for rule in change.rules} == FUEL


def test_a_reference_names_its_own_rule_alone(catalog: Catalog) -> None:
    """R-A1 is the US/CA surcharge only (#16: impact per rule and marketplace), not R-A2's EU one."""
    change = choose_change(catalog, ["R-A1"], TODAY)
    assert [rule.id for rule in change.rules] == ["amazon-us-fuel-surcharge-2026"]


def test_the_low_inventory_fee_by_its_name_is_the_2026_01_15_change(catalog: Catalog) -> None:
    for words in (["低库存费"], ["low", "inventory", "fee"]):
        change = choose_change(catalog, words, TODAY)
        assert change.day == dt.date(2026, 1, 15)
        assert "amazon-us-low-inventory-fee-2026" in {rule.id for rule in change.rules}


@pytest.mark.parametrize("words", ["inbound placement", "xyzzy", "深圳"])
def test_words_that_name_no_fee_change_are_refused(catalog: Catalog, words: str) -> None:
    # "inbound placement" names a rule whose fee our model does not compute: no change to show; the fuel
    # surcharge, whose text merely mentions it, is not offered in its place.
    with pytest.raises(UserInputError) as raised:
        choose_change(catalog, words.split(), TODAY)
    assert raised.value.key == "impact_unknown_change"
