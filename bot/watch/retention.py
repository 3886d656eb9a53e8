"""Retention of page snapshots (#18): old versions of a page's text go; its latest always stays.

The watcher already keeps at most `watch.keep_snapshots` versions per page; this bounds them in time as
well, in short batches, so a page that changes often does not keep ten versions for years.
"""

from __future__ import annotations

import datetime as dt

from bot.store import Store

__all__ = ["prune_snapshots"]


def prune_snapshots(store: Store, before: dt.datetime, batch: int = 500) -> int:
    """Delete up to `batch` snapshots fetched before `before` that are not their page's latest."""
    cutoff = before.astimezone(dt.UTC).isoformat(timespec="seconds")
    with store.transaction():
        return store.db.execute(
            "DELETE FROM page_snapshots WHERE id IN (SELECT s.id FROM page_snapshots AS s"
            " WHERE s.fetched_at < ? AND s.id < (SELECT max(id) FROM page_snapshots WHERE key = s.key)"
            " ORDER BY s.id LIMIT ?)",
            [cutoff, batch],
        ).rowcount
