"""The impact of fee changes on a seller's SKUs, as replies: the list, the detail, the one-line summary.

`/impact` leads with the coming changes (soonest first), each with its monthly cost in each currency and
the SKUs it hits most, then the past year's (latest first); `/impact <date or rule>` gives the detail.
Every amount is shown in its SKU's currency and totals are per currency: nothing is summed across
currencies, nor per-unit changes across SKUs. Fees the catalog does not know are named as not included,
never estimated.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from bot.answers import ChatContext, is_date, parse_date, rules_named
from bot.catalog import REF_PATTERN, Catalog, Rule
from bot.errors import UserInputError
from bot.i18n import Html, join, t
from bot.money import Money, Totals
from bot.skus.impact import (
    ChangeImpact,
    FeeChange,
    FeeModel,
    SkuImpact,
    computes_fees,
    fee_changes,
    impact_of,
)
from bot.skus.read import SkuFile, SkuRow
from bot.skus.records import ImportInfo
from bot.zones import local_time

__all__ = [
    "RECENT_DAYS",
    "choose_change",
    "impact_detail",
    "impact_line",
    "impact_overview",
    "import_summary",
    "most_affected",
    "skus_status",
]

RECENT_DAYS = 365  # /impact lists the changes of the past year and every coming one
TOP = 5
OVERVIEW_TOP = 3  # the SKUs a coming change hits most, in the overview
UNMAPPED_SHOWN = 10


def _signed(money: Money) -> str:
    text = money.format()
    return "+" + text if money.amount > 0 else text


def _monthly(result: ChangeImpact, lang: str) -> Html:
    """ "+$12.00/month, +£3.00/month": one term per currency; a zero total still in its currency."""
    totals = Totals(result.monthly_total)
    for currency in result.currencies:
        if currency not in {money.currency for money in totals}:
            totals.add(Money.zero(currency))
    terms = [t(lang, "impact16_per_month", amount=_signed(money)) for money in totals]
    return join(terms, t(lang, "impact16_separator"))


def most_affected(result: ChangeImpact, limit: int) -> list[SkuImpact]:
    """The SKUs a change hits most, up to `limit` per currency: a pound is never ranked against a dollar."""
    shown: dict[str, list[SkuImpact]] = {}
    for item in result.affected:  # already biggest change first
        mine = shown.setdefault(item.sku.currency, [])
        if len(mine) < limit:
            mine.append(item)
    return [item for currency in sorted(shown) for item in shown[currency]]


def _listed(rows: Sequence[SkuRow], limit: int = UNMAPPED_SHOWN) -> str:
    names = ", ".join(row.sku for row in rows[:limit])
    return names + (f" (+{len(rows) - limit})" if len(rows) > limit else "")


def choose_change(catalog: Catalog, words: list[str], today: dt.date) -> FeeChange:
    """The change a user names: a date on which fees change (all its rules), a rule id or a reference such
    as R-A1 (that rule's change alone, in its marketplaces), or its name in the seller's words."""
    changes = fee_changes(catalog)
    query = " ".join(words).strip()
    if is_date(query):
        day = parse_date(query)
        found = next((change for change in changes if change.day == day), None)
        if found is None:
            raise UserInputError("impact_no_change_on", date=day.isoformat(), dates=_nearby(changes, day))
        return found
    rule_ids = {query.casefold()}
    if re.fullmatch(REF_PATTERN, query.upper()):
        rule_ids |= {rule.id for rule in catalog.by_ref(query)}
    matching = [change for change in changes if rule_ids & {rule.id for rule in change.rules}]
    if not matching:
        # A change's name in the seller's words ("燃油附加费", "fuel surcharge"): the rules it names (#17).
        changing = {rule.id for change in changes for rule in change.rules}
        rule_ids = {rule.id for rule in rules_named(catalog, query, changing)}
        matching = [change for change in changes if rule_ids & {rule.id for rule in change.rules}]
    if not matching:
        raise UserInputError("impact_unknown_change", query=query[:60], dates=_nearby(changes, today))
    coming = [change for change in matching if change.day >= today]
    chosen = coming[0] if coming else matching[-1]
    # A rule names its own change: R-A1's US and Canadian surcharge, not R-A2's European one that day;
    # a name may name several ("fuel surcharge": both), each in its own marketplaces.
    return chosen.of_rules(rule_ids)


def _nearby(changes: list[FeeChange], day: dt.date) -> str:
    ordered = sorted(changes, key=lambda change: abs((change.day - day).days))[:5]
    return ", ".join(change.day.isoformat() for change in sorted(ordered, key=lambda c: c.day))


def _change_title(change: FeeChange, lang: str) -> str:
    return "; ".join(rule.title.get(lang) for rule in change.rules[:2])


def impact_overview(catalog: Catalog, rows: Sequence[SkuRow], ctx: ChatContext) -> Html:
    """The coming fee changes first (soonest first), each with its monthly cost per currency and the SKUs
    it hits most; then the past year's, latest first."""
    lang = ctx.lang
    start = ctx.today - dt.timedelta(days=RECENT_DAYS)
    changes = [change for change in fee_changes(catalog) if change.day >= start]
    if not changes:
        return t(lang, "impact_no_changes", days=RECENT_DAYS)
    model = FeeModel(catalog)
    # Only changes in the marketplaces of these SKUs: a Japanese fee change is no news to a US seller.
    results = {change.day: impact_of(model, change, rows) for change in changes}
    changes = [change for change in changes if results[change.day].currencies]
    coming = [change for change in changes if change.day >= ctx.today]
    past = [change for change in reversed(changes) if change.day < ctx.today]
    lines = [t(lang, "impact_overview_title", count=len(rows), today=ctx.today.isoformat())]
    lines.append(t(lang, "impact16_coming_title") if coming else t(lang, "impact16_nothing_coming"))
    for change in coming:
        result = results[change.day]
        top = most_affected(result, OVERVIEW_TOP)
        hits = join(
            [t(lang, "impact16_top_item", sku=item.sku.sku, cost=_item_cost(item, lang)) for item in top],
            t(lang, "impact16_separator"),
        )
        lines.append(
            t(
                lang,
                "impact16_coming",
                date=change.day.isoformat(),
                title=_change_title(change, lang),
                monthly=_monthly(result, lang),
                affected=len(result.affected),
                top=t(lang, "impact16_top", skus=hits) if hits else "",
            )
        )
    if past:
        lines += [Html(""), t(lang, "impact16_past_title", days=RECENT_DAYS)]
    for change in past:
        result = results[change.day]
        lines.append(
            t(
                lang,
                "impact16_past",
                date=change.day.isoformat(),
                title=_change_title(change, lang),
                monthly=_monthly(result, lang),
                affected=len(result.affected),
            )
        )
    lines += [Html(""), t(lang, "impact_overview_more"), t(lang, "impact_not_included_always")]
    return join(lines)


def _item_cost(item: SkuImpact, lang: str) -> Html:
    if item.monthly is not None:
        return t(lang, "impact16_per_month", amount=_signed(item.monthly))
    return t(lang, "impact16_per_unit", amount=_signed(item.per_unit))


def impact_detail(result: ChangeImpact, ctx: ChatContext) -> Html:
    """Totals, the SKUs most affected, price-band crossings, and what is not included."""
    lang = ctx.lang
    change = result.change
    lines = [
        t(lang, "impact_detail_title", date=change.day.isoformat(), title=_change_title(change, lang)),
        t(lang, "impact_rules", rules=_rule_names(change.rules, lang)),
        t(
            lang,
            "impact16_totals",
            monthly=_monthly(result, lang),
            affected=len(result.affected),
            skus=result.skus,
        ),
    ]
    if result.without_units:
        lines.append(t(lang, "impact_without_units", count=result.without_units))
    if result.affected:
        lines += [Html(""), t(lang, "impact_top_title")]
        for item in most_affected(result, TOP):
            lines.append(
                t(
                    lang,
                    "impact_top_line",
                    sku=item.sku.sku,
                    price=item.sku.price.format(),
                    before=item.before.format(),
                    after=item.after.format(),
                    per_unit=_signed(item.per_unit),
                    monthly=_signed(item.monthly) if item.monthly is not None else "—",
                )
            )
    if result.crossings:
        lines += [Html(""), t(lang, "impact_crossings_title")]
        for crossing in result.crossings[:TOP]:
            unsure = t(lang, "impact_crossing_unsure") if crossing.boundary_unsure else ""
            lines.append(
                t(
                    lang,
                    "impact_crossing_line",
                    sku=crossing.sku.sku,
                    price=crossing.sku.price.format(),
                    new_price=crossing.new_price.format(),
                    saving=crossing.fee_saving.format(),
                    net=_signed(crossing.net),
                    unsure=unsure,
                )
            )
    missing = []
    if result.from_report:
        markets = ", ".join(sorted({row.marketplace for row in result.from_report}))
        missing.append(
            t(
                lang,
                "impact16_from_report",
                count=len(result.from_report),
                markets=markets,
                skus=_listed(result.from_report),
            )
        )
    missing += [
        t(
            lang,
            _MISSING_KEYS.get(component, f"impact_missing_{component}"),
            count=len(rows),
            skus=_listed(rows),
        )
        for component, rows in sorted(result.not_included.items())
    ]
    not_computed = [rule for rule in change.rules if not computes_fees(rule)]
    if not_computed:
        missing.append(t(lang, "impact_rules_not_computed", rules=_rule_names(not_computed, lang)))
    if result.unmapped:
        missing.append(
            t(lang, "impact_unmapped", count=len(result.unmapped), skus=_unmapped(result.unmapped))
        )
    lines += [Html(""), *missing, t(lang, "impact_not_included_always")]
    return join(lines)


_MISSING_KEYS = {"fba_apparel": "impact16_missing_fba_apparel"}


def _unmapped(rows: Sequence[SkuRow]) -> str:
    words = sorted({row.category or "—" for row in rows})
    shown = ", ".join(f"“{word}”" for word in words[:UNMAPPED_SHOWN])
    return shown + (f" (+{len(words) - UNMAPPED_SHOWN})" if len(words) > UNMAPPED_SHOWN else "")


def impact_line(result: ChangeImpact, lang: str) -> Html | None:
    """One line for a reminder or an alert: None when no SKU of the chat is affected."""
    if not result.affected:
        return None
    date = result.change.day.isoformat()
    if len(result.monthly_total):
        monthly = _monthly(result, lang)
        return t(lang, "impact16_line", monthly=monthly, affected=len(result.affected), date=date)
    # No monthly units: the largest change a unit, per currency (never a sum over different SKUs).
    largest: dict[str, Money] = {}
    for item in result.affected:
        known = largest.get(item.sku.currency)
        if known is None or abs(item.per_unit.amount) > abs(known.amount):
            largest[item.sku.currency] = item.per_unit
    per_unit = ", ".join(_signed(largest[currency]) for currency in sorted(largest))
    return t(lang, "impact16_line_per_unit", per_unit=per_unit, affected=len(result.affected), date=date)


def import_summary(file: SkuFile, file_name: str, model: FeeModel, lang: str) -> Html:
    """What an import stored, and which rows map to no fee category (listed, not guessed)."""
    unmapped = [row for row in file.rows if model.category(row) is None]
    no_size = sum(1 for row in file.rows if row.weight_lb is None or row.longest is None)
    lines = [t(lang, "skus_imported", count=len(file.rows), name=file_name, kind=file.kind)]
    if unmapped:
        lines.append(t(lang, "skus_unmapped", count=len(unmapped), words=_unmapped(unmapped)))
    if no_size:
        lines.append(t(lang, "skus_no_size", count=no_size))
    if file.ignored_columns:
        lines.append(t(lang, "skus_ignored_columns", columns=", ".join(file.ignored_columns[:15])))
    lines += [t(lang, "skus_file_not_kept"), t(lang, "skus_next")]
    return join(lines)


def skus_status(info: ImportInfo | None, lang: str, zone: str = "UTC") -> Html:
    """/skus: what is stored, or how to send a file; the import time in the chat's zone."""
    if info is None:
        return t(lang, "skus_none")
    return t(
        lang,
        "skus_status",
        count=info.rows,
        name=info.file_name,
        kind=info.kind,
        when=local_time(info.imported_at, zone, lang),
    )


def _rule_names(rules: Sequence[Rule], lang: str) -> str:
    """Rules as a seller reads them: by title, not id (#17)."""
    return str(t(lang, "list_separator")).join(rule.title.get(lang) for rule in rules)
