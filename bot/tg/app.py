"""Wiring: the python-telegram-bot Application, its handlers in the order they match, and running it."""

from __future__ import annotations

import datetime as dt
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
from bot.config import ChannelsConfig, KeepDays, MonitoringConfig, TelegramConfig, WatchConfig
from bot.feed import feed_status
from bot.i18n import LANGUAGES, t
from bot.monitoring import DatabaseHealth, Metrics, UpdatesWatch, is_database_unavailable
from bot.reminders import ArrivalWindow, ChatSpacing, GroupWindow, Outbox, catalog_version
from bot.skus import DEFAULT_LIMITS, UploadLimits
from bot.store import Store
from bot.tg.admin import cmd_audit, cmd_broadcast, cmd_reload, cmd_stats, on_broadcast_button
from bot.tg.chat import answer_message, on_answer_button
from bot.tg.connect import cmd_connect, cmd_connections, cmd_disconnect, start_channels, stop_channels
from bot.tg.feed import start_feed
from bot.tg.inbox import Inbox, InboxQueue, prune_inbox
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
from bot.tg.send import send_html
from bot.tg.services import BotApplication, BotData, Context
from bot.tg.settings import cmd_settings, on_settings_button
from bot.tg.skus import cmd_impact, cmd_skus, on_document
from bot.tg.start import on_start_button
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

# Inbox rows are kept this long by default: Telegram sends an unacknowledged update again for 24 hours,
# and a row is what makes it count once. (Retention settings may prune sooner through prune_inbox.)
INBOX_KEEP = dt.timedelta(days=7)
PRUNE_INBOX_JOB = "prune-inbox"

# The command menu, in the order users see it; each has a "menu_<name>" message in both languages.
MENU = [
    "help", "fees", "compare", "rules", "rule", "upcoming", "history", "changes", "search", "subscribe",
    "unsubscribe", "mysubs", "settings", "track", "tracks", "calendar", "coupon", "lowinv", "inform",
    "temuprice", "fba", "skus", "impact", "lang",
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
    if error is not None and is_database_unavailable(error):
        await on_database_unavailable(update, context, error)
        return
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


async def on_database_unavailable(update: object, context: Context, error: Exception) -> None:
    """A handler's write met a full disk or a locked database: /healthz and the log say so (once per
    outage, not a traceback per update), and the user hears that it did not work, to try again later."""
    svc = context.bot_data
    svc.database.failed("a command's write", error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    settings = svc.store.chat(update.effective_chat.id)  # reads still work
    lang = settings.language if settings is not None else "en"
    try:
        await send_html(context.bot, svc.store, update.effective_chat.id, t(lang, "tg_database_unavailable"))
    except Exception:  # the error handler itself must never raise
        log.warning("could not tell chat %s that its command was not saved", update.effective_chat.id)


async def prune_inbox_job(context: Context) -> None:
    svc = context.bot_data
    pruned = prune_inbox(svc.store, svc.clock.now() - INBOX_KEEP)
    if pruned:
        log.info("pruned %s handled updates from the inbox", pruned)


async def post_init(application: BotApplication) -> None:
    """Set the command menu in both languages, then start reminders (sync, plan, dispatch jobs)."""
    bot = application.bot
    await bot.set_my_commands(menu_commands("en"), scope=BotCommandScopeDefault())
    for lang in LANGUAGES:
        await bot.set_my_commands(menu_commands(lang), scope=BotCommandScopeDefault(), language_code=lang)
    await start_reminders(application)
    await start_channels(application)  # destinations beside Telegram (#20)
    watch = application.bot_data.watch_config
    if watch is not None:
        start_watching(application, watch)
    await start_monitoring(application)
    start_feed(application)
    # Last, so that every service is up: what the last run received and did not handle goes first.
    services = application.bot_data
    services.inbox_queue.replay(application.bot)
    if services.keep_days is None:  # no retention configured (tests, embedded use): still prune the inbox
        job_queue = application.job_queue
        assert job_queue is not None
        job_queue.run_repeating(prune_inbox_job, interval=dt.timedelta(days=1), first=0, name=PRUNE_INBOX_JOB)
    start_retention(application)


async def post_shutdown(application: BotApplication) -> None:
    await stop_monitoring(application)
    await stop_watching(application)
    await stop_reminders(application)
    await stop_channels(application)
    application.bot_data.store.close()


def build_application(
    config: TelegramConfig,
    token: str,
    live: LiveCatalog,
    store: Store,
    clock: Clock,
    watch: WatchConfig | None = None,
    monitoring: MonitoringConfig | None = None,
    channels: ChannelsConfig | None = None,
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
    database = DatabaseHealth()
    inbox = Inbox(store, database)
    inbox_queue = InboxQueue(inbox)
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
        # Each update is in SQLite before Telegram is told it arrived, and marked once handled.
        .update_queue(inbox_queue)
        # Many chats at once (one slow answer holds up nobody else), each chat's updates in order.
        .concurrent_updates(ChatOrderedUpdates(on_handled=inbox.handled))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    services = application.bot_data
    services.live, services.store, services.clock, services.config = live, store, clock, config
    services.throttle = Throttle(config.messages_per_minute)
    services.window, services.groups, services.chats = window, groups, chats
    services.updates, services.metrics = updates, metrics
    metrics.catalog_feed = lambda: feed_status(store) if services.feed is not None else None
    services.inbox, services.inbox_queue, services.database = inbox, inbox_queue, database
    live.on_bug = metrics.answer_errors.inc  # a bug in the answers core is counted, not only logged
    # The page watcher starts with the bot when enabled (None: not at all, as in most tests).
    services.watch_config = watch if watch is not None and watch.enabled else None
    services.monitoring_config = monitoring  # None: no /healthz server (most tests)
    if channels is not None:
        services.channels_config = channels
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
        ("connect", cmd_connect),
        ("connections", cmd_connections),
        ("disconnect", cmd_disconnect),
    ]:
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(on_subscribe_button, pattern=r"^sub:"))
    application.add_handler(CallbackQueryHandler(on_unsubscribe_button, pattern=r"^unsub:"))
    application.add_handler(CallbackQueryHandler(on_settings_button, pattern=r"^set:"))
    application.add_handler(CallbackQueryHandler(on_reminder_button, pattern=r"^rem:"))
    application.add_handler(CallbackQueryHandler(on_watch_button, pattern=r"^watch:"))
    application.add_handler(CallbackQueryHandler(on_answer_button, pattern=r"^ask:"))
    application.add_handler(CallbackQueryHandler(on_start_button, pattern=r"^start:"))
    application.add_handler(CallbackQueryHandler(on_broadcast_button, pattern=r"^bc:"))
    application.add_handler(CallbackQueryHandler(on_stale_button))
    # A file sent to the bot is a seller's SKU list (Fee Preview report, CSV, .xlsx).
    application.add_handler(MessageHandler(filters.Document.ALL & ~filters.UpdateType.EDITED, on_document))
    # Everything else that is text, commands of the answers core included, goes to the core.
    application.add_handler(MessageHandler(filters.TEXT & ~filters.UpdateType.EDITED, answer_message))
    application.add_error_handler(on_error)
    return application
