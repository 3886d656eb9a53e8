"""Putting destinations into a running dispatcher, with or without Telegram.

`attach` routes the destinations' rows of a dispatcher (the Telegram bot's, bot/tg/connect.py) to a
`ChannelSender` and queues mirror copies at each claim. `run_without_telegram` is `policybot run` with no
token: the catalog synced and its changes alerted, reminders planned daily, and the outbox dispatched to
the destinations, until `stop` is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from bot.answers import LiveCatalog
from bot.channels.destinations import is_destination, mirror_copies, unmirror
from bot.channels.sender import ChannelSender
from bot.config import ChannelsConfig
from bot.reminders import (
    Delivery,
    Destination,
    Dispatcher,
    Failed,
    Keyboard,
    Limits,
    Outbox,
    OutgoingMessage,
    SendResult,
    plan_all,
    queue_change_alerts,
    render_digest,
    sync_catalog,
)
from bot.store import ChatSettings, Store

__all__ = ["attach", "run_without_telegram", "telegram_chats_waiting"]

log = logging.getLogger(__name__)

Render = Callable[[list[Delivery], ChatSettings], tuple[str, Keyboard]]
PLAN_EVERY = dt.timedelta(days=1)


def attach(dispatcher: Dispatcher, store: Store, config: ChannelsConfig) -> ChannelSender:
    """Route the destinations' rows to a new ChannelSender and queue mirror copies; return the sender."""
    sender = ChannelSender(store, config)
    render = dispatcher.render
    dispatcher.route(is_destination, sender, lambda rows, settings: render(unmirror(rows), settings))
    dispatcher.on_claim(lambda rows: mirror_copies(store, rows))
    return sender


class _NoTelegram:
    """The dispatcher's sender for Telegram chats in a run without a token: it cannot send, so retry."""

    @property
    def limits(self) -> Limits:
        return Limits()

    async def send(self, destination: Destination, message: OutgoingMessage) -> SendResult:
        return Failed("no Telegram token in this run", transient=True)


def telegram_chats_waiting(store: Store) -> int:
    """Active Telegram chats with subscriptions: a run without a token would leave them without reminders."""
    row = store.db.execute(
        "SELECT count(DISTINCT s.chat_id) FROM subscriptions AS s JOIN chats AS c ON c.chat_id = s.chat_id"
        " WHERE c.active = 1 AND s.chat_id < ?",
        [1 << 53],
    ).fetchone()
    return int(row[0]) if row else 0


async def run_without_telegram(
    store: Store, live: LiveCatalog, config: ChannelsConfig, stop: asyncio.Event, *, concurrency: int = 16
) -> None:
    """Reminders and alerts to the destinations, until `stop` is set (then the sends in flight finish)."""
    recovered = Outbox(store).recover_in_flight()
    if recovered:
        log.info("%s deliveries were in flight when the bot stopped; they will be sent again", recovered)

    def render(rows: list[Delivery], settings: ChatSettings) -> tuple[str, Keyboard]:
        return render_digest(live.catalog, rows, settings, store.clock.now()), ()

    dispatcher = Dispatcher(_NoTelegram(), store, render, concurrency=concurrency)
    sender = attach(dispatcher, store, config)
    changes = sync_catalog(store, live.catalog)
    queued = queue_change_alerts(store, changes)
    plan_all(store, live.catalog)
    log.info("running without Telegram: %s change(s), %s alert(s) queued", len(changes), queued)
    planner = asyncio.ensure_future(_plan_daily(store, live, dispatcher, stop))
    try:
        await dispatcher.run(stop)
    finally:
        planner.cancel()
        await asyncio.gather(planner, return_exceptions=True)
        await sender.aclose()


async def _plan_daily(store: Store, live: LiveCatalog, dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=PLAN_EVERY.total_seconds())
        except TimeoutError:
            result = plan_all(store, live.catalog)
            log.info(
                "daily planning: %s added, %s moved, %s withdrawn",
                result.added,
                result.moved,
                result.withdrawn,
            )
            dispatcher.wake()
