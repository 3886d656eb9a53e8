"""What a reminder says, rendered at send time from the catalog then current.

The outbox keeps only what a reminder is about (rule, event, date; or a countdown; or a change's text),
so a reminder sent after a reload says what the rules say now. One delivery becomes one message; several
due to a chat at once become one digest with a heading and numbered items. A rule or event that has left
the catalog since planning renders as a short honest line, never an error: the dispatcher must still
be able to mark the row sent.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.answers import Button, ChatContext, relative_days, rule_caveats
from bot.catalog import Catalog, Event, Rule
from bot.i18n import Html, escape, join, t
from bot.reminders.outbox import Delivery
from bot.reminders.sender import Keyboard
from bot.store import ChatSettings
from bot.zones import zone_label

__all__ = [
    "ACTIONABLE_KINDS",
    "MAX_MESSAGE_CHARS",
    "SUMMARY_CHARS",
    "reminder_keyboard",
    "render_digest",
    "what_to_do",
]

ACTIONABLE_KINDS = ("reminder", "track", "snooze")  # those get "done" and "snooze" buttons; alerts do not
# Telegram's limit is 4096 characters of text after entity parsing; the markup is longer than its text,
# so staying under this with the markup is always safe.
MAX_MESSAGE_CHARS = 4000
# "What to do": enough for the gist, short enough to read in a notification (a Chinese character says
# about as much as two English letters and a space).
SUMMARY_CHARS = {"en": 240, "zh": 120}
BUTTON_NAME_CHARS = 24

# A sentence ends at . ! ? followed by a space (not "0.32" or "2024-04-01.") or at Chinese 。！？.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


def _shorten_text(text: str, limit: int) -> str:
    """Cut at a word boundary (or anywhere, for text without spaces) and mark the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:，；：") + "…"


def what_to_do(rule: Rule, lang: str, limit: int | None = None) -> str:
    """The rule's summary cut to whole sentences within `limit`; or its first condition, or a cut summary."""
    limit = limit or SUMMARY_CHARS.get(lang, SUMMARY_CHARS["en"])
    summary = rule.summary.get(lang).strip()
    if len(summary) <= limit:
        return summary
    taken = ""
    for sentence in _SENTENCE_END.split(summary):
        candidate = f"{taken} {sentence}".strip() if lang != "zh" else taken + sentence
        if len(candidate) > limit:
            break
        taken = candidate
    if taken:
        return taken
    # Not even the first sentence fits: a condition says more in few words than half a sentence.
    for condition in rule.conditions:
        text = condition.get(lang).strip()
        if len(text) <= limit:
            return text
    return _shorten_text(summary, limit)


def _context(settings: ChatSettings, now: dt.datetime) -> ChatContext:
    zone = ZoneInfo(settings.time_zone)
    return ChatContext(settings.language, zone, now.astimezone(zone).date())


def _relative(day: dt.date, ctx: ChatContext) -> Html:
    if (day - ctx.today).days == 1:
        return t(ctx.lang, "rem_tomorrow")
    return relative_days(day, ctx)


def _when(event: Event, rule: Rule, day: dt.date, catalog: Catalog, ctx: ChatContext) -> tuple[Html, dt.date]:
    """The moment in the platform's zone and the chat's, and the chat's local date of it."""
    if event.time and event.time_zone:
        hour, minute = (int(part) for part in event.time.split(":"))
        moment = dt.datetime.combine(day, dt.time(hour, minute), ZoneInfo(event.time_zone))
        local = moment.astimezone(ctx.zone)
        text = t(
            ctx.lang,
            "event_time",
            date=day.isoformat(),
            time=event.time,
            zone=zone_label(event.time_zone, ctx.lang),
            local=local.strftime("%Y-%m-%d %H:%M"),
            local_zone=zone_label(ctx.zone, ctx.lang),
        )
        local_day = local.date()
    else:
        zone = zone_label(catalog.event_zone(rule, event), ctx.lang)
        text = t(ctx.lang, "rem_date_in_zone", date=day.isoformat(), zone=zone)
        local_day = day
    if event.approximate:
        text = Html(text + t(ctx.lang, "approximate"))
    return text, local_day


def _payload_date(payload: dict[str, Any], name: str, fallback: dt.date | None) -> dt.date | None:
    value = payload.get(name)
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else fallback
    except ValueError:
        return fallback


