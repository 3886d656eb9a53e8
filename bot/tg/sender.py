"""`TelegramSender`: the `Sender` protocol (bot/reminders/sender.py) over python-telegram-bot's `Bot`.

Telegram's answers become results:

    a message             -> Sent(message_id)
    RetryAfter (429)      -> RetryLater(seconds): flood control is per bot
    Forbidden (403)       -> Blocked: the chat blocked the bot or removed it
    ChatMigrated (400)    -> ChatMoved(new_chat_id): the group became a supergroup
    BadRequest (400)      -> Failed(permanent): Telegram refuses this message and would again
    TimedOut, NetworkError, any other TelegramError (5xx, lost connections, odd answers)
                          -> Failed(transient)

Neutral buttons become an `InlineKeyboardMarkup` with callback data. Give it a plain `Bot` (no rate
limiter): the dispatcher paces and retries itself, and a limiter that retried 429s would hide them.
"""

from __future__ import annotations

import datetime as dt

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.reminders import (
    Blocked,
    ChatMoved,
    Destination,
    Failed,
    Keyboard,
    Limits,
    OutgoingMessage,
    RetryLater,
    SendResult,
    Sent,
    TextFormat,
)

__all__ = ["TelegramSender", "inline_keyboard", "retry_after_seconds"]

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def inline_keyboard(rows: Keyboard) -> InlineKeyboardMarkup | None:
    """Neutral button rows as Telegram's inline keyboard; None for no buttons."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button.label, callback_data=button.data) for button in row] for row in rows]
    )


def retry_after_seconds(retry_after: int | dt.timedelta) -> float:
    """A 429's retry_after in seconds (python-telegram-bot gives an int or a timedelta)."""
    return retry_after.total_seconds() if isinstance(retry_after, dt.timedelta) else float(retry_after)


class TelegramSender:
    """Sends through the Bot API and maps Telegram's errors to results (module docstring)."""

    def __init__(self, bot: Bot, *, limits: Limits | None = None, paid_broadcast: bool = False) -> None:
        """`paid_broadcast` sends with allow_paid_broadcast (Telegram charges 0.1 Star a message, and
        allows up to 1,000 a second)."""
        self.bot = bot
        self._limits = limits or Limits()
        self.paid_broadcast = paid_broadcast

    @property
    def limits(self) -> Limits:
        return self._limits

    async def send(self, destination: Destination, message: OutgoingMessage) -> SendResult:
        try:
            sent = await self.bot.send_message(
                destination,
                message.text,
                parse_mode=ParseMode.HTML if message.format is TextFormat.HTML else None,
                link_preview_options=NO_PREVIEW,
                reply_markup=inline_keyboard(message.buttons),
                allow_paid_broadcast=True if self.paid_broadcast else None,
            )
        except ChatMigrated as moved:  # before BadRequest: PTB derives it from TelegramError only
            return ChatMoved(moved.new_chat_id)
        except RetryAfter as flood:
            return RetryLater(retry_after_seconds(flood.retry_after))
        except Forbidden as error:
            return Blocked(str(error))
        except BadRequest as error:  # before NetworkError: PTB derives BadRequest from it
            return Failed(f"refused: {error}", transient=False)
        except TelegramError as error:  # 5xx, timeouts, lost connections, odd answers
            return Failed(f"{type(error).__name__}: {error}", transient=True)
        return Sent(sent.message_id)
