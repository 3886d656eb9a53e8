"""The daily prune in the running bot (#18): old rows deleted in small batches, on the event loop.

The store's one SQLite connection belongs to the event loop's thread, so the prune runs there too, one
short transaction per step, yielding to the loop after each: the dispatcher and the handlers write
between steps, and a step holds the write lock for milliseconds, never a whole prune.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from bot.retention import Pruner, prune_steps
from bot.tg.inbox import prune_inbox
from bot.tg.services import BotApplication, Context

log = logging.getLogger(__name__)

RETENTION_JOB = "retention"
# The first prune soon after start (a bot restarted daily still prunes), then once a day.
FIRST_PRUNE = dt.timedelta(minutes=10)

# Pruners owned by tg itself: the update inbox (`[store] keep_days.inbox`); prune_inbox deletes in its own
# small transactions, so the batch size is not needed.
TG_PRUNERS: dict[str, Pruner] = {"inbox": lambda store, before, _batch: prune_inbox(store, before)}


def start_retention(application: BotApplication) -> None:
    job_queue = application.job_queue
    if job_queue is None or application.bot_data.keep_days is None:
        return
    job_queue.run_repeating(
        retention_job, interval=dt.timedelta(days=1), first=FIRST_PRUNE, name=RETENTION_JOB
    )


async def retention_job(context: Context) -> None:
    """Delete what `[store] keep_days` no longer keeps, then give the freed pages back."""
    svc = context.bot_data
    if svc.keep_days is None:
        return
    totals: dict[str, int] = {}
    for kind, count in prune_steps(svc.store, svc.keep_days, svc.clock.now(), extra=TG_PRUNERS):
        totals[kind] = totals.get(kind, 0) + count
        await asyncio.sleep(0)  # let sends and replies take the write lock between batches
    log.info("daily prune: %s", ", ".join(f"{kind} {count}" for kind, count in totals.items()))
