"""The daily prune, as steps: each step is one short transaction, so whoever runs it can let others
(the dispatcher sending reminders, the handlers) write between steps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping

from bot.config import KeepDays
from bot.reminders import prune_attempts, prune_changes, prune_deliveries
from bot.skus import prune_imports
from bot.store import Store, incremental_vacuum
from bot.watch import prune_snapshots

__all__ = ["Pruner", "prune_all", "prune_steps"]

# An owner's prune function: delete up to `batch` rows older than the instant; return how many.
Pruner = Callable[[Store, dt.datetime, int], int]

# Pages given back to the file system per step (4 KB each: 4 MB a step).
VACUUM_PAGES = 1000


def _audit(store: Store, before: dt.datetime, batch: int) -> int:
    return store.prune_audit(before, batch)


# Kind of row (a key of `[store] keep_days`) -> its owner's prune function.
PRUNERS: dict[str, Pruner] = {
    "attempts": prune_attempts,  # before deliveries: most attempts go by age, not with their delivery
    "deliveries": prune_deliveries,
    "audit": _audit,
    "changes": prune_changes,
    "snapshots": prune_snapshots,
    "imports": prune_imports,
}


def prune_steps(
    store: Store,
    keep: KeepDays,
    now: dt.datetime,
    *,
    batch: int = 500,
    extra: Mapping[str, Pruner] | None = None,
) -> Iterator[tuple[str, int]]:
    """Prune every kind of row older than its keep_days, one batch per step; yield (kind, rows deleted)
    after each step, then ("pages", pages given back) after each incremental vacuum step.

    `extra` adds pruners owned above this package (tg's update inbox, keyed "inbox").
    """
    for kind, prune in {**PRUNERS, **(extra or {})}.items():
        before = now - dt.timedelta(days=getattr(keep, kind))
        while True:
            deleted = prune(store, before, batch)
            yield kind, deleted
            if deleted < batch:
                break
    while True:
        free = incremental_vacuum(store.db, VACUUM_PAGES)
        yield "pages", min(free, VACUUM_PAGES)
        if free <= VACUUM_PAGES:
            break


def prune_all(
    store: Store,
    keep: KeepDays,
    now: dt.datetime,
    *,
    batch: int = 500,
    extra: Mapping[str, Pruner] | None = None,
) -> dict[str, int]:
    """Run every step at once (the CLI, the benchmark); return the rows deleted per kind and pages freed."""
    totals: dict[str, int] = {}
    for kind, count in prune_steps(store, keep, now, batch=batch, extra=extra):
        totals[kind] = totals.get(kind, 0) + count
    return totals
