"""Every request of the application's bot goes through here: paced, retried, and its final failure recorded.

A reply to a command is the only sign a seller gets that the command worked; a 500 or a timeout must
not drop it. `ReplyLimiter` is python-telegram-bot's rate-limiter hook (`BaseRateLimiter`) for the
application's bot:
- messages (send*, edit*, copy*, forward*) take a slot of the bot's one `ArrivalWindow`, the same one
  the reminder dispatcher uses, so replies and reminders together stay within Telegram's limit; those
  to a group also keep to 20 a minute per group (`GroupPace`);
- a request that meets a 5xx, a timeout, a lost connection or a 429 is tried again, after the backoff
  (doubling from `first_backoff`, with jitter) or Telegram's retry_after, for at most `deadline`
  seconds in all; a 429 pauses every sender, the dispatcher included;
- one that still fails is passed to `on_failure` (which records it) and raised to the handler, whose
  error handler tells the operators; a refusal (400, 403) is raised at once, for the handler to handle.
A timeout means the request reached Telegram and its answer did not come back: Telegram may have
carried it out, so a retry after a timeout can repeat a reply. A repeated answer beats a lost one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.reminders.pacing import ArrivalWindow, Slot

__all__ = ["GroupPace", "ReplyLimiter", "is_message"]

log = logging.getLogger(__name__)

_MESSAGE_PREFIXES = ("send", "edit", "copy", "forward")
_NOT_MESSAGES = frozenset({"sendChatAction"})

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
OnFailure = Callable[[str, object, str], None]  # endpoint, chat_id, error


def is_message(endpoint: str) -> bool:
    """The calls Telegram's flood limits count: messages sent or edited (not chat actions, not reads)."""
    return endpoint.startswith(_MESSAGE_PREFIXES) and endpoint not in _NOT_MESSAGES


def _transient(error: TelegramError) -> bool:
    """Worth another try: flood control, a 5xx, a timeout or a lost connection (not a refusal)."""
    return isinstance(error, RetryAfter) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    )


class GroupPace:
    """Telegram's 20 messages a minute per group, as a sliding window of this bot's sends to each group."""

    def __init__(self, per_minute: int = 20, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sent: dict[int, deque[float]] = {}

    def delay(self, chat_id: int) -> float:
        """Seconds until one more message to `chat_id` is within the limit (0: now; private chats: 0)."""
        sent = self._sent.get(chat_id)
        if chat_id >= 0 or sent is None:
            return 0.0
        now = self._clock()
        while sent and sent[0] <= now - 60:
            sent.popleft()
        if not sent:
            del self._sent[chat_id]  # a quiet group costs no memory
            return 0.0
        return sent[0] + 60 - now if len(sent) >= self.per_minute else 0.0

    def sent(self, chat_id: int) -> None:
        if chat_id < 0:
            self._sent.setdefault(chat_id, deque()).append(self._clock())


class ReplyLimiter(BaseRateLimiter[int]):
    """Paces messages through the shared window and retries transient failures (module docstring)."""

    def __init__(
        self,
        window: ArrivalWindow,
        *,
        deadline: float = 60.0,
        first_backoff: float = 0.5,
        max_backoff: float = 10.0,
        on_sent: Callable[[str], None] | None = None,
        on_failure: OnFailure | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.window = window
        self.deadline = deadline
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.on_sent = on_sent
        self.on_failure = on_failure
        self._rng = rng or random.Random()
        self.groups = GroupPace()

    async def initialize(self) -> None:
        """Nothing to set up: the window belongs to the bot."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        message = is_message(endpoint)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            chat_id = data.get("chat_id")
            if message and isinstance(chat_id, int):
                while (hold := self.groups.delay(chat_id)) > 0:
                    await asyncio.sleep(hold)
                self.groups.sent(chat_id)
            try:
                result = await self._once(callback, args, kwargs, message)
            except TelegramError as error:
                wait = self._wait_before_retry(error, attempt)
                spent = time.monotonic() - started
                if wait is None or spent + wait > self.deadline:
                    self._failed(endpoint, data, error, attempt)
                    raise
                log.info("%s failed (%s); trying again in %.1f s", endpoint, error, wait)
                await asyncio.sleep(wait)
                continue
            if message and self.on_sent is not None:
                self.on_sent(endpoint)
            return result

    async def _once(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        message: bool,
    ) -> JSONResult:
        slot: Slot | None = await self.window.acquire() if message else None
        answered = False
        try:
            result = await callback(*args, **kwargs)
            answered = True
            return result
        except TelegramError as error:
            # An answer from Telegram (a 4xx, a 429) arrived mid-round-trip; a 5xx, a timeout or a lost
            # connection may have arrived as late as now.
            answered = not isinstance(error, NetworkError) or isinstance(error, BadRequest)
            if isinstance(error, RetryAfter):
                self.window.pause(_seconds(error.retry_after))
            raise
        finally:
            if slot is not None:
                self.window.release(slot, answered)

    def _wait_before_retry(self, error: TelegramError, attempt: int) -> float | None:
        if not _transient(error):
            return None
        if isinstance(error, RetryAfter):
            # The window is paused until then; the extra tenth keeps clear of the window's edge.
            return _seconds(error.retry_after) + 0.1
        backoff: float = min(self.max_backoff, self.first_backoff * 2.0 ** (attempt - 1))
        return backoff * self._rng.uniform(0.5, 1.0)

    def _failed(self, endpoint: str, data: dict[str, Any], error: TelegramError, attempts: int) -> None:
        if not _transient(error):
            return  # a refusal (400, 403): the handler deals with it, as with a blocked chat
        chat_id = data.get("chat_id")
        log.error("%s to chat %s failed after %s attempts: %s", endpoint, chat_id, attempts, error)
        if self.on_failure is not None:
            try:
                self.on_failure(endpoint, chat_id, f"{type(error).__name__}: {error} ({attempts} attempts)")
            except Exception:  # recording must never hide the failure itself
                log.exception("cannot record the failure of %s to chat %s", endpoint, chat_id)


def _seconds(retry_after: int | dt.timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, dt.timedelta) else float(retry_after)
