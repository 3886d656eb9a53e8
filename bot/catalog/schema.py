"""The shape of a policy file (`policies/*.toml`), validated strictly with pydantic.

Every model forbids unknown keys, so a typo in a policy file is an error, not a silently ignored field.
Money and rates are written as strings ("0.30") and parsed as Decimal, never as floats.
`policies/README.md` documents this format for the people who edit the files.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from bot.catalog.fba_schema import FbaPeakWindow, FbaRateCard, Surcharge
from bot.catalog.fields import (
    MARKETPLACE_PATTERN,
    Amount,
    ClockTime,
    Confidence,
    Identifier,
    Strict,
    Text,
    TimeZoneName,
)
from bot.markets import reaches


class Topic(StrEnum):
    FEES = "fees"
    DEPOSIT = "deposit"
    VERIFICATION = "verification"
    PROMOTION = "promotion"
    PROGRAM = "program"
    COMPLIANCE = "compliance"
    LOGISTICS = "logistics"


class EventKind(StrEnum):
    ANNOUNCED = "announced"
    EFFECTIVE = "effective"
    GRACE_START = "grace_start"
    GRACE_END = "grace_end"
    DEADLINE = "deadline"
    LAUNCH = "launch"
    START = "start"
    END = "end"


class RuleStatus(StrEnum):
    """Whether a measure stands. A cancelled or superseded rule is kept as a record, never reminded of."""

    ACTIVE = "active"
    CANCELLED = "cancelled"  # announced, then called off before it applied (e.g. a withdrawn mandate)
    SUPERSEDED = "superseded"  # replaced or suspended by a later measure, named in superseded_by or notes


class Recurrence(StrEnum):
    YEARLY = "yearly"


class Event(Strict):
    """A dated moment of a rule. A yearly event repeats on the same month and day."""

    def next_date(self, today: dt.date) -> dt.date | None:
        """The first date on or after `today` this event happens on, if any."""
        if self.recurrence is None:
            return self.date if self.date >= today else None
        year = max(today.year, self.date.year)
        candidate = self.date.replace(year=year)
        if candidate < today:
            candidate = self.date.replace(year=year + 1)
        if self.recurrence_until is not None and candidate > self.recurrence_until:
            return None
        return candidate

    def last_date(self) -> dt.date | None:
        """The last date this event happens on; None while a yearly event goes on."""
        if self.recurrence is None:
            return self.date
        return self.recurrence_until

    id: Identifier
    kind: EventKind
    date: dt.date
    time: ClockTime | None = None
    time_zone: TimeZoneName | None = None
    label: Text
    recurrence: Recurrence | None = None
    # The last date a yearly event is known to happen on; absent means it goes on until changed.
    recurrence_until: dt.date | None = None
    # True when a source gives only the month or an approximate day: the answer says so.
    approximate: bool = False
    # The marketplace this date is for, where it differs from the rule's (e.g. a rule for US, DE and MX
    # whose DE date is its own): reminders for it reach only that marketplace's subscribers.
    marketplace: str | None = Field(default=None, pattern=MARKETPLACE_PATTERN)

    @model_validator(mode="after")
    def _check(self) -> Event:
        if self.recurrence_until is not None:
            if self.recurrence is None:
                raise ValueError("recurrence_until needs recurrence")
            if self.recurrence_until < self.date:
                raise ValueError("recurrence_until is before the first date")
        if self.time is not None and self.time_zone is None:
            raise ValueError("a time needs a time_zone")
        if self.recurrence is Recurrence.YEARLY and self.date.month == 2 and self.date.day == 29:
            raise ValueError("a yearly event cannot fall on 29 February")
        return self


class Source(Strict):
    url: str = Field(pattern=r"^(https?://\S+|report:\S+)$")
    says: str = Field(min_length=1)
    confidence: Confidence


class Number(Strict):
    """A named figure of a rule (a threshold, a count of days) that calculators and answers read."""

    id: Identifier
    value: Amount
    unit: str = Field(min_length=1, max_length=20)
    label: Text


class Tier(Strict):
    """A price band: above `above` and up to and including `up_to` (open-ended when absent)."""

    above: Amount
    up_to: Amount | None = None
    rate: Amount = Field(le=1)


class TierStyle(StrEnum):
    WHOLE_PRICE = "whole_price"  # one rate, chosen by the band the price falls in, on the whole price
    MARGINAL = "marginal"  # each slice of the price at its own band's rate
    # Whole-price bands up to `marginal_from`; above it, the fee at `marginal_from` plus each further
    # slice at its own band's rate (Amazon JP shoes: 12.4% up to ¥7,500, 6.4% on the portion above).
    WHOLE_THEN_MARGINAL = "whole_then_marginal"


class ExtraFee(Strict):
    """A fee charged beside the referral fee: a fixed amount per item, a share of the fee, or a share of
    the price with an optional fixed part.

    Examples: the media closing fee ($1.80 per item), the UK digital services fee (2% of the fees), Etsy's
    US payment processing (3% of the sale + $0.25). Shown in the /fees answer; added to the total only
    when `condition` is absent.
    """

    label: Text
    per_item: Amount | None = None
    share_of_fee: Amount | None = Field(default=None, le=1)
    share_of_price: Amount | None = Field(default=None, le=1)
    condition: Text | None = None  # who pays it (e.g. sellers established in the UK)

    @model_validator(mode="after")
    def _check(self) -> ExtraFee:
        if self.share_of_fee is not None and (self.per_item is not None or self.share_of_price is not None):
            raise ValueError(
                "give exactly one of per_item and share_of_fee (share_of_fee stands alone; per_item may go"
                " with share_of_price)"
            )
        if self.per_item is None and self.share_of_fee is None and self.share_of_price is None:
            raise ValueError("give one of per_item, share_of_fee and share_of_price")
        return self


class FixedFeeBand(Strict):
    """A fixed fee chosen by the price band the price falls in: above `above` and up to and including
    `up_to` (open-ended when absent), either an `amount` or a `share_of_price`.

    Examples: eBay US's per-order fee ($0.30 up to $10, $0.40 above), Mercado Livre Brazil's fixed fee on
    items under R$79 (50% of the price up to R$12.50, then R$6.25, R$6.50, R$6.75, none from R$79).
    """

    above: Amount
    up_to: Amount | None = None
    amount: Amount | None = None
    share_of_price: Amount | None = Field(default=None, le=1)

    @model_validator(mode="after")
    def _check(self) -> FixedFeeBand:
        if (self.amount is None) == (self.share_of_price is None):
            raise ValueError("give exactly one of amount and share_of_price")
        return self


class PrimeRate(Strict):
    """Amazon UK/EU clothing: items fulfilled by Amazon or by Seller Fulfilled Prime priced above `above`
    pay these marginal tiers instead (15% on the first £40 and 7% on the rest)."""

    above: Amount
    tiers: list[Tier] = Field(min_length=1)
    label: Text  # who it is for, as the answer names it


class FeeVersion(Strict):
    """One effective-dated version of a fee schedule; it ends where the next version starts."""

    effective_from: dt.date | None = None  # None: in force before the catalog's records begin
    until: dt.date | None = None  # exclusive; absent means until the next version, or still in force
    style: TierStyle = TierStyle.WHOLE_PRICE
    tiers: list[Tier] = Field(min_length=1)
    minimum_fee: Amount = Decimal(0)
    fixed_fee: Amount = Decimal(0)  # added to every order, e.g. TikTok Shop US's $0.30 before 2024-04-01
    # A fixed fee that depends on the price band instead (eBay US's per-order fee): every price falls in
    # exactly one band, so the bands start above 0, touch, and the last is open-ended.
    fixed_fee_bands: list[FixedFeeBand] = []
    marginal_from: Amount | None = None  # only with style whole_then_marginal: a tier boundary
    extra_fees: list[ExtraFee] = []
    note: Text | None = None
    prime: PrimeRate | None = None  # the FBA / Seller Fulfilled Prime rate above a price (issue 16)

    @model_validator(mode="after")
    def _check_tiers(self) -> FeeVersion:
        if self.tiers[0].above != 0:
            raise ValueError("tiers: the first tier must start above 0")
        for index, tier in enumerate(self.tiers):
            last = index == len(self.tiers) - 1
            if tier.up_to is None and not last:
                raise ValueError(f"tiers[{index}]: only the last tier may be open-ended")
            if tier.up_to is not None and tier.up_to <= tier.above:
                raise ValueError(f"tiers[{index}]: up_to must be greater than above")
            if index > 0:
                previous_end = self.tiers[index - 1].up_to
                if tier.above < (previous_end or 0):
                    raise ValueError(f"tiers[{index}]: tiers are unsorted or overlap")
                if tier.above != previous_end:
                    raise ValueError(f"tiers[{index}]: gap between {previous_end} and {tier.above}")
        if self.tiers[-1].up_to is not None:
            raise ValueError("tiers: the last tier must be open-ended (no up_to)")
        self._check_fixed_fee_bands()
        if self.until is not None and self.effective_from is not None and self.until <= self.effective_from:
            raise ValueError("until must be after effective_from")
        if (self.style is TierStyle.WHOLE_THEN_MARGINAL) != (self.marginal_from is not None):
            raise ValueError("marginal_from goes with style whole_then_marginal, and only with it")
        if self.marginal_from is not None and self.marginal_from not in {t.up_to for t in self.tiers}:
            raise ValueError("marginal_from must be the up_to of one of the tiers")
        return self

    def _check_fixed_fee_bands(self) -> None:
        bands = self.fixed_fee_bands
        if not bands:
            return
        if self.fixed_fee:
            raise ValueError("give fixed_fee or fixed_fee_bands, not both")
        if bands[0].above != 0:
            raise ValueError("fixed_fee_bands[0]: the first band must start above 0")
        for index, band in enumerate(bands):
            if band.up_to is None and index != len(bands) - 1:
                raise ValueError(f"fixed_fee_bands[{index}]: only the last band may be open-ended")
            if band.up_to is not None and band.up_to <= band.above:
                raise ValueError(f"fixed_fee_bands[{index}]: up_to must be greater than above")
            if index > 0 and band.above != bands[index - 1].up_to:
                raise ValueError(
                    f"fixed_fee_bands[{index}]: bands are unsorted, overlap or leave a gap"
                    f" (above {band.above} after up_to {bands[index - 1].up_to})"
                )
        if bands[-1].up_to is not None:
            raise ValueError("fixed_fee_bands: the last band must be open-ended (no up_to)")


class FeeSchedule(Strict):
    """The fee of one category in one marketplace, as a series of versions over time."""

    id: Identifier
    category: Identifier
    marketplace: str = Field(pattern=MARKETPLACE_PATTERN)
    # Other marketplaces that use this schedule as it is (Amazon's EU schedule: DE, FR, IT, ES).
    applies_to: list[Annotated[str, Field(pattern=MARKETPLACE_PATTERN)]] = []
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    basis: Text  # what the price means, e.g. total sales price = item + shipping + gift wrap
    versions: list[FeeVersion] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_versions(self) -> FeeSchedule:
        for index, version in enumerate(self.versions):
            if index > 0 and version.effective_from is None:
                raise ValueError(f"versions[{index}]: only the first version may omit effective_from")
            if index == 0:
                continue
            previous = self.versions[index - 1]
            start = version.effective_from
            assert start is not None
            if previous.effective_from is not None and start <= previous.effective_from:
                raise ValueError(f"versions[{index}]: versions overlap or are not in date order")
            if previous.until is not None and previous.until > start:
                raise ValueError(f"versions[{index}]: overlaps the previous version (until {previous.until})")
        return self


class Band(Strict):
    """A row band of a table: from `from_` (inclusive) up to `below` (exclusive)."""

    from_: Amount = Field(alias="from")
    below: Amount
    amount: Amount


class TableRow(Strict):
    key: Identifier
    label: Text
    aliases: list[str] = []
    bands: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_bands(self) -> TableRow:
        for index, band in enumerate(self.bands):
            if band.below <= band.from_:
                raise ValueError(f"bands[{index}]: below must be greater than from")
            if index > 0 and band.from_ != self.bands[index - 1].below:
                raise ValueError(f"bands[{index}]: bands are unsorted, overlap or leave a gap")
        return self


class Table(Strict):
    """A per-unit fee table, such as the low-inventory-level fee by size tier and days of supply."""

    id: Identifier
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    row_label: Text
    band_label: Text
    rows: list[TableRow] = Field(min_length=1)


class Calculator(StrEnum):
    COUPON = "coupon"
    LOW_INVENTORY = "lowinv"
    INFORM = "inform"
    TEMU_PRICE = "temuprice"


# The figures each calculator reads from its rule; a rule that names a calculator must carry them.
CALCULATOR_NEEDS: dict[Calculator, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Calculator.COUPON: (
        (
            "max-current-above-was-percent",
            "min-net-below-was-percent",
            "min-discount-percent",
            "max-discount-percent",
        ),
        (),
    ),
    Calculator.LOW_INVENTORY: (
        ("trigger-days", "new-account-exemption-days", "new-parent-asin-exemption-days"),
        ("low-inventory-fee",),
    ),
    Calculator.INFORM: (
        ("high-volume-units", "high-volume-revenue", "disclosure-revenue", "response-days"),
        (),
    ),
    Calculator.TEMU_PRICE: (("withdrawal-restriction-months",), ()),
}


# N-1 .. N-24: the 2027 reference (policy-facts-2027.md), numbered without a letter group.
REF_PATTERN = r"^([A-Z]{1,2}\d{1,2}|R-[AO]\d{1,2}|N-\d{1,2})$"


class Rule(Strict):
    id: Identifier
    # The reference-file item: A1 (policy-facts.md), B3 (2025-2026), R-A1 / R-O12 (2026-2027), N-7 (2027).
    ref: str | None = Field(default=None, pattern=REF_PATTERN)
    marketplaces: list[str] = Field(min_length=1)
    topic: Topic
    title: Text
    summary: Text
    confidence: Confidence
    keywords: list[str] = []  # extra search words, in both languages (synonyms, slang)
    events: list[Event] = []
    conditions: list[Text] = []
    exemptions: list[Text] = []
    numbers: list[Number] = []
    fee_schedules: list[FeeSchedule] = []
    tables: list[Table] = []
    fba_rate_cards: list[FbaRateCard] = []  # FBA fulfillment fees (bot/catalog/fba_schema.py)
    surcharges: list[Surcharge] = []  # percentage surcharges on a fee, such as the 2026 fuel surcharge
    fba_peak: FbaPeakWindow | None = None  # the usual holiday peak of FBA fees (issue 16)
    notes: list[Text] = []
    sources: list[Source] = Field(min_length=1)
    calculator: Calculator | None = None
    related: list[Identifier] = []
    # The rule that replaced this one (e.g. a duty amount raised before it ever applied).
    superseded_by: Identifier | None = None
    status: RuleStatus = RuleStatus.ACTIVE
    # The last date the sources confirm the rule's status on: after it, every answer says the status is
    # not confirmed (the research thins out; a measure may have been extended, changed or dropped).
    status_confirmed_until: dt.date | None = None
    # The last date a maintainer checked the rule against its sources: `policybot check --stale` lists
    # rules whose cited pages changed after it, and rules not reviewed for long.
    reviewed: dt.date | None = None

    @property
    def withdrawn(self) -> bool:
        """Cancelled or superseded: a record of what was announced, with nothing to remind anyone of."""
        return self.superseded_by is not None or self.status is not RuleStatus.ACTIVE

    def low_confidence(self) -> bool:
        return self.confidence is Confidence.LOW

    def status_unconfirmed(self, today: dt.date) -> bool:
        return self.status_confirmed_until is not None and today > self.status_confirmed_until

    @model_validator(mode="after")
    def _check(self) -> Rule:
        for market in self.marketplaces:
            if not re.fullmatch(MARKETPLACE_PATTERN, market):
                raise ValueError(f"marketplaces: {market!r} is not a code such as US, DE, EU or ALL")
        for event in self.events:
            if event.marketplace is not None and not reaches(self.marketplaces, event.marketplace):
                raise ValueError(
                    f"events: {event.id}: marketplace {event.marketplace} is not one of the rule's"
                )
        for name, items in (("events", self.events), ("numbers", self.numbers), ("tables", self.tables)):
            ids = [item.id for item in items]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"{name}: duplicate id {', '.join(duplicates)}")
        if self.calculator is not None:
            numbers, tables = CALCULATOR_NEEDS[self.calculator]
            have = {number.id for number in self.numbers} | {table.id for table in self.tables}
            missing = [name for name in (*numbers, *tables) if name not in have]
            if missing:
                raise ValueError(f"calculator {self.calculator}: missing {', '.join(missing)}")
        return self

    def number(self, number_id: str) -> Number:
        return next(number for number in self.numbers if number.id == number_id)

    def table(self, table_id: str) -> Table:
        return next(table for table in self.tables if table.id == table_id)


class Category(Strict):
    """A fee category of a platform, with the names sellers use for it in both languages."""

    id: Identifier
    name: Text
    aliases: list[str] = []
    # A catch-all category applies to any category the platform does not list separately.
    catch_all: bool = False


class WatchPage(Strict):
    """An official page to watch for a change the catalog cannot encode yet (an unconfirmed measure)."""

    url: str = Field(pattern=r"^https?://\S+$")
    about: Text  # what to look for on it
    ref: str | None = Field(default=None, pattern=REF_PATTERN)


class Marketplace(Strict):
    """A marketplace and the words sellers use for it (codes, Chinese names, store domains)."""

    code: str = Field(pattern=MARKETPLACE_PATTERN)
    name: Text
    words: list[str] = Field(min_length=1)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")  # what it prices in, where known


class CurrencyWords(Strict):
    """A currency (ISO 4217) and the words and signs sellers write for it ("$", "美元", "刀")."""

    code: str = Field(pattern=r"^[A-Z]{3}$")
    words: list[str] = Field(min_length=1)


class MarketplacesFile(Strict):
    """`policies/marketplaces.toml`: the marketplace words, shared by every platform."""

    marketplaces: list[Marketplace] = Field(min_length=1)
    currencies: list[CurrencyWords] = []


class PolicyFile(Strict):
    platform: Identifier
    name: Text
    aliases: list[str] = []  # other names sellers type for the platform, e.g. "tiktok", "抖音"
    time_zone: TimeZoneName  # the zone the platform's dates are meant in, unless an event says otherwise
    marketplace_zones: dict[str, TimeZoneName] = {}
    # The marketplace /fees and /compare mean when a question names none and the chat follows none of
    # the platform's marketplaces (eBay: US, not the first code in order, FR).
    home: str | None = Field(default=None, pattern=MARKETPLACE_PATTERN)
    categories: list[Category] = []
    rules: list[Rule] = []
    watch: list[WatchPage] = []  # pages the watcher checks beside the rules' sources
