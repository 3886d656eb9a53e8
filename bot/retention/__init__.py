"""Retention: the daily prune that keeps the database bounded (#18, `[store] keep_days`).

Each owner package deletes its own old rows (reminders: deliveries, attempts, changes; store: the audit
log; watch: page snapshots; skus: departed chats' imports; tg: the update inbox); this package only
calls them, in small batches, and gives the freed pages back to the file system.

It imports the store, config, reminders, watch, skus and the shared base; tg and cli run it.
"""

from bot.retention.prune import Pruner, prune_all, prune_steps

__all__ = ["Pruner", "prune_all", "prune_steps"]
