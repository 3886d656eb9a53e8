"""The running bot's pull of the catalog feed: on its interval (± 10 % jitter), and a newly installed
catalog goes the way of /reload: changes recorded, subscribers alerted, reminders re-planned."""

from __future__ import annotations

import datetime as dt
import html
import logging
import random

from telegram.constants import ParseMode

from bot.feed import Outcome, PullResult
from bot.tg.reminders import catalog_changed, wake_dispatch
from bot.tg.services import BotApplication, Context

__all__ = ["FEED_JOB", "apply_pull", "feed_job", "start_feed"]

log = logging.getLogger(__name__)

FEED_JOB = "catalog-feed"
JITTER = 0.1
FIRST_PULL = dt.timedelta(seconds=5)  # soon after start, not in the same instant as planning


def start_feed(application: BotApplication) -> None:
    services = application.bot_data
    job_queue = application.job_queue
    if services.feed is None or job_queue is None:
        return
    job_queue.run_once(feed_job, when=FIRST_PULL, name=FEED_JOB)


async def feed_job(context: Context) -> None:
    """One pull, then the next one scheduled (a new delay each time: bots spread over the interval)."""
    svc = context.bot_data
    try:
        if svc.feed is not None:
            result = await svc.feed.pull()
            await apply_pull(context, result)
    finally:
        seconds = svc.feed_interval.total_seconds() * random.uniform(1 - JITTER, 1 + JITTER)
        if context.job_queue is not None:
            context.job_queue.run_once(feed_job, when=seconds, name=FEED_JOB)


async def apply_pull(context: Context, result: PullResult) -> None:
    svc = context.bot_data
    if result.alert_operators:
        text = f"⚠️ policybot catalog feed: {html.escape(result.detail)}; keeping the installed catalog."
        for admin in svc.config.admins:
            try:
                await context.bot.send_message(admin, text, parse_mode=ParseMode.HTML)
            except Exception:  # telling the operator must never stop the pull job
                log.warning("could not tell operator %s about the expired catalog feed", admin)
    if svc.feed is None:
        return
    # A new install, or a `policybot catalog rollback` run while the bot runs: load what is installed.
    directory = svc.feed.directory()
    if result.outcome is Outcome.REFUSED or directory == svc.live.directory:
        return
    svc.live.directory = directory
    problems = svc.live.reload()
    if problems:  # checked before install, so only the local rules could break it now
        log.error("installed catalog version %s did not load: %s", result.version, problems[:3])
        return
    changes = catalog_changed(context.application)
    wake_dispatch(context.application)
    log.info("catalog version %s live: %s change(s)", result.version, changes)
