"""The `Sender` protocol: how reminders, alerts and broadcasts leave the bot, on any channel.

The dispatcher (bot/reminders/dispatcher.py) knows only this protocol. Telegram is one implementation
(`bot/tg/sender.py`, `TelegramSender`); webhooks (Feishu, DingTalk, WeCom) and e-mail (#20) will be
others, each with its own address format and its own `limits`.

A message is text in one of two formats plus rows of neutral buttons (`bot.answers.reply.Button`: a label
and the data that comes back when pressed):
- `TextFormat.HTML`: Telegram's HTML subset (`<b> <i> <u> <s> <a href> <code> <pre> <blockquote>`), every
  other `<`, `>` and `&` escaped; what `bot.i18n.t` and `escape` build (the `Html` type). A channel without
  HTML shows `bot.telegram_text.visible_text` of it.
- `TextFormat.PLAIN`: shown as it is, nothing to escape.
A channel that has no buttons (e-mail) leaves them out or turns them into commands to type; their data
fits Telegram's 64 bytes (`Button` checks).

`send` answers with one `SendResult` and raises nothing for what the channel says; an exception out of
`send` is a bug on our side, and the dispatcher retries the rows as after a transient failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.answers import Button

__all__ = [
    "Blocked",
    "ChatMoved",
    "Destination",
    "Failed",
    "Keyboard",
    "Limits",
    "OutgoingMessage",
    "RetryLater",
    "SendResult",
    "Sender",
    "Sent",
    "TextFormat",
]

# A Telegram chat id (the store's key of a chat; Telegram also takes "@channelname"), or, for the
# channels of #20, that channel's address: a webhook URL, an e-mail address.
Destination = int | str
Keyboard = tuple[tuple[Button, ...], ...]  # rows of buttons; () for none


class TextFormat(StrEnum):
    """How a message's text is to be read (module docstring)."""

    PLAIN = "plain"
    HTML = "html"


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one destination: its text, how to read it, and the buttons under it."""

    text: str
    format: TextFormat = TextFormat.HTML
    buttons: Keyboard = ()


@dataclass(frozen=True)
class Sent:
    """Delivered; `message_id` is the channel's id for it (None where the channel gives none)."""

    message_id: int | None


@dataclass(frozen=True)
class RetryLater:
    """Flood control: the channel takes nothing from this bot for `seconds` (Telegram's 429)."""

    seconds: float


@dataclass(frozen=True)
class Blocked:
    """The destination refuses the bot for good (blocked it, removed it, unsubscribed): deactivate it."""

    reason: str


@dataclass(frozen=True)
class ChatMoved:
    """The chat lives at a new id now (a Telegram group became a supergroup): follow it and send there."""

    new_chat_id: int


@dataclass(frozen=True)
class Failed:
    """Not delivered. `transient`: a 5xx, a timeout, a lost connection; worth another try later, and the
    message may have arrived all the same (as late as now). Otherwise permanent: the channel refuses this
    message and would refuse it again."""

    reason: str
    transient: bool


SendResult = Sent | RetryLater | Blocked | ChatMoved | Failed


@dataclass(frozen=True)
class Limits:
    """A channel's rate limits, and the fraction of them the dispatcher uses (defaults: Telegram's)."""

    global_per_second: float = 30
    per_chat_per_second: float = 1
    per_group_per_minute: float = 20
    # Telegram counts in windows we cannot see; a little headroom keeps jitter from crossing a limit.
    headroom: float = 0.97

    def __post_init__(self) -> None:
        for name in ("global_per_second", "per_chat_per_second", "per_group_per_minute"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if not 0 < self.headroom <= 1:
            raise ValueError("headroom is a fraction of the limits, above 0 and at most 1")


class Sender(Protocol):
    """Sends one message to one destination and says what became of it."""

    @property
    def limits(self) -> Limits:
        """This channel's rate limits (the dispatcher's default pace)."""
        ...

    async def send(self, destination: Destination, message: OutgoingMessage) -> SendResult:
        """Send `message`; every answer of the channel is a result, never an exception."""
        ...
