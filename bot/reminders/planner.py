"""Planning reminders: which reminders each chat should get and when, written into the outbox.

A chat gets a reminder at each of its lead days before every occurrence of every event of the rules its
subscriptions match, and before the deadline of each of its countdowns (reminders/tracks.py): at its reminder
hour in its own time zone (DST-safe), moved out of its quiet hours. `plan_all` makes the chat's pending
reminders in the outbox exactly that plan, so re-planning after a policy reload, a new subscription or a
settings change adds what is new, moves what moved and withdraws what is no longer wanted, never twice.
It writes the reminders due in the next PLANNING_WINDOW_DAYS only; the daily run moves that window on.

Why plan_all does not call Outbox.replace_plan: at 100,000 chats replace_plan holds every existing row
in memory at once, binds one SQL variable per chat, and reads and writes row by row. `_plan_chunk` does
the same diff a chunk of chats at a time (reads the chunk, `diff_plan` computes the difference from those
values alone, then it is written), with a handful of queries per chunk and executemany writes,
and keeps replace_plan's rules: no duplicates (the key (chat, kind, key, lead) is looked up before any
insert), unwanted pending rows are withdrawn, sent/sending/skipped/failed/dismissed rows are never
touched, and a dismissed (chat, key) is neither planned again nor left pending. It adds two rules
replace_plan lacks, both needed for "once, through restarts":
- a pending row the chat still wants whose due time has passed (the bot was down, or the dispatcher has
  not reached it yet) is left alone for the dispatcher to send late, not withdrawn because a plan made
  now would not include it;
- a withdrawn row the plan wants again (a chat unsubscribed and subscribed again, removed a lead day and
  added it back, or a reminder left the window and came back) is pending again; replace_plan would
  leave it withdrawn, never to be sent.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.catalog import Catalog, EventKind
from bot.markets import ALL, reached_markets
from bot.reminders.outbox import PLANNED_KINDS, DeliveryStatus, Planned, PlanResult
from bot.reminders.tracks import Track
from bot.store import MAX_LEAD_DAYS, ChatSettings, Store, Subscription

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "PLANNING_WINDOW_DAYS",
    "ChunkState",
    "NewReminder",
    "PlanDiff",
    "Planner",
    "ReminderUpdate",
    "StoredReminder",
    "diff_plan",
    "plan_all",
    "plan_chat",
    "reminder_due_at",
    "subscription_matches",
]

DEFAULT_HORIZON_DAYS = 400  # a little over a year: every yearly event is planned once ahead
# plan_all writes only the reminders due in the next this many days. The outbox stays proportional to
# what is due soon rather than to every date of the year ahead (a year of reminders for 100,000 chats is
# millions of rows, more than SQLite inserts in seconds), and the daily run, which moves the window on,
# can fail for a month before anything is missed.
PLANNING_WINDOW_DAYS = 35
# Chats per transaction in plan_all: big enough that the per-query cost vanishes, small enough that the
# write lock is held for a fraction of a second (the dispatcher writes too) and memory stays flat.
CHUNK_CHATS = 2_000
# Distinct (subscriptions, zone, hour, quiet hours, lead days) plans kept at once: reuse without letting
# a run over many unlike chats hold every chat's rows in memory.
MAX_CACHED_PLANS = 10_000
# An explicit list of chats is bound as SQL variables; stay below SQLite's historic limit of 999.
CHUNK_IDS = 500

_DAYS = tuple(dt.timedelta(days=days) for days in range(MAX_LEAD_DAYS + 2))
_SubKey = tuple[str, str, str]  # (platform, marketplace, topic), a Subscription as plain values
_Identity = tuple[str, str, int]  # (kind, key, lead): a delivery's identity within its chat
# (kind, key, lead, due_at ISO, event_date ISO, payload JSON): one planned row before its chat id.
_Row = tuple[str, str, int, str, str, str]


# --- when --------------------------------------------------------------------------------------------


def reminder_due_at(event_date: dt.date, lead: int, settings: ChatSettings) -> dt.datetime:
    """When (UTC) to remind of a date `lead` days ahead: the chat's hour, local, out of its quiet hours.

    The local day is `event_date - lead`. A reminder hour that does not exist that day (spring forward)
    moves to the first instant that does, the end of the gap; one that happens twice (fall back) takes
    the first. A time inside the quiet hours (start inclusive, end exclusive, possibly wrapping past
    midnight) moves to their end: the same day, or the next when the quiet hours began the evening before.
    """
    day = event_date - dt.timedelta(days=lead)
    return _due_at(settings.time_zone, day, settings.reminder_time, settings.quiet_start, settings.quiet_end)


def _minutes(clock_time: str) -> int:
    hours, minutes = clock_time.split(":")
    return int(hours) * 60 + int(minutes)


def _offset(zone: ZoneInfo, timestamp: int) -> dt.timedelta | None:
    return dt.datetime.fromtimestamp(timestamp, zone).utcoffset()


def _first_valid(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    """The local time `minutes` after midnight on `day` as a UTC instant; a time in a gap: the gap's end."""
    naive = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))
    first = naive.replace(tzinfo=zone).astimezone(dt.UTC)  # fold=0: the first of two on a fall-back day
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # A gap (spring forward). fold=0 read the time with the offset before the change, giving an instant
    # after it; fold=1 with the offset after, giving one before it. The change lies between: bisect.
    low = int(naive.replace(tzinfo=zone, fold=1).astimezone(dt.UTC).timestamp())
    high = int(first.timestamp())
    after = _offset(zone, high)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, middle) == after:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


