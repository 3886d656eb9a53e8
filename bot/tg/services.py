"""What every handler needs, created once in build_application and kept in bot_data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ContextTypes

from bot.answers.core import ChatContext
from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import TelegramConfig
from bot.store import ANY, ChatSettings, Store
from bot.tg.throttle import Throttle

SERVICES_KEY = "policybot.services"


@dataclass
class Services:
    live: LiveCatalog
    store: Store
    clock: Clock
    config: TelegramConfig
    throttle: Throttle

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


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found


def chat_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> ChatSettings | None:
    """The chat's settings, created on first sight with its language from Telegram's language_code."""
    chat = update.effective_chat
    if chat is None:
        return None
    user = update.effective_user
    title = chat.title or chat.full_name or chat.username
    return services(context).store.ensure_chat(
        chat.id, chat.type, title, user.language_code if user else None
    )
