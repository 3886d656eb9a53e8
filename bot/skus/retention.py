"""Retention of SKU imports (#18): a chat's SKUs are its own and stay while it uses the bot.

An import replaces the chat's earlier SKUs, so the tables do not grow with time, only with chats. What
is pruned is the SKUs and import record of a chat that has left (blocked the bot, was deleted, or is
unknown to the store) and has not imported for `keep_days.imports` days.
"""

from __future__ import annotations

import datetime as dt

from bot.store import Store

__all__ = ["prune_imports"]


def prune_imports(store: Store, before: dt.datetime, batch: int = 100) -> int:
    """Erase the SKUs of up to `batch` departed chats whose last import was before `before`; return how
    many chats' SKUs were erased."""
    cutoff = before.astimezone(dt.UTC).isoformat(timespec="seconds")
    pruned = 0
    after = None
    while pruned < batch:
        # Walk the old imports in chat order, a page at a time, asking the store whether each chat left.
        rows = store.db.execute(
            "SELECT chat_id FROM seller_sku_imports WHERE imported_at < ?"
            + (" AND chat_id > ?" if after is not None else "")
            + " ORDER BY chat_id LIMIT ?",
            [cutoff, *([after] if after is not None else []), batch],
        ).fetchall()
        if not rows:
            break
        after = rows[-1][0]
        departed = [chat_id for (chat_id,) in rows if not _active(store, chat_id)][: batch - pruned]
        if departed:
            marks = ", ".join("?" * len(departed))
            with store.transaction():
                store.db.execute(f"DELETE FROM seller_skus WHERE chat_id IN ({marks})", departed)
                store.db.execute(f"DELETE FROM seller_sku_imports WHERE chat_id IN ({marks})", departed)
            pruned += len(departed)
    return pruned


def _active(store: Store, chat_id: int) -> bool:
    settings = store.chat(chat_id)
    return settings is not None and settings.active