@lru_cache(maxsize=1 << 17)
def _due_at(
    zone_name: str, day: dt.date, reminder_time: str, quiet_start: str | None, quiet_end: str | None
) -> dt.datetime:
    # Cached: 100,000 chats share a few thousand (zone, day, hour, quiet hours) combinations.
    zone = ZoneInfo(zone_name)
    moment = _first_valid(day, _minutes(reminder_time), zone)
    if quiet_start is None or quiet_end is None:
        return moment
    start, end = _minutes(quiet_start), _minutes(quiet_end)
    local = moment.astimezone(zone)  # after a gap the wall time may differ from reminder_time
    wall = local.hour * 60 + local.minute
    if start < end:
        inside, next_day = start <= wall < end, False
    else:  # wraps past midnight, e.g. 22:00-07:00: the evening part ends tomorrow morning
        inside, next_day = wall >= start or wall < end, wall >= start
    if not inside:
        return moment
    return _first_valid(local.date() + dt.timedelta(days=int(next_day)), end, zone)


def _iso(moment: dt.datetime) -> str:
    # Exactly Outbox's format: the diff compares these strings with the stored due_at.
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


@lru_cache(maxsize=1 << 17)
def _due_iso(
    zone_name: str, day: dt.date, reminder_time: str, quiet_start: str | None, quiet_end: str | None
) -> str:
    return _iso(_due_at(zone_name, day, reminder_time, quiet_start, quiet_end))


# --- what ---------------------------------------------------------------------------------------------


def subscription_matches(
    subscription: Subscription, platform: str, marketplaces: Sequence[str], topic: str
) -> bool:
    """Whether a subscription covers a rule of `platform` in `marketplaces` on `topic`.

    The same test as Store.subscribers: "*" matches anything, a rule for "ALL" any marketplace, a rule
    for "EU" each member state and a member state's rule a subscriber to "EU" (bot.markets).
    """
    return _matches(
        (subscription.platform, subscription.marketplace, subscription.topic),
        platform,
        reached_markets(marketplaces),
        topic,
    )


def _matches(subscription: _SubKey, platform: str, reached: frozenset[str], topic: str) -> bool:
    sub_platform, sub_market, sub_topic = subscription
    return (
        sub_platform == platform
        and (sub_market == "*" or sub_market in reached or ALL in reached)
        and sub_topic in ("*", topic)
    )


@dataclass(frozen=True, slots=True)
class _Dated:
    """One plannable occurrence, with what its reminders' rows need, serialized once."""

    date: dt.date
    key: str
    platform: str
    marketplaces: frozenset[str]  # every subscription marketplace it reaches (bot.markets)
    topic: str
    date_iso: str
    payload_json: str


