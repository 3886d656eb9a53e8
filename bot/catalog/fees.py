"""The fee engine: effective-dated fee schedules, whole-price and marginal tiers, minimum and fixed fees
(flat, or by price band), and extra fees beside the main one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from bot.catalog.schema import ExtraFee, FeeSchedule, FeeVersion, FixedFeeBand, Tier, TierStyle
from bot.money import CurrencyMismatch, Money, round_money

__all__ = [
    "ExtraCharge",
    "FeeCharge",
    "FeeComparison",
    "SliceCharge",
    "charge",
    "compare",
    "fixed_fee_band",
    "prime_applies",
    "referral_fee",
    "version_span",
]


@dataclass(frozen=True)
class SliceCharge:
    """The part of the fee one tier contributes (the whole price for whole-price tiers)."""

    tier: Tier
    amount: Decimal  # the slice of the price charged at this tier's rate
    fee: Decimal


@dataclass(frozen=True)
class ExtraCharge:
    """A fee beside the referral fee on this sale (a closing fee, a digital services fee)."""

    extra: ExtraFee
    amount: Decimal  # rounded to the currency's smallest unit


@dataclass(frozen=True)
class FeeCharge:
    version: FeeVersion
    since: dt.date | None
    until: dt.date | None  # exclusive; None while still in force
    price: Decimal
    slices: tuple[SliceCharge, ...]
    percentage_fee: Decimal
    minimum_applied: bool
    fee: Decimal  # rounded half-up to the currency's smallest unit (cents; whole yen)
    extras: tuple[ExtraCharge, ...] = ()
    prime_applied: bool = False  # the FBA / Seller Fulfilled Prime tiers priced it (version.prime)
    fixed_part: Decimal = Decimal(0)  # the fixed fee added: version.fixed_fee, or its price band's
    fixed_band: FixedFeeBand | None = None  # the band that set fixed_part, where the version has bands

    @property
    def total(self) -> Decimal:
        """The fee plus the extra fees every seller pays (conditional ones are shown, not added)."""
        return self.fee + sum((e.amount for e in self.extras if e.extra.condition is None), Decimal(0))


@dataclass(frozen=True)
class FeeComparison:
    """The fee on a date, with the version before it and the next one announced after it."""

    schedule: FeeSchedule
    current: FeeCharge | None
    previous: FeeCharge | None
    upcoming: FeeCharge | None


def version_span(schedule: FeeSchedule, index: int) -> tuple[dt.date | None, dt.date | None]:
    """When version `index` is in force: [since, until), either end open."""
    version = schedule.versions[index]
    until = version.until
    if index + 1 < len(schedule.versions):
        next_start = schedule.versions[index + 1].effective_from
        until = next_start if until is None else min(until, next_start or until)
    return version.effective_from, until


def _in_force_index(schedule: FeeSchedule, day: dt.date) -> int | None:
    for index in range(len(schedule.versions)):
        since, until = version_span(schedule, index)
        if (since is None or since <= day) and (until is None or day < until):
            return index
    return None


def _whole_price_slice(tiers: list[Tier], price: Decimal) -> SliceCharge:
    for tier in tiers:
        if tier.up_to is None or price <= tier.up_to:
            return SliceCharge(tier, price, price * tier.rate)
    raise AssertionError("the last tier is open-ended by validation")


def _marginal_slices(tiers: list[Tier], price: Decimal) -> list[SliceCharge]:
    slices = []
    for tier in tiers:
        if price <= tier.above:
            break
        top = price if tier.up_to is None else min(price, tier.up_to)
        portion = top - tier.above
        slices.append(SliceCharge(tier, portion, portion * tier.rate))
    return slices


def _slices(version: FeeVersion, price: Decimal) -> tuple[SliceCharge, ...]:
    if version.style is TierStyle.WHOLE_PRICE:
        return (_whole_price_slice(version.tiers, price),)
    if version.style is TierStyle.MARGINAL:
        return tuple(_marginal_slices(version.tiers, price))
    start = version.marginal_from
    assert start is not None  # validation pairs the style with marginal_from
    if price <= start:
        return (_whole_price_slice(version.tiers, price),)
    above = [tier for tier in version.tiers if tier.above >= start]
    return (_whole_price_slice(version.tiers, start), *_marginal_slices(above, price))


def _extras(version: FeeVersion, price: Decimal, fee: Decimal, currency: str) -> tuple[ExtraCharge, ...]:
    found = []
    for extra in version.extra_fees:
        if extra.share_of_fee is not None:
            amount = fee * extra.share_of_fee
        else:
            amount = price * (extra.share_of_price or 0) + (extra.per_item or 0)
        found.append(ExtraCharge(extra, round_money(amount, currency)))
    return tuple(found)


def fixed_fee_band(version: FeeVersion, price: Decimal) -> FixedFeeBand | None:
    """The band of `version.fixed_fee_bands` the price falls in (up_to inclusive), None without bands."""
    for band in version.fixed_fee_bands:
        if band.up_to is None or price <= band.up_to:
            return band
    return None


def _fixed_part(version: FeeVersion, price: Decimal) -> tuple[Decimal, FixedFeeBand | None]:
    band = fixed_fee_band(version, price)
    if band is None:
        return version.fixed_fee, None
    if band.amount is not None:
        return band.amount, band
    return price * (band.share_of_price or 0), band


def prime_applies(version: FeeVersion, price: Decimal) -> bool:
    """Whether an FBA or Seller Fulfilled Prime sale at `price` pays the version's Prime tiers."""
    return version.prime is not None and price > version.prime.above


