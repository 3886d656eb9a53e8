"""Rendering rules and their dates as Telegram HTML: rule cards, event lines, fee tiers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.catalog import (
    Catalog,
    Event,
    EventKind,
    FbaRateCard,
    FeeSchedule,
    FeeVersion,
    Number,
    Occurrence,
    Rule,
    RuleStatus,
    Surcharge,
    Table,
    TableRow,
    TierStyle,
)
from bot.i18n import Html, escape, join, messages, t
from bot.money import format_money, format_number, format_rate
from bot.zones import zone_label

__all__ = [
    "ChatContext",
    "describe_tiers",
    "event_line",
    "markets_text",
    "relative_days",
    "rule_card",
    "rule_caveats",
    "rule_dates",
    "rule_exemptions",
    "rule_figures",
    "rule_heading",
    "rule_line",
    "rule_name",
    "rule_status",
    "schedule_versions",
    "seller_words",
    "source_line",
]

STARTS = {EventKind.EFFECTIVE, EventKind.LAUNCH, EventKind.START}
LOOK_AHEAD_DAYS = 3 * 366


@dataclass(frozen=True)
class ChatContext:
    """Who is asking: their language, their time zone, their today and the marketplaces they follow."""

    lang: str
    zone: ZoneInfo
    today: dt.date
    # Marketplace codes of the chat's subscriptions ("*" left out): /fees uses them when none is named.
    marketplaces: tuple[str, ...] = ()


def markets_text(marketplaces: Sequence[str], lang: str, separator: str = ", ") -> str:
    """Marketplace codes as a seller reads them: US, UK ... are names; "ALL" is a word, translated."""
    return separator.join(str(t(lang, "seller_all_markets")) if m == "ALL" else m for m in marketplaces)


def relative_days(day: dt.date, ctx: ChatContext) -> Html:
    delta = (day - ctx.today).days
    if delta == 0:
        return t(ctx.lang, "days_today")
    if delta > 0:
        return t(ctx.lang, "days_ahead", days=delta)
    return t(ctx.lang, "days_ago", days=-delta)


def _event_moment(occurrence: Occurrence, ctx: ChatContext) -> Html:
    """The date, and where the event has a time, that time in its own zone and in the chat's zone."""
    event = occurrence.event
    text = escape(occurrence.date.isoformat())
    if event.time and event.time_zone:
        hour, minute = (int(part) for part in event.time.split(":"))
        moment = dt.datetime.combine(occurrence.date, dt.time(hour, minute), ZoneInfo(event.time_zone))
        local = moment.astimezone(ctx.zone)
        text = t(
            ctx.lang,
            "event_time",
            date=occurrence.date.isoformat(),
            time=event.time,
            zone=zone_label(event.time_zone, ctx.lang),
            local=local.strftime("%Y-%m-%d %H:%M"),
            local_zone=zone_label(ctx.zone, ctx.lang),
        )
    if event.approximate:
        text = Html(text + t(ctx.lang, "approximate"))
    return text


def rule_caveats(rule: Rule, ctx: ChatContext) -> Html:
    """What every short answer about a rule must carry: cancelled or superseded, low confidence, and a
    status the sources stop confirming before today. Empty for a confirmed, standing rule."""
    marks: list[Html] = []
    if rule.withdrawn:
        marks.append(t(ctx.lang, f"caveat_{'superseded' if rule.superseded_by else rule.status}"))
    if rule.low_confidence():
        marks.append(t(ctx.lang, "caveat_low_confidence"))
    if rule.status_confirmed_until is not None and rule.status_unconfirmed(ctx.today):
        marks.append(t(ctx.lang, "caveat_unconfirmed", date=rule.status_confirmed_until.isoformat()))
    return Html("".join(marks))


def event_line(occurrence: Occurrence, catalog: Catalog, ctx: ChatContext) -> Html:
    platform = catalog.platforms[occurrence.platform].info.name.get(ctx.lang)
    if occurrence.event.marketplace:
        platform = f"{platform} {occurrence.event.marketplace}"
    line = t(
        ctx.lang,
        "event_line",
        when=_event_moment(occurrence, ctx),
        relative=relative_days(occurrence.date, ctx),
        platform=platform,
        label=occurrence.event.label.get(ctx.lang),
    )
    line = Html(line + rule_caveats(occurrence.rule, ctx))
    return line