@dataclass(frozen=True)
class _Matched:
    """The occurrences a set of subscriptions matches, by date then key."""

    dates: list[dt.date]  # for bisect
    items: list[_Dated]
    by_key: dict[str, _Dated]


class _Occurrences:
    """The plannable occurrences of a date window, and which ones a set of subscriptions matches."""

    def __init__(self, catalog: Catalog, start: dt.date, end: dt.date) -> None:
        self._by_platform: dict[str, list[_Dated]] = defaultdict(list)
        for occurrence in catalog.occurrences(start, end):
            rule, event = occurrence.rule, occurrence.event
            if rule.withdrawn:
                # Superseded (its successor's dates are the ones that matter) or cancelled (the dates
                # were announced and called off: reminding of them would send sellers after nothing).
                continue
            if event.kind is EventKind.ANNOUNCED:
                # An announcement is history, not a deadline: there is nothing to do before it. (Its news
                # reaches subscribers as a change alert when the rule is added to the catalog.)
                continue
            payload = {"rule_id": rule.id, "event_id": event.id, "date": occurrence.date.isoformat()}
            self._by_platform[occurrence.platform].append(
                _Dated(
                    date=occurrence.date,
                    key=occurrence.key,
                    platform=occurrence.platform,
                    # A date of one marketplace (the coupon rule's DE date) reaches only its subscribers.
                    marketplaces=reached_markets(
                        [event.marketplace] if event.marketplace else rule.marketplaces
                    ),
                    topic=str(rule.topic),
                    date_iso=occurrence.date.isoformat(),
                    payload_json=json.dumps(payload, sort_keys=True),
                )
            )
        self._merged: dict[tuple[_SubKey, ...], _Matched] = {}

    def matching(self, subscriptions: tuple[_SubKey, ...]) -> _Matched:
        found = self._merged.get(subscriptions)
        if found is None:
            merged: dict[str, _Dated] = {}
            for subscription in subscriptions:
                for item in self._by_platform.get(subscription[0], ()):
                    if _matches(subscription, item.platform, item.marketplaces, item.topic):
                        merged[item.key] = item  # two subscriptions matching one rule: one reminder
            items = sorted(merged.values(), key=lambda item: (item.date, item.key))
            found = self._merged[subscriptions] = _Matched([item.date for item in items], items, merged)
        return found


