"""The impact of fee changes on a seller's SKUs, as replies: the list, the detail, the one-line summary.

`/impact` lists the coming and recent changes with this chat's total; `/impact <date or rule>` gives the
detail. Fees the catalog does not know are named as not included, never estimated.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

from bot.answers import ChatContext, is_date, parse_date
from bot.catalog import REF_PATTERN, Catalog, Rule
from bot.errors import UserInputError
from bot.i18n import Html, join, t
from bot.money import format_money
from bot.skus.impact import ChangeImpact, FeeChange, FeeModel, computes_fees, fee_changes, impact_of
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
    "skus_status",
]

RECENT_DAYS = 365  # /impact lists the changes of the past year and every coming one
TOP = 5
UNMAPPED_SHOWN = 10


def _signed(amount: Decimal, currency: str) -> str:
    text = format_money(amount, currency)
    return "+" + text if amount > 0 else text


def _totals(amounts: dict[str, Decimal]) -> str:
    return ", ".join(_signed(amount, currency) for currency, amount in sorted(amounts.items())) or "0"


def _listed(rows: Sequence[SkuRow], limit: int = UNMAPPED_SHOWN) -> str:
    names = ", ".join(row.sku for row in rows[:limit])
    return names + (f" (+{len(rows) - limit})" if len(rows) > limit else "")


def choose_change(catalog: Catalog, words: list[str], today: dt.date) -> FeeChange:
    """The change a user names: a date on which fees change, a rule id or a reference such as R-A1."""
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
        raise UserInputError("impact_unknown_change", query=query[:60], dates=_nearby(changes, today))
    coming = [change for change in matching if change.day >= today]
    return coming[0] if coming else matching[-1]


def _nearby(changes: list[FeeChange], day: dt.date) -> str:
    ordered = sorted(changes, key=lambda change: abs((change.day - day).days))[:5]
    return ", ".join(change.day.isoformat() for change in sorted(ordered, key=lambda c: c.day))


def _change_title(change: FeeChange, lang: str) -> str:
    return "; ".join(rule.title.get(lang) for rule in change.rules[:2])


def impact_overview(catalog: Catalog, rows: Sequence[SkuRow], ctx: ChatContext) -> Html:
    """The coming and recent fee changes with their total for these SKUs."""
    lang = ctx.lang
    start = ctx.today - dt.timedelta(days=RECENT_DAYS)
    changes = [change for change in fee_changes(catalog) if change.day >= start]
    if not changes:
        return t(lang, "impact_no_changes", days=RECENT_DAYS)
    model = FeeModel(catalog)
    lines = [t(lang, "impact_overview_title", count=len(rows), today=ctx.today.isoformat())]
    for change in changes:
        result = impact_of(model, change, rows)
        key = "impact_overview_coming" if change.day >= ctx.today else "impact_overview_past"
        lines.append(
            t(
                lang,
                key,
                date=change.day.isoformat(),
                title=_change_title(change, lang),
                monthly=_totals(result.monthly_total),
                per_unit=_totals(result.per_unit_total),
                affected=len(result.affected),
            )
        )
    lines += [Html(""), t(lang, "impact_overview_more"), t(lang, "impact_not_included_always")]
    return join(lines)


def impact_detail(result: ChangeImpact, ctx: ChatContext) -> Html:
    """Totals, the SKUs most affected, price-band crossings, and what is not included."""
    lang = ctx.lang
    change = result.change
    lines = [
        t(lang, "impact_detail_title", date=change.day.isoformat(), title=_change_title(change, lang)),
        t(lang, "impact_rules", rules=_rule_names(change.rules, lang)),
        t(
            lang,
            "impact_totals",
            monthly=_totals(result.monthly_total),
            per_unit=_totals(result.per_unit_total),
            affected=len(result.affected),
            skus=result.skus,
        ),
    ]
    if result.without_units:
        lines.append(t(lang, "impact_without_units", count=result.without_units))
    if result.affected:
        lines += [Html(""), t(lang, "impact_top_title")]
        for item in result.affected[:TOP]:
            currency = item.sku.currency or "USD"
            lines.append(
                t(
                    lang,
                    "impact_top_line",
                    sku=item.sku.sku,
                    price=format_money(item.sku.price, currency),
                    before=format_money(item.before, currency),
                    after=format_money(item.after, currency),
                    per_unit=_signed(item.per_unit, currency),
                    monthly=_signed(item.monthly, currency) if item.monthly is not None else "—",
                )
            )
    if result.crossings:
        lines += [Html(""), t(lang, "impact_crossings_title")]
        for crossing in result.crossings[:TOP]:
            currency = crossing.sku.currency or "USD"
            unsure = t(lang, "impact_crossing_unsure") if crossing.boundary_unsure else ""
            lines.append(
                t(
                    lang,
                    "impact_crossing_line",
                    sku=crossing.sku.sku,
                    price=format_money(crossing.sku.price, currency),
                    new_price=format_money(crossing.new_price, currency),
                    saving=format_money(crossing.fee_saving, currency),
                    net=_signed(crossing.net, currency),
                    unsure=unsure,
                )
            )
    missing = [
        t(lang, f"impact_missing_{component}", count=len(rows), skus=_listed(rows))
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


def _unmapped(rows: Sequence[SkuRow]) -> str:
    words = sorted({row.category or "—" for row in rows})
    shown = ", ".join(f"“{word}”" for word in words[:UNMAPPED_SHOWN])
    return shown + (f" (+{len(words) - UNMAPPED_SHOWN})" if len(words) > UNMAPPED_SHOWN else "")


def impact_line(result: ChangeImpact, lang: str) -> Html | None:
    """One line for a reminder or an alert: None when no SKU of the chat is affected."""
    if not result.affected:
        return None
    key = "impact_line" if result.monthly_total else "impact_line_per_unit"
    return t(
        lang,
        key,
        monthly=_totals(result.monthly_total),
        per_unit=_totals(result.per_unit_total),
        affected=len(result.affected),
        date=result.change.day.isoformat(),
    )


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