def rule_status(rule: Rule, ctx: ChatContext) -> Html:
    """In force since when, until when; or coming, ended, superseded, or recurring and next when."""
    if rule.superseded_by is not None:
        return t(ctx.lang, "status_superseded", rule_id=rule.superseded_by)
    if rule.status is not RuleStatus.ACTIVE:
        return t(ctx.lang, f"status_rule_{rule.status}")
    single = [event for event in rule.events if event.recurrence is None]
    starts = [event.date for event in single if event.kind in STARTS]
    ends = [event.date for event in single if event.kind is EventKind.END]
    start = min(starts) if starts else None
    end = max(ends) if ends else None
    if start and start > ctx.today:
        return t(ctx.lang, "status_coming", date=start.isoformat(), relative=relative_days(start, ctx))
    if end and end < ctx.today:
        return t(ctx.lang, "status_ended", date=end.isoformat(), relative=relative_days(end, ctx))
    if start and end:
        return t(ctx.lang, "status_in_force_until", since=start.isoformat(), until=end.isoformat())
    if start:
        return t(ctx.lang, "status_in_force", since=start.isoformat())
    if end:
        return t(ctx.lang, "status_until", until=end.isoformat())
    if single:  # only other kinds of date (a deadline, an announcement): the next one, else the last
        ahead = [event for event in single if event.date >= ctx.today]
        key = min(ahead, key=lambda e: e.date) if ahead else max(single, key=lambda e: e.date)
        return t(
            ctx.lang,
            "status_key_date",
            label=key.label.get(ctx.lang),
            date=key.date.isoformat(),
            relative=relative_days(key.date, ctx),
        )
    return _recurring_status(rule, ctx)


def _recurring_status(rule: Rule, ctx: ChatContext) -> Html:
    yearly = [event for event in rule.events if event.recurrence is not None]
    if not yearly:
        return t(ctx.lang, "status_undated")
    upcoming = [(d, e) for e in yearly if (d := e.next_date(ctx.today)) is not None]
    if upcoming:
        day, event = min(upcoming, key=lambda pair: pair[0])
        return t(
            ctx.lang,
            "status_recurring",
            label=event.label.get(ctx.lang),
            date=day.isoformat(),
            relative=relative_days(day, ctx),
        )
    last = max(d for e in yearly if (d := e.last_date()) is not None)
    return t(ctx.lang, "status_recurring_ended", date=last.isoformat())


def next_occurrence(rule: Rule, catalog: Catalog, ctx: ChatContext) -> Occurrence | None:
    """The rule's next event on or after today (only this rule's events are expanded)."""
    platform = catalog.rule_platform[rule.id]
    upcoming = [
        Occurrence(rule, platform, event, day) for event in rule.events if (day := event.next_date(ctx.today))
    ]
    return min(upcoming, key=lambda o: (o.date, o.event.time or "", o.event.id), default=None)


def rule_line(rule: Rule, catalog: Catalog, ctx: ChatContext) -> Html:
    """One line for lists: title, marketplaces and status."""
    return t(
        ctx.lang,
        "rule_line",
        title=rule.title.get(ctx.lang),
        rule_id=rule.id,
        markets=markets_text(rule.marketplaces, ctx.lang, "/"),
        status=rule_status(rule, ctx),
    )


def _tier_text(version: FeeVersion, currency: str, lang: str) -> Html:
    parts: list[Html] = []
    last = len(version.tiers) - 1
    for index, tier in enumerate(version.tiers):
        rate = format_rate(tier.rate)
        # whole_then_marginal: the bands above `marginal_from` are charged by portion.
        start = version.marginal_from
        by_portion = version.style is TierStyle.MARGINAL or (start is not None and tier.above >= start)
        prefix = "tier_marginal" if by_portion else "tier_whole"
        if last == 0:
            parts.append(t(lang, "tier_flat", rate=rate))
        elif index == 0:
            up_to = format_money(tier.up_to or Decimal(0), currency)
            parts.append(t(lang, f"{prefix}_first", rate=rate, up_to=up_to))
        elif index == last:
            parts.append(t(lang, f"{prefix}_last", rate=rate, above=format_money(tier.above, currency)))
        else:
            parts.append(
                t(
                    lang,
                    f"{prefix}_middle",
                    rate=rate,
                    above=format_money(tier.above, currency),
                    up_to=format_money(tier.up_to or Decimal(0), currency),
                )
            )
    return join(parts, t(lang, "list_separator"))


def band_text(above: Decimal, up_to: Decimal | None, currency: str, lang: str) -> Html:
    """ "up to $10.00", "above $10.00 up to $29.00", "above $10.00": a price band in words."""
    if up_to is None:
        return t(lang, "fees22_band_above", above=format_money(above, currency))
    if not above:
        return t(lang, "fees22_band_up_to", up_to=format_money(up_to, currency))
    return t(
        lang, "fees22_band_between", above=format_money(above, currency), up_to=format_money(up_to, currency)
    )


