"""The outbox: every message the bot sends on its own, planned into SQLite before it is sent.

SQLite is the source of truth for what must be sent. A row is `pending` until the dispatcher claims it
(`sending`), then `sent`, `failed`, `skipped` (its event passed while the bot was down), `withdrawn` (no
longer wanted after a re-plan) or `dismissed` ("done" pressed). A crash leaves claimed rows in `sending`;
`recover_in_flight` puts them back at start, so a crash can at most repeat what was in flight.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.store import Store

__all__ = ["ACTIVE", "WATCHED", "Delivery", "DeliveryStatus", "Outbox", "PlanResult", "Planned"]


class DeliveryStatus(StrEnum):
    """A delivery's state, stored as its value in `deliveries.status` (the words never change)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    WITHDRAWN = "withdrawn"
    DISMISSED = "dismissed"


PLANNED_KINDS = ("reminder", "track")  # kinds re-planning owns; alerts are queued once and never re-planned
ACTIVE = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
# The states an operator watches (metrics); the others (withdrawn, dismissed) are the users' and the plan's.
WATCHED = (
    DeliveryStatus.PENDING,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.SKIPPED,
)
# A reminder due longer ago than this when it is finally sent says it is late.
LATE_AFTER = dt.timedelta(minutes=30)


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("outbox times must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Planned:
    """A message that should be sent at `due_at` (UTC); the unique key is (chat_id, kind, key, lead)."""

    chat_id: int
    kind: str
    key: str
    lead: int
    due_at: dt.datetime
    event_date: dt.date | None
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[int, str, str, int]:
        return (self.chat_id, self.kind, self.key, self.lead)


@dataclass(frozen=True)
class Delivery:
    id: int
    chat_id: int
    kind: str
    key: str
    lead: int
    due_at: dt.datetime
    event_date: dt.date | None
    payload: dict[str, Any]
    status: DeliveryStatus
    late: bool
    attempts: int
    last_error: str | None
    message_id: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Delivery:
        return cls(
            id=int(row["id"]),
            chat_id=int(row["chat_id"]),
            kind=str(row["kind"]),
            key=str(row["key"]),
            lead=int(row["lead"]),
            due_at=dt.datetime.fromisoformat(row["due_at"]),
            event_date=dt.date.fromisoformat(row["event_date"]) if row["event_date"] else None,
            payload=json.loads(row["payload"]),
            status=DeliveryStatus(row["status"]),
            late=bool(row["late"]),
            attempts=int(row["attempts"]),
            last_error=row["last_error"],
            message_id=row["message_id"],
        )


@dataclass(frozen=True)
class PlanResult:
    added: int = 0
    moved: int = 0
    withdrawn: int = 0


class Outbox:
    """The deliveries table. Every change runs in one write transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def _now(self) -> str:
        return _iso(self.store.clock.now())

    # --- planning ---

    def replace_plan(self, chat_ids: Iterable[int] | None, planned: Iterable[Planned]) -> PlanResult:
        """Make the pending reminders of `chat_ids` (None: every chat) exactly `planned`.

        New ones are added, moved ones updated, unwanted pending ones withdrawn. Rows already sent,
        skipped or dismissed are never touched, so a re-plan cannot send anything twice; a dismissed
        event ("done") is not planned again.
        """
        wanted = {item.identity: item for item in planned}
        scope = None if chat_ids is None else sorted(set(chat_ids))
        added = moved = withdrawn = 0
        now = self._now()
        with self.store.transaction():
            dismissed = {(row[0], row[1]) for row in self.db.execute("SELECT chat_id, key FROM dismissed")}
            existing = self._planned_rows(scope)
            for identity, row in existing.items():
                item = wanted.get(identity)
                if row["status"] != DeliveryStatus.PENDING:
                    continue
                if item is None or (item.chat_id, item.key) in dismissed:
                    self.db.execute(
                        "UPDATE deliveries SET status = ?, updated_at = ? WHERE id = ?",
                        [DeliveryStatus.WITHDRAWN, now, row["id"]],
                    )
                    withdrawn += 1
                elif row["due_at"] != _iso(item.due_at) or json.loads(row["payload"]) != item.payload:
                    self.db.execute(
                        "UPDATE deliveries SET due_at = ?, payload = ?, event_date = ?, updated_at = ?"
                        " WHERE id = ?",
                        [
                            _iso(item.due_at),
                            json.dumps(item.payload, sort_keys=True),
                            _date(item),
                            now,
                            row["id"],
                        ],
                    )
                    moved += 1
            for identity, item in wanted.items():
                if identity in existing or (item.chat_id, item.key) in dismissed:
                    continue
                self._insert(item, now)
                added += 1
        return PlanResult(added, moved, withdrawn)

    def _planned_rows(self, scope: list[int] | None) -> dict[tuple[int, str, str, int], dict[str, Any]]:
        kinds = ", ".join(f"'{kind}'" for kind in PLANNED_KINDS)
        sql = f"SELECT * FROM deliveries WHERE kind IN ({kinds})"
        params: list[Any] = []
        if scope is not None:
            if not scope:
                return {}
            sql += f" AND chat_id IN ({', '.join('?' for _ in scope)})"
            params = list(scope)
        cursor = self.db.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        rows = (dict(zip(columns, values, strict=True)) for values in cursor.fetchall())
        return {(row["chat_id"], row["kind"], row["key"], row["lead"]): row for row in rows}

    def _insert(self, item: Planned, now: str) -> bool:
        cursor = self.db.execute(
            """
            INSERT OR IGNORE INTO deliveries
                (chat_id, kind, key, lead, due_at, event_date, payload, status, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                item.chat_id,
                item.kind,
                item.key,
                item.lead,
                _iso(item.due_at),
                _date(item),
                json.dumps(item.payload, sort_keys=True),
                DeliveryStatus.PENDING,
                now,
                now,
            ],
        )
        return bool(cursor.rowcount)

    def enqueue(self, items: Iterable[Planned]) -> int:
        """Queue one-off messages (change alerts); the same key is queued once is not queued again."""
        now = self._now()
        with self.store.transaction():
            return sum(self._insert(item, now) for item in items)

    # --- dispatching ---

    def recover_in_flight(self) -> int:
        """At start: rows claimed by a process that died are pending again (they may have been sent)."""
        with self.store.transaction():
            cursor = self.db.execute(
                "UPDATE deliveries SET status = ?, updated_at = ? WHERE status = ?",
                [DeliveryStatus.PENDING, self._now(), DeliveryStatus.SENDING],
            )
            return cursor.rowcount

    def next_due_at(self) -> dt.datetime | None:
        row = self.db.execute(
            "SELECT min(due_at) FROM deliveries WHERE status = ?", [DeliveryStatus.PENDING]
        ).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row and row[0] else None

    def claim_due(self, limit: int = 500) -> list[Delivery]:
        """Claim pending rows due by now, oldest first: they become `sending`.

        A row whose event date has passed is `skipped` instead (the bot was down across it); a row due
        long ago is marked late, so the message can say so.
        """
        now = self.store.clock.now()
        today = now.astimezone(dt.UTC).date()
        with self.store.transaction():
            cursor = self.db.execute(
                "SELECT * FROM deliveries WHERE status = ? AND due_at <= ? ORDER BY due_at, id LIMIT ?",
                [DeliveryStatus.PENDING, _iso(now), limit],
            )
            columns = [column[0] for column in cursor.description]
            rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
            claimed: list[Delivery] = []
            stamp = _iso(now)
            for row in rows:
                delivery = Delivery.from_row(row)
                # One day of slack: an event "today" somewhere in the world is still ahead for someone.
                if delivery.event_date is not None and delivery.event_date < today - dt.timedelta(days=1):
                    self.db.execute(
                        "UPDATE deliveries SET status = ?, updated_at = ?,"
                        " last_error = 'the event passed while the bot was down' WHERE id = ?",
                        [DeliveryStatus.SKIPPED, stamp, delivery.id],
                    )
                    continue
                late = now - delivery.due_at > LATE_AFTER
                self.db.execute(
                    "UPDATE deliveries SET status = ?, late = ?, attempts = attempts + 1,"
                    " updated_at = ? WHERE id = ?",
                    [DeliveryStatus.SENDING, int(late), stamp, delivery.id],
                )
                claimed.append(
                    Delivery(
                        **{
                            **delivery.__dict__,
                            "status": DeliveryStatus.SENDING,
                            "late": late,
                            "attempts": delivery.attempts + 1,
                        }
                    )
                )
            return claimed

    def mark_sent(self, delivery_ids: Iterable[int], message_id: int | None) -> None:
        now = self._now()
        with self.store.transaction():
            for delivery_id in delivery_ids:
                self.db.execute(
                    "UPDATE deliveries SET status = ?, message_id = ?, sent_at = ?, updated_at = ?,"
                    " last_error = NULL WHERE id = ?",
                    [DeliveryStatus.SENT, message_id, now, now, delivery_id],
                )
                self._attempt(delivery_id, "sent", None, message_id, now)

    def retry_later(self, delivery_ids: Iterable[int], due_at: dt.datetime, error: str) -> None:
        """Put rows back as pending, due again at `due_at` (a 429's retry_after, or backoff after a 5xx)."""
        now = self._now()
        with self.store.transaction():
            for delivery_id in delivery_ids:
                self.db.execute(
                    "UPDATE deliveries SET status = ?, due_at = ?, last_error = ?, updated_at = ?"
                    " WHERE id = ?",
                    [DeliveryStatus.PENDING, _iso(due_at), error, now, delivery_id],
                )
                self._attempt(delivery_id, "retry", error, None, now)

    def mark_failed(self, delivery_ids: Iterable[int], error: str, attempt_status: str = "failed") -> None:
        now = self._now()
        with self.store.transaction():
            for delivery_id in delivery_ids:
                self.db.execute(
                    "UPDATE deliveries SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
                    [DeliveryStatus.FAILED, error, now, delivery_id],
                )
                self._attempt(delivery_id, attempt_status, error, None, now)

    def record_attempt(self, delivery_ids: Iterable[int], status: str, error: str | None = None) -> None:
        """Record an attempt that changes no row's status (a migration followed before the send)."""
        now = self._now()
        with self.store.transaction():
            for delivery_id in delivery_ids:
                self._attempt(delivery_id, status, error, None, now)

    def _attempt(
        self, delivery_id: int, status: str, error: str | None, message_id: int | None, now: str
    ) -> None:
        self.db.execute(
            "INSERT INTO delivery_attempts (delivery_id, at, status, error, message_id)"
            " VALUES (?, ?, ?, ?, ?)",
            [delivery_id, now, status, error, message_id],
        )

    # --- what users do with a reminder ---

    def dismiss(self, chat_id: int, key: str) -> int:
        """ "Done": no more reminders about `key` in this chat; returns how many pending ones were dropped."""
        now = self._now()
        with self.store.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO dismissed (chat_id, key, at) VALUES (?, ?, ?)", [chat_id, key, now]
            )
            cursor = self.db.execute(
                "UPDATE deliveries SET status = ?, updated_at = ? WHERE chat_id = ? AND key = ?"
                " AND status = ?",
                [DeliveryStatus.DISMISSED, now, chat_id, key, DeliveryStatus.PENDING],
            )
            return cursor.rowcount

    def snooze(self, delivery_id: int, chat_id: int, until: dt.datetime) -> bool:
        """Send a reminder again at `until`, as a new pending row of kind "snooze" (never re-planned)."""
        original = self.get(delivery_id)
        if original is None or original.chat_id != chat_id:
            return False  # a forged or stale button
        snoozed = Planned(
            chat_id=original.chat_id,
            kind="snooze",
            key=original.key,
            lead=-int(until.timestamp()),  # unique per snooze time
            due_at=until,
            event_date=original.event_date,
            payload={**original.payload, "snoozed": True},
        )
        return self.enqueue([snoozed]) == 1

    # --- reading ---

    def pending_for_chat(self, chat_id: int, limit: int = 20) -> list[Delivery]:
        cursor = self.db.execute(
            "SELECT * FROM deliveries WHERE chat_id = ? AND status = ? ORDER BY due_at, id LIMIT ?",
            [chat_id, DeliveryStatus.PENDING, limit],
        )
        columns = [column[0] for column in cursor.description]
        return [Delivery.from_row(dict(zip(columns, values, strict=True))) for values in cursor.fetchall()]

    def get(self, delivery_id: int) -> Delivery | None:
        cursor = self.db.execute("SELECT * FROM deliveries WHERE id = ?", [delivery_id])
        values = cursor.fetchone()
        if values is None:
            return None
        columns = [column[0] for column in cursor.description]
        return Delivery.from_row(dict(zip(columns, values, strict=True)))

    def counts(self) -> dict[DeliveryStatus, int]:
        """Rows by status, only the statuses that have rows."""
        rows = self.db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
        return {DeliveryStatus(status): int(count) for status, count in rows}

    def counts_by_status(self, statuses: Iterable[DeliveryStatus] = WATCHED) -> dict[DeliveryStatus, int]:
        """Rows in each of `statuses`, 0 for a status with none (operators' counts: metrics, /stats)."""
        counts = self.counts()
        return {status: counts.get(status, 0) for status in statuses}

    def late_sent_count(self) -> int:
        """Messages sent marked late (due while the bot was down)."""
        row = self.db.execute(
            "SELECT count(*) FROM deliveries WHERE status = ? AND late = 1", [DeliveryStatus.SENT]
        ).fetchone()
        return int(row[0])

    def broadcast_progress(self, key: str) -> dict[DeliveryStatus, int]:
        """The rows of one broadcast by status."""
        rows = self.db.execute(
            "SELECT status, count(*) FROM deliveries WHERE kind = 'broadcast' AND key = ? GROUP BY status",
            [key],
        ).fetchall()
        return {DeliveryStatus(status): int(count) for status, count in rows}


def _date(item: Planned) -> str | None:
    return item.event_date.isoformat() if item.event_date else None
