"""Calculators driven by the catalog's numbers: /coupon, /lowinv, /inform, /temuprice.

Each finds its rule by the rule's `calculator` field and reads every threshold from the rule's numbers
and tables, so a policy edit changes the answer without a code change.
"""

from __future__ import annotations

import difflib
from decimal import Decimal

from bot.answers.cards import ChatContext, relative_days
from bot.answers.parsing import parse_count, parse_decimal, parse_percent, parse_price
from bot.catalog import Calculator, Catalog, EventKind, Rule, TableRow
from bot.errors import UserInputError
from bot.i18n import Html, escape, join, t
from bot.money import format_money, format_number, round_cents

__all__ = ["answer_coupon", "answer_inform", "answer_lowinv", "answer_temuprice", "calculator_rule"]

HUNDRED = Decimal(100)
MAX_DAYS_OF_SUPPLY = Decimal(10000)


def calculator_rule(catalog: Catalog, calculator: Calculator) -> Rule:
    rule = next((r for r in catalog.rules.values() if r.calculator is calculator), None)
    if rule is None:
        raise UserInputError("calculator_unavailable", command=str(calculator))
    return rule


def _value(rule: Rule, number_id: str) -> Decimal:
    return rule.number(number_id).value


def _check(ok: bool, text: Html) -> Html:
    return Html(("✅ " if ok else "❌ ") + text)


def _title(rule: Rule, lang: str) -> Html:
    return Html(f"<b>{escape(rule.title.get(lang))}</b>")


def _bullet(text: str) -> Html:
    return Html("• " + escape(text))


def _plain_amount(amount: Decimal) -> str:
    """An amount in whatever currency the seller typed: 1,234.50."""
    return f"{round_cents(amount):,.2f}"


def _footer(rule: Rule, ctx: ChatContext) -> list[Html]:
    return [
        Html(""),
        t(ctx.lang, "calc_footer", rule_id=rule.id, confidence=t(ctx.lang, f"confidence_{rule.confidence}")),
    ]


def _expect(words: list[str], count: int, usage: str) -> None:
    if len(words) != count:
        raise UserInputError(usage)


def answer_coupon(catalog: Catalog, words: list[str], ctx: ChatContext) -> Html:
    """/coupon <current price> <was price> <discount %>: each coupon pricing rule passed or failed."""
    _expect(words, 3, "usage_coupon")
    current = parse_price(words[0], t(ctx.lang, "what_current_price"))
    was = parse_price(words[1], t(ctx.lang, "what_was_price"))
    discount = parse_percent(words[2], t(ctx.lang, "what_discount"))
    rule = calculator_rule(catalog, Calculator.COUPON)
    lang = ctx.lang
    above = _value(rule, "max-current-above-was-percent")
    below = _value(rule, "min-net-below-was-percent")
    low, high = _value(rule, "min-discount-percent"), _value(rule, "max-discount-percent")
    ceiling = round_cents(was * (HUNDRED + above) / HUNDRED)
    net = round_cents(current * (HUNDRED - discount) / HUNDRED)
    net_limit = round_cents(was * (HUNDRED - below) / HUNDRED)
    checks = [
        (
            current <= ceiling,
            t(
                lang,
                "coupon_check_current",
                current=format_money(current, "USD"),
                limit=format_money(ceiling, "USD"),
                percent=format_number(above),
                was=format_money(was, "USD"),
            ),
        ),
        (
            net <= net_limit,
            t(
                lang,
                "coupon_check_net",
                net=format_money(net, "USD"),
                limit=format_money(net_limit, "USD"),
                percent=format_number(below),
            ),
        ),
        (
            low <= discount <= high,
            t(
                lang,
                "coupon_check_discount",
                discount=format_number(discount),
                low=format_number(low),
                high=format_number(high),
            ),
        ),
    ]
    passed = all(ok for ok, _ in checks)
    lines = [
        _title(rule, lang),
        t(lang, "coupon_verdict_ok" if passed else "coupon_verdict_fail"),
        *(_check(ok, text) for ok, text in checks),
        Html(""),
        t(lang, "coupon_was_price_note"),
    ]
    lines += _effective_lines(rule, ctx)
    return join(lines + _footer(rule, ctx))


def _effective_lines(rule: Rule, ctx: ChatContext) -> list[Html]:
    lines = []
    for event in sorted(rule.events, key=lambda e: e.date):
        if event.kind in (EventKind.EFFECTIVE, EventKind.START, EventKind.LAUNCH):
            lines.append(
                t(
                    ctx.lang,
                    "calc_effective",
                    label=event.label.get(ctx.lang),
                    date=event.date.isoformat(),
                    relative=relative_days(event.date, ctx),
                )
            )
    return lines


def _find_row(rows: list[TableRow], word: str) -> TableRow:
    folded = word.strip().casefold()
    for row in rows:
        if folded in (name.casefold() for name in (row.key, row.label.en, row.label.zh, *row.aliases)):
            return row
    names = [row.key for row in rows]
    close = difflib.get_close_matches(folded, names, n=3, cutoff=0.4) or names
    raise UserInputError("lowinv_unknown_tier", value=word, suggestions=", ".join(close))


