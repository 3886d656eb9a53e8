"""The watcher's tables: the watched pages and the text of each version seen. Created and migrated
through the store's runner; other packages ask bot.watch, never SQL on these tables.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store import Migrations, register

__all__ = ["WATCH_MIGRATIONS"]


def _create_page_watch(db: Database) -> None:
    # The page watcher (bot/watch/watcher.py): one row per watched page (keyed url#selector), and the text of
    # each version of it seen. Times are ISO 8601 UTC.
    db.execute(
        """
        CREATE TABLE page_sources (
            key TEXT PRIMARY KEY,        -- url, or url#selector
            url TEXT NOT NULL,
            selector TEXT,
            platform TEXT,
            etag TEXT,                   -- validators of the last stored version, for conditional GETs
            last_modified TEXT,
            last_hash TEXT,              -- sha256 of the normalised text last stored; NULL: no baseline
            last_checked_at TEXT,
            next_check_at TEXT,
            not_before TEXT,             -- Retry-After: no request before this instant
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            failing_alerted INTEGER NOT NULL DEFAULT 0,  -- the "failing" alert of this episode was given
            last_error TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE page_snapshots (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL REFERENCES page_sources (key),
            fetched_at TEXT NOT NULL,
            hash TEXT NOT NULL,
            text TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX page_snapshots_by_key ON page_snapshots (key, id)")


def _add_last_changed_at(db: Database) -> None:
    # When a page last changed (not merely was fetched): `check --stale` compares it with a rule's review
    # date. Pages that changed before this step get the time of their newest snapshot, when they have
    # more than one (a single snapshot is the baseline, not a change).
    db.execute("ALTER TABLE page_sources ADD COLUMN last_changed_at TEXT")
    db.execute(
        """
        UPDATE page_sources SET last_changed_at = (
            SELECT max(fetched_at) FROM page_snapshots AS s WHERE s.key = page_sources.key
        ) WHERE (SELECT count(*) FROM page_snapshots AS s WHERE s.key = page_sources.key) > 1
        """
    )


# Step 1 was global migration 4 before the split. Pages are not per chat: nothing moves with a chat.
WATCH_MIGRATIONS = register(Migrations("watch", (_create_page_watch, _add_last_changed_at)))
