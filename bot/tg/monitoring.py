"""The running bot's health, metrics and shared pace: wiring of bot/monitoring and the arrival window.

One `ArrivalWindow`, one `GroupWindow` and one `ChatSpacing` per bot pace everything it sends (replies through
`ReplyLimiter`, reminders and broadcasts through the dispatcher); one `Metrics` counts what happens;
one `UpdatesWatch` hears whether getUpdates succeeds; `MonitoringServer` answers /healthz and /metrics
at `[monitoring] listen`, in polling and webhook mode alike.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from bot.config import TelegramConfig
from bot.feed import feed_status
from bot.monitoring import (
    DatabaseHealth,
    HealthCheck,
    Metrics,
    MonitoringServer,
    Route,
    UpdatesWatch,
    is_database_unavailable,
    parse_listen,
)
from bot.reminders import (
    FEED_PATHS,
    ArrivalWindow,
    ChatSpacing,
    GroupWindow,
    calendar_answer,
    changes_feed_answer,
)
from bot.store import Store
from bot.tg.inbox import try_write
from bot.tg.replies import ReplyLimiter
from bot.tg.services import BotApplication, BotData, Context

__all__ = [
    "WatchedUpdatesRequest",
    "count_update",
    "global_rate",
    "health_checks",
    "reply_limiter",
    "start_monitoring",
    "stop_monitoring",
]

log = logging.getLogger(__name__)

FREE_RATE = 30  # messages a second Telegram lets a bot send for free
PAID_RATE = 1000  # with allow_paid_broadcast, paid in Stars


def global_rate(config: TelegramConfig) -> int:
    return PAID_RATE if config.paid_broadcast else FREE_RATE


def reply_limiter(
    window: ArrivalWindow,
    groups: GroupWindow,
    chats: ChatSpacing,
    store: Store,
    metrics: Metrics,
    updates: UpdatesWatch,
) -> ReplyLimiter:
    """The application bot's limiter: the shared windows; replies that finally fail go to the audit log;
    every request's outcome to `updates`."""

    def failed(endpoint: str, chat_id: object, error: str) -> None:
        metrics.replies_failed.inc()
        chat = chat_id if isinstance(chat_id, int) else None
        store.audit(None, chat, "reply-failed", f"{endpoint}: {error}"[:500])

    return ReplyLimiter(
        window,
        groups=groups,
        chats=chats,
        on_sent=lambda _: metrics.replies_sent.inc(),
        on_failure=failed,
        on_attempt=updates.record,
    )


class WatchedUpdatesRequest(HTTPXRequest):
    """The connection getUpdates goes through (python-telegram-bot sends it past the rate limiter, on a
    connection of its own): every outcome is told to the `UpdatesWatch` for /healthz."""

    def __init__(self, watch: UpdatesWatch) -> None:
        super().__init__(connection_pool_size=1)  # as python-telegram-bot's own for getUpdates
        self.watch = watch

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            code, payload = await super().do_request(*args, **kwargs)
        except TelegramError as error:  # a timeout, a lost connection
            self.watch.record("getUpdates", error)
            raise
        failure = None if code == HTTPStatus.OK else TelegramError(f"HTTP {code} {_reason(code)}")
        self.watch.record("getUpdates", failure)
        return code, payload


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


async def count_update(update: Update, context: Context) -> None:
    """In a handler group of its own, before the others: counts every update, handles nothing."""
    context.bot_data.metrics.updates.inc()


def health_checks(
    application: BotApplication,
    store: Store,
    watch: UpdatesWatch,
    health: DatabaseHealth,
) -> dict[str, HealthCheck]:
    """Receiving updates (a webhook set up, or getUpdates succeeding lately), the scheduler running, the
    database answering and taking writes."""

    def updates() -> str | None:
        updater = application.updater
        if updater is None or not updater.running:
            return "not polling and not receiving webhooks"
        return watch.problem()

    def scheduler() -> str | None:
        job_queue = application.job_queue
        if job_queue is None or not job_queue.scheduler.running:
            return "the scheduler is not running (no reminders would be sent)"
        return None

    def database() -> str | None:
        store.db.execute("SELECT count(*) FROM chats").fetchone()
        # A small real write, waiting at most a moment for the lock: a lock held elsewhere or a full disk
        # shows here even when no update or reminder has tried to write yet; its success ends an outage.
        try:
            try_write(store)
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            health.failed("the health check's write", error)
        else:
            health.succeeded()
        return health.problem()

    def catalog() -> str | None:
        if application.bot_data.feed is None:
            return None
        status = feed_status(store)
        if status.expired and status.expires is not None:
            return (
                f"version {status.version} expired at {status.expires:%Y-%m-%d %H:%M}Z (no newer one pulled)"
            )
        return None

    return {"updates": updates, "scheduler": scheduler, "database": database, "catalog": catalog}


def public_routes(services: BotData, public_url: str) -> dict[str, Route]:
    """The calendar subscription URLs (/cal/<token>.ics) and the feeds of changes (/feeds/...)."""

    def calendar(path: str, query: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        return calendar_answer(services.store, services.live.catalog, path, headers, services.clock.now())

    def feeds(path: str, query: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        if path not in FEED_PATHS:
            return (
                404,
                {"Content-Type": "text/plain; charset=utf-8"},
                b"not found: try " + b", ".join(p.encode() for p in FEED_PATHS) + b"\n",
            )
        now = services.clock.now()
        return changes_feed_answer(
            services.store, services.live.catalog, path, query, headers, now, public_url
        )

    return {"/cal/": calendar, "/feeds/": feeds}


async def start_monitoring(application: BotApplication) -> None:
    """Serve /healthz and /metrics when `[monitoring] listen` is set; a busy address is logged, not fatal."""
    services = application.bot_data
    config = services.monitoring_config
    if config is None or not config.listen:
        return
    host, port = parse_listen(config.listen)
    checks = health_checks(application, services.store, services.updates, services.database)
    routes = public_routes(services, config.public_url)
    server = MonitoringServer(host, port, checks, services.metrics, routes)
    try:
        await server.start()
    except OSError as error:
        log.error("cannot serve /healthz and /metrics at %s: %s", config.listen, error)
        return
    services.monitoring_server = server


async def stop_monitoring(application: BotApplication) -> None:
    server, application.bot_data.monitoring_server = application.bot_data.monitoring_server, None
    if server is not None:
        await server.stop()
