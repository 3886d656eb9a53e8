"""The FBA fulfillment fee engine: size tier, shipping weight, the rate card row, surcharges, by date.

Pure functions over the rate cards in the catalog (bot/catalog/fba_schema.py). Every step returns what
it decided and why (the limits a package exceeded, whether the 2-inch minimum applied, which price band
and whether the price sits on a boundary no source settles), so an answer can show its working.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import NamedTuple

from bot.catalog.fba_schema import (
    FbaPeakWindow,
    FbaPriceBand,
    FbaRateCard,
    FbaRow,
    FbaSizeTier,
    SurchargeBase,
    WeightBasis,
)
from bot.catalog.fields import Confidence
from bot.catalog.load import Catalog
from bot.catalog.schema import Rule
from bot.money import CurrencyMismatch, Money, round_cents

__all__ = [
    "FbaFee",
    "FbaQuote",
    "Package",
    "Placement",
    "SurchargeCharge",
    "TierChoice",
    "TierMiss",
    "card_on",
    "cards_of",
    "classify",
    "fee_at",
    "fee_value",
    "fulfillment_fee",
    "peak_window",
    "place",
    "previous_card",
    "quote",
    "quote_price",
    "surcharges_on",
    "to_inches",
    "to_pounds",
]

# How many of each unit make an inch or a pound, by the definitions (1 in = 2.54 cm, 1 lb = 0.45359237 kg).
# Dividing by these keeps 30.48 cm exactly 12 in, where multiplying by a rounded reciprocal would not.
LENGTH_UNITS = {"in": Decimal(1), "cm": Decimal("2.54"), "mm": Decimal("25.4")}
WEIGHT_UNITS = {"lb": Decimal(1), "oz": Decimal(16), "kg": Decimal("0.45359237"), "g": Decimal("453.59237")}


def to_inches(value: Decimal, unit: str) -> Decimal:
    """A length in in, cm or mm, in inches (KeyError for another unit)."""
    return value / LENGTH_UNITS[unit]


def to_pounds(value: Decimal, unit: str) -> Decimal:
    """A weight in lb, oz, kg or g, in pounds (KeyError for another unit)."""
    return value / WEIGHT_UNITS[unit]


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class TierMiss:
    """Why a package is not in a tier: the first limit it exceeds (`what`: weight, longest, ...)."""

    tier: FbaSizeTier
    what: str
    value: Decimal
    limit: Decimal


class TierChoice(NamedTuple):
    tier: FbaSizeTier
    missed: tuple[TierMiss, ...]  # the smaller tiers, each with the limit that ruled it out
    dimensional_weight: Decimal
    floor_applied: bool  # the 2-inch minimum raised a side for the dimensional weight
    shipping_weight: Decimal
    used_dimensional: bool  # the dimensional weight, not the unit weight, is the shipping weight


def _dimensional_weight(package: Package, floor: Decimal, divisor: Decimal) -> tuple[Decimal, bool]:
    """(dimensional weight, whether the minimum width and height `floor` raised a side)."""
    median, shortest = max(package.median, floor), max(package.shortest, floor)
    raised = median != package.median or shortest != package.shortest
    return package.longest * median * shortest / divisor, raised


def _size_miss(package: Package, tier: FbaSizeTier) -> TierMiss | None:
    # Plain comparisons, no loop: this runs for every SKU of an impact computation.
    if tier.longest_in is not None and package.longest > tier.longest_in:
        return TierMiss(tier, "longest", package.longest, tier.longest_in)
    if tier.median_in is not None and package.median > tier.median_in:
        return TierMiss(tier, "median", package.median, tier.median_in)
    if tier.shortest_in is not None and package.shortest > tier.shortest_in:
        return TierMiss(tier, "shortest", package.shortest, tier.shortest_in)
    if tier.length_girth_in is not None and package.length_girth > tier.length_girth_in:
        return TierMiss(tier, "length_girth", package.length_girth, tier.length_girth_in)
    return None


def classify(card: FbaRateCard, package: Package, *, explain: bool = True) -> TierChoice:
    """The smallest tier of the card the package fits, and why each smaller one did not fit.

    With explain=False the reasons are skipped (`missed` is empty): bulk computations need only the tier.

    Sizes are checked before weights, so the dimensional weight is computed only for tiers a package
    fits by size (the 50,000-SKU impact runs this twice per SKU).
    """
    if not explain:
        return _classify_quickly(card, package)
    missed: list[TierMiss] = []
    floor_computed: Decimal | None = None
    dimensional, raised = Decimal(0), False
    for tier in card.tiers:
        miss = _size_miss(package, tier)
        if miss is None:
            floor = tier.dim_min_side_in
            if floor != floor_computed:
                dimensional, raised = _dimensional_weight(package, floor, card.dim_divisor)
                floor_computed = floor
            unit_only = tier.weight is WeightBasis.UNIT or (
                tier.unit_weight_above_lb is not None and package.weight_lb > tier.unit_weight_above_lb
            )
            weight = package.weight_lb if unit_only else max(package.weight_lb, dimensional)
            if tier.max_weight_lb is None or weight <= tier.max_weight_lb:
                used_dimensional = not unit_only and dimensional > package.weight_lb
                return TierChoice(tier, tuple(missed), dimensional, raised, weight, used_dimensional)
            miss = TierMiss(tier, "weight", weight, tier.max_weight_lb)
        if explain:
            missed.append(miss)
    raise AssertionError("the last tier has no limits by validation")  # pragma: no cover


_INFINITE = Decimal("Infinity")
# A tier's limits as a plain tuple, read once per card: the bulk loop below runs 50,000 times.
_TierLimits = tuple[FbaSizeTier, bool, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]
_LIMITS: dict[int, tuple[FbaRateCard, tuple[_TierLimits, ...]]] = {}


def _limits_of(card: FbaRateCard) -> tuple[_TierLimits, ...]:
    cached = _LIMITS.get(id(card))
    if cached is None or cached[0] is not card:

        def limit(value: Decimal | None) -> Decimal:
            return _INFINITE if value is None else value

        limits = tuple(
            (
                tier,
                tier.weight is WeightBasis.UNIT,
                limit(tier.max_weight_lb),
                limit(tier.longest_in),
                limit(tier.median_in),
                limit(tier.shortest_in),
                limit(tier.length_girth_in),
                tier.dim_min_side_in,
                limit(tier.unit_weight_above_lb),
            )
            for tier in card.tiers
        )
        cached = _LIMITS[id(card)] = (card, limits)
    return cached[1]


def _classify_quickly(card: FbaRateCard, package: Package) -> TierChoice:
    """`classify` without the reasons, for 50,000 SKUs at a time: the same tier, fewer objects.

    A unit-weight tier is ruled out by its weight before any size is looked at; the dimensional weight
    is computed once per minimum side, and only for a tier the package fits by size.
    """
    longest, median, shortest, weight_lb = (
        package.longest,
        package.median,
        package.shortest,
        package.weight_lb,
    )
    girth = longest + 2 * (median + shortest)
    floor_computed: Decimal | None = None
    dimensional, raised = Decimal(0), False
    for tier, unit_basis, limit, max_long, max_median, max_short, max_girth, floor, unit_above in _limits_of(
        card
    ):
        if unit_basis and weight_lb > limit:
            continue
        if longest > max_long or median > max_median or shortest > max_short or girth > max_girth:
            continue
        if floor != floor_computed:
            floor_computed = floor
            dimensional, raised = _dimensional_weight(package, floor, card.dim_divisor)
        if unit_basis:
            return TierChoice(tier, (), dimensional, raised, weight_lb, False)
        unit_only = weight_lb > unit_above
        weight = weight_lb if unit_only or weight_lb >= dimensional else dimensional
        if weight <= limit:
            used_dimensional = not unit_only and dimensional > weight_lb
            return TierChoice(tier, (), dimensional, raised, weight, used_dimensional)
    raise AssertionError("the last tier has no limits by validation")  # pragma: no cover


# Per card: its band starts, and the band of each price seen (a SKU file repeats a few hundred prices).
_BAND_STARTS: dict[int, tuple[FbaRateCard, tuple[tuple[Decimal, bool], ...], dict[Decimal, int]]] = {}
_PRICES_KEPT = 100_000  # past this many distinct prices a card's price memo starts over


def _band_index(card: FbaRateCard, price: Decimal) -> int:
    cached = _BAND_STARTS.get(id(card))
    if cached is None or cached[0] is not card:
        starts = tuple((band.from_, band.from_inclusive) for band in card.bands)
        cached = _BAND_STARTS[id(card)] = (card, starts, {})
    known = cached[2]
    chosen = known.get(price)
    if chosen is None:
        chosen = 0
        for index, (start, inclusive) in enumerate(cached[1]):
            if price > start or (inclusive and price == start):
                chosen = index
        if len(known) >= _PRICES_KEPT:
            known.clear()
        known[price] = chosen
    return chosen


def _unsure_band(card: FbaRateCard, price: Decimal) -> int | None:
    """The index of the band whose boundary the price sits on exactly, when no source settles that side."""
    for index, band in enumerate(card.bands):
        if index and band.boundary_unsure and price == band.from_:
            return index
    return None


def _row_fee(row: FbaRow, band: int, steps: int) -> Decimal:
    return round_cents(row.fees[band] + steps * row.add)


class Placement(NamedTuple):
    """Where a package sits on a card, whatever its price: tier, shipping weight, row and increments."""

    card: FbaRateCard
    choice: TierChoice
    row: FbaRow
    row_lower: Decimal  # the row covers shipping weights above this (0 for a tier's first row)
    increments: int  # started `per` intervals above the row's `above` weight


# Per card and tier: the rows and their inclusive upper weights (the last may be open), for a bisection.
_RowIndex = tuple[list[FbaRow], list[Decimal]]
_ROWS_BY_TIER: dict[int, tuple[FbaRateCard, dict[str, _RowIndex]]] = {}
_NO_LIMIT = Decimal("Infinity")


def _rows_of(card: FbaRateCard, tier: str) -> _RowIndex:
    # Cards are immutable; keeping the card in the value keeps its id from being reused.
    cached = _ROWS_BY_TIER.get(id(card))
    if cached is None or cached[0] is not card:
        by_tier: dict[str, _RowIndex] = {}
        for row in card.rows:
            rows, limits = by_tier.setdefault(row.tier, ([], []))
            rows.append(row)
            limits.append(_NO_LIMIT if row.up_to is None else row.up_to)
        cached = _ROWS_BY_TIER[id(card)] = (card, by_tier)
    return cached[1][tier]


def place(card: FbaRateCard, package: Package, *, explain: bool = True) -> Placement:
    choice = classify(card, package, explain=explain)
    weight = choice.shipping_weight
    rows, limits = _rows_of(card, choice.tier.id)
    # The first row whose upper weight is at least the shipping weight (the last row beyond them all).
    position = min(bisect_left(limits, weight), len(rows) - 1)
    chosen = rows[position]
    lower = limits[position - 1] if position > 0 else Decimal(0)
    steps = 0
    if chosen.per is not None and chosen.above is not None and weight > chosen.above:
        steps = int(((weight - chosen.above) / chosen.per).to_integral_value(rounding=ROUND_CEILING))
    return Placement(card, choice, chosen, lower, steps)


@dataclass(frozen=True, slots=True)
class FbaFee:
    """The fulfillment fee of one package at one price under one rate card, with its working."""

    placement: Placement
    band: FbaPriceBand
    fee: Decimal
    # On a band boundary no source settles: the other band and the fee it would give.
    other_band: FbaPriceBand | None = None
    other_fee: Decimal | None = None

    @property
    def card(self) -> FbaRateCard:
        return self.placement.card

    @property
    def choice(self) -> TierChoice:
        return self.placement.choice

    @property
    def row(self) -> FbaRow:
        return self.placement.row

    @property
    def increments(self) -> int:
        return self.placement.increments

    @property
    def checked(self) -> bool:
        """A source other than calculator code confirms this very fee."""
        return self.band.id in self.row.checked

    @property
    def confidence(self) -> Confidence:
        return Confidence.MEDIUM if self.checked else self.card.confidence


def fee_at(placement: Placement, price: Decimal) -> FbaFee:
    """The fee of a placed package at a price: the price band's base fee plus the increments."""
    card, row, steps = placement.card, placement.row, placement.increments
    band_index = _band_index(card, price)
    fee = _row_fee(row, band_index, steps)
    unsure = _unsure_band(card, price)
    if unsure is None:
        return FbaFee(placement, card.bands[band_index], fee)
    other = unsure - 1 if band_index == unsure else unsure
    return FbaFee(placement, card.bands[band_index], fee, card.bands[other], _row_fee(row, other, steps))


