"""The calendar: a chat's subscribed policy dates as an RFC 5545 file (`/calendar`, `policybot export-ics`).

One VEVENT per occurrence, from a year back to the horizon. Yearly events are written as their
expanded occurrences, not as an RRULE: the catalog knows each year's date only until
`recurrence_until`, and an RRULE would invite calendar apps to invent later years. Occurrences carry
a stable UID (the occurrence key), so re-importing a newer file updates events instead of doubling them.

Superseded rules are left out: their dates were replaced before they applied (the $25 postal duty of
May 2025 never came), and a calendar holds only what will or did happen. Announcement dates stay in:
they are few, and they date the change a seller is reminded of.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.catalog import Catalog, Occurrence, Rule
from bot.catalog import Event as RuleEvent
from bot.i18n import t, to_plain_text
from bot.markets import reaches
from bot.store import ANY, Subscription

__all__ = ["calendar_ics", "calendar_ics_all", "subscribed"]

PRODID = "-//policybot//policy dates//EN"
UID_DOMAIN = "policybot"
LOOK_BACK_DAYS = 365
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu"})


def subscribed(
    rule: Rule, platform: str, subscriptions: Iterable[Subscription], event: RuleEvent | None = None
) -> bool:
    """Store.subscribers' matching: "*" or a marketplace the rule (or the event, where it names its own)
    reaches (any, for an ALL rule; each member state, for an EU rule; bot.markets); "*" or the topic."""
    markets = [event.marketplace] if event is not None and event.marketplace else rule.marketplaces
    return any(
        sub.platform == platform and reaches(markets, sub.marketplace) and sub.topic in (ANY, str(rule.topic))
        for sub in subscriptions
    )


def _plain(lang: str, key: str, **values: object) -> str:
    return to_plain_text(t(lang, key, **values))


def _start(occurrence: Occurrence) -> dt.date | dt.datetime:
    """The date, or the moment in the event's own zone (UTC written as UTC, not as a TZID)."""
    event = occurrence.event
    if not (event.time and event.time_zone):
        return occurrence.date
    hour, minute = (int(part) for part in event.time.split(":"))
    zone = dt.UTC if event.time_zone in _UTC_NAMES else ZoneInfo(event.time_zone)
    return dt.datetime.combine(occurrence.date, dt.time(hour, minute), zone)


def _vevent(
    occurrence: Occurrence, catalog: Catalog, lang: str, stamp: dt.datetime, sequence: int | None = None
) -> Event:
    rule, event = occurrence.rule, occurrence.event
    platform = catalog.platforms[occurrence.platform].info.name.get(lang)
    vevent = Event()
    vevent.add("uid", f"{occurrence.key}@{UID_DOMAIN}")
    vevent.add("dtstamp", stamp)
    if sequence is not None:
        vevent.add("sequence", sequence)
    start = _start(occurrence)
    vevent.add("dtstart", start)
    if not isinstance(start, dt.datetime):
        # An all-day event lasts its one day; it should not show the seller as busy.
        vevent.add("dtend", start + dt.timedelta(days=1))
        vevent.add("transp", "TRANSPARENT")
    summary = f"{platform}: {event.label.get(lang)}"
    if event.approximate:
        summary += _plain(lang, "approximate")
    vevent.add("summary", summary)
    description = [
        rule.title.get(lang),
        rule.summary.get(lang),
        _plain(lang, "ics_rule_ref", rule_id=rule.id),
    ]
    vevent.add("description", "\n\n".join(description))
    vevent.add("categories", [str(rule.topic)])
    url = next(
        (source.url for source in rule.sources if source.url.startswith(("http://", "https://"))), None
    )
    if url is not None:
        vevent.add("url", url)
    return vevent


def _track_vevent(label: str, rule_id: str, deadline: dt.date, lang: str, stamp: dt.datetime) -> Event:
    # The label is part of the UID: two countdowns of one rule (new account, new parent ASIN) may end
    # on the same day and are still two events.
    digest = hashlib.sha256(label.encode()).hexdigest()[:12]
    vevent = Event()
    vevent.add("uid", f"track/{rule_id}/{deadline.isoformat()}/{digest}@{UID_DOMAIN}")
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", deadline)
    vevent.add("dtend", deadline + dt.timedelta(days=1))
    vevent.add("transp", "TRANSPARENT")
    vevent.add("summary", _plain(lang, "ics_track", label=label))
    vevent.add("description", _plain(lang, "ics_rule_ref", rule_id=rule_id))
    return vevent


def calendar_ics(
    catalog: Catalog,
    subscriptions: Sequence[Subscription],
    lang: str,
    now: dt.datetime,
    *,
    tracks: Iterable[tuple[str, str, dt.date]] = (),
    horizon_days: int = 730,
    name: str = "policybot",
    sequences: Mapping[str, int] | None = None,
    refresh_hours: int | None = None,
) -> bytes:
    """The subscribed rules' event occurrences (and personal tracks) as an iCalendar file.

    Occurrences from a year before `now` to `horizon_days` after it; `now` is also every DTSTAMP, so
    the same inputs give the same bytes. Tracks are (label, rule_id, deadline). With `sequences` (rule id
    -> its version, 1 first), each event's SEQUENCE is the version less one, so a calendar app takes a
    moved date as an update; with `refresh_hours`, a subscribed calendar asks apps to refresh that often.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if horizon_days < 0:
        raise ValueError("horizon_days must not be negative")
    stamp = now.astimezone(dt.UTC).replace(microsecond=0)
    today = stamp.date()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    if refresh_hours is not None:
        duration = dt.timedelta(hours=refresh_hours)
        calendar.add("refresh-interval", duration, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", f"PT{refresh_hours}H")  # an X- property: written as text
    start = today - dt.timedelta(days=LOOK_BACK_DAYS)
    end = today + dt.timedelta(days=horizon_days)
    for occurrence in catalog.occurrences(start, end):
        rule = occurrence.rule
        # A superseded or cancelled rule's dates will not happen: a calendar entry would mislead.
        if not rule.withdrawn and subscribed(rule, occurrence.platform, subscriptions, occurrence.event):
            version = None if sequences is None else max(sequences.get(rule.id, 1) - 1, 0)
            calendar.add_component(_vevent(occurrence, catalog, lang, stamp, version))
    for label, rule_id, deadline in sorted(set(tracks), key=lambda track: (track[2], track[1], track[0])):
        calendar.add_component(_track_vevent(label, rule_id, deadline, lang, stamp))
    # A timed event's TZID must be defined in the file: a VTIMEZONE for each zone used, covering the
    # window only (the default, 1970 to 2038, lists every DST change of 68 years).
    calendar.add_missing_timezones(
        first_date=start - dt.timedelta(days=1), last_date=end + dt.timedelta(days=2)
    )
    data: bytes = calendar.to_ical()
    return data


def calendar_ics_all(
    catalog: Catalog, lang: str, now: dt.datetime, *, horizon_days: int = 730, name: str = "policybot"
) -> bytes:
    """Every platform's dates, for `policybot export-ics` run without a chat."""
    everything = [Subscription(platform) for platform in sorted(catalog.platforms)]
    return calendar_ics(catalog, everything, lang, now, horizon_days=horizon_days, name=name)
