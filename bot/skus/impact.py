"""What a fee change costs a seller: per SKU, the known per-unit fees the day before and on the day.

The fees we know from the catalog: the referral fee (fee schedules, by category and price), the FBA
fulfillment fee (rate cards, where dimensions and weight are known), the surcharges on it, and the
low-inventory-level fee (where days of supply are known). A fee we cannot compute for a SKU is counted
as "not included" for it, never estimated. A change is a date on which any of those changes.

Every amount is Money in the SKU's currency (its marketplace's); totals are kept per currency, never
summed across. Where the catalog holds no rate card for a marketplace (Europe, Canada, the UK today), the
fulfilment fee a Fee Preview report states is the FBA fee, and the surcharges apply to it. An apparel SKU
is priced on an apparel card only: the cards we hold exclude apparel, so its FBA fee is then not computed.
A change narrowed to one rule (`FeeChange.of_rule`) counts only that rule's fees and marketplaces: a
reminder's line for the EU 1.5% surcharge is not the US 3.5% one of the same day.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from bot.catalog import (
    Calculator,
    Catalog,
    FbaFee,
    FbaRateCard,
    FeeSchedule,
    Package,
    Placement,
    Rule,
    SurchargeBase,
    Table,
    TableRow,
    cards_of,
    charge,
    fee_at,
    fee_value,
    place,
    version_span,
)
from bot.markets import reached_markets, reaches
from bot.money import CENT, Money, Totals, round_cents
from bot.skus.categories import CategoryMapper
from bot.skus.read import SkuRow

__all__ = [
    "COMPONENTS",
    "ChangeImpact",
    "Crossing",
    "FeeChange",
    "FeeModel",
    "SkuFees",
    "SkuImpact",
    "computes_fees",
    "fee_changes",
    "impact_of",
]

PLATFORM = "amazon"  # the SKU files we read are Amazon's (Fee Preview) or priced for Amazon
COMPONENTS = ("referral", "fba", "surcharge", "low_inventory")
ALL_COMPONENTS = frozenset(COMPONENTS)
ZERO = Decimal(0)
_NEED_FBA = frozenset({"fba", "surcharge", "low_inventory"})
# How far below its price we look for a price band boundary worth crossing ($15.00 -> $14.99).
CROSSING_REACH = Decimal("1.00")
_ROW_WEIGHT = re.compile(r"(\d+(?:\.\d+)?)lb$")
APPAREL = "apparel"  # the fee category whose FBA fees have their own card
# The European stores one "EU" SKU (a euro Fee Preview report names no store) stands for.
EU_STORES = frozenset({"DE", "FR", "IT", "ES"})


@dataclass(frozen=True, slots=True)
class FeeChange:
    """A date on which fees our catalog knows change, and the rules that change them.

    `by_rule` says which components each rule changes that day; `marketplaces`, when set, narrows the
    change to the SKUs of those marketplaces (one rule's change: `of_rule`).
    """

    day: dt.date
    rules: tuple[Rule, ...]
    components: frozenset[str]
    by_rule: tuple[tuple[str, frozenset[str]], ...] = ()
    marketplaces: frozenset[str] | None = None

    def of_rule(self, rule_id: str) -> FeeChange:
        """The change as one rule makes it, in its marketplaces only: its own components, or, for a rule
        that only announces the day's change (the "2026 fee update"), those of the rules it shares a
        marketplace with that day."""
        rules = {rule.id: rule for rule in self.rules}
        rule = rules[rule_id]
        own = dict(self.by_rule)
        markets = reached_markets(rule.marketplaces)
        components = own.get(rule_id) or frozenset(
            component
            for other, parts in self.by_rule
            if reached_markets(rules[other].marketplaces) & markets
            for component in parts
        )
        markets_of_rule = frozenset(rule.marketplaces)
        return FeeChange(self.day, (rule,), components, ((rule_id, components),), markets_of_rule)

    def of_rules(self, rule_ids: set[str]) -> FeeChange:
        """The change as several of its rules make it together (the US and the EU fuel surcharge, named
        "燃油附加费"), each in its own marketplaces."""
        parts = [self.of_rule(rule.id) for rule in self.rules if rule.id in rule_ids]
        if len(parts) == 1:
            return parts[0]
        return FeeChange(
            self.day,
            tuple(part.rules[0] for part in parts),
            frozenset().union(*(part.components for part in parts)),
            tuple(pair for part in parts for pair in part.by_rule),
            frozenset().union(*(part.marketplaces or frozenset() for part in parts)),
        )

    def covers(self, sku: SkuRow) -> bool:
        if self.marketplaces is None:
            return True
        if sku.marketplace == "EU":
            return self.marketplaces >= EU_STORES or "EU" in self.marketplaces
        return reaches(self.marketplaces, sku.marketplace)


class SkuFees(NamedTuple):
    """Per-unit fees of one SKU on one day, by component (of COMPONENTS); None where we cannot know it.

    Only the components asked for are present: a change of the FBA card needs no referral fee.
    """

    values: dict[str, Decimal | None]

    def get(self, component: str) -> Decimal | None:
        return self.values.get(component)

    @property
    def total(self) -> Decimal:
        return sum((value for value in self.values.values() if value is not None), Decimal(0))


class SkuImpact(NamedTuple):
    """One SKU's fees around a change, in the SKU's currency."""

    sku: SkuRow
    before: Money  # the known per-unit fees that change, the day before
    after: Money  # and on the day
    per_unit: Money  # the change of the fees known on both days
    monthly: Money | None  # per_unit x monthly units, when the file gives them


class Crossing(NamedTuple):
    """Pricing a SKU just under a band boundary: the fees it saves against the price it gives up."""

    sku: SkuRow
    new_price: Money
    fee_saving: Money  # per unit
    net: Money  # fee_saving - (price - new_price), per unit
    # The price sits exactly on an FBA band boundary no source settles: the saving may not exist.
    boundary_unsure: bool = False


@dataclass
class ChangeImpact:
    change: FeeChange
    skus: int
    affected: list[SkuImpact]  # per-unit change not zero, biggest change first
    monthly_total: Totals  # per currency, never summed across
    currencies: tuple[str, ...]  # of the SKUs the change concerns: a zero total still has a currency
    without_units: int  # affected SKUs whose monthly units the file does not give
    # component -> SKUs for which the fee could not be computed on one of the two days
    not_included: dict[str, list[SkuRow]] = field(default_factory=dict)
    unmapped: list[SkuRow] = field(default_factory=list)  # category words that map to no fee category
    crossings: list[Crossing] = field(default_factory=list)
    # SKUs whose FBA fee is the one their Fee Preview report states (no rate card for their marketplace)
    from_report: list[SkuRow] = field(default_factory=list)


def fee_changes(catalog: Catalog) -> list[FeeChange]:
    """Every date on which an Amazon fee the impact computation knows changes, oldest first."""
    found: dict[dt.date, dict[str, Rule]] = defaultdict(dict)
    kinds: dict[dt.date, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def add(day: dt.date | None, rule: Rule, component: str) -> None:
        if day is not None:
            found[day][rule.id] = rule
            kinds[day][rule.id].add(component)

    for rule in catalog.rules_of(PLATFORM):
        for schedule in rule.fee_schedules:
            for index, version in enumerate(schedule.versions):
                add(version.effective_from, rule, "referral")
                if version.until is not None and index == len(schedule.versions) - 1:
                    add(version.until, rule, "referral")
        for card in rule.fba_rate_cards:
            add(card.effective_from, rule, "fba")
        for surcharge in rule.surcharges:
            if surcharge.applies_to is SurchargeBase.FBA_FULFILLMENT:  # the only base a SKU's fees have
                add(surcharge.effective_from, rule, "surcharge")
                add(surcharge.until, rule, "surcharge")
        if rule.calculator is Calculator.LOW_INVENTORY:
            add(_low_inventory_start(rule), rule, "low_inventory")
    # A rule that announces a change on the same day (e.g. "2026 fee update") belongs to it too.
    for rule in catalog.rules_of(PLATFORM):
        for event in rule.events:
            if event.date in found and event.kind.value == "effective":
                found[event.date].setdefault(rule.id, rule)
    return [
        FeeChange(
            day,
            tuple(found[day].values()),
            frozenset(component for parts in kinds[day].values() for component in parts),
            tuple((rule_id, frozenset(kinds[day].get(rule_id, ()))) for rule_id in found[day]),
        )
        for day in sorted(found)
    ]


def computes_fees(rule: Rule) -> bool:
    """Whether the impact computation reads fees from this rule (else it only shares the change's date)."""
    return bool(
        rule.fee_schedules
        or rule.fba_rate_cards
        or any(s.applies_to is SurchargeBase.FBA_FULFILLMENT for s in rule.surcharges)
        or rule.calculator is Calculator.LOW_INVENTORY
    )


def _low_inventory_start(rule: Rule) -> dt.date | None:
    starts = [event.date for event in rule.events if event.kind.value == "effective"]
    return min(starts) if starts else None


class FeeModel:
    """The per-unit fees of SKUs on a day, with caches: a file repeats categories, prices and sizes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.mapper = CategoryMapper(catalog, PLATFORM)
        self._low_inventory = next(
            (rule for rule in catalog.rules_of(PLATFORM) if rule.calculator is Calculator.LOW_INVENTORY), None
        )
        self._low_inventory_start = _low_inventory_start(self._low_inventory) if self._low_inventory else None
        self._version_cache: dict[tuple[str, dt.date], int | None] = {}
        self._referral_cache: dict[tuple[str, int, Decimal], Decimal] = {}
        # card id -> (the last SKU row placed on it, its placement). One slot a card, not one a SKU: the
        # impact loop asks for a SKU's placement a few times in a row (before, on the day, its crossing),
        # and 100,000 cached placements cost more in allocation and garbage collection than they save.
        self._placements: dict[str, tuple[SkuRow, Placement]] = {}
        self._card_cache: dict[tuple[str, dt.date, bool], FbaRateCard | None] = {}
        self._has_card: dict[str, bool] = {}
        self._surcharge_cache: dict[tuple[str, dt.date], tuple[Decimal, ...]] = {}
        self._boundary_cache: dict[tuple[str | None, str, dt.date, bool], tuple[Decimal, ...]] = {}
        self._schedule_cache: dict[tuple[str, str], FeeSchedule | None] = {}

    def category(self, sku: SkuRow) -> str | None:
        return self.mapper.find(sku.category, sku.marketplace)

    def schedule(self, sku: SkuRow) -> FeeSchedule | None:
        key = (sku.marketplace, sku.category)
        if key not in self._schedule_cache:
            category = self.category(sku)
            found = (
                self.catalog.fee_schedules.get((PLATFORM, sku.marketplace, category)) if category else None
            )
            self._schedule_cache[key] = found
        return self._schedule_cache[key]

    def boundaries(self, sku: SkuRow, day: dt.date) -> tuple[Decimal, ...]:
        """The prices just at or under a fee band boundary on `day`: where crossing may pay off."""
        schedule = self.schedule(sku)
        key = (schedule.id if schedule else None, sku.marketplace, day, sku.weight_lb is not None)
        if key not in self._boundary_cache:
            found: set[Decimal] = set()
            if schedule is not None and (index := _version_index(schedule, day)) is not None:
                found |= {tier.up_to for tier in schedule.versions[index].tiers if tier.up_to is not None}
            card = self.card(sku.marketplace, day, self.is_apparel(sku))
            if card is not None and sku.weight_lb is not None:
                found |= {band.from_ - CENT if band.from_inclusive else band.from_ for band in card.bands[1:]}
            self._boundary_cache[key] = tuple(sorted(found))
        return self._boundary_cache[key]

    def referral(self, sku: SkuRow, day: dt.date, price: Decimal | None = None) -> Decimal | None:
        schedule = self.schedule(sku)
        if schedule is None:
            return None
        key = (schedule.id, day)
        if key not in self._version_cache:
            self._version_cache[key] = _version_index(schedule, day)
        index = self._version_cache[key]
        if index is None:
            return None
        amount = sku.price.amount if price is None else price
        cached = (schedule.id, index, amount)
        if cached not in self._referral_cache:
            self._referral_cache[cached] = charge(schedule, index, amount).fee
        return self._referral_cache[cached]

    def is_apparel(self, sku: SkuRow) -> bool:
        return self.mapper.category_of(sku.category) == APPAREL

    def has_card(self, marketplace: str) -> bool:
        """Whether the catalog holds any FBA rate card for the marketplace (else the report's fee counts)."""
        if marketplace not in self._has_card:
            self._has_card[marketplace] = bool(cards_of(self.catalog, marketplace))
        return self._has_card[marketplace]

    def card(self, marketplace: str, day: dt.date, apparel: bool = False) -> FbaRateCard | None:
        """The card in force on `day` for apparel or for everything else: a card's scope says which."""
        key = (marketplace, day, apparel)
        if key not in self._card_cache:
            in_force = [
                card
                for _, card in cards_of(self.catalog, marketplace)
                if card.effective_from <= day and _covers_apparel(card) == apparel
            ]
            self._card_cache[key] = in_force[-1] if in_force else None
        return self._card_cache[key]

    def placement(self, sku: SkuRow, day: dt.date) -> Placement | None:
        """Where the SKU sits on the rate card of `day` (tier, row), if its size and weight are known."""
        if sku.longest is None or sku.median is None or sku.shortest is None or sku.weight_lb is None:
            return None
        card = self.card(sku.marketplace, day, self.is_apparel(sku))
        if card is None:
            return None
        cached = self._placements.get(card.id)
        if cached is not None and cached[0] is sku:
            return cached[1]
        package = Package(sku.longest, sku.median, sku.shortest, sku.weight_lb)
        placement = place(card, package, explain=False)
        self._placements[card.id] = (sku, placement)
        return placement

    def fba(self, sku: SkuRow, day: dt.date, price: Decimal | None = None) -> FbaFee | None:
        placement = self.placement(sku, day)
        amount = sku.price.amount if price is None else price
        return fee_at(placement, amount) if placement is not None else None

    def surcharge_rates(self, marketplace: str, day: dt.date) -> tuple[Decimal, ...]:
        """The rates of the FBA surcharges in force; each is rounded on its own, as /fba does."""
        key = (marketplace, day)
        if key not in self._surcharge_cache:
            self._surcharge_cache[key] = tuple(
                surcharge.rate
                for rule in self.catalog.rules.values()
                for surcharge in rule.surcharges
                if surcharge.applies_to is SurchargeBase.FBA_FULFILLMENT
                and _reaches(surcharge.marketplaces, marketplace)
                and surcharge.in_force(day)
            )
        return self._surcharge_cache[key]

    def low_inventory(self, sku: SkuRow, day: dt.date, fba: Placement | None) -> Decimal | None:
        rule = self._low_inventory
        if rule is None or not _reaches(rule.marketplaces, sku.marketplace):
            return Decimal(0)
        start = self._low_inventory_start
        if start is None or day < start:
            return Decimal(0)
        if sku.days_of_supply is None:
            return None
        if sku.days_of_supply >= rule.number("trigger-days").value:
            return Decimal(0)
        table = rule.table("low-inventory-fee")
        row = _row_by_fba_tier(table, fba) if fba is not None else _row_by_name(table, sku.size_tier)
        if row is None:
            return None  # no size tier we can place it in, or a tier without a rate (bulky): not estimated
        band = next((b for b in row.bands if b.from_ <= sku.days_of_supply < b.below), None)
        return band.amount if band is not None else None

    def fees(
        self,
        sku: SkuRow,
        day: dt.date,
        price: Decimal | None = None,
        components: frozenset[str] = ALL_COMPONENTS,
    ) -> SkuFees:
        values = self.values(sku, day, components, price)
        return SkuFees(
            {name: value for name, value in zip(COMPONENTS, values, strict=True) if name in components}
        )

    def values(
        self, sku: SkuRow, day: dt.date, components: frozenset[str], price: Decimal | None = None
    ) -> tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None]:
        """The fees in COMPONENTS order: None where unknown, 0 where not asked for (the bulk path)."""
        referral: Decimal | None = ZERO
        fba_fee: Decimal | None = ZERO
        surcharge: Decimal | None = ZERO
        low: Decimal | None = ZERO
        if "referral" in components:
            referral = self.referral(sku, day, price)
        if not components.isdisjoint(_NEED_FBA):
            placement = self.placement(sku, day)
            amount = sku.price.amount if price is None else price
            if placement is not None:
                fba_fee = fee_value(placement, amount)
            elif self.uses_report_fee(sku):
                fba_fee = sku.report_fba_fee.amount if sku.report_fba_fee is not None else None
            else:
                fba_fee = None
            if "surcharge" in components:
                rates = self.surcharge_rates(sku.marketplace, day)
                if rates:
                    surcharge = (
                        None if fba_fee is None else sum((round_cents(fba_fee * r) for r in rates), ZERO)
                    )
            if "low_inventory" in components:
                low = self.low_inventory(sku, day, placement)
            if "fba" not in components:
                fba_fee = ZERO
        return referral, fba_fee, surcharge, low

    def uses_report_fee(self, sku: SkuRow) -> bool:
        """Its FBA fee is the report's: no rate card for its marketplace, and the report states one."""
        return sku.report_fba_fee is not None and not self.has_card(sku.marketplace)


def _reaches(marketplaces: Sequence[str], marketplace: str) -> bool:
    """Whether a rule or surcharge for `marketplaces` reaches a SKU of `marketplace` (EU: all 4 stores)."""
    if marketplace == "EU":
        return "EU" in marketplaces or set(marketplaces) >= EU_STORES
    return marketplace in marketplaces


def _covers_apparel(card: FbaRateCard) -> bool:
    """An apparel card says so in its scope; the cards that exclude apparel say "non-apparel"."""
    scope = card.scope.en.casefold()
    return "apparel" in scope and "non-apparel" not in scope


def _version_index(schedule: FeeSchedule, day: dt.date) -> int | None:
    for index in range(len(schedule.versions)):
        since, until = version_span(schedule, index)
        if (since is None or since <= day) and (until is None or day < until):
            return index
    return None


def _row_by_fba_tier(table: Table, fba: Placement) -> TableRow | None:
    """The table row of the FBA size tier (rows named "<tier>" or "<tier>-<N>lb", up to N lb)."""
    tier = fba.choice.tier.id
    for row in table.rows:
        if row.key == tier or row.key.startswith(tier + "-"):
            match = _ROW_WEIGHT.search(row.key)
            if match is None or fba.choice.shipping_weight <= Decimal(match.group(1)):
                return row
    return None


def _row_by_name(table: Table, size_tier: str | None) -> TableRow | None:
    """Without dimensions: the row the file's own size tier names exactly (key, label or alias)."""
    if not size_tier:
        return None
    wanted = size_tier.strip().casefold()
    for row in table.rows:
        names = {row.key, row.label.en, row.label.zh, *row.aliases}
        if wanted in {name.casefold() for name in names}:
            return row
    return None


_Values = tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None]


def _known_difference(before: _Values, after: _Values) -> tuple[Decimal, Decimal, Decimal, list[str]]:
    """(change, before, after) of the fees known on both days, and the components unknown on either."""
    old_total = new_total = ZERO
    missing = []
    for component, old, new in zip(COMPONENTS, before, after, strict=True):
        if old is None or new is None:
            missing.append(component)
            continue
        old_total += old
        new_total += new
    return new_total - old_total, old_total, new_total, missing


def _fee_inputs(sku: SkuRow) -> tuple[object, ...]:
    """Everything a SKU's fees depend on (not its name, not its monthly units)."""
    return (
        sku.marketplace, sku.category, sku.price, sku.size_tier, sku.days_of_supply,
        sku.longest, sku.median, sku.shortest, sku.weight_lb, sku.report_fba_fee,
    )  # fmt: skip


def _crossing(model: FeeModel, sku: SkuRow, day: dt.date) -> Crossing | None:
    """The best price just under a boundary within reach, if its fee saving beats the price cut."""
    price_now = sku.price.amount
    lowest = price_now - CROSSING_REACH
    candidates = [price for price in model.boundaries(sku, day) if lowest <= price < price_now and price > 0]
    if not candidates:
        return None
    best = None
    now: SkuFees | None = None
    for price in candidates:
        now = now or model.fees(sku, day)
        saving = now.total - model.fees(sku, day, price).total
        net = saving - (price_now - price)
        if net > 0 and (best is None or net > best.net.amount):
            currency = sku.currency
            best = Crossing(
                sku,
                Money(price, currency),
                Money(saving, currency),
                Money(net, currency),
                _on_unsure_boundary(model, sku, day, price),
            )
    return best


def _on_unsure_boundary(model: FeeModel, sku: SkuRow, day: dt.date, new_price: Decimal) -> bool:
    """The old or the new price sits exactly on an FBA band boundary no source settles."""
    return any(
        fee is not None and fee.other_band is not None
        for fee in (model.fba(sku, day), model.fba(sku, day, new_price))
    )


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """The impact loop builds tens of thousands of small acyclic tuples; the cyclic garbage collector's
    passes over them (and over the SKU rows) cost about a sixth of its time and free nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def impact_of(model: FeeModel, change: FeeChange, skus: Sequence[SkuRow]) -> ChangeImpact:
    """Per SKU, the fees the day before `change.day` and on it; totals by currency, biggest change first."""
    with _cycle_collector_paused():
        return _impact_of(model, change, skus)


def _impact_of(model: FeeModel, change: FeeChange, skus: Sequence[SkuRow]) -> ChangeImpact:
    day, wanted = change.day, change.components
    before_day = day - dt.timedelta(days=1)
    skus = [sku for sku in skus if change.covers(sku)]
    affected: list[SkuImpact] = []
    monthly = Totals()
    currencies: set[str] = set()
    from_report: list[SkuRow] = []
    not_included: dict[str, list[SkuRow]] = defaultdict(list)
    unmapped: list[SkuRow] = []
    crossings: list[Crossing] = []
    without_units = 0
    # Variations of one product (colours, sizes of a print) share every fee input: compute each once.
    seen: dict[tuple[object, ...], tuple[Decimal, Decimal, Decimal, list[str], Crossing | None]] = {}
    # The marketplaces whose fees the change's rules set: a SKU elsewhere is not concerned, not "0".
    reached = [rule.marketplaces for rule in change.rules if computes_fees(rule)]
    for sku in skus:
        if any(_reaches(markets, sku.marketplace) for markets in reached):
            currencies.add(sku.currency)
        if model.mapper.category_of(sku.category) is None:  # mapped but unscheduled: "referral not included"
            unmapped.append(sku)
        if not wanted.isdisjoint(_NEED_FBA) and model.uses_report_fee(sku):
            from_report.append(sku)
        inputs = _fee_inputs(sku)
        known = seen.get(inputs)
        if known is None:
            difference, before, after, missing = _known_difference(
                model.values(sku, before_day, wanted), model.values(sku, day, wanted)
            )
            crossing = _crossing(model, sku, day)
            seen[inputs] = (difference, before, after, missing, crossing)
        else:
            difference, before, after, missing, crossing = known
            if crossing is not None:
                crossing = crossing._replace(sku=sku)
        for component in missing:
            # Measured apparel: its fee needs an apparel card (unmeasured SKUs lack the size first).
            apparel = component == "fba" and sku.weight_lb is not None and model.is_apparel(sku)
            not_included["fba_apparel" if apparel else component].append(sku)
        if crossing is not None:
            crossings.append(crossing)
        if difference == 0:
            continue
        currency = sku.currency
        month = Money(difference * sku.monthly_units, currency) if sku.monthly_units is not None else None
        if month is None:
            without_units += 1
        else:
            monthly.add(month)
        affected.append(
            SkuImpact(
                sku, Money(before, currency), Money(after, currency), Money(difference, currency), month
            )
        )
    # By currency, then the biggest monthly change first: a pound is never ranked against a dollar.
    affected.sort(
        key=lambda item: (
            item.sku.currency,
            -abs(item.monthly.amount if item.monthly else ZERO),
            -abs(item.per_unit.amount),
            item.sku.row,
        )
    )
    crossings.sort(key=lambda c: (c.sku.currency, -c.net.amount * (c.sku.monthly_units or 1), c.sku.row))
    return ChangeImpact(
        change, len(skus), affected, monthly, tuple(sorted(currencies)), without_units,
        dict(not_included), unmapped, crossings, from_report,
    )  # fmt: skip
