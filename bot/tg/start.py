"""/start's first steps as buttons: subscribe (the subscription menu), ask a fee, send SKUs (#17)."""

from __future__ import annotations

from telegram import Update

from bot.tg.chat import on_answer_button
from bot.tg.services import Context
from bot.tg.subscribe import cmd_subscribe


async def on_start_button(update: Update, context: Context) -> None:
    """ "start:sub" opens the subscription menu, as /subscribe does (admins only in groups); the other
    steps are answered by the core, as any next-step button."""
    query = update.callback_query
    if query is None:
        return
    if query.data == "start:sub":
        await query.answer()
        await cmd_subscribe(update, context)
        return
    await on_answer_button(update, context)