def describe_tiers(version: FeeVersion, currency: str, lang: str) -> Html:
    """ "5% up to $15.00; 10% above $15.00 up to $20.00; 17% above $20.00; minimum $0.30 per item"."""
    text = _tier_text(version, currency, lang)
    if version.fixed_fee:
        text = Html(text + t(lang, "tier_fixed", amount=format_money(version.fixed_fee, currency)))
    if version.fixed_fee_bands:
        bands = [
            t(
                lang,
                "fees22_band_fixed",
                amount=format_money(band.amount, currency)
                if band.amount is not None
                else format_rate(band.share_of_price or Decimal(0)),
                band=band_text(band.above, band.up_to, currency, lang),
            )
            for band in version.fixed_fee_bands
        ]
        text = Html(text + t(lang, "fees22_tier_fixed_bands", bands=join(bands, t(lang, "list_separator"))))
    if version.minimum_fee:
        text = Html(text + t(lang, "tier_minimum", amount=format_money(version.minimum_fee, currency)))
    return text


def _schedule_line(schedule: FeeSchedule, catalog: Catalog, rule: Rule, ctx: ChatContext) -> Html:
    platform = catalog.platform_of(rule).info
    category = next(c for c in platform.categories if c.id == schedule.category)
    lines = [t(ctx.lang, "card_schedule", category=category.name.get(ctx.lang), market=schedule.marketplace)]
    return join(lines + schedule_versions(schedule, ctx.lang, "  "))


def schedule_versions(schedule: FeeSchedule, lang: str, prefix: str) -> list[Html]:
    """One line per version: "since 2024-01-15: 5% up to $15.00; ..."."""
    lines = []
    for version in schedule.versions:
        since = (
            t(lang, "since_date", date=version.effective_from.isoformat())
            if version.effective_from
            else t(lang, "since_before_records")
        )
        lines.append(Html(f"{prefix}{since}: {describe_tiers(version, schedule.currency, lang)}"))
    return lines


def _bullets(title_key: str, items: list[Html], lang: str, *, bullet: str = "• ") -> list[Html]:
    if not items:
        return []
    return [Html(""), t(lang, title_key), *(Html(f"{bullet}{item}") for item in items)]


def rule_name(catalog: Catalog, rule_id: str, lang: str) -> str:
    """How a seller reads a rule: its title in their language. Ids are for operators and /rule lookups;
    a rule the catalog no longer holds reads as such."""
    rule = catalog.rules.get(rule_id)
    return rule.title.get(lang) if rule is not None else str(t(lang, "seller_rule_gone"))


# A rule id as policy texts cite it ("see amazon-us-low-inventory-fee-2026"), and a research item in
# brackets ("(R-A11)"): both are for the maintainers.
_RULE_ID = re.compile(r"(?<![A-Za-z0-9-])[a-z][a-z0-9]*(?:-[a-z0-9]+){2,}(?![A-Za-z0-9-])")
_RESEARCH_ITEM = re.compile(r"\s*[(（](?:R-[A-Z]+\d+|N-\d+)[)）]")


def seller_words(text: str, catalog: Catalog, lang: str) -> str:
    """A policy text as a seller reads it: a rule it cites by id is named by its title, and research
    items in brackets go."""

    def name(match: re.Match[str]) -> str:
        rule = catalog.rules.get(match.group(0))
        if rule is None:
            return match.group(0)
        return f"“{rule.title.get(lang)}”" if lang == "en" else f"「{rule.title.get(lang)}」"

    return _RESEARCH_ITEM.sub("", _RULE_ID.sub(name, text))


def source_line(url: str, says: str, confidence: str, lang: str) -> Html:
    """A source as a seller sees it: who published it, with its link, and how sure it is. The note on
    what it says is English; a Chinese chat sees the publisher and the link alone."""
    if url.startswith("report:"):
        key = f"seller_source_{url.removeprefix('report:')}"
        where = t(lang, key) if key in messages("en") else t(lang, "source_report")
    else:
        host = urlsplit(url).hostname or url
        where = Html(f'<a href="{escape(url)}">{escape(host.removeprefix("www."))}</a>')
    sureness = t(lang, f"confidence_{confidence}")
    if lang == "zh":
        return t(lang, "seller_source_line", where=where, confidence=sureness)
    return t(lang, "source_line", says=says, where=where, confidence=sureness)


