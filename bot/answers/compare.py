"""`/compare <category> [price]`: one category across the platforms and marketplaces on record, side by side.

Each row is one fee schedule (a shared schedule such as Amazon's EU one counts once), its fee in its own
currency and its rule's confidence. Nothing is converted: a price written in a currency ("18美元", "$18")
is compared only where that currency is used, and the answer names the marketplaces it left out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.answers.cards import ChatContext, describe_tiers
from bot.answers.fees import (
    DEFAULT_MARKETPLACE,
    FeeRequest,
    _platform_order,
    _rate_of,
    _suggest,
    parse_fee_request,
)
from bot.catalog import Catalog, Category, FeeSchedule, compare
from bot.errors import UserInputError
from bot.i18n import Html, escape, join, t
from bot.money import Money, format_money

__all__ = ["CompareRow", "answer_compare", "asks_to_compare", "compare_rows"]

# Words that ask for one category across platforms: "各平台佣金对比", "compare apparel fee across platforms".
_COMPARE_WORDS = re.compile(
    r"对比|比较|比一比|各平台|各个平台|不同平台|哪个平台"
    r"|(?<![a-z])compare(?![a-z])|across platforms|side by side|(?<![a-z])vs\.?(?![a-z])|versus",
    re.I,
)


def asks_to_compare(text: str) -> bool:
    """Whether a free question asks to see a fee across platforms rather than on one."""
    return _COMPARE_WORDS.search(text) is not None


@dataclass(frozen=True)
class CompareRow:
    """One platform's schedule for the category in one marketplace (None: the platform has none)."""

    platform: str
    category: Category | None
    schedule: FeeSchedule | None


def _named_categories(catalog: Catalog, wanted: str) -> dict[str, str]:
    """Platform id -> category id for a category name, or a seller's product word (鞋靴, 连衣裙), as /fees."""
    return dict(catalog.category_index.get(wanted) or catalog.vocabulary.categories.get(wanted) or ())


def compare_rows(catalog: Catalog, wanted: str, platform: str | None = None) -> list[CompareRow]:
    """Every platform's schedules for the category named `wanted` (its own category, else its catch-all),
    platforms in /fees order, marketplaces in code order; a platform with neither gets one empty row."""
    named = _named_categories(catalog, wanted.casefold().strip())
    rows: list[CompareRow] = []
    for platform_id in [platform] if platform else _platform_order(catalog):
        categories = catalog.platforms[platform_id].categories
        if not categories:
            continue  # a platform of dates only (customs, laws): no fees to compare
        category = next((c for c in categories if c.id == named.get(platform_id)), None)
        if category is None:
            category = next((c for c in categories if c.catch_all), None)
        markets = catalog.category_markets.get((platform_id, category.id), ()) if category else ()
        if not markets:
            rows.append(CompareRow(platform_id, None, None))
            continue
        for market in markets:
            schedule = catalog.fee_schedules[(platform_id, market, category.id if category else "")]
            rows.append(CompareRow(platform_id, category, schedule))
    return rows


