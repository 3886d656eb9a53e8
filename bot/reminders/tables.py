"""The reminders' tables: the outbox and its attempts, dismissed reminders, countdowns, the catalog's
history and the changes between syncs. Created and migrated through the store's runner; other packages
ask the functions of this package, never SQL on these tables.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store import Migrations, register

__all__ = ["REMINDER_MIGRATIONS"]


def _create_outbox_tracks_and_catalog_history(db: Database) -> None:
    # The outbox: every message the bot must send on its own (reminders, change alerts), planned ahead.
    # (chat, kind, key, lead) is unique, so re-planning can never queue the same reminder twice.
    db.execute(
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            kind TEXT NOT NULL,          -- reminder, track, alert, page
            key TEXT NOT NULL,           -- what it is about, e.g. rule/event/2026-01-15 or change:12
            lead INTEGER NOT NULL,       -- days before the event (0 for alerts)
            due_at TEXT NOT NULL,        -- ISO 8601 UTC
            event_date TEXT,             -- the date it is about, if any (ISO)
            payload TEXT NOT NULL,       -- JSON: what the message says
            status TEXT NOT NULL,        -- pending, sending, sent, failed, skipped, withdrawn, dismissed
            late INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            message_id INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (chat_id, kind, key, lead)
        )
        """
    )
    db.execute("CREATE INDEX deliveries_due ON deliveries (status, due_at)")
    db.execute("CREATE INDEX deliveries_by_chat ON deliveries (chat_id, status, due_at)")
    db.execute(
        """
        CREATE TABLE delivery_attempts (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
            at TEXT NOT NULL,
            status TEXT NOT NULL,        -- sent, retry, failed, blocked, migrated
            error TEXT,
            message_id INTEGER
        )
        """
    )
    db.execute("CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id)")
    # "Done" on a reminder: no more reminders for that event in that chat, whatever re-planning says.
    db.execute(
        """
        CREATE TABLE dismissed (
            chat_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (chat_id, key)
        )
        """
    )
    # Personal countdowns: a deadline that runs from the seller's own date (INFORM's 10 days, ...).
    db.execute(
        """
        CREATE TABLE tracks (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            rule_id TEXT NOT NULL,
            number_id TEXT NOT NULL,     -- the rule's number that gives the days
            start_date TEXT NOT NULL,
            deadline TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (chat_id, rule_id, number_id, start_date)
        )
        """
    )
    # The catalog as last synced, each rule's versions, and the changes between syncs.
    db.execute(
        """
        CREATE TABLE catalog_rules (
            rule_id TEXT PRIMARY KEY,
            platform TEXT NOT NULL,
            digest TEXT NOT NULL,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,          -- JSON of the rule as loaded
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            withdrawn_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE catalog_rule_versions (
            rule_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            digest TEXT NOT NULL,
            data TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (rule_id, version)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE catalog_events (
            key TEXT PRIMARY KEY,        -- rule_id/event_id
            rule_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            date TEXT NOT NULL,
            data TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            source TEXT NOT NULL,        -- catalog, or page (the watcher)
            platform TEXT,
            rule_id TEXT,
            kind TEXT NOT NULL,          -- added, withdrawn, event_moved, event_added, event_removed, ...
            topic TEXT,
            marketplaces TEXT NOT NULL DEFAULT '[]',  -- JSON array
            summary_en TEXT NOT NULL,
            summary_zh TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    db.execute("CREATE INDEX changes_by_time ON changes (at)")


def _move_chat(db: Database, old_chat_id: int, new_chat_id: int) -> None:
    """The outbox, dismissed reminders and tracks follow a migrated chat (rows the new chat has win)."""
    # Rows of the old chat that the new one already has are dropped, with their attempts first
    # (delivery_attempts refers to deliveries).
    db.execute(
        "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT old.id FROM deliveries AS old"
        " JOIN deliveries AS new ON new.chat_id = ? AND new.kind = old.kind AND new.key = old.key"
        " AND new.lead = old.lead WHERE old.chat_id = ?)",
        [new_chat_id, old_chat_id],
    )
    for table in ("deliveries", "dismissed", "tracks", "calendar_links"):
        if table == "calendar_links" and table not in db.table_names():
            continue  # a move run while step 2 has not run yet (inside the migration of an old file)
        db.execute(f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?", [new_chat_id, old_chat_id])
        db.execute(f"DELETE FROM {table} WHERE chat_id = ?", [old_chat_id])


def _create_calendar_links(db: Database) -> None:
    # A chat's private calendar subscription URL (/calendar link): only the token's sha256 is kept, so a
    # copy of the database gives nobody the links; one link per chat, replaced by /calendar reset.
    db.execute(
        """
        CREATE TABLE calendar_links (
            chat_id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        )
        """
    )


# Step 1 was global migration 3 before the split (the store maps old databases onto it).
REMINDER_MIGRATIONS = register(
    Migrations(
        "reminders", (_create_outbox_tracks_and_catalog_history, _create_calendar_links), move_chat=_move_chat
    )
)