class Planner:
    """Computes chats' rows for one run (one `now`), sharing the work between chats that can share it."""

    def __init__(
        self, catalog: Catalog, now: dt.datetime, horizon_days: int, window_days: int | None
    ) -> None:
        if horizon_days < 0 or (window_days is not None and window_days < 0):
            raise ValueError("horizon_days and window_days must not be negative")
        self.now_iso = _iso(now)
        self._now = now
        self._horizon = dt.timedelta(days=horizon_days)
        self._window = None if window_days is None else dt.timedelta(days=window_days)
        self._window_iso = None if window_days is None else _iso(now + dt.timedelta(days=window_days))
        utc_today = now.astimezone(dt.UTC).date()
        # Every zone's today is within a day of UTC's: one window covers every chat. It reaches back a
        # year too, so a reminder whose event passed while the bot was down is still recognised as wanted
        # and left to the dispatcher, which records it as skipped (see is_overdue).
        self._occurrences = _Occurrences(
            catalog,
            utc_today - dt.timedelta(days=MAX_LEAD_DAYS + 2),
            utc_today + self._horizon + dt.timedelta(days=2),
        )
        self._today: dict[str, dt.date] = {}
        self._plans: dict[tuple[Any, ...], list[_Row]] = {}
        self._due_by_day: dict[tuple[str, str, str | None, str | None], dict[dt.date, str]] = {}

    def today(self, zone_name: str) -> dt.date:
        today = self._today.get(zone_name)
        if today is None:
            today = self._today[zone_name] = self._now.astimezone(ZoneInfo(zone_name)).date()
        return today

    def _wanted(self, due: str) -> bool:
        return self.now_iso < due and (self._window_iso is None or due <= self._window_iso)

    def rows(
        self, settings: ChatSettings, subscriptions: tuple[_SubKey, ...], tracks: Sequence[Track]
    ) -> list[_Row]:
        """The rows one chat should have pending: due after now (and within the window, if any)."""
        if not settings.active:
            return []
        signature = (
            subscriptions,
            settings.time_zone,
            settings.reminder_time,
            settings.quiet_start,
            settings.quiet_end,
            settings.lead_days,
        )
        plan = self._plans.get(signature)
        if plan is None:
            if len(self._plans) >= MAX_CACHED_PLANS:
                self._plans.clear()  # chats that share settings mostly come close together; memory stays flat
            plan = self._plans[signature] = self._event_rows(settings, subscriptions)
        if not tracks:
            return plan
        return plan + self._track_rows(settings, tracks)

    def _event_rows(self, settings: ChatSettings, subscriptions: tuple[_SubKey, ...]) -> list[_Row]:
        zone, hour = settings.time_zone, settings.reminder_time
        quiet_start, quiet_end = settings.quiet_start, settings.quiet_end
        # Due times by local day for this (zone, hour, quiet hours): chats that share them share the work.
        due_by_day = self._due_by_day.setdefault((zone, hour, quiet_start, quiet_end), {})
        today = self.today(zone)
        matched = self._occurrences.matching(subscriptions)
        dates, items = matched.dates, matched.items
        first = bisect.bisect_left(dates, today)
        last = bisect.bisect_right(dates, today + self._horizon)
        wanted: list[_Row] = []
        for lead in settings.lead_days:
            before = _DAYS[lead]
            # A reminder is due on the local day event - lead, or the next one when quiet hours push it:
            # due after now means that day is not before yesterday, and due within the window means it
            # is at most a day after the window's last. Only the occurrences between can qualify.
            low = max(first, bisect.bisect_left(dates, today + before - _DAYS[1]))
            high = last
            if self._window is not None:
                high = min(last, bisect.bisect_right(dates, today + self._window + before + _DAYS[1]))
            for item in items[low:high]:
                day = item.date - before
                due = due_by_day.get(day)
                if due is None:
                    due = due_by_day[day] = _iso(_due_at(zone, day, hour, quiet_start, quiet_end))
                if self._wanted(due):
                    wanted.append(("reminder", item.key, lead, due, item.date_iso, item.payload_json))
        return wanted

    def _track_rows(self, settings: ChatSettings, tracks: Sequence[Track]) -> list[_Row]:
        today = self.today(settings.time_zone)
        wanted: list[_Row] = []
        for track in tracks:
            if track.deadline < today:
                continue
            payload = {
                "track_id": track.id,
                "rule_id": track.rule_id,
                "number_id": track.number_id,
                "start_date": track.start_date.isoformat(),
                "deadline": track.deadline.isoformat(),
            }
            payload_json = json.dumps(payload, sort_keys=True)
            for lead in settings.lead_days:
                due = _iso(reminder_due_at(track.deadline, lead, settings))
                if self._wanted(due):
                    wanted.append(("track", track.key, lead, due, track.deadline.isoformat(), payload_json))
        return wanted

    def is_overdue(
        self,
        settings: ChatSettings,
        subscriptions: tuple[_SubKey, ...],
        tracks: Sequence[Track],
        identity: _Identity,
    ) -> bool:
        """Whether the chat still wants this reminder, only its due time has passed (the bot was down).

        Such a row stays pending: the dispatcher sends it marked late if its event is still ahead, and
        records it as skipped if the event has passed too. Withdrawing it would hide both.
        """
        kind, key, lead = identity
        if not settings.active or lead not in settings.lead_days:
            return False
        if kind == "reminder":
            item = self._occurrences.matching(subscriptions).by_key.get(key)
            if item is None or item.date > self.today(settings.time_zone) + self._horizon:
                return False
            day = item.date - dt.timedelta(days=lead)
            due = _due_iso(
                settings.time_zone, day, settings.reminder_time, settings.quiet_start, settings.quiet_end
            )
            return due <= self.now_iso
        if kind == "track":
            track = next((track for track in tracks if track.key == key), None)
            if track is None:
                return False
            return _iso(reminder_due_at(track.deadline, lead, settings)) <= self.now_iso
        return False