def rule_card(rule: Rule, catalog: Catalog, ctx: ChatContext) -> Html:
    """Everything about one rule: what, since and until when, conditions, exemptions, sources."""
    lang = ctx.lang
    platform = catalog.platform_of(rule).info
    lines: list[Html] = [
        Html(f"<b>{escape(rule.title.get(lang))}</b>"),
        t(
            lang,
            "card_header",
            platform=platform.name.get(lang),
            markets=markets_text(rule.marketplaces, lang),
            topic=t(lang, f"topic_{rule.topic}"),
            rule_id=rule.id,
        ),
        rule_status(rule, ctx),
    ]
    if rule.low_confidence():
        lines.append(t(lang, "card_low_confidence"))
    if rule.status_confirmed_until is not None and rule.status_unconfirmed(ctx.today):
        lines.append(t(lang, "card_unconfirmed", date=rule.status_confirmed_until.isoformat()))
    lines += [Html(""), escape(seller_words(rule.summary.get(lang), catalog, lang))]
    dated = [event for event in rule.events]
    if dated:
        event_lines = [
            _card_event(event, rule, catalog, ctx) for event in sorted(dated, key=lambda e: e.date)
        ]
        # The zone the dates are meant in, as the sources give it (US customs: US Eastern).
        zones = t(lang, "list_separator").join(zone_label(z, lang) for z in catalog.rule_zones(rule))
        lines += [
            Html(""),
            t(lang, "card_dates_zone", zones=zones),
            *(Html(f"• {line}") for line in event_lines),
        ]
    conditions = [escape(seller_words(item.get(lang), catalog, lang)) for item in rule.conditions]
    lines += _bullets("card_conditions", conditions, lang)
    lines += _bullets("card_exemptions", [escape(item.get(lang)) for item in rule.exemptions], lang)
    figures = [_figure(number, lang) for number in rule.numbers]
    lines += _bullets("card_figures", figures, lang)
    schedules = [_schedule_line(schedule, catalog, rule, ctx) for schedule in rule.fee_schedules]
    lines += _bullets("card_fees", schedules, lang)
    tables = [_table_row(row, table, lang) for table in rule.tables for row in table.rows]
    lines += _bullets("card_tables", tables, lang)
    lines += _bullets("card_surcharges", [_surcharge_line(s, lang) for s in rule.surcharges], lang)
    lines += _bullets("card_fba_cards", [_fba_card_line(c, lang) for c in rule.fba_rate_cards], lang)
    notes = [escape(seller_words(item.get(lang), catalog, lang)) for item in rule.notes]
    lines += _bullets("card_notes", notes, lang)
    sources = [source_line(s.url, s.says, s.confidence, lang) for s in rule.sources]
    lines += _bullets("card_sources", sources, lang)
    if rule.related:
        related = [rule_line(catalog.rules[r], catalog, ctx) for r in rule.related if r in catalog.rules]
        lines += _bullets("card_related", related, lang, bullet="")
    lines += [
        Html(""),
        t(
            lang,
            "card_footer",
            confidence=t(lang, f"confidence_{rule.confidence}"),
            as_of=ctx.today.isoformat(),
        ),
    ]
    return join(lines)


def _surcharge_line(surcharge: Surcharge, lang: str) -> Html:
    until = (
        t(lang, "card_surcharge_until", until=surcharge.until.isoformat())
        if surcharge.until
        else t(lang, "card_surcharge_open")
    )
    return t(
        lang,
        "card_surcharge_line",
        label=surcharge.label.get(lang),
        rate=format_rate(surcharge.rate),
        base=t(lang, f"surcharge_base_{surcharge.applies_to.value}"),
        markets=markets_text(surcharge.marketplaces, lang),
        since=surcharge.effective_from.isoformat(),
        until=until,
    )


def _fba_card_line(card: FbaRateCard, lang: str) -> Html:
    return t(
        lang,
        "card_fba_card_line",
        since=card.effective_from.isoformat(),
        tiers=len(card.tiers),
        bands=", ".join(band.label.get(lang) for band in card.bands),
        confidence=t(lang, f"confidence_{card.confidence}"),
    )


def _table_row(row: TableRow, table: Table, lang: str) -> Html:
    """ "Small standard: 0–14 days $0.89; 14–21 days $0.63; ..." (from inclusive, to exclusive)."""
    bands = [
        t(
            lang,
            "table_band",
            band_from=format_number(band.from_),
            band_below=format_number(band.below),
            amount=format_money(band.amount, table.currency),
        )
        for band in row.bands
    ]
    return t(
        lang,
        "table_row",
        label=row.label.get(lang),
        key=row.key,
        band_label=table.band_label.get(lang),
        bands=join(bands, t(lang, "list_separator")),
    )


