"""A seller's SKUs in Telegram: a document sent to the bot is imported; /skus shows or erases; /impact.

The file is downloaded (up to `[skus] max_bytes`, 10 MB by default; Telegram allows 20 MB), read in
memory within the upload limits (bot/skus/limits.py), stored as rows in one transaction and never written
to disk. In groups only admins import or erase.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.i18n import t
from bot.skus import (
    IMPACT_LINES,
    FeeModel,
    SkuRecords,
    chart_currencies,
    check_size,
    choose_change,
    coming_lines,
    impact_chart_caption,
    impact_chart_png,
    impact_detail,
    impact_of,
    impact_overview,
    import_summary,
    read_sku_file,
    skus_status,
    skus_version,
)
from bot.store import ChatSettings
from bot.tg.guard import is_chat_admin
from bot.tg.handlers import command
from bot.tg.send import send_html
from bot.tg.services import Context

log = logging.getLogger(__name__)


@command()
async def cmd_skus(update: Update, context: Context, settings: ChatSettings) -> None:
    """/skus: what is stored and how to send a file; /skus delete erases (admins, in groups)."""
    words = [word.casefold() for word in context.args or []]
    deleting = words in (["delete"], ["删除"])
    if deleting and not await _skus_admin(update, context, settings):
        return
    svc, lang = context.bot_data, settings.language
    records = SkuRecords(svc.store)
    if deleting:
        count = records.delete(settings.chat_id)
        user = update.effective_user
        svc.store.audit(user.id if user else None, settings.chat_id, "skus_delete", str(count))
        text = t(lang, "skus_deleted", count=count) if count else t(lang, "skus_nothing_to_delete")
    elif words:
        text = t(lang, "skus_usage")
    else:
        text = skus_status(records.info(settings.chat_id), lang, settings.time_zone)
    await send_html(context.bot, svc.store, settings.chat_id, text)


async def _skus_admin(update: Update, context: Context, settings: ChatSettings) -> bool:
    """In a group only admins import or erase SKUs; anyone else is told so, about SKUs (#17)."""
    if await is_chat_admin(update, context):
        return True
    await send_html(
        context.bot, context.bot_data.store, settings.chat_id, t(settings.language, "skus_admins_only")
    )
    return False


@command()
async def on_document(update: Update, context: Context, settings: ChatSettings) -> None:
    """A file sent to the bot: import it as the chat's SKUs (all or nothing), then say what was stored."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    if not await _skus_admin(update, context, settings):
        return
    svc, lang, document = context.bot_data, settings.language, message.document
    name = document.file_name or "file"
    if document.file_size is not None:
        check_size(document.file_size, svc.upload_limits)  # refused before downloading
    try:
        telegram_file = await document.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as error:
        log.warning("downloading a document for chat %s failed: %s", settings.chat_id, error)
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "skus_download_failed"))
        return
    parsed = await asyncio.to_thread(
        read_sku_file, data, name, svc.upload_limits
    )  # a SkuFileError is replied to
    del data  # the file itself is not kept
    SkuRecords(svc.store).replace(
        settings.chat_id, parsed, name, message.from_user.id if message.from_user else None
    )
    version = skus_version(svc.store, settings.chat_id)
    user = update.effective_user
    svc.store.audit(
        user.id if user else None, settings.chat_id, "skus_import", f"{len(parsed.rows)} from {name}"
    )
    catalog = svc.live.catalog
    model = FeeModel(catalog)
    await send_html(context.bot, svc.store, settings.chat_id, import_summary(parsed, name, model, lang))
    # The impact lines of the coming changes, off the event loop, so the next reminders only read them.
    lines = await asyncio.to_thread(coming_lines, catalog, parsed.rows, lang, svc.today(settings))
    IMPACT_LINES.put(svc.store, catalog, settings.chat_id, version, lines)


@command()
async def cmd_impact(update: Update, context: Context, settings: ChatSettings) -> None:
    """/impact: the coming and recent changes with this chat's totals; /impact <date or rule>: the detail."""
    svc, lang = context.bot_data, settings.language
    ctx = svc.chat_context(settings)
    rows = SkuRecords(svc.store).rows(settings.chat_id)
    if not rows:
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "impact_no_skus"))
        return
    catalog = svc.live.catalog
    words = context.args or []
    if not words:
        text = await asyncio.to_thread(impact_overview, catalog, rows, ctx)
        await send_html(context.bot, svc.store, settings.chat_id, text)
        return
    change = choose_change(catalog, words, ctx.today)
    result = await asyncio.to_thread(impact_of, FeeModel(catalog), change, rows)
    sent = await send_html(context.bot, svc.store, settings.chat_id, impact_detail(result, ctx))
    if sent is None:
        return
    for currency in chart_currencies(result):  # one chart per currency: an axis never mixes them
        png = await asyncio.to_thread(impact_chart_png, result, lang, currency)
        caption = impact_chart_caption(result, lang, currency)
        await context.bot.send_photo(sent.chat.id, png, caption=caption, parse_mode=ParseMode.HTML)
