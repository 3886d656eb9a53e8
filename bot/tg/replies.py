"""Every request of the application's bot goes through here: paced, retried, and its final failure recorded.

A reply to a command is the only sign a seller gets that the command worked; a 500 or a timeout must
not drop it. `ReplyLimiter` is python-telegram-bot's rate-limiter hook (`BaseRateLimiter`) for the
application's bot:
- messages (send*, edit*, copy*, forward*) take a slot of the bot's one `ArrivalWindow`, the same one
  the reminder dispatcher uses, so replies and reminders together stay within Telegram's limit (a reply
  goes before the reminders waiting); those to a group also keep to 20 a minute per group, in the bot's
  one `GroupWindow`, which the dispatcher shares too; and each is noted in the bot's `ChatSpacing`, so
  that the dispatcher keeps a reminder a second away from a reply to the same chat;
- a request that meets a 5xx, a timeout, a lost connection or a 429 is tried again, after the backoff
  (doubling from `first_backoff`, with jitter) or Telegram's retry_after, for at most `deadline`
  seconds in all (the dispatcher's retry policy too: bot/backoff.py); a 429 pauses every sender, the
  dispatcher included;
- one that still fails is passed to `on_failure` (which records it) and raised to the handler, whose
  error handler tells the operators; a refusal (400, 403) is raised at once, for the handler to handle;
- every attempt's outcome, of any method, goes to `on_attempt` (the health check hears setWebhook and
  deleteWebhook so; getUpdates passes by the limiter, and is heard by bot/tg/monitoring.py's request).
A timeout means the request reached Telegram and its answer did not come back: Telegram may have
carried it out, so a retry after a timeout can repeat a reply. A repeated answer beats a lost one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.backoff import Backoff
from bot.reminders import ArrivalWindow, ChatSpacing, GroupWindow, Slot
from bot.tg.sender import retry_after_seconds

__all__ = ["OnAttempt", "ReplyLimiter", "is_message"]

log = logging.getLogger(__name__)

_MESSAGE_PREFIXES = ("send", "edit", "copy", "forward")
_NOT_MESSAGES = frozenset({"sendChatAction"})

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
OnFailure = Callable[[str, object, str], None]  # endpoint, chat_id, error
OnAttempt = Callable[[str, TelegramError | None], None]  # endpoint, its error (None: answered fine)


def is_message(endpoint: str) -> bool:
    """The calls Telegram's flood limits count: messages sent or edited (not chat actions, not reads)."""
    return endpoint.startswith(_MESSAGE_PREFIXES) and endpoint not in _NOT_MESSAGES


def _transient(error: TelegramError) -> bool:
    """Worth another try: flood control, a 5xx, a timeout or a lost connection (not a refusal)."""
    return isinstance(error, RetryAfter) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    )


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
        on_attempt: OnAttempt | None = None,
        groups: GroupWindow | None = None,
        chats: ChatSpacing | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`groups` and `chats` are the bot's one per-group window and per-chat spacing (the dispatcher's
        too); default: ones of its own."""
        self.window = window
        # The extra tenth after a retry_after keeps clear of the window's edge (the window is paused
        # until then).
        self.backoff = Backoff(first_backoff, max_backoff, deadline=deadline, retry_after_margin=0.1)
        self.on_sent = on_sent
        self.on_failure = on_failure
        self.on_attempt = on_attempt
        self._rng = rng or random.Random()
        self.groups = groups or GroupWindow()
        self.chats = chats or ChatSpacing()

    @property
    def deadline(self) -> float:
        """Seconds from a request's first try within which its last retry must begin."""
        assert self.backoff.deadline is not None
        return self.backoff.deadline

    @deadline.setter
    def deadline(self, seconds: float) -> None:
        self.backoff = dataclasses.replace(self.backoff, deadline=seconds)

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
        chat_id = data.get("chat_id")
        chat = chat_id if message and isinstance(chat_id, int) else None
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await self._once(callback, args, kwargs, message, chat)
            except TelegramError as error:
                self._attempted(endpoint, error)
                wait = self._wait_before_retry(error, attempt, time.monotonic() - started)
                if wait is None:
                    self._failed(endpoint, data, error, attempt)
                    raise
                log.info("%s failed (%s); trying again in %.1f s", endpoint, error, wait)
                await asyncio.sleep(wait)
                continue
            self._attempted(endpoint, None)
            if message and self.on_sent is not None:
                self.on_sent(endpoint)
            return result

    async def _once(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        message: bool,
        chat: int | None,
    ) -> JSONResult:
        if chat is not None:
            while (hold := self.groups.delay(chat)) > 0:
                await asyncio.sleep(hold)
            self.groups.reserve(chat)  # no await between the check and the reservation
        try:
            slot: Slot | None = await self.window.acquire(urgent=True) if message else None
        except BaseException:
            if chat is not None:
                self.groups.cancel(chat)
            raise
        if chat is not None:
            self.groups.start(chat)
            self.chats.sent(chat)
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
                self.window.pause(retry_after_seconds(error.retry_after))
            raise
        finally:
            if slot is not None:
                self.window.release(slot, answered)

    def _attempted(self, endpoint: str, error: TelegramError | None) -> None:
        if self.on_attempt is not None:
            try:
                self.on_attempt(endpoint, error)
            except Exception:  # watching must never break sending
                log.exception("cannot record an attempt of %s", endpoint)

    def _wait_before_retry(self, error: TelegramError, attempt: int, elapsed: float) -> float | None:
        """Seconds before the next try; None: a refusal, or the deadline would pass."""
        if not _transient(error):
            return None
        retry_after = retry_after_seconds(error.retry_after) if isinstance(error, RetryAfter) else None
        return self.backoff.next_wait(attempt, self._rng, retry_after=retry_after, elapsed=elapsed)

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