def _figure(number: Number, lang: str) -> Html:
    """A figure in its unit: $5.00, $2.40/cu ft, 2.5% (a rate), 30% (a percent), 28 days."""
    money = re.fullmatch(r"([A-Z]{3})(/.+)?", number.unit)
    if money:
        value = format_money(number.value, money.group(1)) + (money.group(2) or "")
    elif number.unit == "rate":
        value = format_rate(number.value)
    elif number.unit == "percent":
        value = f"{format_number(number.value)}%"
    else:
        unit_key = f"unit_{number.unit}"
        unit = t(lang, unit_key) if unit_key in messages(lang) else escape(number.unit)
        value = f"{format_number(number.value)} {unit}"
    return t(lang, "figure_line", label=number.label.get(lang), value=value)


def _card_event(event: Event, rule: Rule, catalog: Catalog, ctx: ChatContext) -> Html:
    platform = catalog.rule_platform[rule.id]
    first = Occurrence(rule, platform, event, event.date)
    line = t(
        ctx.lang,
        "card_event",
        when=_event_moment(first, ctx),
        label=event.label.get(ctx.lang),
        kind=t(ctx.lang, f"kind_{event.kind}"),
    )
    if event.marketplace:
        line = Html(line + t(ctx.lang, "card_event_market", market=event.marketplace))
    if event.recurrence is not None:
        until = event.recurrence_until
        repeat = (
            t(ctx.lang, "recurs_yearly_until", until=until.isoformat())
            if until
            else t(ctx.lang, "recurs_yearly")
        )
        nxt = event.next_date(ctx.today)
        line = Html(line + repeat)
        if nxt is not None:
            line = Html(
                line + t(ctx.lang, "recurs_next", date=nxt.isoformat(), relative=relative_days(nxt, ctx))
            )
    else:
        line = Html(line + Html(" (") + relative_days(event.date, ctx) + Html(")"))
    return line


def rule_heading(rule: Rule, catalog: Catalog, ctx: ChatContext) -> list[Html]:
    """Title, where and what, and status: the top of every answer about one rule."""
    platform = catalog.platform_of(rule).info
    return [
        Html(f"<b>{escape(rule.title.get(ctx.lang))}</b>"),
        t(
            ctx.lang,
            "card_header",
            platform=platform.name.get(ctx.lang),
            markets=markets_text(rule.marketplaces, ctx.lang),
            topic=t(ctx.lang, f"topic_{rule.topic}"),
            rule_id=rule.id,
        ),
        Html(rule_status(rule, ctx) + rule_caveats(rule, ctx)),
    ]


def rule_exemptions(rule: Rule, ctx: ChatContext) -> list[Html]:
    """The rule's exemptions (with the figures that say how long or how much), or [] when it has none."""
    lines = _bullets("card_exemptions", [escape(item.get(ctx.lang)) for item in rule.exemptions], ctx.lang)
    if lines:
        lines += _bullets("card_figures", [_figure(number, ctx.lang) for number in rule.numbers], ctx.lang)
    return lines


def rule_dates(rule: Rule, catalog: Catalog, ctx: ChatContext) -> list[Html]:
    """The rule's dates, nearest to today first (a yearly event at its next date)."""

    def distance(event: Event) -> int:
        day = event.next_date(ctx.today) or event.last_date() or event.date
        return abs((day - ctx.today).days)

    events = sorted(rule.events, key=lambda event: (distance(event), event.date))
    if not events:
        return []
    zones = t(ctx.lang, "list_separator").join(zone_label(z, ctx.lang) for z in catalog.rule_zones(rule))
    heading = t(ctx.lang, "card_dates_zone", zones=zones)
    return [Html(""), heading, *(Html(f"• {_card_event(event, rule, catalog, ctx)}") for event in events)]


def rule_figures(rule: Rule, catalog: Catalog, ctx: ChatContext) -> list[Html]:
    """The rule's figures, fee schedules and fee tables: what "how much" asks for."""
    lang = ctx.lang
    lines = _bullets("card_figures", [_figure(number, lang) for number in rule.numbers], lang)
    schedules = [_schedule_line(schedule, catalog, rule, ctx) for schedule in rule.fee_schedules]
    lines += _bullets("card_fees", schedules, lang)
    tables = [_table_row(row, table, lang) for table in rule.tables for row in table.rows]
    lines += _bullets("card_tables", tables, lang)
    return lines
