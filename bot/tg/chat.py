"""Questions and the answers core's commands, in private chats and groups."""

from __future__ import annotations

import asyncio
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, ParseMode

from bot.answers import Reply, fee_chart_caption, fee_chart_png
from bot.store import ChatSettings
from bot.tg.guard import require_chat_admin, within_flood_limit
from bot.tg.handlers import replies_to_input_errors
from bot.tg.send import send_html
from bot.tg.services import Context, chat_settings

_ADDRESSED_COMMAND = re.compile(r"^/[A-Za-z0-9_]+@(\w+)")


def _meant_for_us(message: Message, text: str, username: str) -> str | None:
    """The text to answer, or None when a group message is not for this bot."""
    command = _ADDRESSED_COMMAND.match(text)
    if command:
        return text if command.group(1).casefold() == username.casefold() else None
    if text.startswith("/") or message.chat.type == ChatType.PRIVATE:
        return text
    # In groups, answer plain text only when it mentions or replies to the bot (privacy mode delivers those).
    mention = f"@{username}"
    if mention.casefold() in text.casefold():
        return re.sub(re.escape(mention), "", text, flags=re.IGNORECASE).strip()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.username == username:
        return text
    return None


@replies_to_input_errors
async def answer_message(update: Update, context: Context) -> None:
    """Any text: a core command (/fees, /rule, ...) or a question; the reply comes in the chat's language."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = _meant_for_us(message, message.text, context.bot.username)
    settings = chat_settings(update, context)
    if text is None or settings is None or not await within_flood_limit(update, context, settings):
        return
    svc = context.bot_data
    reply = svc.live.answers.reply(text, svc.chat_context(settings))
    if reply.language is not None:
        if not await require_chat_admin(update, context, settings):
            return
        settings = svc.store.update_settings(settings.chat_id, language=reply.language)
        user = update.effective_user
        svc.store.audit(user.id if user else None, settings.chat_id, "language", reply.language)
    await send_reply(context, settings, reply)


@replies_to_input_errors
async def on_answer_button(update: Update, context: Context) -> None:
    """A next-step button under a free-text answer (ask:...): its answer comes as a new message."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    settings = chat_settings(update, context)
    if settings is None or query.data is None:
        return
    if not await within_flood_limit(update, context, settings):
        return
    svc = context.bot_data
    await send_reply(context, settings, svc.live.answers.press(query.data, svc.chat_context(settings)))


def reply_markup(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's next steps as one row of inline buttons (callback data within Telegram's 64 bytes)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button.label, callback_data=button.data) for button in reply.buttons]]
    )


async def send_reply(context: Context, settings: ChatSettings, reply: Reply) -> None:
    svc = context.bot_data
    sent = await send_html(context.bot, svc.store, settings.chat_id, reply.html, reply_markup(reply))
    if reply.chart is not None and sent is not None:
        today, lang, chart = svc.today(settings), settings.language, reply.chart
        # Drawing takes a moment of CPU: keep the event loop free for other chats meanwhile.
        png = await asyncio.to_thread(fee_chart_png, chart.schedule, lang, today=today, title=chart.title)
        caption = fee_chart_caption(chart.schedule, lang, today=today, title=chart.title)
        await context.bot.send_photo(sent.chat.id, png, caption=caption, parse_mode=ParseMode.HTML)
