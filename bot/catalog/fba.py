"""The FBA fulfillment fee engine: size tier, shipping weight, the rate card row, surcharges, by date.

Pure functions over the rate cards in the catalog (bot/catalog/fba_schema.py). Every step returns what
it decided and why (the limits a package exceeded, whether the 2-inch minimum applied, which price band
and whether the price sits on a boundary no source settles), so an answer can show its working.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from bot.catalog.fba_schema import FbaPriceBand, FbaRateCard, FbaRow, FbaSizeTier, SurchargeBase, WeightBasis
from bot.catalog.load import Catalog
from bot.catalog.schema import Confidence, Rule
from bot.money import round_cents

__all__ = [
    "FbaFee",
    "FbaQuote",
    "Package",
    "SurchargeCharge",
    "TierChoice",
    "TierMiss",
    "card_on",
    "cards_of",
    "classify",
    "fulfillment_fee",
    "previous_card",
    "quote",
    "surcharges_on",
    "to_inches",
    "to_pounds",
]

CM_PER_INCH = Decimal("2.54")
POUNDS_PER_KG = Decimal("2.20462262185")
OUNCES_PER_POUND = Decimal(16)
GRAMS_PER_KG = Decimal(1000)
LENGTH_UNITS = {"in": Decimal(1), "cm": 1 / CM_PER_INCH, "mm": 1 / (CM_PER_INCH * 10)}
WEIGHT_UNITS = {
    "lb": Decimal(1),
    "oz": 1 / OUNCES_PER_POUND,
    "kg": POUNDS_PER_KG,
    "g": POUNDS_PER_KG / GRAMS_PER_KG,
}


def to_inches(value: Decimal, unit: str) -> Decimal:
    """A length in in, cm or mm, in inches (KeyError for another unit)."""
    return value * LENGTH_UNITS[unit]


def to_pounds(value: Decimal, unit: str) -> Decimal:
    """A weight in lb, oz, kg or g, in pounds (KeyError for another unit)."""
    return value * WEIGHT_UNITS[unit]


@dataclass(frozen=True)
class Package:
    """A packaged unit: its sides sorted longest first, in inches, and its unit weight in pounds."""

    longest: Decimal
    median: Decimal
    shortest: Decimal
    weight_lb: Decimal

    @classmethod
    def of(cls, sides: tuple[Decimal, Decimal, Decimal], weight_lb: Decimal) -> Package:
        longest, median, shortest = sorted(sides, reverse=True)
        return cls(longest, median, shortest, weight_lb)

    @property
    def length_girth(self) -> Decimal:
        return self.longest + 2 * (self.median + self.shortest)


@dataclass(frozen=True)
class TierMiss:
    """Why a package is not in a tier: the first limit it exceeds (`what`: weight, longest, ...)."""

    tier: FbaSizeTier
    what: str
    value: Decimal
    limit: Decimal


@dataclass(frozen=True)
class TierChoice:
    tier: FbaSizeTier
    missed: tuple[TierMiss, ...]  # the smaller tiers, each with the limit that ruled it out
    dimensional_weight: Decimal
    floor_applied: bool  # the 2-inch minimum raised a side for the dimensional weight
    shipping_weight: Decimal
    used_dimensional: bool  # the dimensional weight, not the unit weight, is the shipping weight


def _dimensional_weight(package: Package, tier: FbaSizeTier, divisor: Decimal) -> tuple[Decimal, bool]:
    floor = tier.dim_min_side_in
    median, shortest = max(package.median, floor), max(package.shortest, floor)
    raised = median != package.median or shortest != package.shortest
    return package.longest * median * shortest / divisor, raised


def _shipping_weight(package: Package, tier: FbaSizeTier, divisor: Decimal) -> tuple[Decimal, Decimal, bool]:
    """(shipping weight, dimensional weight, floor applied) under the tier's weight rule."""
    dimensional, raised = _dimensional_weight(package, tier, divisor)
    if tier.weight is WeightBasis.UNIT:
        return package.weight_lb, dimensional, raised
    if tier.unit_weight_above_lb is not None and package.weight_lb > tier.unit_weight_above_lb:
        return package.weight_lb, dimensional, raised
    return max(package.weight_lb, dimensional), dimensional, raised


def _first_miss(package: Package, tier: FbaSizeTier, weight: Decimal) -> TierMiss | None:
    checks = (
        ("weight", weight, tier.max_weight_lb),
        ("longest", package.longest, tier.longest_in),
        ("median", package.median, tier.median_in),
        ("shortest", package.shortest, tier.shortest_in),
        ("length_girth", package.length_girth, tier.length_girth_in),
    )
    for what, value, limit in checks:
        if limit is not None and value > limit:
            return TierMiss(tier, what, value, limit)
    return None


def classify(card: FbaRateCard, package: Package) -> TierChoice:
    """The smallest tier of the card the package fits, and why each smaller one did not fit."""
    missed: list[TierMiss] = []
    for tier in card.tiers:
        weight, dimensional, raised = _shipping_weight(package, tier, card.dim_divisor)
        miss = _first_miss(package, tier, weight)
        if miss is None:
            used_dimensional = weight == dimensional and dimensional > package.weight_lb
            return TierChoice(tier, tuple(missed), dimensional, raised, weight, used_dimensional)
        missed.append(miss)
    raise AssertionError("the last tier has no limits by validation")  # pragma: no cover


