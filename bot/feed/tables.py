"""The feed's tables: every catalog installed from the feed, the pull's state, failures by reason.

Created through the store's migration runner (owner "feed"); other packages ask bot.feed, never SQL here.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store import Migrations, register

__all__ = ["FEED_MIGRATIONS"]


def _create_feed_tables(db: Database) -> None:
    # One row per installed catalog, in install order. The current one is the last row still "installed";
    # a rollback marks it "rolled_back", so the pull knows not to reinstall that version.
    db.execute(
        """
        CREATE TABLE feed_catalogs (
            id INTEGER PRIMARY KEY,
            version INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            payload TEXT NOT NULL,       -- the payload's file name on the feed
            created TEXT NOT NULL,       -- from the signed manifest (ISO 8601 UTC)
            expires TEXT NOT NULL,
            source TEXT NOT NULL,        -- the manifest URL
            installed_at TEXT NOT NULL,
            state TEXT NOT NULL          -- installed, rolled_back
        )
        """
    )
    db.execute("CREATE INDEX feed_catalogs_version ON feed_catalogs (version)")
    # etag, last_modified, last_check, last_result, expired_alerted: one row each.
    db.execute("CREATE TABLE feed_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE feed_failures (reason TEXT PRIMARY KEY, count INTEGER NOT NULL)")


FEED_MIGRATIONS = register(Migrations("feed", (_create_feed_tables,)))
