"""A seller's SKUs in Telegram: a document sent to the bot is imported; /skus shows or erases; /impact.

The file is downloaded (Telegram lets bots download up to 20 MB), read in memory, stored as rows in one
transaction and never written to disk. In groups only admins import or erase.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.errors import UserInputError
from bot.i18n import t
from bot.skus.chart import impact_chart_caption, impact_chart_png
from bot.skus.impact import FeeModel, impact_of
from bot.skus.personal import IMPACT_LINES, coming_lines
from bot.skus.read import MAX_FILE_BYTES, SkuFileError, read_sku_file
from bot.skus.records import SkuRecords, skus_version
from bot.skus.text import choose_change, impact_detail, impact_overview, import_summary, skus_status
from bot.tg.guard import command_chat
from bot.tg.send import send_html
from bot.tg.services import Context

log = logging.getLogger(__name__)


async def cmd_skus(update: Update, context: Context) -> None:
    """/skus: what is stored and how to send a file; /skus delete erases (admins, in groups)."""
    words = [word.casefold() for word in context.args or []]
    deleting = words in (["delete"], ["删除"])
    settings = await command_chat(update, context, admins_only=deleting)
    if settings is None:
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
        text = skus_status(records.info(settings.chat_id), lang)
    await send_html(context.bot, svc.store, settings.chat_id, text)


async def on_document(update: Update, context: Context) -> None:
    """A file sent to the bot: import it as the chat's SKUs (all or nothing), then say what was stored."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    settings = await command_chat(update, context, admins_only=True)
    if settings is None:
        return
    svc, lang, document = context.bot_data, settings.language, message.document
    name = document.file_name or "file"

    async def fail(reason_key: str, **values: object) -> None:
        reason = t(lang, reason_key, **values)
        await send_html(
            context.bot, svc.store, settings.chat_id, t(lang, "skus_import_failed", reason=reason)
        )

    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        await fail("skus_too_big", limit="20 MB")
        return
    try:
        telegram_file = await document.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as error:
        log.warning("downloading a document for chat %s failed: %s", settings.chat_id, error)
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "skus_download_failed"))
        return
    try:
        parsed = await asyncio.to_thread(read_sku_file, data, name)
    except SkuFileError as error:
        await fail(error.key, **error.values)
        return
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


async def cmd_impact(update: Update, context: Context) -> None:
    """/impact: the coming and recent changes with this chat's totals; /impact <date or rule>: the detail."""
    settings = await command_chat(update, context)
    if settings is None:
        return
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
    try:
        change = choose_change(catalog, words, ctx.today)
    except UserInputError as error:
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, error.key, **error.values))
        return
    result = await asyncio.to_thread(impact_of, FeeModel(catalog), change, rows)
    sent = await send_html(context.bot, svc.store, settings.chat_id, impact_detail(result, ctx))
    if sent is not None and result.affected:
        png = await asyncio.to_thread(impact_chart_png, result, lang)
        caption = impact_chart_caption(result, lang)
        await context.bot.send_photo(sent.chat.id, png, caption=caption, parse_mode=ParseMode.HTML)