def _band_index(card: FbaRateCard, price: Decimal) -> int:
    chosen = 0
    for index, band in enumerate(card.bands):
        if price > band.from_ or (band.from_inclusive and price == band.from_):
            chosen = index
    return chosen


def _unsure_band(card: FbaRateCard, price: Decimal) -> FbaPriceBand | None:
    """The band boundary the price sits on exactly, when no source says which side it belongs to."""
    return next((b for b in card.bands[1:] if b.boundary_unsure and price == b.from_), None)


def _row_for(card: FbaRateCard, tier: FbaSizeTier, weight: Decimal) -> FbaRow:
    rows = [row for row in card.rows if row.tier == tier.id]
    return next((row for row in rows if row.up_to is None or weight <= row.up_to), rows[-1])


def _row_fee(row: FbaRow, band: int, weight: Decimal) -> tuple[Decimal, int]:
    """(fee, increments): the band's base fee plus `add` per started `per` above `above`."""
    steps = 0
    if row.per is not None and row.above is not None and weight > row.above:
        steps = int(((weight - row.above) / row.per).to_integral_value(rounding=ROUND_CEILING))
    return round_cents(row.fees[band] + steps * row.add), steps


@dataclass(frozen=True)
class FbaFee:
    """The fulfillment fee of one package at one price under one rate card, with its working."""

    card: FbaRateCard
    choice: TierChoice
    band: FbaPriceBand
    row: FbaRow
    row_lower: Decimal  # the row covers shipping weights above this (0 for a tier's first row)
    increments: int
    fee: Decimal
    # On a band boundary no source settles: the other band and the fee it would give.
    other_band: FbaPriceBand | None = None
    other_fee: Decimal | None = None

    @property
    def checked(self) -> bool:
        """A source other than calculator code confirms this very fee."""
        return self.band.id in self.row.checked

    @property
    def confidence(self) -> Confidence:
        return Confidence.MEDIUM if self.checked else self.card.confidence


def fulfillment_fee(card: FbaRateCard, package: Package, price: Decimal) -> FbaFee:
    choice = classify(card, package)
    band_index = _band_index(card, price)
    row = _row_for(card, choice.tier, choice.shipping_weight)
    rows = [r for r in card.rows if r.tier == choice.tier.id]
    position = rows.index(row)
    lower = rows[position - 1].up_to if position > 0 else None
    fee, steps = _row_fee(row, band_index, choice.shipping_weight)
    unsure = _unsure_band(card, price)
    other_band = other_fee = None
    if unsure is not None:
        unsure_index = card.bands.index(unsure)
        other_index = unsure_index - 1 if band_index == unsure_index else unsure_index
        other_band = card.bands[other_index]
        other_fee = _row_fee(row, other_index, choice.shipping_weight)[0]
    band = card.bands[band_index]
    return FbaFee(card, choice, band, row, lower or Decimal(0), steps, fee, other_band, other_fee)


def cards_of(catalog: Catalog, marketplace: str) -> list[tuple[Rule, FbaRateCard]]:
    """The marketplace's rate cards with their rules, oldest first."""
    found = [
        (rule, card)
        for rule in catalog.rules.values()
        for card in rule.fba_rate_cards
        if card.marketplace == marketplace
    ]
    return sorted(found, key=lambda pair: pair[1].effective_from)


def card_on(catalog: Catalog, marketplace: str, day: dt.date) -> FbaRateCard | None:
    """The card in force on `day` (the latest that started on or before it), if the catalog has one."""
    in_force = [card for _, card in cards_of(catalog, marketplace) if card.effective_from <= day]
    return in_force[-1] if in_force else None


def previous_card(catalog: Catalog, card: FbaRateCard) -> FbaRateCard | None:
    earlier = [c for _, c in cards_of(catalog, card.marketplace) if c.effective_from < card.effective_from]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class SurchargeCharge:
    rule: Rule
    rate: Decimal
    amount: Decimal


def surcharges_on(
    catalog: Catalog, marketplace: str, base: SurchargeBase, day: dt.date, fee: Decimal
) -> list[SurchargeCharge]:
    """The surcharges in force on `day` on a fee of this kind in this marketplace, each rounded to cents."""
    return [
        SurchargeCharge(rule, surcharge.rate, round_cents(fee * surcharge.rate))
        for rule in catalog.rules.values()
        for surcharge in rule.surcharges
        if surcharge.applies_to is base and marketplace in surcharge.marketplaces and surcharge.in_force(day)
    ]


@dataclass(frozen=True)
class FbaQuote:
    """The fulfillment fee on a day, the surcharges on it, and their total."""

    day: dt.date
    fee: FbaFee
    surcharges: tuple[SurchargeCharge, ...]

    @property
    def total(self) -> Decimal:
        return self.fee.fee + sum((s.amount for s in self.surcharges), Decimal(0))


def quote(
    catalog: Catalog, marketplace: str, package: Package, price: Decimal, day: dt.date
) -> FbaQuote | None:
    """The fee on `day` with its surcharges; None when no card of the catalog covers that day."""
    card = card_on(catalog, marketplace, day)
    if card is None:
        return None
    fee = fulfillment_fee(card, package, price)
    extra = surcharges_on(catalog, marketplace, SurchargeBase.FBA_FULFILLMENT, day, fee.fee)
    return FbaQuote(day, fee, tuple(extra))