def charge(schedule: FeeSchedule, index: int, price: Decimal, *, prime: bool = False) -> FeeCharge:
    """The fee version `index` of `schedule` charges on `price` (price > 0); with prime=True, as an
    item fulfilled by Amazon or Seller Fulfilled Prime (the version's Prime tiers, where it has them)."""
    version = schedule.versions[index]
    since, until = version_span(schedule, index)
    prime_applied = prime and prime_applies(version, price)
    if prime_applied:
        assert version.prime is not None
        slices = tuple(_marginal_slices(version.prime.tiers, price))
    else:
        slices = _slices(version, price)
    percentage_fee = sum((part.fee for part in slices), Decimal(0))
    minimum_applied = percentage_fee < version.minimum_fee
    fixed, band = _fixed_part(version, price)
    fee = round_money(max(percentage_fee, version.minimum_fee) + fixed, schedule.currency)
    extras = _extras(version, price, fee, schedule.currency)
    return FeeCharge(
        version,
        since,
        until,
        price,
        slices,
        percentage_fee,
        minimum_applied,
        fee,
        extras,
        prime_applied,
        round_money(fixed, schedule.currency),
        band,
    )


def referral_fee(schedule: FeeSchedule, price: Money, day: dt.date, *, prime: bool = False) -> FeeComparison:
    """`compare` for a price with its currency: a price in another currency than the schedule's raises
    CurrencyMismatch (a pound is never read as a dollar). The schedule fixes the marketplace."""
    if price.currency != schedule.currency:
        raise CurrencyMismatch(
            f"a {price.currency} price on the {schedule.marketplace} schedule in {schedule.currency}"
        )
    return compare(schedule, price.amount, day, prime=prime)


def compare(schedule: FeeSchedule, price: Decimal, day: dt.date, *, prime: bool = False) -> FeeComparison:
    """The fee on `day`, the fee of the version before it and of the next version after `day`
    (prime=True: as an item fulfilled by Amazon or Seller Fulfilled Prime)."""
    index = _in_force_index(schedule, day)
    if index is None:
        later = [i for i, v in enumerate(schedule.versions) if v.effective_from and v.effective_from > day]
        upcoming = charge(schedule, later[0], price, prime=prime) if later else None
        return FeeComparison(schedule, None, None, upcoming)
    current = charge(schedule, index, price, prime=prime)
    previous = charge(schedule, index - 1, price, prime=prime) if index > 0 else None
    upcoming = charge(schedule, index + 1, price, prime=prime) if index + 1 < len(schedule.versions) else None
    return FeeComparison(schedule, current, previous, upcoming)
