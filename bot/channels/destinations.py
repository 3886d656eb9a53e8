"""Destinations: where besides Telegram the bot sends, each with its own chat id in the store.

A destination's chat id is `DESTINATION_BASE + id`. Telegram's chat ids have at most 52 significant bits
(users and groups alike, supergroups are -100... with 13 digits), so ids from 2**53 on are never
Telegram's, and every table keyed by chat id (chats, subscriptions, the outbox) takes destinations as
they are: the planner plans their reminders in their zone and language, alerts reach their
subscriptions, the dispatcher routes their rows to the channels' sender (bot/reminders/dispatcher.py).

A destination set up with `/connect` in a Telegram chat mirrors that chat: it has no subscriptions of its
own, and every outbox row of the chat is copied to it when the dispatcher claims the row (`mirror_copies`),
before the chat's message is sent, so a mirror gets its copy whatever Telegram answers, and a crash
before the copy leaves the row to be claimed (and copied) again. The copy's kind is "mirror" and its key
names the row's kind and key, so it is queued once and re-planning leaves it alone; `unmirror` gives
the row back its kind for rendering.

The URL and the secret are credentials (the key of the webhook is in the URL): they are stored, sent, and
never logged, shown or audited; `shown_url` is what people see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.channels.kinds import Kind
from bot.errors import UserInputError
from bot.reminders import Delivery, Outbox, Planned
from bot.store import Store, Subscription

__all__ = [
    "DESTINATION_BASE",
    "Destination",
    "DestinationError",
    "add_destination",
    "destination_by_chat",
    "destination_by_name",
    "destinations",
    "is_destination",
    "mirror_copies",
    "record_failure",
    "record_success",
    "remove_destination",
    "set_enabled",
    "unmirror",
]

DESTINATION_BASE = 1 << 53
# A mirror's copy has a kind of its own: re-planning owns "reminder" and "track" rows and would withdraw
# a copy that the mirror's (empty) plan does not contain.
MIRROR_KIND = "mirror"
MIRROR_KIND_FIELD = "mirror_kind"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


class DestinationError(UserInputError):
    """A destination cannot be added, found or removed as asked; `key` names the message."""


def is_destination(chat_id: int) -> bool:
    """Whether this chat id is a destination's, not Telegram's."""
    return chat_id >= DESTINATION_BASE


@dataclass(frozen=True)
class Destination:
    id: int
    chat_id: int
    name: str
    kind: Kind
    url: str = field(repr=False)
    secret: str | None = field(repr=False)
    mirror_of: int | None
    owner_id: int | None
    enabled: bool
    failures: int
    disabled_reason: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Destination:
        return cls(
            id=row["id"],
            chat_id=row["chat_id"],
            name=row["name"],
            kind=Kind(row["kind"]),
            url=row["url"],
            secret=row["secret"],
            mirror_of=row["mirror_of"],
            owner_id=row["owner_id"],
            enabled=bool(row["enabled"]),
            failures=row["failures"],
            disabled_reason=row["disabled_reason"],
            created_at=row["created_at"],
        )

    @property
    def shown_url(self) -> str:
        """The URL without its key: scheme and host (or the e-mail address, which is no secret)."""
        if self.kind is Kind.EMAIL:
            return self.url
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/…"


def _now(store: Store) -> str:
    return store.clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")


def _rows(store: Store, where: str, params: Sequence[object]) -> list[Destination]:
    rows = store.db.table("destinations").rows_where(where, list(params), order_by="id")
    return [Destination.from_row(row) for row in rows]


def add_destination(
    store: Store,
    name: str,
    url: str,
    kind: Kind,
    *,
    secret: str | None = None,
    mirror_of: int | None = None,
    owner_id: int | None = None,
    language: str = "zh",
    time_zone: str | None = None,
    reminder_time: str | None = None,
    quiet_hours: tuple[str, str] | None = None,
    subscriptions: Iterable[Subscription] = (),
) -> Destination:
    """Keep a destination (its chat row, settings and subscriptions with it); its name must be new."""
    if not _NAME.fullmatch(name):
        raise DestinationError("channels_bad_name", name=name)
    if destination_by_name(store, name) is not None:
        raise DestinationError("channels_name_taken", name=name)
    with store.transaction():
        # AUTOINCREMENT's counter says which id the row will get; the chat id is derived from it.
        row = store.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'destinations'").fetchone()
        next_id = (row[0] if row else 0) + 1
        store.db.execute(
            "INSERT INTO destinations (id, chat_id, name, kind, url, secret, mirror_of, owner_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                next_id,
                DESTINATION_BASE + next_id,
                name,
                kind.value,
                url,
                secret,
                mirror_of,
                owner_id,
                _now(store),
            ],
        )
    chat_id = DESTINATION_BASE + next_id
    # "channel": the store's word for a chat that only receives; the title says which destination.
    store.ensure_chat(chat_id, "channel", f"{kind.value}:{name}", language)
    if time_zone is not None or reminder_time is not None:
        store.update_settings(chat_id, time_zone=time_zone, reminder_time=reminder_time)
    if quiet_hours is not None:
        store.update_settings(chat_id, quiet_start=quiet_hours[0], quiet_end=quiet_hours[1])
    store.subscribe(chat_id, subscriptions)
    found = destination_by_chat(store, chat_id)
    assert found is not None
    return found


def destinations(store: Store, *, mirror_of: int | None = None) -> list[Destination]:
    """Every destination, or those mirroring one Telegram chat."""
    if mirror_of is None:
        return _rows(store, "1 = 1", [])
    return _rows(store, "mirror_of = ?", [mirror_of])


def destination_by_name(store: Store, name: str) -> Destination | None:
    found = _rows(store, "name = ?", [name])
    return found[0] if found else None


def destination_by_chat(store: Store, chat_id: int) -> Destination | None:
    found = _rows(store, "chat_id = ?", [chat_id])
    return found[0] if found else None


def remove_destination(store: Store, name: str) -> Destination:
    """Forget a destination: nothing more is sent to it (its pending rows are skipped by the dispatcher)."""
    found = destination_by_name(store, name)
    if found is None:
        raise DestinationError("channels_unknown", name=name)
    store.unsubscribe(found.chat_id)
    store.set_active(found.chat_id, False)
    with store.transaction():
        store.db.execute("DELETE FROM destination_failures WHERE destination_id = ?", [found.id])
        store.db.execute("DELETE FROM destinations WHERE id = ?", [found.id])
    return found


def set_enabled(store: Store, destination: Destination, enabled: bool, reason: str | None = None) -> None:
    """Enable a destination again (its failures forgiven), or disable it with a reason."""
    with store.transaction():
        store.db.execute(
            "UPDATE destinations SET enabled = ?, disabled_reason = ?, failures = CASE WHEN ? THEN 0"
            " ELSE failures END WHERE id = ?",
            [int(enabled), None if enabled else reason, int(enabled), destination.id],
        )
    store.set_active(destination.chat_id, enabled)


def record_success(store: Store, destination: Destination) -> None:
    if destination.failures:
        with store.transaction():
            store.db.execute("UPDATE destinations SET failures = 0 WHERE id = ?", [destination.id])


def record_failure(store: Store, destination: Destination, reason: str, *, permanent: bool) -> int:
    """Log a failed send; return the permanent failures in a row (a transient one leaves the count)."""
    with store.transaction():
        store.db.execute(
            "INSERT INTO destination_failures (destination_id, at, reason, permanent) VALUES (?, ?, ?, ?)",
            [destination.id, _now(store), reason, int(permanent)],
        )
        if permanent:
            store.db.execute("UPDATE destinations SET failures = failures + 1 WHERE id = ?", [destination.id])
        row = store.db.execute("SELECT failures FROM destinations WHERE id = ?", [destination.id]).fetchone()
    return int(row[0]) if row else 0


def mirror_copies(store: Store, deliveries: Iterable[Delivery]) -> int:
    """Queue, for each claimed row of a mirrored Telegram chat, the same message to its mirrors (due now)."""
    by_chat: dict[int, list[Delivery]] = {}
    for delivery in deliveries:
        # An operator's broadcast goes to every active chat, destinations included: a copy would repeat it.
        if not is_destination(delivery.chat_id) and delivery.kind != "broadcast":
            by_chat.setdefault(delivery.chat_id, []).append(delivery)
    if not by_chat:
        return 0
    now = store.clock.now()
    copies: list[Planned] = []
    for chat_id, rows in by_chat.items():
        for mirror in _rows(store, "mirror_of = ? AND enabled = 1", [chat_id]):
            copies.extend(
                Planned(
                    mirror.chat_id,
                    MIRROR_KIND,
                    f"{row.kind}|{row.key}",
                    row.lead,
                    now,
                    row.event_date,
                    {**row.payload, MIRROR_KIND_FIELD: row.kind},
                )
                for row in rows
            )
    return Outbox(store).enqueue(copies) if copies else 0


def unmirror(deliveries: Iterable[Delivery]) -> list[Delivery]:
    """Mirror copies as the rows they copy (kind and key), for rendering; other rows as they are."""
    restored = []
    for delivery in deliveries:
        if delivery.kind == MIRROR_KIND and MIRROR_KIND_FIELD in delivery.payload:
            kind = str(delivery.payload[MIRROR_KIND_FIELD])
            key = delivery.key.split("|", 1)[-1]
            delivery = dataclasses.replace(delivery, kind=kind, key=key)
        restored.append(delivery)
    return restored