def _title_line(key: str, label: str, delivery: Delivery, lang: str) -> Html:
    line = t(lang, key, label=label)
    if delivery.kind == "snooze":
        line = Html(line + t(lang, "rem_snoozed"))
    if delivery.late:
        line = Html(line + t(lang, "rem_late"))
    return line


# For a chat with SKUs: the impact line of the fee change a rule's event (or a changed rule) is about.
ImpactLine = Callable[[str, dt.date | None], Html | None]


def _event_item(
    catalog: Catalog, delivery: Delivery, ctx: ChatContext, *, compact: bool, impact: ImpactLine | None = None
) -> list[Html]:
    payload, lang = delivery.payload, ctx.lang
    rule_id, event_id = str(payload.get("rule_id", "")), str(payload.get("event_id", ""))
    day = _payload_date(payload, "date", delivery.event_date)
    rule = catalog.rules.get(rule_id)
    event = next((e for e in rule.events if e.id == event_id), None) if rule is not None else None
    if rule is None or event is None or day is None:
        when = day.isoformat() if day else "?"
        return [t(lang, "rem_gone", date=when, what=f"{rule_id}/{event_id}" if rule_id else delivery.key)]
    platform = catalog.platform_of(rule).info.name.get(lang)
    when, local_day = _when(event, rule, day, catalog, ctx)
    lines = [
        _title_line("rem_title", event.label.get(lang), delivery, lang),
        t(
            lang,
            "rem_where",
            platform=platform,
            markets="/".join(rule.marketplaces),
            relative=_relative(local_day, ctx),
        ),
        t(lang, "rem_when", when=when),
    ]
    caveats = rule_caveats(rule, ctx)
    if caveats:
        lines.append(Html(caveats.strip()))
    if not compact:
        lines.append(t(lang, "rem_todo", text=what_to_do(rule, lang)))
    personal = impact(rule.id, day) if impact is not None else None
    if personal is not None:
        lines.append(personal)
    return lines


def _track_item(catalog: Catalog, delivery: Delivery, ctx: ChatContext) -> list[Html]:
    payload, lang = delivery.payload, ctx.lang
    rule_id, number_id = str(payload.get("rule_id", "")), str(payload.get("number_id", ""))
    deadline = _payload_date(payload, "deadline", delivery.event_date)
    start = _payload_date(payload, "start_date", None)
    if deadline is None:
        return [t(lang, "rem_gone", date="?", what=delivery.key)]
    rule = catalog.rules.get(rule_id)
    number = next((n for n in rule.numbers if n.id == number_id), None) if rule is not None else None
    start_text = start.isoformat() if start else "?"
    if rule is None or number is None:
        # The countdown is the seller's own date: still worth its reminder, with an honest caveat.
        return [
            _title_line("rem_track_title", t(lang, "seller_rule_gone"), delivery, lang),
            t(
                lang,
                "rem_track_gone",
                start=start_text,
                rule_id=rule_id,
                deadline=deadline.isoformat(),
                relative=_relative(deadline, ctx),
            ),
        ]
    days = (deadline - start).days if start else None
    return [
        _title_line("rem_track_title", rule.title.get(lang), delivery, lang),
        t(
            lang,
            "rem_track_line",
            label=number.label.get(lang),
            days=days if days is not None else "?",
            start=start_text,
            deadline=deadline.isoformat(),
            relative=_relative(deadline, ctx),
        ),
    ]


def _alert_item(
    catalog: Catalog, delivery: Delivery, ctx: ChatContext, impact: ImpactLine | None = None
) -> list[Html]:
    payload, lang = delivery.payload, ctx.lang
    other = "en" if lang == "zh" else "zh"
    summary = payload.get(f"summary_{lang}") or payload.get(f"summary_{other}") or delivery.key
    lines = [t(lang, "rem_alert_title"), escape(summary)]
    rule_id = payload.get("rule_id")
    # A withdrawn rule has no card any more: linking it would only answer "no such rule".
    if isinstance(rule_id, str) and rule_id in catalog.rules:
        personal = impact(rule_id, None) if impact is not None else None
        if personal is not None:
            lines.append(personal)
    return lines


