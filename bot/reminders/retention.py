"""Retention of the reminders' tables (#18): what was delivered, each try at it, and recorded changes.

Each function deletes at most `batch` rows in one short transaction and returns how many it deleted,
so the daily prune can call it again until it returns 0 while the dispatcher keeps sending in between.
"""

from __future__ import annotations

import datetime as dt

from bot.reminders.outbox import DeliveryStatus
from bot.store import Store

__all__ = ["FINAL_STATES", "prune_attempts", "prune_changes", "prune_deliveries"]

# States a delivery never leaves (a withdrawn reminder can be revived by a re-plan, but only while its
# event is ahead, and these functions only delete rows whose event has passed).
FINAL_STATES = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.SKIPPED,
    DeliveryStatus.WITHDRAWN,
    DeliveryStatus.DISMISSED,
)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def prune_deliveries(store: Store, before: dt.datetime, batch: int = 500) -> int:
    """Delete up to `batch` deliveries in a final state, last touched before `before`, with their attempts.

    A reminder's row is deleted only once its event date has passed `before` as well: while the event is
    ahead, the planner would see the row missing and plan the reminder again.
    """
    cutoff = _iso(before)
    states = [str(state) for state in FINAL_STATES]
    with store.transaction():
        ids = [
            row[0]
            for row in store.db.execute(
                f"SELECT id FROM deliveries WHERE status IN ({', '.join('?' * len(states))})"
                " AND updated_at < ? AND (event_date IS NULL OR event_date < ?) ORDER BY id LIMIT ?",
                [*states, cutoff, before.date().isoformat(), batch],
            )
        ]
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        store.db.execute(f"DELETE FROM delivery_attempts WHERE delivery_id IN ({marks})", ids)
        return store.db.execute(f"DELETE FROM deliveries WHERE id IN ({marks})", ids).rowcount


def prune_attempts(store: Store, before: dt.datetime, batch: int = 500) -> int:
    """Delete up to `batch` delivery attempts made before `before` (the delivery's row keeps its outcome)."""
    with store.transaction():
        return store.db.execute(
            "DELETE FROM delivery_attempts WHERE id IN "
            "(SELECT id FROM delivery_attempts WHERE at < ? ORDER BY id LIMIT ?)",
            [_iso(before), batch],
        ).rowcount


def prune_changes(store: Store, before: dt.datetime, batch: int = 500) -> int:
    """Delete up to `batch` recorded changes made before `before` whose alerts are no longer pending.

    An alert in the outbox names its change (`change:<id>`); a change is kept while one is pending.
    """
    with store.transaction():
        # The pending rows are few (the plan's window) and found through the (status, due_at) index.
        pending = {
            row[0]
            for row in store.db.execute(
                "SELECT key FROM deliveries WHERE status IN (?, ?) AND key LIKE 'change:%'",
                [DeliveryStatus.PENDING, DeliveryStatus.SENDING],
            )
        }
        ids = [
            row[0]
            for row in store.db.execute(
                "SELECT id FROM changes WHERE at < ? ORDER BY id LIMIT ?",
                [_iso(before), batch + len(pending)],
            )
            if f"change:{row[0]}" not in pending
        ][:batch]
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        return store.db.execute(f"DELETE FROM changes WHERE id IN ({marks})", ids).rowcount
