"""Channels: destinations beside Telegram (Feishu/Lark, DingTalk, WeCom, e-mail, a signed JSON webhook),
each a `Sender` delivered by the same outbox and dispatcher as Telegram (#20).

It imports reminders, answers, the catalog, the store, the config and the shared base; never tg or cli.

Other packages import only the names in `__all__`, from the package itself (tests/test_layout.py).
"""

# Importing the package registers its tables with the store.
from bot.channels import tables as tables
from bot.channels.destinations import (
    DESTINATION_BASE,
    Destination,
    DestinationError,
    add_destination,
    destination_by_chat,
    destination_by_name,
    destinations,
    is_destination,
    mirror_copies,
    remove_destination,
    set_enabled,
    unmirror,
)
from bot.channels.kinds import DEFAULT_HOSTS, AllowedHosts, Kind, NotAllowed, allowed_hosts, kind_of
from bot.channels.sender import ChannelSender, interpret
from bot.channels.signing import dingtalk_sign, feishu_sign, webhook_signature
from bot.channels.wiring import attach, run_without_telegram, telegram_chats_waiting

__all__ = [
    "DEFAULT_HOSTS",
    "DESTINATION_BASE",
    "AllowedHosts",
    "ChannelSender",
    "Destination",
    "DestinationError",
    "Kind",
    "NotAllowed",
    "add_destination",
    "allowed_hosts",
    "attach",
    "destination_by_chat",
    "destination_by_name",
    "destinations",
    "dingtalk_sign",
    "feishu_sign",
    "interpret",
    "is_destination",
    "kind_of",
    "mirror_copies",
    "remove_destination",
    "run_without_telegram",
    "set_enabled",
    "telegram_chats_waiting",
    "unmirror",
    "webhook_signature",
]