def _sub_keys(subscriptions: Iterable[Subscription]) -> tuple[_SubKey, ...]:
    return tuple(sorted({(s.platform, s.marketplace, s.topic) for s in subscriptions}))


def plan_chat(
    catalog: Catalog,
    settings: ChatSettings,
    subscriptions: Iterable[Subscription],
    tracks: Iterable[Track],
    now: dt.datetime,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    *,
    window_days: int | None = None,
) -> list[Planned]:
    """The reminders one chat should have from `now` on, soonest first; nothing for an inactive chat.

    Every occurrence from the chat's today to today + `horizon_days` of every event (yearly ones
    included; announcements and superseded rules left out) of the rules its subscriptions match gets one
    reminder per lead day, keyed by the occurrence; each countdown gets them before its deadline, keyed
    "track:<id>". A lead whose due time has already passed is not planned, nor, with `window_days`, one
    due later than now + window_days (what plan_all leaves for a later run). The payload names the rule,
    event and date only: the text is rendered at send time from the catalog then current.
    """
    planner = Planner(catalog, now, horizon_days, window_days)
    wanted = planner.rows(settings, _sub_keys(subscriptions), list(tracks))
    planned = [
        Planned(
            chat_id=settings.chat_id,
            kind=kind,
            key=key,
            lead=lead,
            due_at=dt.datetime.fromisoformat(due),
            event_date=dt.date.fromisoformat(date),
            payload=json.loads(payload),
        )
        for kind, key, lead, due, date, payload in wanted
    ]
    planned.sort(key=lambda item: (item.due_at, item.kind, item.key, -item.lead))
    return planned


# --- writing the plan ------------------------------------------------------------------------------


def plan_all(
    store: Store,
    catalog: Catalog,
    chat_ids: Iterable[int] | None = None,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    window_days: int | None = PLANNING_WINDOW_DAYS,
    chunk_chats: int = CHUNK_CHATS,
) -> PlanResult:
    """Re-plan every chat (or the given ones) into the outbox; inactive chats' pending reminders go.

    Only reminders due within `window_days` are written (None: all of them); the daily run moves the
    window forward. Each chunk of `chunk_chats` chats is diffed and written in its own transaction, so a
    chat's plan is replaced atomically and the write lock is never held for long. See the module
    docstring for the rules.
    """
    if chunk_chats < 1:
        raise ValueError("chunk_chats must be at least 1")
    planner = Planner(catalog, store.clock.now(), horizon_days, window_days)
    added = moved = withdrawn = 0
    for where, params in _chunks(store, chat_ids, chunk_chats):
        with store.transaction():
            result = _plan_chunk(store, planner, where, params)
        added, moved, withdrawn = added + result.added, moved + result.moved, withdrawn + result.withdrawn
    return PlanResult(added, moved, withdrawn)


def _chunks(store: Store, chat_ids: Iterable[int] | None, size: int) -> Iterator[tuple[str, list[int]]]:
    """SQL conditions on chat_id that together cover the scope, a chunk of chats each."""
    if chat_ids is not None:
        ids = sorted(set(chat_ids))
        step = min(size, CHUNK_IDS)
        for index in range(0, len(ids), step):
            part = ids[index : index + step]
            yield f"chat_id IN ({', '.join('?' * len(part))})", part
        return
    # Every chat: ranges of ids that together cover all integers, so outbox rows of a chat that is no
    # longer in the chats table (replace_plan's scope None covers them too) are withdrawn as well.
    ids = [row[0] for row in store.db.execute("SELECT chat_id FROM chats ORDER BY chat_id").fetchall()]
    bounds = [ids[index] for index in range(size - 1, len(ids) - 1, size)]
    if not bounds:
        yield "1 = 1", []
        return
    yield "chat_id <= ?", [bounds[0]]
    for low, high in itertools.pairwise(bounds):
        yield "chat_id > ? AND chat_id <= ?", [low, high]
    yield "chat_id > ?", [bounds[-1]]


@lru_cache(maxsize=256)
def _lead_days(text: str) -> tuple[int, ...]:
    return tuple(json.loads(text))


