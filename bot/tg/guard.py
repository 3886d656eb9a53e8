"""Who may do what: group admins change a group's settings; operators run admin commands; floods are cut."""

from __future__ import annotations

import re

from telegram import CallbackQuery, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.i18n import t
from bot.store import ChatSettings
from bot.tg.send import send_html
from bot.tg.services import Context, chat_settings

ADMIN_STATUSES = {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


async def is_chat_admin(update: Update, context: Context) -> bool:
    """True in a private chat, and in a group for its admins (including an anonymous admin)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous group admin posts as the group itself
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in ADMIN_STATUSES


async def require_chat_admin(update: Update, context: Context, settings: ChatSettings) -> bool:
    """Let group admins through; tell anyone else, politely, that only admins may change this."""
    if await is_chat_admin(update, context):
        return True
    if update.callback_query is not None:
        await update.callback_query.answer(t(settings.language, "tg_admins_only_short"), show_alert=True)
    else:
        svc = context.bot_data
        await send_html(context.bot, svc.store, settings.chat_id, t(settings.language, "tg_admins_only"))
    return False


async def within_flood_limit(update: Update, context: Context, settings: ChatSettings) -> bool:
    """Count the user's message; past the limit, warn once and then stay silent until the minute passes."""
    user = update.effective_user
    if user is None:
        return True
    svc = context.bot_data
    verdict = svc.throttle.check(user.id)
    if verdict == "warn":
        limit = svc.config.messages_per_minute
        await send_html(
            context.bot, svc.store, settings.chat_id, t(settings.language, "tg_slow_down", limit=limit)
        )
    return verdict == "ok"


async def admin_button(
    update: Update, context: Context, pattern: re.Pattern[str]
) -> tuple[CallbackQuery, ChatSettings, re.Match[str]] | None:
    """A button press whose data matches `pattern`, from someone allowed to change the chat; else None.

    The data comes from the user's client and is checked, never trusted; an unknown press is still answered
    so the client stops its spinner.
    """
    query = update.callback_query
    assert query is not None
    settings = chat_settings(update, context)
    match = pattern.match(query.data or "")
    if settings is None or match is None:
        await query.answer()
        return None
    if not await require_chat_admin(update, context, settings):
        return None
    return query, settings, match


async def command_chat(update: Update, context: Context, *, admins_only: bool = False) -> ChatSettings | None:
    """The chat a command came from, once it passed flood control (and, if asked, the admin check)."""
    settings = chat_settings(update, context)
    if settings is None or not await within_flood_limit(update, context, settings):
        return None
    if admins_only and not await require_chat_admin(update, context, settings):
        return None
    return settings


async def operator_chat(update: Update, context: Context) -> ChatSettings | None:
    """The chat an operator's command came from; None after telling a stranger it is for operators."""
    settings = chat_settings(update, context)
    if settings is None:
        return None
    if not is_operator(update, context):
        lang = settings.language
        await send_html(context.bot, context.bot_data.store, settings.chat_id, t(lang, "tg_operators_only"))
        return None
    return settings


def is_operator(update: Update, context: Context) -> bool:
    user = update.effective_user
    return context.bot_data.is_operator(user.id if user else None)
