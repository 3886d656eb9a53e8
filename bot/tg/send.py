"""Sending replies within Telegram's rules: HTML split at 4096, no previews, blocked and migrated chats."""

from __future__ import annotations

import logging

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.store import Store
from bot.telegram_text import split_html

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send_html(
    bot: Bot,
    store: Store,
    chat_id: int,
    html: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Send `html` in as many messages as it needs (buttons on the last); None when the chat is gone."""
    chunks = split_html(html)
    sent: Message | None = None
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        try:
            sent = await bot.send_message(
                chat_id,
                chunk,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=markup if last else None,
            )
        except ChatMigrated as migrated:
            # The group became a supergroup: move its settings and subscriptions, then send there.
            store.migrate_chat(chat_id, migrated.new_chat_id)
            return await send_html(bot, store, migrated.new_chat_id, "\n\n".join(chunks[index:]), markup)
        except Forbidden:
            log.info("chat %s blocked the bot or removed it; marking it inactive", chat_id)
            store.set_active(chat_id, False)
            return None
    return sent


async def edit_html(query: CallbackQuery, html: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit a menu in place; pressing a button that changes nothing is not an error."""
    try:
        await query.edit_message_text(html, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).casefold():
            raise


async def answer_in_place(
    query: CallbackQuery | None, bot: Bot, store: Store, chat_id: int, html: str
) -> None:
    """Replace the menu a button belonged to, or send a new message when the command was typed."""
    if query is not None:
        await edit_html(query, html)
    else:
        await send_html(bot, store, chat_id, html)
