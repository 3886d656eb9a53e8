"""Operator commands: /stats, /broadcast, /reload, /audit. Operators are Telegram user ids in the config."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.i18n import Html, escape, join, t
from bot.reminders import ACTIVE, DeliveryStatus, Outbox, Planned
from bot.store import ChatSettings, Store
from bot.tg.guard import is_operator
from bot.tg.handlers import command
from bot.tg.reminders import catalog_changed, wake_dispatch
from bot.tg.send import send_html
from bot.tg.services import Context, chat_settings
from bot.watch import DEFAULT_STALE_DAYS, page_changes, stale_counts, stale_rules
from bot.zones import local_time

PROGRESS_EVERY_SECONDS = 1.0
AUDIT_DETAIL_LIMIT = 120
DRAFT_KEY = "broadcast_draft"
BROADCAST_BUTTON = re.compile(r"^bc:(?P<action>send|cancel):(?P<token>[0-9a-f]{8})$")


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
    rules = len(svc.live.catalog.rules)
    # With no change nobody was alerted: say so, not "0 changes, alerted to subscribers" (#17).
    text = (
        t(lang, "tg_reload_ok", rules=rules, changes=changes)
        if changes
        else t(lang, "seller_reload_none", rules=rules)
    )
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
    # A preview, as every chat will read it, and how many chats: sent on Confirm only (#17).
    assert context.chat_data is not None
    token = secrets.token_hex(4)
    context.chat_data[DRAFT_KEY] = (token, body)  # one draft per operator chat: a new one replaces it
    chats = len(svc.store.chats(active_only=True))
    preview = join([t(lang, "seller_broadcast_preview", chats=chats), Html(""), escape(body)])
    send = InlineKeyboardButton(
        str(t(lang, "seller_broadcast_send", chats=chats)), callback_data=f"bc:send:{token}"
    )
    cancel = InlineKeyboardButton(str(t(lang, "seller_broadcast_cancel")), callback_data=f"bc:cancel:{token}")
    keyboard = InlineKeyboardMarkup([[send, cancel]])
    await send_html(context.bot, svc.store, update.effective_chat.id, preview, keyboard)


async def on_broadcast_button(update: Update, context: Context) -> None:
    """Confirm sends the previewed draft, once; Cancel drops it. Either way its buttons go."""
    query = update.callback_query
    if query is None:
        return
    match = BROADCAST_BUTTON.match(query.data or "")
    settings = chat_settings(update, context)
    if match is None or settings is None or not is_operator(update, context):
        await query.answer()
        return
    lang, svc = settings.language, context.bot_data
    assert context.chat_data is not None
    draft = context.chat_data.get(DRAFT_KEY)
    if draft is None or draft[0] != match["token"]:  # already sent, cancelled or replaced
        await query.answer(t(lang, "tg_menu_expired"), show_alert=True)
        await query.edit_message_reply_markup(reply_markup=None)
        return
    del context.chat_data[DRAFT_KEY]
    await query.answer()
    if match["action"] == "cancel":
        await query.edit_message_text(t(lang, "seller_broadcast_cancelled"), parse_mode=ParseMode.HTML)
        return
    body = draft[1]
    await query.edit_message_reply_markup(reply_markup=None)
    user = update.effective_user
    svc.store.audit(user.id if user else None, settings.chat_id, "broadcast", body[:200])
    # Through the outbox, like reminders: paced with everything else, and a crash or restart resumes it.
    # Keyed by the previewed draft: the press handled again after a crash (bot/tg/inbox.py) queues nothing
    # twice.
    key = queue_broadcast(svc.store, body, key=f"broadcast:{svc.clock.now():%Y%m%d}:{match['token']}")
    wake_dispatch(context.application)
    context.application.create_task(_follow_broadcast(context, settings.chat_id, lang, key), update=update)


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
    lines += [audit_line(row, settings.time_zone, lang) for row in rows]
    assert update.effective_chat is not None
    await send_html(context.bot, svc.store, update.effective_chat.id, join(lines))


# Reprs older entries hold: Subscription(platform='amazon', marketplace='US', topic='*'), {'key': 'v'}.
_SUBSCRIPTION_REPR = re.compile(r"Subscription\(platform='([^']*)', marketplace='([^']*)', topic='([^']*)'\)")
_DICT_ITEM = re.compile(r"'(\w+)': '?([^',}]*)'?")


def readable_detail(detail: str, limit: int = AUDIT_DETAIL_LIMIT) -> str:
    """An audit detail on one line: reprs as words, whitespace collapsed, cut at a word with "…"."""
    text = _SUBSCRIPTION_REPR.sub(lambda m: "/".join(m.groups()), detail)
    if text.startswith("{") and text.endswith("}"):
        text = " ".join(f"{key}={value}" for key, value in _DICT_ITEM.findall(text))
    text = " ".join(text.replace("[", "").replace("]", "").split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return (cut or text[:limit]).rstrip(",;:") + "…"


def audit_line(row: dict[str, object], zone: str, lang: str) -> Html:
    """One audit entry as one readable line, its time in the operator's zone."""
    at = row.get("at")
    try:
        when = local_time(dt.datetime.fromisoformat(str(at)), zone, lang)
    except ValueError:
        when = str(at)
    actor = row.get("actor_id")
    return t(
        lang,
        "seller_audit_line",
        at=when,
        actor=t(lang, "seller_audit_user", user=actor) if actor is not None else t(lang, "seller_audit_bot"),
        chat=str(row.get("chat_id", "")),
        action=str(row.get("action", "")),
        detail=readable_detail(str(row.get("detail") or "")),
    )
