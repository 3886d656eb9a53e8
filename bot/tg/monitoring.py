"""The running bot's health, metrics and shared pace: wiring of bot/monitoring and the arrival window.

One `ArrivalWindow` per bot paces everything it sends (replies through `ReplyLimiter`, reminders and
broadcasts through the dispatcher); one `Metrics` counts what happens; `MonitoringServer` answers
/healthz and /metrics at `[monitoring] listen`, in polling and webhook mode alike.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.config import MonitoringConfig, TelegramConfig
from bot.monitoring.metrics import Metrics
from bot.monitoring.server import HealthCheck, MonitoringServer, parse_listen
from bot.reminders.pacing import ArrivalWindow
from bot.store import Store
from bot.tg.replies import ReplyLimiter

__all__ = [
    "METRICS_KEY",
    "MONITORING_CONFIG_KEY",
    "MONITORING_KEY",
    "WINDOW_KEY",
    "count_update",
    "global_rate",
    "health_checks",
    "reply_limiter",
    "start_monitoring",
    "stop_monitoring",
]

log = logging.getLogger(__name__)

WINDOW_KEY = "policybot.window"
METRICS_KEY = "policybot.metrics"
MONITORING_KEY = "policybot.monitoring"
MONITORING_CONFIG_KEY = "policybot.monitoring_config"
FREE_RATE = 30  # messages a second Telegram lets a bot send for free
PAID_RATE = 1000  # with allow_paid_broadcast, paid in Stars


def global_rate(config: TelegramConfig) -> int:
    return PAID_RATE if config.paid_broadcast else FREE_RATE


def reply_limiter(window: ArrivalWindow, store: Store, metrics: Metrics) -> ReplyLimiter:
    """The application bot's limiter: the shared window; replies that finally fail go to the audit log."""

    def failed(endpoint: str, chat_id: object, error: str) -> None:
        metrics.replies_failed.inc()
        chat = chat_id if isinstance(chat_id, int) else None
        store.audit(None, chat, "reply-failed", f"{endpoint}: {error}"[:500])

    return ReplyLimiter(window, on_sent=lambda _: metrics.replies_sent.inc(), on_failure=failed)


async def count_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a handler group of its own, before the others: counts every update, handles nothing."""
    metrics = context.bot_data.get(METRICS_KEY)
    if isinstance(metrics, Metrics):
        metrics.updates.inc()


def health_checks(application: Application, store: Store) -> dict[str, HealthCheck]:  # type: ignore[type-arg]
    """Receiving updates (polling or webhook), the scheduler running, the database answering."""

    def updates() -> str | None:
        updater = application.updater
        if updater is None or not updater.running:
            return "not polling and not receiving webhooks"
        return None

    def scheduler() -> str | None:
        job_queue = application.job_queue
        if job_queue is None or not job_queue.scheduler.running:
            return "the scheduler is not running (no reminders would be sent)"
        return None

    def database() -> str | None:
        store.db.execute("SELECT count(*) FROM chats").fetchone()
        return None

    return {"updates": updates, "scheduler": scheduler, "database": database}


async def start_monitoring(application: Application) -> None:  # type: ignore[type-arg]
    """Serve /healthz and /metrics when `[monitoring] listen` is set; a busy address is logged, not fatal."""
    config = application.bot_data.get(MONITORING_CONFIG_KEY)
    metrics = application.bot_data.get(METRICS_KEY)
    if not isinstance(config, MonitoringConfig) or not config.listen or not isinstance(metrics, Metrics):
        return
    host, port = parse_listen(config.listen)
    store = application.bot_data["policybot.services"].store
    server = MonitoringServer(host, port, health_checks(application, store), metrics)
    try:
        await server.start()
    except OSError as error:
        log.error("cannot serve /healthz and /metrics at %s: %s", config.listen, error)
        return
    application.bot_data[MONITORING_KEY] = server


async def stop_monitoring(application: Application) -> None:  # type: ignore[type-arg]
    server = application.bot_data.pop(MONITORING_KEY, None)
    if isinstance(server, MonitoringServer):
        await server.stop()