_CHAT_COLUMNS = (
    "chat_id, kind, title, language, time_zone, reminder_time, lead_days, quiet_start, quiet_end, active,"
    " created_at"
)


def _settings(row: tuple[Any, ...]) -> ChatSettings:
    # As Store reads a chats row (of _CHAT_COLUMNS); here so a chunk is read with one query, not one per chat.
    chat_id, kind, title, language, zone, hour, lead_days, quiet_start, quiet_end, active, created_at = row
    return ChatSettings(
        chat_id,
        kind,
        title,
        language,
        zone,
        hour,
        _lead_days(lead_days),
        quiet_start,
        quiet_end,
        bool(active),
        created_at,
    )


# --- the diff of a chunk of chats: pure, then read and written -------------------------------------


def _same_payload(stored: str, planned: str) -> bool:
    # Both are normally json.dumps(sort_keys=True) of the same dict; compare values if spelled otherwise.
    return stored == planned or bool(json.loads(stored) == json.loads(planned))


class StoredReminder(NamedTuple):
    """A planned-kind row of the outbox (a reminder or a countdown's), as diff_plan needs it."""

    id: int
    chat_id: int
    kind: str
    key: str
    lead: int
    due_at: str  # ISO 8601 UTC, as stored
    payload: str  # JSON
    status: str


@dataclass(frozen=True)
class ChunkState:
    """What the store holds now for a chunk of chats, read before planning them."""

    chats: Mapping[int, ChatSettings]
    subscriptions: Mapping[int, tuple[_SubKey, ...]]  # sorted, as _sub_keys makes them
    tracks: Mapping[int, tuple[Track, ...]]
    dismissed: AbstractSet[tuple[int, str]]  # (chat_id, key): "done" pressed
    reminders: tuple[StoredReminder, ...]


class NewReminder(NamedTuple):
    """A row to add to the outbox, pending."""

    chat_id: int
    kind: str
    key: str
    lead: int
    due_at: str
    event_date: str
    payload: str


class ReminderUpdate(NamedTuple):
    """A stored row planned again: its new due time, payload and date."""

    id: int
    due_at: str
    payload: str
    event_date: str


@dataclass(frozen=True)
class PlanDiff:
    """What re-planning a chunk writes: rows to add, pending rows to move, rows to revive or withdraw."""

    inserts: tuple[NewReminder, ...]
    moves: tuple[ReminderUpdate, ...]
    revivals: tuple[ReminderUpdate, ...]  # withdrawn rows pending again
    withdrawals: tuple[int, ...]  # ids of pending rows no longer wanted

    @property
    def result(self) -> PlanResult:
        return PlanResult(
            added=len(self.inserts) + len(self.revivals),
            moved=len(self.moves),
            withdrawn=len(self.withdrawals),
        )


def diff_plan(planner: Planner, state: ChunkState) -> PlanDiff:
    """What makes the chunk's outbox rows the chats' plan: pure, it reads and writes nothing.

    See the module docstring for the rules. Chats are taken in id order: the outbox's indexes on chat_id
    then take the inserts in order, page after page.
    """
    existing: dict[int, dict[_Identity, StoredReminder]] = defaultdict(dict)
    for row in state.reminders:
        existing[row.chat_id][(row.kind, row.key, row.lead)] = row
    inserts: list[NewReminder] = []
    moves: list[ReminderUpdate] = []
    revivals: list[ReminderUpdate] = []
    withdrawals: list[int] = []
    dismissed = state.dismissed
    for chat_id in sorted(state.chats.keys() | existing.keys()):
        settings = state.chats.get(chat_id)
        chat_subscriptions = state.subscriptions.get(chat_id, ())
        chat_tracks = state.tracks.get(chat_id, ())
        wanted = planner.rows(settings, chat_subscriptions, chat_tracks) if settings is not None else []
        rows = existing.get(chat_id, {})
        for kind, key, lead, due, date, payload in wanted:
            if (chat_id, key) in dismissed:
                continue  # "done" pressed: never again (a pending row left over is withdrawn below)
            found = rows.pop((kind, key, lead), None)
            if found is None:
                inserts.append(NewReminder(chat_id, kind, key, lead, due, date, payload))
            elif found.status == DeliveryStatus.PENDING:
                if found.due_at != due or not _same_payload(found.payload, payload):
                    moves.append(ReminderUpdate(found.id, due, payload, date))
            elif found.status == DeliveryStatus.WITHDRAWN:
                revivals.append(ReminderUpdate(found.id, due, payload, date))
        for identity, row in rows.items():
            if row.status != DeliveryStatus.PENDING:
                continue
            if (
                settings is not None
                and (chat_id, row.key) not in dismissed
                and planner.is_overdue(settings, chat_subscriptions, chat_tracks, identity)
            ):
                continue  # still wanted, only late (the bot was down): the dispatcher sends it, marked late
            withdrawals.append(row.id)
    return PlanDiff(tuple(inserts), tuple(moves), tuple(revivals), tuple(withdrawals))


