"""/connect, /connections, /disconnect: a Telegram chat's reminders and alerts also go to its team's
Feishu/Lark, DingTalk or WeCom group (or an e-mail address), and the channels' start and stop (#20).

`/connect URL [secret]` (group admins; anyone in a private chat): the kind comes from the URL's host
(bot/channels/kinds.py refuses any other host), a test message is sent, and only if it arrives is the
destination kept, as a mirror of this chat (bot/channels/destinations.py). Replies and the audit name
the destination and its kind, never its URL or secret.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.channels import (
    Destination,
    Kind,
    add_destination,
    allowed_hosts,
    attach,
    destination_by_name,
    destinations,
    kind_of,
    remove_destination,
)
from bot.i18n import Html, join, t
from bot.reminders import OutgoingMessage, Sent
from bot.store import ChatSettings
from bot.tg.handlers import command
from bot.tg.send import send_html
from bot.tg.services import BotApplication, Context

__all__ = ["cmd_connect", "cmd_connections", "cmd_disconnect", "start_channels", "stop_channels"]

log = logging.getLogger(__name__)


async def start_channels(application: BotApplication) -> None:
    """After start_reminders: the dispatcher also sends to destinations, and mirrors get their copies."""
    svc = application.bot_data
    assert svc.dispatcher is not None, "start_reminders creates the dispatcher first"
    svc.channels = attach(svc.dispatcher, svc.store, svc.channels_config)


async def stop_channels(application: BotApplication) -> None:
    sender, application.bot_data.channels = application.bot_data.channels, None
    if sender is not None:
        await sender.aclose()


def _free_name(context: Context, kind: Kind, chat_id: int) -> str:
    base = f"{kind.value}-{abs(chat_id)}"
    store = context.bot_data.store
    number = 1
    name = base
    while destination_by_name(store, name) is not None:
        number += 1
        name = f"{base}-{number}"
    return name


@command(admins_only=True)
async def cmd_connect(update: Update, context: Context, settings: ChatSettings) -> None:
    svc = context.bot_data
    lang = settings.language
    args = context.args or []
    if not 1 <= len(args) <= 2 or svc.channels is None:
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "channels_connect_usage"))
        return
    url, secret = args[0], (args[1] if len(args) == 2 else None)
    await _hide_the_key(update)
    kind = kind_of(url, allowed_hosts(svc.channels_config))  # NotAllowed: the reply says why
    name = _free_name(context, kind, settings.chat_id)
    candidate = Destination(0, 0, name, kind, url, secret, settings.chat_id, None, True, 0, None, "")
    test = t(lang, "channels_test_message", chat=settings.title or str(settings.chat_id))
    result = await svc.channels.send_to(candidate, OutgoingMessage(test))
    if not isinstance(result, Sent):
        reason = getattr(result, "reason", type(result).__name__)
        await send_html(
            context.bot, svc.store, settings.chat_id, t(lang, "channels_connect_failed", reason=reason)
        )
        return
    user = update.effective_user
    add_destination(
        svc.store,
        name,
        url,
        kind,
        secret=secret,
        mirror_of=settings.chat_id,
        owner_id=user.id if user else None,
        language=lang,
        time_zone=settings.time_zone,
    )
    svc.store.audit(user.id if user else None, settings.chat_id, "connect", f"{name} ({kind.value})")
    await send_html(
        context.bot, svc.store, settings.chat_id, t(lang, "channels_connected", name=name, kind=kind.value)
    )


async def _hide_the_key(update: Update) -> None:
    """The /connect message holds the webhook key and the secret: delete it where the bot may."""
    message = update.effective_message
    if message is None:
        return
    try:
        await message.delete()
    except TelegramError:  # not an admin of the group with the right to delete: the message stays
        log.info("could not delete a /connect message in chat %s", message.chat_id)


@command()
async def cmd_connections(update: Update, context: Context, settings: ChatSettings) -> None:
    svc = context.bot_data
    lang = settings.language
    mirrors = destinations(svc.store, mirror_of=settings.chat_id)
    if not mirrors:
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "channels_connections_none"))
        return
    lines: list[Html] = [t(lang, "channels_connections_title")]
    for found in mirrors:
        state = (
            Html("") if found.enabled else t(lang, "channels_state_disabled", reason=found.disabled_reason)
        )
        line = t(
            lang, "channels_connection_line", name=found.name, kind=found.kind.value, url=found.shown_url
        )
        lines.append(Html(line + state))
    await send_html(context.bot, svc.store, settings.chat_id, join(lines))


@command(admins_only=True)
async def cmd_disconnect(update: Update, context: Context, settings: ChatSettings) -> None:
    svc = context.bot_data
    lang = settings.language
    args = context.args or []
    found = destination_by_name(svc.store, args[0]) if len(args) == 1 else None
    if found is None or found.mirror_of != settings.chat_id:  # only this chat's own destinations
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "channels_disconnect_usage"))
        return
    remove_destination(svc.store, found.name)
    user = update.effective_user
    svc.store.audit(
        user.id if user else None, settings.chat_id, "disconnect", f"{found.name} ({found.kind.value})"
    )
    await send_html(
        context.bot, svc.store, settings.chat_id, t(lang, "channels_disconnected", name=found.name)
    )
