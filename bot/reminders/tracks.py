"""Personal countdowns (`/track`): a deadline that runs from the seller's own date.

Some rules count from a date only the seller knows: INFORM gives 10 days from a verification request,
Amazon's low-inventory-fee exemptions run 365 days from a new account's first inventory and 180 days
from a new parent ASIN's, Temu's exemption lasts 30 days. A track stores the start date and the deadline
computed from the rule's number in the catalog; the planner (reminders/planner.py) turns it into reminders.

After `add_track` or `remove_track` the caller re-plans the chat (`plan_all(store, catalog, [chat_id])`):
this module does not import the planner, which imports it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from bot.catalog import Calculator, Catalog, Number, Rule
from bot.errors import UserInputError
from bot.reminders.outbox import DeliveryStatus
from bot.store import Store, UnknownChat

__all__ = [
    "MAX_TRACKS_PER_CHAT",
    "TRACKABLE",
    "Countdown",
    "Track",
    "Trackable",
    "add_track",
    "find_trackable",
    "list_tracks",
    "remove_track",
]


@dataclass(frozen=True)
class Countdown:
    """Where to find one kind of countdown in the catalog, and the words users type for it."""

    name: str  # the word shown in /track's usage
    number_id: str  # the rule's number that gives the days
    aliases: tuple[str, ...]
    calculator: Calculator | None = None  # the rule is the one with this calculator...
    platform: str | None = None  # ...or the rule of this platform that carries `number_id`


# Which countdowns exist and what users call them, in English and Chinese. The DAYS always come from the
# catalog (the rule's number), never from here: editing a policy file changes every new countdown's
# deadline without touching code.
TRACKABLE: tuple[Countdown, ...] = (
    Countdown("inform", "response-days", ("INFORM", "验证", "认证"), calculator=Calculator.INFORM),
    Countdown(
        "new-account",
        "new-account-exemption-days",
        ("新账户", "新账号"),
        calculator=Calculator.LOW_INVENTORY,
    ),
    Countdown(
        "new-asin",
        "new-parent-asin-exemption-days",
        ("新ASIN", "新品"),
        calculator=Calculator.LOW_INVENTORY,
    ),
    Countdown("temu-exemption", "exemption-days", ("temu", "豁免"), platform="temu"),
)

# A chat is a seller's workspace, not a database: more than this is a mistake or abuse.
MAX_TRACKS_PER_CHAT = 50
# A start date further ahead than this is almost certainly a typo (a wrong year).
MAX_START_AHEAD = dt.timedelta(days=366)


@dataclass(frozen=True)
class Trackable:
    """A countdown as the current catalog defines it: its rule, its number and its length in days."""

    name: str
    rule: Rule
    number: Number
    days: int

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def number_id(self) -> str:
        return self.number.id


@dataclass(frozen=True)
class Track:
    """One chat's countdown: from `start_date`, `deadline` = start + the rule's days when it was set."""

    id: int
    chat_id: int
    rule_id: str
    number_id: str
    start_date: dt.date
    deadline: dt.date

    @property
    def key(self) -> str:
        """The outbox key of this countdown's reminders."""
        return f"track:{self.id}"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Track:
        return cls(
            id=int(row["id"]),
            chat_id=int(row["chat_id"]),
            rule_id=str(row["rule_id"]),
            number_id=str(row["number_id"]),
            start_date=dt.date.fromisoformat(row["start_date"]),
            deadline=dt.date.fromisoformat(row["deadline"]),
        )


def _fold(word: str) -> str:
    # "New Account", "new_account" and "new-account" are the same word to a user.
    return re.sub(r"[\s_]+", "-", word.strip().casefold())


def _resolve(countdown: Countdown, catalog: Catalog) -> Trackable | None:
    candidates = [
        rule
        for rule in catalog.rules.values()
        if any(number.id == countdown.number_id for number in rule.numbers)
        and (countdown.calculator is None or rule.calculator is countdown.calculator)
        and (countdown.platform is None or catalog.rule_platform[rule.id] == countdown.platform)
    ]
    if not candidates:
        return None
    # A rule still in force wins over one that was superseded; the id breaks ties so the choice is stable.
    rule = min(candidates, key=lambda r: (r.superseded_by is not None, r.id))
    number = rule.number(countdown.number_id)
    # Only a whole, positive number of days makes a deadline; anything else is a catalog mistake.
    if number.unit != "days" or number.value != number.value.to_integral_value() or number.value <= 0:
        return None
    return Trackable(countdown.name, rule, number, int(number.value))