def answer_compare(catalog: Catalog, words: list[str], ctx: ChatContext) -> Html:
    if not words:
        raise UserInputError("compare_usage")
    request = parse_fee_request(catalog, words)
    wanted = request.category_words.casefold().strip()
    if not wanted:
        raise UserInputError("compare_usage")
    if not _named_categories(catalog, wanted):
        raise UserInputError(
            "fees_unknown_category",
            category=request.category_words,
            suggestions=_suggest(catalog, wanted, ctx.lang),
        )
    day = request.day or ctx.today
    lang = ctx.lang
    lines: list[Html] = [_title(request, day.isoformat(), lang)]
    if request.price is not None and request.currency is None:
        # A bare number is no currency: read it in the chat's own marketplace's (else US dollars), and
        # say so, rather than put 18 yen beside 18 dollars.
        market, currency = _assumed_currency(catalog, ctx)
        request = replace(request, currency=currency)
        lines = [
            _title(request, day.isoformat(), lang),
            t(lang, "compare_currency_assumed", currency=currency, market=market),
        ]
    missing: list[str] = []
    other_currency: list[str] = []
    shown = 0
    for row in compare_rows(catalog, wanted, request.platform):
        name = catalog.platforms[row.platform].info.name.get(lang)
        if row.schedule is None or row.category is None:
            missing.append(name)
            continue
        schedule = row.schedule
        markets = [schedule.marketplace, *schedule.applies_to]
        if request.marketplace is not None and request.marketplace not in markets:
            continue
        if request.currency is not None and schedule.currency != request.currency:
            other_currency.append(f"{name} {schedule.marketplace} ({schedule.currency})")
            continue
        lines.append(_row(catalog, row, request, name, day, lang))
        shown += 1
    if shown == 0 and request.currency is not None:
        lines.append(t(lang, "compare_nothing", category=request.category_words, currency=request.currency))
    if missing:
        lines.append(t(lang, "compare_not_on_record", platforms=", ".join(missing)))
    if other_currency:
        lines.append(t(lang, "compare_other_currency", markets=", ".join(other_currency)))
    price = f"{request.price.normalize():f}" if request.price is not None else "18"
    lines += [Html(""), t(lang, "compare_footer", example=f"{request.category_words} {price}")]
    return join(lines)


def _assumed_currency(catalog: Catalog, ctx: ChatContext) -> tuple[str, str]:
    """The first subscribed marketplace with a currency on record, else US: (marketplace, currency)."""
    for market in (*ctx.marketplaces, DEFAULT_MARKETPLACE):
        known = catalog.marketplaces.get(market)
        if known is not None and known.currency is not None:
            return market, known.currency
    return DEFAULT_MARKETPLACE, "USD"


def _title(request: FeeRequest, date: str, lang: str) -> Html:
    category = request.category_words
    if request.price is None:
        return t(lang, "compare_title_rates", category=category, date=date)
    if request.currency is not None:
        price = Money(request.price, request.currency).format()
        return t(lang, "compare_title", category=category, price=price, date=date)
    return t(
        lang,
        "compare_title_no_currency",
        category=category,
        price=f"{request.price.normalize():f}",
        date=date,
    )


def _row(catalog: Catalog, row: CompareRow, request: FeeRequest, name: str, day: dt.date, lang: str) -> Html:
    schedule, category = row.schedule, row.category
    assert schedule is not None and category is not None
    rule = catalog.schedule_rule[schedule.id]
    market = ", ".join([schedule.marketplace, *schedule.applies_to])
    confidence = t(lang, f"confidence_{rule.confidence}")
    note = Html("")
    if category.catch_all and request.category_words.casefold() not in _names(category):
        note = t(lang, "compare_row_catch_all", category=category.name.get(lang))
    if request.price is None:
        # No price: the rates in force on the day (or the latest announced), side by side.
        comparison = compare(schedule, Decimal(1), day)
        version = comparison.current or comparison.upcoming or comparison.previous
        if version is None:
            return t(lang, "compare_row_none", platform=name, market=market, date=day.isoformat())
        tiers = describe_tiers(version.version, schedule.currency, lang)
        return t(
            lang,
            "compare_row_rates",
            platform=name,
            market=market,
            tiers=tiers,
            confidence=confidence,
            note=note,
        )
    current = compare(schedule, request.price, day).current
    if current is None:
        return t(lang, "compare_row_none", platform=name, market=market, date=day.isoformat())
    fee = escape(format_money(current.fee, schedule.currency))
    if current.total != current.fee:
        fee = Html(fee + t(lang, "compare_row_total", total=format_money(current.total, schedule.currency)))
    return t(
        lang,
        "compare_row",
        platform=name,
        market=market,
        fee=fee,
        rate=_rate_of(current, lang),
        confidence=confidence,
        note=note,
    )


def _names(category: Category) -> set[str]:
    return {name.casefold() for name in (category.id, category.name.en, category.name.zh, *category.aliases)}
