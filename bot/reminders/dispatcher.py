"""Delivery: the outbox's due rows sent through a `Sender` within its limits, each reminder once.

`Dispatcher.dispatch_due` claims what is due (`Outbox.claim_due`), merges the rows due to one chat into
one digest message (several when the digest would pass Telegram's 4,096 characters), and sends them
with at most `concurrency` requests in flight. The bot's overall rate is paced by an `ArrivalWindow`
(bot/reminders/pacing.py), shared with the bot's replies: it counts arrivals in Telegram's sliding window
from the observed round trips, with a margin, so network jitter does not cross the limit. Each chat's
rate is a token bucket of capacity one (no burst, at start or after a pause) at `Limits.headroom` of its
limit, and keeps its distance from the replies to the chat (the bot's one `ChatSpacing`); each group's
20 a minute (negative chat ids) is the bot's one `GroupWindow`, shared with the replies, so that replies
and reminders to a group together keep to it.

The dispatcher knows only the `Sender` protocol (bot/reminders/sender.py); Telegram's is
`bot.tg.sender.TelegramSender`, which maps Telegram's errors to these results. Per message:

    Sent               -> Outbox.mark_sent with the message id, as soon as the send returns
    RetryLater         -> every send pauses for its seconds (Telegram's flood control is per bot, not per
                          chat); the rows are due again after it
    Failed (transient) -> (5xx, timeouts, lost connections) due again after an exponential backoff with
                          jitter (bot/backoff.py, as for replies); failed after `max_attempts` claims
    Blocked            -> the chat blocked the bot or removed it: chat inactive, rows failed ("blocked")
    ChatMoved          -> the store follows the group to its supergroup, the message goes there ("migrated")
    Failed (permanent) -> failed: the channel refuses this message and would refuse it again

One chat's failure never stops the others, and no sender's error leaves `dispatch_due`.

Several senders (#20). `route(owns, sender, render)` sends the rows of the chats `owns` says are its
(destinations beside Telegram: bot/channels) through `sender` instead, rendered by `render`: such a sender
paces each of its destinations itself, so Telegram's windows (overall, per group, per chat) are not taken
for them, a `RetryLater` holds back only those rows (not every send, as Telegram's flood control does),
and a digest is not cut to Telegram's size (the sender splits by its own limits). `on_claim` is told of
every claimed row before any of them is sent (mirrors of a chat queue their copies there), so a crash
before it leaves the rows to be claimed, and told, again.

Crash bound. A row is claimed (`sending`) before its message is sent and marked `sent` as soon as that
send returns, with no await in between, so no answered send waits to be marked. A process killed at any
moment leaves in `sending` the rows it had claimed and not marked: those of messages not yet attempted
(at most `claim_batch` rows; never sent, so never repeated) and those of the sends in flight, at most
`concurrency` messages (one per worker; a chat's messages go one at a time), which Telegram may or may
not have carried out. `Outbox.recover_in_flight` makes them all pending again at the next start, so a
crash repeats at most `concurrency` messages: the sends in flight at the kill (a lone reminder longer
than one message goes in pieces, and repeats the pieces already sent). A graceful stop (`run`'s
`stop`) repeats nothing: the sends in flight finish and are marked, and rows not yet sent are put back
at once.

The same ambiguity, without a crash: a read timeout means the request reached Telegram and the answer
did not come back. Telegram may have carried it out (so does the fake server), and the Bot API has no
idempotency key to ask. The dispatcher retries it (a reminder is never lost), so each read timeout can
repeat one message. Keep the bot's read timeout well above Telegram's answer times to keep that rare;
a slow answer within the timeout is not a failure and is never repeated.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.backoff import Backoff
from bot.reminders.outbox import Delivery, Outbox
from bot.reminders.pacing import ArrivalWindow, ChatSpacing, GroupWindow, Slot, WindowStopped
from bot.reminders.sender import (
    Blocked,
    ChatMoved,
    Failed,
    Keyboard,
    Limits,
    OutgoingMessage,
    RetryLater,
    Sender,
    SendResult,
    Sent,
)
from bot.store import ChatSettings, Store, StoreError
from bot.telegram_text import TELEGRAM_LIMIT, split_html

__all__ = ["DispatchReport", "Dispatcher", "Limits", "Render", "Route", "TokenBucket"]

log = logging.getLogger(__name__)

# The chat's due rows -> the message's Telegram-HTML text (TextFormat.HTML) and its buttons.
Render = Callable[[list[Delivery], ChatSettings], tuple[str, Keyboard]]
FLOOD_CONTROL = "flood control"  # how a 429's retry is recorded in the attempts
_MAX_MIGRATIONS = 3  # a group migrates once; a chain longer than this is a loop
_RETRY_PASS = 1.0  # seconds before another pass when one failed or found nothing it could claim
_STOP_CHECK = 0.5  # seconds: a long wait (flood control, a group's rate) looks at `stop` this often


@dataclass(frozen=True)
class Route:
    """The rows of the chats `owns` says are its go to `sender`, rendered by `render`."""

    owns: Callable[[int], bool]
    sender: Sender
    render: Render


class _Stopped(Exception):
    """`stop` was set while a message waited for its turn: it is put back, not sent."""


@dataclass
class DispatchReport:
    """What one `dispatch_due` did, counted in outbox rows (`messages` counts Telegram messages)."""

    sent: int = 0
    retried: int = 0  # put back to pending: flood control, a 5xx or a timeout
    failed: int = 0  # refused (400) or out of attempts
    blocked: int = 0  # the chat blocked the bot or removed it (403)
    migrated: int = 0  # followed their group to its new supergroup id (then counted sent or other)
    skipped: int = 0  # their chat is inactive or unknown: not sent, marked failed
    claimed: int = 0
    messages: int = 0


class TokenBucket:
    """`rate` tokens a second up to `capacity`; it starts full, so with capacity 1 there is no burst.

    `delay`/`take` serve a caller that waits until a token is there and then takes it; `reserve` takes
    one at once, borrowing from the future: each caller is told how long to wait before using its token,
    so callers queue up evenly spaced, and a late wake-up does not lose the slot for the next one.
    """

    def __init__(self, rate: float, capacity: float = 1.0, *, clock: Callable[[], float] = time.monotonic):
        if rate <= 0 or capacity < 1:
            raise ValueError("a bucket needs a positive rate and room for at least one token")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        return self._tokens

    def delay(self) -> float:
        """Seconds until a whole token is there (0: now)."""
        return max(0.0, (1 - self._refill()) / self.rate)

    def take(self) -> None:
        """Take a token now (after `delay` said 0); owing one makes the next caller wait longer."""
        self._refill()
        self._tokens -= 1

    def reserve(self) -> float:
        """Take a token now, owed if need be; return how many seconds to wait before using it."""
        self.take()
        return max(0.0, -self._tokens / self.rate)

    @property
    def full(self) -> bool:
        """Untouched long enough to be as good as new (it can be dropped and created again)."""
        return self._refill() >= self.capacity


@dataclass
class _Message:
    """One Telegram message to send: the rows it carries and, once rendered, its text and buttons.

    The text is in pieces only when one reminder alone is longer than a message.
    """

    chat_id: int
    deliveries: list[Delivery]
    texts: list[str] = field(default_factory=list)  # empty until rendered
    buttons: Keyboard = ()

    @property
    def ids(self) -> list[int]:
        return [delivery.id for delivery in self.deliveries]

    @property
    def attempts(self) -> int:
        return max(delivery.attempts for delivery in self.deliveries)


class Dispatcher:
    """Sends the outbox's due rows; `dispatch_due` once, or `run` until stopped."""

    def __init__(
        self,
        sender: Sender,
        store: Store,
        render: Render,
        *,
        limits: Limits | None = None,
        concurrency: int = 8,
        max_attempts: int = 8,
        backoff: float = 5.0,
        max_backoff: float = 900.0,
        claim_batch: int = 100,
        idle_poll: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        window: ArrivalWindow | None = None,
        groups: GroupWindow | None = None,
        chats: ChatSpacing | None = None,
    ) -> None:
        """`backoff` is the first retry's delay in seconds after a 5xx or timeout; it doubles per attempt
        up to `max_backoff` (bot/backoff.py). `limits` default to the sender's. `claim_batch` rows are
        claimed at a time (each claim is one short write transaction). `run` looks at the outbox at least
        every `idle_poll` seconds, for rows queued by another process that could not `wake` it. `window`
        paces the bot's overall rate; pass the one the bot's replies use, so that everything the bot sends
        shares Telegram's limit (default: a window of its own at `limits.global_per_second`); likewise
        `groups` for the per-group limit (default: one of its own at `limits.per_group_per_minute`), and
        `chats` for the last message to each chat (default: the dispatcher's own only).
        """
        if concurrency < 1 or max_attempts < 1 or claim_batch < 1:
            raise ValueError("concurrency, max_attempts and claim_batch must be at least 1")
        self.sender = sender
        self.store = store
        self.outbox = Outbox(store)
        self.render = render
        limits = limits or sender.limits
        self.limits = limits
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff = Backoff(backoff, max_backoff, max_attempts=max_attempts)
        self.claim_batch = claim_batch
        self.idle_poll = idle_poll
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self.window = window or ArrivalWindow(limits.global_per_second, clock=monotonic)
        self.groups = groups or GroupWindow(limits.per_group_per_minute, clock=monotonic)
        self.chats = chats or ChatSpacing(limits.per_chat_per_second * limits.headroom, clock=monotonic)
        self._per_chat: dict[int, TokenBucket] = {}
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._stop: asyncio.Event | None = None  # run()'s, so that a pass ends early when it is set
        self._dispatching = asyncio.Lock()
        self._wake = asyncio.Event()
        self._routes: list[Route] = []
        self._on_claim: list[Callable[[list[Delivery]], object]] = []

    # --- several senders ---

    def route(self, owns: Callable[[int], bool], sender: Sender, render: Render | None = None) -> None:
        """Send the rows of the chats `owns` accepts through `sender` (module docstring)."""
        self._routes.append(Route(owns, sender, render or self.render))

    def on_claim(self, callback: Callable[[list[Delivery]], object]) -> None:
        """Call `callback` with every batch of claimed rows before any of them is sent."""
        self._on_claim.append(callback)

    def _route_for(self, chat_id: int) -> Route | None:
        return next((route for route in self._routes if route.owns(chat_id)), None)

    # --- the loop ---

    def wake(self) -> None:
        """New rows were queued: look at the outbox now (call from the event loop's thread)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch what is due, sleep until the next due row (or `wake`, or `stop`), again.

        Setting `stop` ends it gracefully: the sends in flight finish and are marked, the rows claimed
        but not yet sent are pending again, so a planned restart repeats nothing.
        """
        self._stop = stop
        try:
            while not stop.is_set():
                # Cleared before dispatching, so that a wake during the dispatch is not lost.
                self._wake.clear()
                try:
                    report = await self.dispatch_due()
                    delay = self._idle_delay(report)
                except Exception:  # the database, most likely; the rows stay in SQLite for the next pass
                    log.exception("dispatching the outbox failed; trying again in %g s", _RETRY_PASS)
                    delay = _RETRY_PASS
                if delay > 0:
                    await self._sleep(stop, delay)
        finally:
            self._stop = None

    async def _sleep(self, stop: asyncio.Event, delay: float) -> None:
        """Until `delay` passes, `wake` is called or `stop` is set."""
        stopping = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopping, woken}, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (stopping, woken):
                waiter.cancel()
            await asyncio.gather(stopping, woken, return_exceptions=True)

    def _idle_delay(self, report: DispatchReport) -> float:
        due = self.outbox.next_due_at()
        if due is None:
            return self.idle_poll
        delay = min(self.idle_poll, (due - self.store.clock.now()).total_seconds())
        if delay <= 0 and report.claimed == 0:
            # Due, yet nothing could be claimed (a row written with another time format, say):
            # do not spin.
            return _RETRY_PASS
        # Due times are stored to the second; waking a little late costs nothing, early costs a pass.
        return delay + 0.01 if delay > 0 else 0.0

    # --- one pass ---

    async def dispatch_due(self) -> DispatchReport:
        """Send everything due now (and whatever falls due meanwhile), then return what happened."""
        async with self._dispatching:
            report = DispatchReport()
            queue: deque[_Message] = deque()
            workers = [asyncio.ensure_future(self._work(queue, report)) for _ in range(self.concurrency)]
            try:
                await asyncio.gather(*workers)
            except BaseException:  # cancelled: the sends in flight stay 'sending' until recovery
                for worker in workers:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                raise
            finally:
                # Claimed and never attempted (a stop): certainly not sent, so pending again now.
                self._put_back(queue)
                self._prune()
            if report.claimed:
                log.info("dispatched %s", report)
            return report

    async def _work(self, queue: deque[_Message], report: DispatchReport) -> None:
        while self._stop is None or not self._stop.is_set():
            if not queue:
                # Claimed when the queue runs dry, not all at once: rows that fall due during a long
                # dispatch (retries included) join it, and the other workers keep sending meanwhile.
                try:
                    claimed = self.outbox.claim_due(limit=self.claim_batch)
                except Exception:  # the database: let the sends in flight finish; the next pass retries
                    log.exception("cannot claim due deliveries")
                    return
                if not claimed:
                    return
                report.claimed += len(claimed)
                for callback in self._on_claim:
                    try:
                        callback(claimed)
                    except Exception:  # the rows are sent all the same; a mirror's copy is logged missing
                        log.exception("a claim callback failed for deliveries %s", [d.id for d in claimed])
                by_chat: dict[int, list[Delivery]] = {}
                for delivery in claimed:
                    by_chat.setdefault(delivery.chat_id, []).append(delivery)
                queue.extend(_Message(chat_id, rows) for chat_id, rows in by_chat.items())
                continue
            message = queue.popleft()
            if not message.texts:
                # Rendered when its turn comes, not the whole batch at claim time: a long pause of the
                # event loop would make the sends due meanwhile leave in a burst.
                rendered = self._prepare(message, report)
                if not rendered:
                    continue
                message = rendered[0]
                queue.extend(rendered[1:])  # a digest too long for one message: the rest after the others
            await self._deliver(message, report)

    def _put_back(self, queue: deque[_Message]) -> None:
        """Claimed rows never attempted: pending again, due when they were (so a late one stays late)."""
        by_due: dict[dt.datetime, list[int]] = {}
        for message in queue:
            for delivery in message.deliveries:
                by_due.setdefault(delivery.due_at, []).append(delivery.id)
        queue.clear()
        try:
            for due_at, ids in by_due.items():
                self.outbox.retry_later(ids, due_at, "not sent: the dispatcher stopped")
        except Exception:  # the database: they stay 'sending' and recover_in_flight frees them
            log.exception("cannot put back %s unsent deliveries", sum(map(len, by_due.values())))

    # --- composing digests ---

    def _prepare(self, message: _Message, report: DispatchReport) -> list[_Message]:
        """The chat's rows as one digest message (more if too long); none if the chat is gone or it fails."""
        settings = self.store.chat(message.chat_id)
        if settings is None or not settings.active:
            self.outbox.mark_failed(
                message.ids, "the chat is inactive or unknown (it blocked the bot or was removed)", "skipped"
            )
            report.skipped += len(message.ids)
            return []
        try:
            return self._render(message.chat_id, message.deliveries, settings)
        except Exception as error:  # a bug rendering one chat's rows must not stop the others
            log.exception("cannot render deliveries %s for chat %s", message.ids, message.chat_id)
            self.outbox.mark_failed(message.ids, f"cannot render the message: {error!r}")
            report.failed += len(message.ids)
            return []

    def _render(self, chat_id: int, deliveries: list[Delivery], settings: ChatSettings) -> list[_Message]:
        route = self._route_for(chat_id)
        if route is not None:  # its sender splits by its own limits
            text, buttons = route.render(deliveries, settings)
            return [_Message(chat_id, deliveries, [text], buttons)]
        text, buttons = self.render(deliveries, settings)
        # Up to half the limit in characters fits for sure (a character is at most 2 UTF-16 units).
        pieces = [text] if len(text) <= TELEGRAM_LIMIT // 2 else split_html(text)
        if len(pieces) == 1:
            return [_Message(chat_id, deliveries, pieces, buttons)]
        if len(deliveries) > 1:
            # Too long for one message: fewer reminders per message, each with its own buttons.
            half = len(deliveries) // 2
            return self._render(chat_id, deliveries[:half], settings) + self._render(
                chat_id, deliveries[half:], settings
            )
        # One reminder longer than a message: in pieces, its buttons under the last.
        return [_Message(chat_id, deliveries, pieces, buttons)]

    # --- sending ---

    def _lock(self, chat_id: int) -> asyncio.Lock:
        return self._chat_locks.setdefault(chat_id, asyncio.Lock())

    async def _deliver(self, message: _Message, report: DispatchReport) -> None:
        chat_id = message.chat_id
        count = len(message.ids)
        try:
            for _ in range(_MAX_MIGRATIONS + 1):
                # One message at a time per chat: its bucket is then taken at the moment of sending.
                async with self._lock(chat_id):
                    try:
                        result = await self._send(chat_id, message)
                    except _Stopped:
                        self._put_back(deque([message]))
                        return
                    match result:
                        case Sent(message_id):
                            self.outbox.mark_sent(message.ids, message_id)
                            report.sent += count
                            report.messages += len(message.texts)
                        case ChatMoved(new_chat_id):
                            self._follow_migration(chat_id, new_chat_id, message.ids)
                            report.migrated += count
                            chat_id = new_chat_id
                            continue
                        case RetryLater(seconds):
                            if self._route_for(chat_id) is None:
                                self._pause(seconds)
                            due = self.store.clock.now() + dt.timedelta(seconds=seconds)
                            self.outbox.retry_later(
                                message.ids, due, f"{FLOOD_CONTROL}: retry after {seconds:g} s"
                            )
                            report.retried += count
                        case Blocked(reason):
                            log.info("chat %s blocked the bot or removed it; marking it inactive", chat_id)
                            self._deactivate(chat_id)
                            self.outbox.mark_failed(message.ids, reason, attempt_status="blocked")
                            report.blocked += count
                        case Failed(reason, transient=False):
                            self.outbox.mark_failed(message.ids, reason)
                            report.failed += count
                        case Failed(reason, transient=True):
                            self._retry_or_fail(message, reason, report)
                return
            self.outbox.mark_failed(message.ids, f"the chat migrated more than {_MAX_MIGRATIONS} times")
            report.failed += count
        except Exception as error:  # not the channel's answer: our side failed; the rows must not hang
            log.exception("delivering %s to chat %s failed", message.ids, chat_id)
            try:
                self._retry_or_fail(message, f"{type(error).__name__}: {error}", report)
            except Exception:  # the database itself: the rows stay 'sending' until the next start
                log.exception("cannot record the failure of deliveries %s", message.ids)

    async def _send(self, chat_id: int, message: _Message) -> SendResult:
        """Send the message's pieces (usually one), paced; the last one's result, or the first that failed.

        A failure after the first of several pieces retries them all: only a single reminder longer
        than 4,096 characters comes in pieces, and repeating its first part beats losing the rest.
        """
        route = self._route_for(chat_id)
        if route is not None:  # paced by its own sender
            outgoing = OutgoingMessage(message.texts[0], buttons=message.buttons)
            return await route.sender.send(chat_id, outgoing)
        result: SendResult = Sent(None)
        for index, text in enumerate(message.texts):
            last = index == len(message.texts) - 1
            slot = await self._pace(chat_id)
            answered = False
            try:
                outgoing = OutgoingMessage(text, buttons=message.buttons if last else ())
                result = await self.sender.send(chat_id, outgoing)
                # The channel answered (a refusal or a 429 arrives mid-round-trip); a 5xx, a timeout or
                # a lost connection may have arrived as late as now.
                answered = not (isinstance(result, Failed) and result.transient)
            finally:  # (an exception: our side failed, and the request may be anywhere)
                self.window.release(slot, answered)
            if not isinstance(result, Sent):
                return result
        return result

    async def _pace(self, chat_id: int) -> Slot:
        """Wait until this chat, its group limit and the bot's overall window all allow one more send."""
        limits = self.limits
        chat = self._per_chat.get(chat_id)
        if chat is None:
            chat = self._per_chat[chat_id] = TokenBucket(
                limits.per_chat_per_second * limits.headroom, clock=self._monotonic
            )
        while True:
            wait = max(chat.delay(), self.chats.delay(chat_id), self.groups.delay(chat_id))
            if wait <= 0:
                break
            if self._stop is not None and self._stop.is_set():
                raise _Stopped
            await asyncio.sleep(min(wait, _STOP_CHECK))
        # The group's place is reserved now (no await since `delay` said 0), so that a reply cannot take
        # it while this send waits for the overall window; it counts from when the send leaves.
        self.groups.reserve(chat_id)
        # The overall slot is taken last, when this chat is ready, so no slot waits on a chat.
        try:
            slot = await self.window.acquire(lambda: self._stop is not None and self._stop.is_set())
        except WindowStopped:
            self.groups.cancel(chat_id)
            raise _Stopped from None
        except BaseException:  # cancelled: the place is not used
            self.groups.cancel(chat_id)
            raise
        self.groups.start(chat_id)
        self.chats.sent(chat_id)
        # The chat's lock is held, so nobody took its token since `delay` said it was there.
        chat.take()
        return slot

    def _pause(self, seconds: float) -> None:
        """Flood control is per bot: no send leaves before it ends (replies included: one window)."""
        self.window.pause(seconds)

    def _retry_or_fail(self, message: _Message, error: str, report: DispatchReport) -> None:
        """Due again after a backoff that doubles with each claim, with jitter; failed when out of tries."""
        attempts = message.attempts
        delay = self.backoff.next_wait(attempts, self._rng)
        if delay is None:
            self.outbox.mark_failed(message.ids, f"{error} (after {attempts} attempts)")
            report.failed += len(message.ids)
            return
        self.outbox.retry_later(message.ids, self.store.clock.now() + dt.timedelta(seconds=delay), error)
        report.retried += len(message.ids)

    def _deactivate(self, chat_id: int) -> None:
        try:
            self.store.set_active(chat_id, False)
        except StoreError:  # a chat the store does not know (removed meanwhile): nothing to mark
            log.info("chat %s blocked the bot but is not in the store", chat_id)

    def _follow_migration(self, old_chat_id: int, new_chat_id: int, delivery_ids: Iterable[int]) -> None:
        """The group became a supergroup: the store follows it, and the attempt says so."""
        log.info("chat %s migrated to %s; sending there", old_chat_id, new_chat_id)
        try:
            self.store.migrate_chat(old_chat_id, new_chat_id)
        except StoreError:
            log.warning("chat %s migrated to %s but the store could not follow", old_chat_id, new_chat_id)
        reason = f"chat {old_chat_id} migrated to {new_chat_id}"
        Outbox(self.store).record_attempt(delivery_ids, "migrated", reason)

    def _prune(self) -> None:
        """Forget the buckets and locks of chats at rest: new ones behave the same; memory stays small."""
        for chat_id in [chat_id for chat_id, bucket in self._per_chat.items() if bucket.full]:
            del self._per_chat[chat_id]
        for chat_id in [chat_id for chat_id, lock in self._chat_locks.items() if not lock.locked()]:
            del self._chat_locks[chat_id]