def _item(
    catalog: Catalog,
    delivery: Delivery,
    ctx: ChatContext,
    *,
    compact: bool = False,
    impact: ImpactLine | None = None,
) -> list[Html]:
    if delivery.kind == "broadcast":  # an operator's /broadcast: their words, as they wrote them
        return [escape(str(delivery.payload.get("text", "")))]
    if delivery.kind == "alert":
        return _alert_item(catalog, delivery, ctx, impact)
    # A snooze copies the payload of what was snoozed: a countdown's names its track.
    if delivery.kind == "track" or (delivery.kind == "snooze" and "track_id" in delivery.payload):
        return _track_item(catalog, delivery, ctx)
    if delivery.kind in ("reminder", "snooze"):
        return _event_item(catalog, delivery, ctx, compact=compact, impact=impact)
    return [t(ctx.lang, "rem_unknown", key=delivery.key)]


def render_digest(
    catalog: Catalog,
    deliveries: list[Delivery],
    settings: ChatSettings,
    now: dt.datetime,
    impact: ImpactLine | None = None,
) -> Html:
    """The message for what is due to one chat now: one reminder, or a digest of several.

    `impact`, for a chat with SKUs, gives the line of what a fee change costs them (bot/skus/personal.py).
    Everything is in the chat's language; "today" and the days left are the chat's. A digest too long
    for one Telegram message drops the "what to do" lines, then the items that still do not fit (with a
    line saying how many): the dispatcher should keep digests to a handful of items.
    """
    if not deliveries:
        return Html("")
    ctx = _context(settings, now)
    if len(deliveries) == 1:
        return join(_item(catalog, deliveries[0], ctx, impact=impact))
    for compact in (False, True):
        items = [
            _numbered(index, _item(catalog, d, ctx, compact=compact, impact=impact))
            for index, d in enumerate(deliveries, 1)
        ]
        heading = t(ctx.lang, "rem_digest_heading", count=len(deliveries))
        text = join([heading, *items], "\n\n")
        if len(text) <= MAX_MESSAGE_CHARS:
            return text
    shown: list[Html] = [heading]
    for position, item in enumerate(items):
        more = t(ctx.lang, "rem_digest_more", count=len(items) - position)
        if len(join([*shown, item, more], "\n\n")) > MAX_MESSAGE_CHARS:
            return join([*shown, more], "\n\n")
        shown.append(item)
    return join(shown, "\n\n")  # pragma: no cover - the loop above returned: the whole text was too long


def _numbered(number: int, lines: list[Html]) -> Html:
    return join([Html(f"<b>{number}.</b> {lines[0]}"), *lines[1:]])


# --- buttons ---


def _plain(markup: Html) -> str:
    # Button labels are plain text, not HTML: undo the escaping t() applied.
    return html.unescape(markup)


def _short_name(delivery: Delivery, catalog: Catalog | None, lang: str) -> str:
    payload = delivery.payload
    rule_id = str(payload.get("rule_id") or delivery.key)
    name = rule_id
    rule = catalog.rules.get(rule_id) if catalog is not None else None
    if rule is not None:
        event = next((e for e in rule.events if e.id == payload.get("event_id")), None)
        is_track = "track_id" in payload
        name = rule.title.get(lang) if is_track or event is None else event.label.get(lang)
    return _shorten_text(name, BUTTON_NAME_CHARS)


def reminder_keyboard(
    deliveries: Sequence[Delivery], *, lang: str = "en", catalog: Catalog | None = None
) -> Keyboard:
    """ "Done" and "Snooze 1 day" for each reminder (one row per item in a digest); none for alerts only.

    Pass the chat's `lang` for localized labels and the `catalog` for readable item names in a digest
    (without it, an item is named by its rule id). Items are numbered as in `render_digest`.
    """
    single = len(deliveries) == 1
    rows: list[tuple[Button, ...]] = []
    for number, delivery in enumerate(deliveries, 1):
        if delivery.kind not in ACTIONABLE_KINDS:
            continue
        if single:
            done, snooze = t(lang, "rem_button_done"), t(lang, "rem_button_snooze")
        else:
            name = f"{number}. {_short_name(delivery, catalog, lang)}"
            done = t(lang, "rem_button_done_item", name=name)
            snooze = t(lang, "rem_button_snooze_item", number=number)
        rows.append(
            (
                Button(_plain(done), f"rem:done:{delivery.id}"),
                Button(_plain(snooze), f"rem:snooze:{delivery.id}"),
            )
        )
    return tuple(rows)
