"""The shape of FBA fulfillment rate cards and percentage surcharges in a policy file.

A rate card is effective-dated (it lasts until the next card of the same marketplace starts), holds the
size-tier definitions of its period, its price bands, and one row per size tier and shipping-weight band.
Weights are written with their unit ("2 oz", "3 lb") and kept in pounds. A surcharge (the 2026 fuel and
logistics surcharge) is a rate on one kind of fee, in some marketplaces, from a date.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from bot.catalog.fields import (
    MARKETPLACE_PATTERN,
    Amount,
    Confidence,
    Identifier,
    Strict,
    Text,
)

__all__ = [
    "FbaPeakWindow",
    "FbaPriceBand",
    "FbaRateCard",
    "FbaRow",
    "FbaSizeTier",
    "PeakExample",
    "Surcharge",
    "SurchargeBase",
    "WeightBasis",
]

OUNCES_PER_POUND = Decimal(16)
_WEIGHT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(oz|lb)\s*$")


def _weight_in_pounds(value: Any) -> Decimal:
    """ "2 oz" -> 0.125, "3 lb" -> 3: the unit is written, so a row cannot silently mix them."""
    if not isinstance(value, str) or not (match := _WEIGHT.match(value)):
        raise ValueError(f'{value!r} is not a weight such as "2 oz" or "3 lb"')
    number = Decimal(match.group(1))
    return number / OUNCES_PER_POUND if match.group(2) == "oz" else number


Weight = Annotated[Decimal, BeforeValidator(_weight_in_pounds)]


class WeightBasis(StrEnum):
    UNIT = "unit"  # the unit weight only (small standard)
    GREATER = "greater"  # the greater of the unit weight and the dimensional weight


class FbaSizeTier(Strict):
    """A size tier: the largest packaged unit it takes. Absent limits mean no limit (extra-large)."""

    id: Identifier
    label: Text
    max_weight_lb: Amount | None = None
    longest_in: Amount | None = None
    median_in: Amount | None = None
    shortest_in: Amount | None = None
    length_girth_in: Amount | None = None  # longest + 2 x (median + shortest)
    weight: WeightBasis
    # The dimensional weight assumes this minimum width and height (Amazon: 2 inches for bulky tiers).
    dim_min_side_in: Amount = Decimal(0)
    # Above this unit weight only the unit weight counts (extra-large 150+ lb).
    unit_weight_above_lb: Amount | None = None


class FbaPriceBand(Strict):
    """A price band: prices from `from` (inclusive unless from_inclusive = false) up to the next band."""

    id: Identifier
    label: Text
    from_: Amount = Field(alias="from")
    from_inclusive: bool = True
    # Set when no source says on which side of `from` a price of exactly `from` falls.
    boundary_unsure: bool = False


class FbaRow(Strict):
    """The fee of one size tier up to a shipping weight: one base fee per price band, plus increments."""

    tier: Identifier
    up_to: Weight | None = None  # inclusive; absent: no upper limit
    fees: list[Amount] = Field(min_length=1)
    add: Amount = Decimal(0)  # added per started `per` of shipping weight above `above`
    per: Weight | None = None
    above: Weight | None = None
    # The price bands whose fee here a source other than calculator code confirms, and what confirms it.
    checked: list[Identifier] = Field(default_factory=list)
    check: Text | None = None
    note: Text | None = None  # a conflict between sources, or another caveat the answer must show

    @model_validator(mode="after")
    def _check(self) -> FbaRow:
        if (self.add > 0) != (self.per is not None and self.above is not None):
            raise ValueError("an increment needs add, per and above together")
        if self.per is not None and self.per <= 0:
            raise ValueError("per must be a positive weight")
        if bool(self.checked) != (self.check is not None):
            raise ValueError("checked and check go together: which bands, and what confirms them")
        return self


class FbaRateCard(Strict):
    """The fulfillment fees of one marketplace from one date until the next card starts."""

    id: Identifier
    marketplace: str = Field(pattern=MARKETPLACE_PATTERN)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    effective_from: dt.date
    confidence: Confidence
    scope: Text  # what the card covers (non-peak, non-apparel, non-dangerous-goods ...)
    dim_divisor: Amount = Field(gt=0)  # cubic inches per pound of dimensional weight
    bands: list[FbaPriceBand] = Field(min_length=1)
    tiers: list[FbaSizeTier] = Field(min_length=1)
    rows: list[FbaRow] = Field(min_length=1)
    notes: list[Text] = Field(default_factory=list)
    # Categories this card does not price (Amazon charges apparel on its own card): an answer for one of
    # them says the fee is not computed rather than quote this card.
    excludes: list[Identifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> FbaRateCard:
        if self.bands[0].from_ != 0 or not self.bands[0].from_inclusive:
            raise ValueError("bands: the first band must start from 0")
        for index in range(1, len(self.bands)):
            if self.bands[index].from_ <= self.bands[index - 1].from_:
                raise ValueError(f"bands[{index}]: bands must be in increasing order")
        tier_ids = [tier.id for tier in self.tiers]
        if len(set(tier_ids)) != len(tier_ids):
            raise ValueError("tiers: duplicate tier id")
        if any(tier.max_weight_lb is None and tier.longest_in is None for tier in self.tiers[:-1]):
            raise ValueError("tiers: only the last tier may be unlimited")
        previous: dict[str, Decimal | None] = {}
        for index, row in enumerate(self.rows):
            where = f"rows[{index}]"
            if row.tier not in tier_ids:
                raise ValueError(f"{where}.tier: unknown tier {row.tier!r}")
            if len(row.fees) != len(self.bands):
                raise ValueError(f"{where}.fees: {len(row.fees)} fees for {len(self.bands)} price bands")
            unknown = [band for band in row.checked if band not in {b.id for b in self.bands}]
            if unknown:
                raise ValueError(f"{where}.checked: unknown price band {', '.join(unknown)}")
            if row.tier in previous:
                last = previous[row.tier]
                if last is None or (row.up_to is not None and row.up_to <= last):
                    raise ValueError(f"{where}.up_to: rows of a tier must go up in weight")
            previous[row.tier] = row.up_to
        missing = [tier for tier in tier_ids if tier not in previous]
        if missing:
            raise ValueError(f"rows: no row for tier {', '.join(missing)}")
        return self


_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


def _month_day(value: Any) -> tuple[int, int]:
    """ "10-15" -> (10, 15): a day of the year, without the year."""
    if not isinstance(value, str) or not (match := _MONTH_DAY.match(value)):
        raise ValueError(f'{value!r} is not a month and day such as "10-15"')
    month, day = int(match.group(1)), int(match.group(2))
    dt.date(2024, month, day)  # a leap year: 02-29 is a day, 02-30 is not
    return month, day


MonthDay = Annotated[tuple[int, int], BeforeValidator(_month_day)]


class PeakExample(Strict):
    """One product of the last announced peak: its fee outside and inside the peak."""

    label: Text
    non_peak: Amount
    peak: Amount


class FbaPeakWindow(Strict):
    """The usual holiday peak of FBA fulfillment fees: every year from `start` to `end` (inclusive,
    month-day, across the new year), and what the last announced peak added, where a source says."""

    marketplaces: list[Annotated[str, Field(pattern=MARKETPLACE_PATTERN)]] = Field(min_length=1)
    start: MonthDay
    end: MonthDay
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    last_from: dt.date  # the last announced peak
    last_until: dt.date  # its last day
    examples: list[PeakExample] = Field(default_factory=list)

    def contains(self, day: dt.date) -> bool:
        """Whether `day` is inside the usual window (which runs over the new year when end < start)."""
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end

    def announced(self, day: dt.date) -> bool:
        """Whether `day` is inside the last announced peak."""
        return self.last_from <= day <= self.last_until


class SurchargeBase(StrEnum):
    """The fee a surcharge is a percentage of."""

    FBA_FULFILLMENT = "fba_fulfillment"
    MCF_FULFILLMENT = "mcf_fulfillment"


class Surcharge(Strict):
    """A percentage added to one kind of fee in some marketplaces from a date (until one, if known)."""

    id: Identifier
    label: Text
    rate: Amount = Field(gt=0, le=1)
    applies_to: SurchargeBase
    marketplaces: list[Annotated[str, Field(pattern=MARKETPLACE_PATTERN)]] = Field(min_length=1)
    effective_from: dt.date
    until: dt.date | None = None  # exclusive; absent: no end date announced

    @model_validator(mode="after")
    def _check(self) -> Surcharge:
        if self.until is not None and self.until <= self.effective_from:
            raise ValueError("until must be after effective_from")
        return self

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.until is None or day < self.until)