def _read_chunk(store: Store, where: str, params: list[int]) -> ChunkState:
    """The chats matched by `where` as the store holds them now: settings, subscriptions, countdowns, rows."""
    conn = store.db.conn
    chats = {
        row[0]: _settings(row)
        for row in conn.execute(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE {where}", params)
    }
    subscriptions: dict[int, list[_SubKey]] = defaultdict(list)
    for chat_id, platform, market, topic in conn.execute(
        f"SELECT chat_id, platform, marketplace, topic FROM subscriptions WHERE {where}"
        " ORDER BY chat_id, platform, marketplace, topic",
        params,
    ):
        subscriptions[chat_id].append((platform, market, topic))
    tracks: dict[int, list[Track]] = defaultdict(list)
    cursor = conn.execute(f"SELECT * FROM tracks WHERE {where} ORDER BY id", params)
    columns = [column[0] for column in cursor.description]
    for values in cursor:
        track = Track.from_row(dict(zip(columns, values, strict=True)))
        tracks[track.chat_id].append(track)
    dismissed = frozenset(
        conn.execute(f"SELECT chat_id, key FROM dismissed WHERE {where}", params).fetchall()
    )
    kinds = ", ".join(f"'{kind}'" for kind in PLANNED_KINDS)
    reminders = tuple(
        StoredReminder._make(row)
        for row in conn.execute(
            "SELECT id, chat_id, kind, key, lead, due_at, payload, status FROM deliveries"
            f" WHERE kind IN ({kinds}) AND {where}",
            params,
        )
    )
    return ChunkState(
        chats=chats,
        subscriptions={chat_id: tuple(subs) for chat_id, subs in subscriptions.items()},
        tracks={chat_id: tuple(chat_tracks) for chat_id, chat_tracks in tracks.items()},
        dismissed=dismissed,
        reminders=reminders,
    )


def _write_plan(store: Store, diff: PlanDiff, now: str) -> None:
    conn = store.db.conn
    conn.executemany(
        "INSERT INTO deliveries"
        " (chat_id, kind, key, lead, due_at, event_date, payload, status, created_at, updated_at)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?, '{DeliveryStatus.PENDING}', ?, ?)",
        [(*row, now, now) for row in diff.inserts],
    )
    conn.executemany(
        "UPDATE deliveries SET due_at = ?, payload = ?, event_date = ?, updated_at = ? WHERE id = ?",
        [(row.due_at, row.payload, row.event_date, now, row.id) for row in diff.moves],
    )
    conn.executemany(
        f"UPDATE deliveries SET status = '{DeliveryStatus.PENDING}', due_at = ?, payload = ?,"
        " event_date = ?, late = 0, last_error = NULL, updated_at = ? WHERE id = ?",
        [(row.due_at, row.payload, row.event_date, now, row.id) for row in diff.revivals],
    )
    conn.executemany(
        f"UPDATE deliveries SET status = '{DeliveryStatus.WITHDRAWN}', updated_at = ? WHERE id = ?",
        [(now, row_id) for row_id in diff.withdrawals],
    )


def _plan_chunk(store: Store, planner: Planner, where: str, params: list[int]) -> PlanResult:
    """Read the chats matched by `where`, diff them against their outbox rows and write the difference."""
    diff = diff_plan(planner, _read_chunk(store, where, params))
    _write_plan(store, diff, planner.now_iso)
    return diff.result
