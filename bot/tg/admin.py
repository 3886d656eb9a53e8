"""Operator commands: /stats, /broadcast, /reload, /audit. Operators are Telegram user ids in the config."""

from __future__ import annotations

import asyncio
import secrets

from telegram import Update
from telegram.constants import ParseMode

from bot.i18n import Html, escape, join, t
from bot.reminders import ACTIVE, DeliveryStatus, Outbox, Planned
from bot.store import ChatSettings, Store
from bot.tg.handlers import command
from bot.tg.reminders import catalog_changed, wake_dispatch
from bot.tg.send import send_html
from bot.tg.services import Context
from bot.watch import DEFAULT_STALE_DAYS, page_changes, stale_counts, stale_rules

PROGRESS_EVERY_SECONDS = 1.0


@command(operators_only=True)
async def cmd_stats(update: Update, context: Context, settings: ChatSettings) -> None:
    lang = settings.language
    svc = context.bot_data
    stats = svc.store.stats()
    reminders = Outbox(svc.store).counts_by_status([DeliveryStatus.SENT, DeliveryStatus.FAILED])
    catalog = svc.live.catalog
    text = t(
        lang,
        "tg_stats",
        chats=stats.get("chats", 0),
        active=stats.get("active_chats", 0),
        groups=stats.get("group_chats", 0),
        subscriptions=stats.get("subscriptions", 0),
        sent=reminders[DeliveryStatus.SENT],
        failed=reminders[DeliveryStatus.FAILED],
        rules=len(catalog.rules),
    )
    # The rules to review first (issue #21): pages changed after the review, and reviews overdue.
    changed, overdue = stale_counts(stale_rules(catalog, page_changes(svc.store), svc.clock.today()))
    text = Html(text + t(lang, "tg_stats_stale", changed=changed, overdue=overdue, days=DEFAULT_STALE_DAYS))
    assert update.effective_chat is not None
    await send_html(context.bot, svc.store, update.effective_chat.id, text)


@command(operators_only=True)
async def cmd_reload(update: Update, context: Context, settings: ChatSettings) -> None:
    """Re-read policies/; a broken file keeps the last good catalog, and the operator gets every problem."""
    lang = settings.language
    svc = context.bot_data
    problems = svc.live.reload()
    user = update.effective_user
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    if problems:
        svc.store.audit(user.id if user else None, chat_id, "reload-failed", f"{len(problems)} problem(s)")
        lines = [t(lang, "tg_reload_failed", count=len(problems), rules=len(svc.live.catalog.rules))]
        lines += [escape(f"• {problem}") for problem in problems]
        await send_html(context.bot, svc.store, chat_id, join(lines))
        return
    svc.store.audit(user.id if user else None, chat_id, "reload", f"{len(svc.live.catalog.rules)} rules")
    # An edited policy file is how an operator announces a change: alert subscribers, re-plan reminders.
    changes = catalog_changed(context.application)
    wake_dispatch(context.application)
    text = t(lang, "tg_reload_ok", rules=len(svc.live.catalog.rules), changes=changes)
    await send_html(context.bot, svc.store, chat_id, text)


@command(operators_only=True)
async def cmd_broadcast(update: Update, context: Context, settings: ChatSettings) -> None:
    lang = settings.language
    svc = context.bot_data
    message = update.effective_message
    assert message is not None and message.text is not None and update.effective_chat is not None
    body = message.text.partition(" ")[2].strip()
    if not body:
        await send_html(context.bot, svc.store, update.effective_chat.id, t(lang, "tg_broadcast_usage"))
        return
    user = update.effective_user
    svc.store.audit(user.id if user else None, update.effective_chat.id, "broadcast", body[:200])
    # Through the outbox, like reminders: paced with everything else, and a crash or restart resumes it.
    # Keyed by the update: handled again after a crash (bot/tg/inbox.py), it queues nothing twice.
    key = queue_broadcast(svc.store, body, key=f"broadcast:{message.date:%Y%m%dT%H%M%S}:{update.update_id}")
    wake_dispatch(context.application)
    context.application.create_task(
        _follow_broadcast(context, update.effective_chat.id, lang, key), update=update
    )


def queue_broadcast(store: Store, body: str, *, key: str | None = None) -> str:
    """One outbox row per active chat, all due now; returns the broadcast's key (a chat already given a
    row of that key gets no second one)."""
    now = store.clock.now()
    key = key or f"broadcast:{now:%Y%m%dT%H%M%S}:{secrets.token_hex(3)}"
    Outbox(store).enqueue(
        Planned(chat.chat_id, "broadcast", key, 0, now, None, {"text": body})
        for chat in store.chats(active_only=True)
    )
    return key


def broadcast_progress(store: Store, key: str) -> dict[DeliveryStatus, int]:
    return Outbox(store).broadcast_progress(key)


async def _follow_broadcast(context: Context, admin_chat: int, lang: str, key: str) -> None:
    """Live progress for the operator, read from the outbox until no row of the broadcast is left to send."""
    svc = context.bot_data
    counts = broadcast_progress(svc.store, key)
    total = sum(counts.values())
    progress = await context.bot.send_message(
        admin_chat, t(lang, "tg_broadcast_progress", done=0, total=total), parse_mode=ParseMode.HTML
    )
    shown = 0
    while True:
        await asyncio.sleep(PROGRESS_EVERY_SECONDS)
        counts = broadcast_progress(svc.store, key)
        if not any(counts.get(status, 0) for status in ACTIVE):
            break
        done = total - sum(counts.get(status, 0) for status in ACTIVE)
        if done != shown:
            shown = done
            await progress.edit_text(
                t(lang, "tg_broadcast_progress", done=done, total=total), parse_mode=ParseMode.HTML
            )
    sent = counts.get(DeliveryStatus.SENT, 0)
    await progress.edit_text(
        t(lang, "tg_broadcast_done", sent=sent, failed=total - sent, total=total), parse_mode=ParseMode.HTML
    )


@command(operators_only=True)
async def cmd_audit(update: Update, context: Context, settings: ChatSettings) -> None:
    lang = settings.language
    svc = context.bot_data
    rows = svc.store.audit_log(limit=20)
    lines = [t(lang, "tg_audit_title", count=len(rows))]
    lines += [
        t(
            lang,
            "tg_audit_line",
            at=str(row.get("at", "")),
            actor=str(row.get("actor_id", "")),
            chat=str(row.get("chat_id", "")),
            action=str(row.get("action", "")),
            detail=str(row.get("detail", ""))[:120],
        )
        for row in rows
    ]
    assert update.effective_chat is not None
    await send_html(context.bot, svc.store, update.effective_chat.id, join(lines))