def find_trackable(catalog: Catalog, word: str) -> Trackable | None:
    """The countdown a word names: its name, an alias, or the id of a rule that has exactly one."""
    folded = _fold(word)
    if not folded:
        return None
    for countdown in TRACKABLE:
        if folded in {_fold(name) for name in (countdown.name, *countdown.aliases)}:
            return _resolve(countdown, catalog)
    by_rule = [
        found
        for countdown in TRACKABLE
        if (found := _resolve(countdown, catalog)) is not None and found.rule_id == folded
    ]
    return by_rule[0] if len(by_rule) == 1 else None


def _names(catalog: Catalog) -> str:
    return ", ".join(c.name for c in TRACKABLE if _resolve(c, catalog) is not None)


def add_track(store: Store, catalog: Catalog, chat_id: int, word: str, start: dt.date) -> Track:
    """Start a countdown in a chat; setting the same one from the same date again returns the first.

    Raises UserInputError for an unknown countdown, a start date more than a year ahead, a deadline
    already passed, or too many countdowns; UnknownChat for a chat never seen.
    """
    trackable = find_trackable(catalog, word)
    if trackable is None:
        raise UserInputError("track_error_unknown", word=word, names=_names(catalog))
    settings = store.chat(chat_id)
    if settings is None:
        raise UnknownChat(chat_id)
    today = store.clock.today(settings.time_zone)
    if start - today > MAX_START_AHEAD:
        raise UserInputError("track_error_too_far", start=start.isoformat())
    deadline = start + dt.timedelta(days=trackable.days)
    if deadline < today:
        raise UserInputError(
            "track_error_deadline_passed",
            start=start.isoformat(),
            deadline=deadline.isoformat(),
            days=(today - deadline).days,
        )
    db = store.db
    with store.transaction():
        found = _find(store, chat_id, trackable, start)
        if found is not None:
            return found
        (count,) = db.execute("SELECT count(*) FROM tracks WHERE chat_id = ?", [chat_id]).fetchone()
        if count >= MAX_TRACKS_PER_CHAT:
            raise UserInputError("track_error_too_many", limit=MAX_TRACKS_PER_CHAT)
        # The lookup above ran under the write lock: this insert cannot collide with the UNIQUE key.
        db.execute(
            "INSERT INTO tracks (chat_id, rule_id, number_id, start_date, deadline, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                chat_id,
                trackable.rule_id,
                trackable.number_id,
                start.isoformat(),
                deadline.isoformat(),
                store.clock.now().isoformat(timespec="seconds"),
            ],
        )
        created = _find(store, chat_id, trackable, start)
    assert created is not None
    return created


def _find(store: Store, chat_id: int, trackable: Trackable, start: dt.date) -> Track | None:
    rows = list(
        store.db.table("tracks").rows_where(
            "chat_id = ? AND rule_id = ? AND number_id = ? AND start_date = ?",
            [chat_id, trackable.rule_id, trackable.number_id, start.isoformat()],
        )
    )
    return Track.from_row(rows[0]) if rows else None


def list_tracks(store: Store, chat_id: int) -> list[Track]:
    """The chat's countdowns, soonest deadline first (also those whose deadline has passed)."""
    rows = store.db.table("tracks").rows_where("chat_id = ?", [chat_id], order_by="deadline, id")
    return [Track.from_row(row) for row in rows]


def remove_track(store: Store, chat_id: int, track_id: int) -> bool:
    """Remove one of the chat's countdowns; False if the chat has no such countdown.

    Its pending reminders (snoozed ones too) are withdrawn at once, in the same transaction, so none
    can go out between the removal and the next re-plan.
    """
    with store.transaction():
        cursor = store.db.execute("DELETE FROM tracks WHERE id = ? AND chat_id = ?", [track_id, chat_id])
        if cursor.rowcount == 0:
            return False
        store.db.execute(
            "UPDATE deliveries SET status = ?, updated_at = ?"
            " WHERE chat_id = ? AND kind IN ('track', 'snooze') AND key = ? AND status = ?",
            [
                DeliveryStatus.WITHDRAWN,
                store.clock.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
                chat_id,
                f"track:{track_id}",
                DeliveryStatus.PENDING,
            ],
        )
    return True
