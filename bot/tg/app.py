"""Wiring: the python-telegram-bot Application, its handlers in the order they match, and running it."""

from __future__ import annotations

import html
import logging
import os
import traceback

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.answers import LiveCatalog
from bot.clock import Clock
from bot.config import KeepDays, MonitoringConfig, TelegramConfig, WatchConfig
from bot.i18n import LANGUAGES, t
from bot.monitoring import Metrics, UpdatesWatch
from bot.reminders import ArrivalWindow, ChatSpacing, GroupWindow, Outbox, catalog_version
from bot.skus import DEFAULT_LIMITS, UploadLimits
from bot.store import Store
from bot.tg.admin import cmd_audit, cmd_broadcast, cmd_reload, cmd_stats
from bot.tg.chat import answer_message, on_answer_button
from bot.tg.monitoring import (
    WatchedUpdatesRequest,
    count_update,
    global_rate,
    reply_limiter,
    start_monitoring,
    stop_monitoring,
)
from bot.tg.ordering import ChatOrderedUpdates
from bot.tg.redact import redact
from bot.tg.reminders import (
    cmd_calendar,
    cmd_changes,
    cmd_track,
    cmd_tracks,
    cmd_untrack,
    cmd_upcoming,
    on_reminder_button,
    start_reminders,
    stop_reminders,
)
from bot.tg.retention import start_retention
from bot.tg.services import BotApplication, BotData, Context
from bot.tg.settings import cmd_settings, on_settings_button
from bot.tg.skus import cmd_impact, cmd_skus, on_document
from bot.tg.subscribe import (
    cmd_mysubs,
    cmd_subscribe,
    cmd_unsubscribe,
    on_subscribe_button,
    on_unsubscribe_button,
)
from bot.tg.throttle import Throttle
from bot.tg.watching import on_watch_button, start_watching, stop_watching

log = logging.getLogger(__name__)

# The command menu, in the order users see it; each has a "menu_<name>" message in both languages.
MENU = [
    "help", "fees", "rules", "rule", "upcoming", "history", "changes", "search", "subscribe", "unsubscribe",
    "mysubs", "settings", "track", "tracks", "calendar", "coupon", "lowinv", "inform", "temuprice", "fba",
    "skus", "impact", "lang",
]  # fmt: skip


def menu_commands(lang: str) -> list[BotCommand]:
    return [BotCommand(name, str(t(lang, f"menu_{name}"))) for name in MENU]


