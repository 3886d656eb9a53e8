"""What every handler and job needs: one typed object, `context.bot_data`, filled once in build_application.

python-telegram-bot creates the bot_data object itself, without arguments (`ContextTypes(bot_data=...)`),
so `BotData()` starts empty and `build_application` sets the services right after building the
application, before any handler or job can run. Handlers are typed with `Context`, so
`context.bot_data.store` is a `Store` to mypy, with no string keys and no unwrapping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from telegram import Bot, Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.answers import ChatContext, LiveCatalog
from bot.channels import ChannelSender
from bot.clock import Clock
from bot.config import ChannelsConfig, KeepDays, MonitoringConfig, TelegramConfig, WatchConfig
from bot.feed import Feed
from bot.monitoring import DatabaseHealth, Metrics, MonitoringServer, UpdatesWatch
from bot.reminders import ArrivalWindow, ChatSpacing, Dispatcher, GroupWindow
from bot.skus import DEFAULT_LIMITS, UploadLimits
from bot.store import ANY, ChatSettings, Store
from bot.tg.inbox import Inbox, InboxQueue
from bot.tg.throttle import Throttle
from bot.watch import Watcher


class BotData:
    """The running bot's services (set by build_application) and what start-up creates later."""

    # Set by build_application before the bot starts; never None while a handler or job runs.
    live: LiveCatalog
    store: Store
    clock: Clock
    config: TelegramConfig
    throttle: Throttle
    # One pace for everything the bot sends (replies, reminders, broadcasts): see bot/tg/monitoring.py.
    window: ArrivalWindow
    groups: GroupWindow
    chats: ChatSpacing
    updates: UpdatesWatch
    metrics: Metrics
    # Every update is written here before Telegram is told it arrived (bot/tg/inbox.py).
    inbox: Inbox
    inbox_queue: InboxQueue
    database: DatabaseHealth  # whether the database takes writes (a full disk, a lock held elsewhere)

    def __init__(self) -> None:
        self.watch_config: WatchConfig | None = None  # None: the page watcher is off (most tests)
        self.monitoring_config: MonitoringConfig | None = None  # None: no /healthz server (most tests)
        self.feed: Feed | None = None  # None: no [catalog] feed, the catalog shipped with the package
        self.feed_interval = dt.timedelta(hours=6)
        self.keep_days: KeepDays | None = None  # None: no daily prune (most tests); [store] keep_days
        self.upload_limits: UploadLimits = DEFAULT_LIMITS  # [skus]: what a SKU file may be
        # Created at start (post_init) and closed at shutdown:
        self.watcher: Watcher | None = None
        self.dispatcher: Dispatcher | None = None
        self.dispatch_bot: Bot | None = None
        self.monitoring_server: MonitoringServer | None = None
        # Destinations beside Telegram (#20, bot/tg/connect.py): settings, and the sender once started.
        self.channels_config = ChannelsConfig()
        self.channels: ChannelSender | None = None
        # One dispatch pass at a time (bot/tg/reminders.py's dispatch_job): between passes, a row still
        # 'sending' is one a failed write left behind.
        self.dispatch_lock = asyncio.Lock()
        self.orphans_checked_at = float("-inf")  # time.monotonic() of the last look for such rows

    def today(self, settings: ChatSettings) -> dt.date:
        return self.clock.today(ZoneInfo(settings.time_zone))

    def chat_context(self, settings: ChatSettings) -> ChatContext:
        zone = ZoneInfo(settings.time_zone)
        return ChatContext(settings.language, zone, self.clock.today(zone), self.subscribed_markets(settings))

    def subscribed_markets(self, settings: ChatSettings) -> tuple[str, ...]:
        """The chat's subscribed marketplace codes, without "*" (all), each once, sorted."""
        subscriptions = self.store.subscriptions(settings.chat_id)
        return tuple(sorted({s.marketplace for s in subscriptions if s.marketplace != ANY}))

    def is_operator(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.config.admins


# The context every handler and job receives, with BotData as bot_data.
Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
# The application: only its bot_data is pinned, since python-telegram-bot types `context.application`
# with a free context type.
BotApplication: TypeAlias = Application[Any, Any, Any, Any, BotData, Any]


def chat_settings(update: Update, context: Context) -> ChatSettings | None:
    """The chat's settings, created on first sight with its language from Telegram's language_code."""
    chat = update.effective_chat
    if chat is None:
        return None
    user = update.effective_user
    title = chat.title or chat.full_name or chat.username
    return context.bot_data.store.ensure_chat(chat.id, chat.type, title, user.language_code if user else None)
