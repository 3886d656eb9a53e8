"""The Telegram adapter's tables: the update inbox. Created and migrated through the store's runner;
other packages ask `bot.tg` (`prune_inbox`), never SQL on these tables.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store import Migrations, register

__all__ = ["TG_MIGRATIONS"]


def _create_update_inbox(db: Database) -> None:
    # Every update, written before Telegram is told it arrived (bot/tg/inbox.py). The update id is
    # Telegram's, unique per bot: it is the key that makes a redelivered update count once.
    # No chat column: a group that becomes a supergroup needs nothing moved here.
    db.execute(
        """
        CREATE TABLE update_inbox (
            update_id INTEGER PRIMARY KEY,
            payload TEXT NOT NULL,        -- the update as Telegram sent it (JSON)
            received_at TEXT NOT NULL,    -- ISO 8601 UTC
            handled_at TEXT,              -- NULL: not handled yet (its reply neither queued nor sent)
            attempts INTEGER NOT NULL DEFAULT 1  -- times given to the handlers (1 + replays after a crash)
        )
        """
    )
    db.execute("CREATE INDEX update_inbox_unhandled ON update_inbox (update_id) WHERE handled_at IS NULL")
    db.execute("CREATE INDEX update_inbox_by_received ON update_inbox (received_at)")


TG_MIGRATIONS = register(Migrations("tg", (_create_update_inbox,)))
