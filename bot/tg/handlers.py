"""The one path from a user's bad input to a reply: every Telegram handler is wrapped here.

`@command()` gives a command its opening (the chat's settings, flood control and, if asked, the admin
check) and `@replies_to_input_errors` (which `@command` includes) turns a `UserInputError` raised
anywhere below the handler into the reply in the chat's language: the error's message under a
command or a message, the "menu expired" alert under a button (button data comes from our own
buttons, so bad data is an old or forged one). Any other exception goes on to the application's
error handler (bot/tg/app.py's on_error), which logs it and tells the operators.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from bot.errors import UserInputError
from bot.i18n import t
from bot.store import ChatSettings
from bot.tg.guard import command_chat, operator_chat
from bot.tg.send import send_html
from bot.tg.services import Context, chat_settings

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
ChatHandler = Callable[[Update, Context, ChatSettings], Coroutine[Any, Any, None]]


async def reply_to_input_error(update: Update, context: Context, error: UserInputError) -> None:
    """Tell the user, in the chat's language, why their input cannot be answered."""
    settings = chat_settings(update, context)
    lang = settings.language if settings is not None else "en"
    query = update.callback_query
    if query is not None:
        await query.answer(t(lang, "tg_menu_expired"), show_alert=True)
    elif settings is not None:
        await send_html(context.bot, context.bot_data.store, settings.chat_id, error.message(lang))


def replies_to_input_errors(handler: Handler) -> Handler:
    """Wrap a handler so a UserInputError becomes the reply in the user's language."""

    @functools.wraps(handler)
    async def wrapped(update: Update, context: Context) -> None:
        try:
            await handler(update, context)
        except UserInputError as error:
            await reply_to_input_error(update, context, error)

    return wrapped


def command(*, admins_only: bool = False, operators_only: bool = False) -> Callable[[ChatHandler], Handler]:
    """A command handler that receives the chat's settings once the chat passed flood control (and, with
    `admins_only`, the group admin check); with `operators_only`, once the user is one of the bot's
    operators (no flood control: they are trusted). Its UserInputErrors are replied to."""

    def decorate(handler: ChatHandler) -> Handler:
        @replies_to_input_errors
        @functools.wraps(handler)
        async def opened(update: Update, context: Context) -> None:
            if operators_only:
                settings = await operator_chat(update, context)
            else:
                settings = await command_chat(update, context, admins_only=admins_only)
            if settings is not None:
                await handler(update, context, settings)

        return opened

    return decorate