def answer_lowinv(catalog: Catalog, words: list[str], ctx: ChatContext) -> Html:
    """/lowinv <size tier> <short-term days> <long-term days>: the per-unit low-inventory-level fee."""
    rule = calculator_rule(catalog, Calculator.LOW_INVENTORY)
    table = rule.table("low-inventory-fee")
    if len(words) != 3:
        raise UserInputError("usage_lowinv", tiers=", ".join(row.key for row in table.rows))
    row = _find_row(table.rows, words[0])
    short = parse_decimal(words[1], t(ctx.lang, "what_short_days"), limit=MAX_DAYS_OF_SUPPLY)
    long = parse_decimal(words[2], t(ctx.lang, "what_long_days"), limit=MAX_DAYS_OF_SUPPLY)
    lang = ctx.lang
    trigger = _value(rule, "trigger-days")
    lines = [
        _title(rule, lang),
        t(
            lang,
            "lowinv_input",
            tier=row.label.get(lang),
            short=format_number(short),
            long=format_number(long),
        ),
    ]
    if short >= trigger or long >= trigger:
        lines.append(t(lang, "lowinv_no_fee", trigger=format_number(trigger)))
    else:
        days = max(short, long)
        band = next((b for b in row.bands if b.from_ <= days < b.below), None)
        if band is None:
            lines.append(t(lang, "lowinv_no_band", days=format_number(days)))
        else:
            lines.append(
                t(
                    lang,
                    "lowinv_fee",
                    fee=format_money(band.amount, table.currency),
                    days=format_number(days),
                    band_from=format_number(band.from_),
                    band_below=format_number(band.below),
                )
            )
    lines += _grace_lines(rule, ctx)
    if rule.exemptions:
        lines += [Html(""), t(lang, "lowinv_exemptions")]
        lines += [_bullet(item.get(lang)) for item in rule.exemptions]
    for related_id in rule.related:
        related = catalog.rules.get(related_id)
        if related is not None:
            lines += [Html(""), t(lang, "calc_related", title=related.title.get(lang), rule_id=related.id)]
    return join(lines + _footer(rule, ctx))


def _grace_lines(rule: Rule, ctx: ChatContext) -> list[Html]:
    """Whether the fee is charged yet on the chat's today: before it, in the credit window, or after."""
    starts = [e.date for e in rule.events if e.kind is EventKind.EFFECTIVE and e.recurrence is None]
    grace_ends = [e.date for e in rule.events if e.kind is EventKind.GRACE_END]
    lang = ctx.lang
    if starts and ctx.today < min(starts):
        start = min(starts)
        return [t(lang, "lowinv_not_yet", date=start.isoformat(), relative=relative_days(start, ctx))]
    if grace_ends and ctx.today <= max(grace_ends):
        return [t(lang, "lowinv_grace", until=max(grace_ends).isoformat())]
    return []


def answer_inform(catalog: Catalog, words: list[str], ctx: ChatContext) -> Html:
    """/inform <units> <revenue>: high-volume third-party seller under the INFORM Consumers Act or not."""
    _expect(words, 2, "usage_inform")
    units = parse_count(words[0], t(ctx.lang, "what_units"))
    revenue = parse_price(words[1], t(ctx.lang, "what_revenue"), allow_zero=True)
    rule = calculator_rule(catalog, Calculator.INFORM)
    lang = ctx.lang
    unit_limit = _value(rule, "high-volume-units")
    revenue_limit = _value(rule, "high-volume-revenue")
    disclosure = _value(rule, "disclosure-revenue")
    high_volume = units >= unit_limit and revenue >= revenue_limit
    lines = [
        _title(rule, lang),
        _check(
            units >= unit_limit,
            t(lang, "inform_units", units=format_number(Decimal(units)), limit=format_number(unit_limit)),
        ),
        _check(
            revenue >= revenue_limit,
            t(
                lang,
                "inform_revenue",
                revenue=format_money(revenue, "USD"),
                limit=format_money(revenue_limit, "USD"),
            ),
        ),
        Html(""),
    ]
    if high_volume:
        lines.append(t(lang, "inform_high_volume", days=format_number(_value(rule, "response-days"))))
        if revenue >= disclosure:
            lines.append(t(lang, "inform_disclosure", limit=format_money(disclosure, "USD")))
        else:
            lines.append(t(lang, "inform_no_disclosure", limit=format_money(disclosure, "USD")))
        lines += [_bullet(item.get(lang)) for item in rule.conditions]
    else:
        lines.append(t(lang, "inform_not_high_volume"))
    return join(lines + _footer(rule, ctx))


def answer_temuprice(catalog: Catalog, words: list[str], ctx: ChatContext) -> Html:
    """/temuprice <declared price> <reference price> <orders>: Temu's "declared price high amount"."""
    _expect(words, 3, "usage_temuprice")
    declared = parse_price(words[0], t(ctx.lang, "what_declared_price"))
    reference = parse_price(words[1], t(ctx.lang, "what_reference_price"))
    orders = parse_count(words[2], t(ctx.lang, "what_orders"))
    rule = calculator_rule(catalog, Calculator.TEMU_PRICE)
    lang = ctx.lang
    lines = [_title(rule, lang)]
    if declared <= reference:
        lines.append(
            t(lang, "temuprice_ok", declared=_plain_amount(declared), reference=_plain_amount(reference))
        )
    else:
        gap = declared - reference
        amount = round_cents(gap * orders)
        lines.append(
            t(
                lang,
                "temuprice_high",
                gap=_plain_amount(gap),
                orders=format_number(Decimal(orders)),
                amount=_plain_amount(amount),
            )
        )
        months = format_number(_value(rule, "withdrawal-restriction-months"))
        lines.append(t(lang, "temuprice_consequences", months=months))
    lines += [_bullet(item.get(lang)) for item in rule.conditions]
    lines.append(t(lang, "temuprice_currency_note"))
    return join(lines + _footer(rule, ctx))