async def on_migrate(update: Update, context: Context) -> None:
    """A group became a supergroup: its settings and subscriptions follow it to the new chat id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    context.bot_data.store.migrate_chat(message.chat.id, message.migrate_to_chat_id)
    context.application.migrate_chat_data(message=message)
    log.info("chat %s migrated to %s", message.chat.id, message.migrate_to_chat_id)


async def on_stale_button(update: Update, context: Context) -> None:
    """Every callback query is answered, even one whose data we do not know (an old or forged button)."""
    if update.callback_query is not None:
        await update.callback_query.answer()


async def on_error(update: object, context: Context) -> None:
    """Log the failure and tell the operators; a user never sees a traceback."""
    error = context.error
    log.error("error while handling an update", exc_info=error)
    if error is None:
        return
    svc = context.bot_data
    summary = redact(
        "".join(traceback.format_exception_only(type(error), error)).strip(), [context.bot.token]
    )
    for admin in svc.config.admins:
        try:
            await context.bot.send_message(
                admin,
                f"⚠️ policybot error: <code>{html.escape(summary[:3000])}</code>",
                parse_mode=ParseMode.HTML,
            )
        except Exception:  # telling the operator must never raise from the error handler itself
            log.warning("could not report the error to operator %s", admin)


async def post_init(application: BotApplication) -> None:
    """Set the command menu in both languages, then start reminders (sync, plan, dispatch jobs)."""
    bot = application.bot
    await bot.set_my_commands(menu_commands("en"), scope=BotCommandScopeDefault())
    for lang in LANGUAGES:
        await bot.set_my_commands(menu_commands(lang), scope=BotCommandScopeDefault(), language_code=lang)
    await start_reminders(application)
    watch = application.bot_data.watch_config
    if watch is not None:
        start_watching(application, watch)
    await start_monitoring(application)
    start_retention(application)


async def post_shutdown(application: BotApplication) -> None:
    await stop_monitoring(application)
    await stop_watching(application)
    await stop_reminders(application)
    application.bot_data.store.close()


def build_application(
    config: TelegramConfig,
    token: str,
    live: LiveCatalog,
    store: Store,
    clock: Clock,
    watch: WatchConfig | None = None,
    monitoring: MonitoringConfig | None = None,
    keep_days: KeepDays | None = None,
    upload_limits: UploadLimits = DEFAULT_LIMITS,
) -> BotApplication:
    if store.clock is not clock:
        raise ValueError("the store and the bot must share one clock (POLICYBOT_NOW moves both)")
    # Opt in to python-telegram-bot's coming behaviour (durations such as retry_after as timedelta) now,
    # instead of a deprecation warning at every 429.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    # One pace for everything the bot sends: replies here, reminders and broadcasts in the dispatcher.
    window = ArrivalWindow(global_rate(config))
    groups = GroupWindow()  # Telegram's 20 a minute per group, for replies and the dispatcher together
    chats = ChatSpacing()  # a reminder keeps a second away from a reply to the same chat
    updates = UpdatesWatch(monitoring.updates_stale_after if monitoring else 60.0)
    metrics = Metrics(
        reminders=lambda: Outbox(store).counts_by_status().items(),
        late_reminders=lambda: Outbox(store).late_sent_count(),
        catalog_version=lambda: catalog_version(store),
        catalog_rules=lambda: len(live.catalog.rules),
        too_many_requests=lambda: window.floods,
    )
    application = (
        ApplicationBuilder()
        .context_types(ContextTypes(bot_data=BotData))  # context.bot_data: the typed services below
        .token(token)
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        # Telegram's overall limit, shared with the dispatcher; 5xx, timeouts and 429s retried.
        .rate_limiter(reply_limiter(window, groups, chats, store, metrics, updates))
        .get_updates_request(WatchedUpdatesRequest(updates))  # /healthz knows whether polling works
        # Many chats at once (one slow answer holds up nobody else), each chat's updates in order.
        .concurrent_updates(ChatOrderedUpdates())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    services = application.bot_data
    services.live, services.store, services.clock, services.config = live, store, clock, config
    services.throttle = Throttle(config.messages_per_minute)
    services.window, services.groups, services.chats = window, groups, chats
    services.updates, services.metrics = updates, metrics
    live.on_bug = metrics.answer_errors.inc  # a bug in the answers core is counted, not only logged
    # The page watcher starts with the bot when enabled (None: not at all, as in most tests).
    services.watch_config = watch if watch is not None and watch.enabled else None
    services.monitoring_config = monitoring  # None: no /healthz server (most tests)
    services.keep_days, services.upload_limits = keep_days, upload_limits  # None: no daily prune
    application.add_handler(TypeHandler(Update, count_update), group=-1)
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    for name, callback in [
        ("subscribe", cmd_subscribe),
        ("unsubscribe", cmd_unsubscribe),
        ("mysubs", cmd_mysubs),
        ("settings", cmd_settings),
        ("stats", cmd_stats),
        ("broadcast", cmd_broadcast),
        ("reload", cmd_reload),
        ("audit", cmd_audit),
        ("track", cmd_track),
        ("tracks", cmd_tracks),
        ("untrack", cmd_untrack),
        ("changes", cmd_changes),
        ("calendar", cmd_calendar),
        ("upcoming", cmd_upcoming),
        ("skus", cmd_skus),
        ("impact", cmd_impact),
    ]:
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(on_subscribe_button, pattern=r"^sub:"))
    application.add_handler(CallbackQueryHandler(on_unsubscribe_button, pattern=r"^unsub:"))
    application.add_handler(CallbackQueryHandler(on_settings_button, pattern=r"^set:"))
    application.add_handler(CallbackQueryHandler(on_reminder_button, pattern=r"^rem:"))
    application.add_handler(CallbackQueryHandler(on_watch_button, pattern=r"^watch:"))
    application.add_handler(CallbackQueryHandler(on_answer_button, pattern=r"^ask:"))
    application.add_handler(CallbackQueryHandler(on_stale_button))
    # A file sent to the bot is a seller's SKU list (Fee Preview report, CSV, .xlsx).
    application.add_handler(MessageHandler(filters.Document.ALL & ~filters.UpdateType.EDITED, on_document))
    # Everything else that is text, commands of the answers core included, goes to the core.
    application.add_handler(MessageHandler(filters.TEXT & ~filters.UpdateType.EDITED, answer_message))
    application.add_error_handler(on_error)
    return application