def fee_value(placement: Placement, price: Decimal) -> Decimal:
    """The fee alone, without its working: what a 50,000-SKU impact computation needs."""
    return _row_fee(placement.row, _band_index(placement.card, price), placement.increments)


def fulfillment_fee(card: FbaRateCard, package: Package, price: Decimal) -> FbaFee:
    return fee_at(place(card, package), price)


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


@dataclass(frozen=True, slots=True)
class SurchargeCharge:
    rule: Rule
    rate: Decimal
    amount: Decimal
    since: dt.date | None = None  # the surcharge's own start: shown apart from the rate card's date


def surcharges_on(
    catalog: Catalog, marketplace: str, base: SurchargeBase, day: dt.date, fee: Decimal
) -> list[SurchargeCharge]:
    """The surcharges in force on `day` on a fee of this kind in this marketplace, each rounded to cents."""
    return [
        SurchargeCharge(rule, surcharge.rate, round_cents(fee * surcharge.rate), surcharge.effective_from)
        for rule in catalog.rules.values()
        for surcharge in rule.surcharges
        if surcharge.applies_to is base and marketplace in surcharge.marketplaces and surcharge.in_force(day)
    ]


@dataclass(frozen=True, slots=True)
class FbaQuote:
    """The fulfillment fee on a day, the surcharges on it, and their total."""

    day: dt.date
    fee: FbaFee
    surcharges: tuple[SurchargeCharge, ...]

    @property
    def total(self) -> Decimal:
        return self.fee.fee + sum((s.amount for s in self.surcharges), Decimal(0))


def peak_window(catalog: Catalog, marketplace: str) -> tuple[Rule, FbaPeakWindow] | None:
    """The usual holiday peak of the marketplace's FBA fees, with the rule that records it, if any."""
    for rule in catalog.rules.values():
        if rule.fba_peak is not None and marketplace in rule.fba_peak.marketplaces:
            return rule, rule.fba_peak
    return None


def quote_price(
    catalog: Catalog, marketplace: str, package: Package, price: Money, day: dt.date
) -> FbaQuote | None:
    """`quote` for a price with its currency: one in another currency than the marketplace's card raises
    CurrencyMismatch; None when no card covers the day."""
    card = card_on(catalog, marketplace, day)
    if card is not None and card.currency != price.currency:
        raise CurrencyMismatch(f"a {price.currency} price on the {marketplace} FBA card in {card.currency}")
    return quote(catalog, marketplace, package, price.amount, day)


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
