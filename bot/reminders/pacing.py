"""The bot's overall sending pace, shared by reminders, broadcasts and replies: Telegram counts arrivals.

Telegram (and the fake server) count the messages that *arrive* in a sliding one-second window. The bot
sees only when it starts a request and when the answer comes back; network delay moves each arrival
somewhere in between, differently for every request. Evenly spaced starts therefore arrive unevenly,
and a pacing that fills the limit exactly gets 429s whenever the network jitters.

`ArrivalWindow` counts what Telegram counts, from the bot's side of the wire:
- a request in flight holds a slot (it may arrive at any moment);
- an answered request holds its slot until one window after its estimated arrival, the middle of its
  round trip (the way NTP estimates one-way delay on a symmetric path), plus `margin` for the error of
  that estimate and of the event loop's clock;
- a request that got no answer (a timeout, a lost connection), or whose answer took longer than half
  a window (a slow server, which may count it when it is done with it), arrived at the latest now.
A new request starts only when fewer than `limit` slots are held, and never sooner than half of
`span/limit` after the previous start: no burst at start or after a pause, yet slots freed close
together are reused without queueing behind a full-rate spacing (which cost 5% of the rate). Flood
control (`pause`) is per bot: every sender waits it out. A reply to a user (`acquire(urgent=True)`) goes
before the reminders waiting for a slot: a seller waiting for an answer should not queue behind a
broadcast, and replies are few (each user's commands are throttled), so reminders are not starved.

`GroupWindow` is Telegram's limit of 20 messages a minute per group, likewise one per bot for replies and
the dispatcher together. `ChatSpacing` keeps the dispatcher's messages a second apart in each chat, the
replies' included: a reminder does not follow a reply to the same chat within the second. Replies are not
held by it (Telegram lets a chat take a short burst, and a long answer in parts should not crawl).

So slots are released by observed round trips, not by a guess of the network: a slow network lowers
the pace by half its delay, and never causes a 429 unless one direction of a round trip is much longer
than the other by more than `margin`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ArrivalWindow", "ChatSpacing", "GroupWindow", "Slot", "WindowStopped"]

log = logging.getLogger(__name__)


@dataclass
class Slot:
    """One request's hold on the window, from its start until `release`."""

    started: float


class ArrivalWindow:
    """At most `limit` requests arriving in any `span` seconds, as seen from the bot (module docstring)."""

    def __init__(
        self,
        limit: float,
        span: float = 1.0,
        margin: float = 0.01,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or span <= 0 or margin < 0:
            raise ValueError("the window needs a limit of at least 1, a positive span and a margin >= 0")
        self.limit = int(limit)
        self.span = span
        self.margin = margin
        self._clock = clock
        self._in_flight = 0
        self._releases: list[float] = []  # a heap of the times answered requests free their slots
        self._last_start = -float("inf")
        self._resume_at = 0.0
        self._turn = asyncio.Lock()  # first come, first served
        self._urgent_turn = asyncio.Lock()  # replies, first come, first served, before `_turn`
        self._urgent_waiting = 0
        self._changed = asyncio.Event()
        self.floods = 0  # 429s seen by any sender, for the metrics

    # --- flood control ---

    def pause(self, seconds: float) -> None:
        """Telegram answered 429 with retry_after: nobody sends before it ends."""
        self.floods += 1
        self._resume_at = max(self._resume_at, self._clock() + seconds)
        log.warning("Telegram flood control: sending paused for %g s", seconds)

    # --- slots ---

    def held(self) -> int:
        """Slots held now: requests in flight, and answered ones whose window has not passed."""
        now = self._clock()
        while self._releases and self._releases[0] <= now:
            heapq.heappop(self._releases)
        return self._in_flight + len(self._releases)

    def delay(self) -> float:
        """Seconds until a start is allowed (0: now); with every slot in flight, a short look again."""
        now = self._clock()
        wait = max(self._resume_at - now, self._last_start + self.span / (2 * self.limit) - now, 0.0)
        if self.held() >= self.limit:
            free_at = self._releases[0] - now if self._releases else self.span / self.limit
            wait = max(wait, free_at)
        return wait

    async def acquire(
        self, stopped: Callable[[], bool] | None = None, max_sleep: float = 0.5, *, urgent: bool = False
    ) -> Slot:
        """Wait for a slot and take it. `stopped` is asked between waits: when it says yes, `WindowStopped`
        is raised and no slot is taken. `urgent` (a reply to a user) goes before the others waiting.
        Every `acquire` must be followed by one `release`."""
        if not urgent:
            async with self._turn:
                return await self._wait_for_slot(stopped, max_sleep, yield_to_urgent=True)
        self._urgent_waiting += 1
        try:
            async with self._urgent_turn:
                return await self._wait_for_slot(stopped, max_sleep, yield_to_urgent=False)
        finally:
            self._urgent_waiting -= 1
            self._changed.set()  # a waiting reminder may go now

    async def _wait_for_slot(
        self, stopped: Callable[[], bool] | None, max_sleep: float, *, yield_to_urgent: bool
    ) -> Slot:
        while True:
            wait = self.delay()
            if wait <= 0 and not (yield_to_urgent and self._urgent_waiting):
                return self._take()
            if stopped is not None and stopped():
                raise WindowStopped
            if wait <= 0:
                wait = self.span / self.limit  # a reply takes this slot; look again when it has
            self._changed.clear()
            with contextlib.suppress(TimeoutError):  # a slot's time came, or just look again
                await asyncio.wait_for(self._changed.wait(), timeout=min(wait, max_sleep))

    def _take(self) -> Slot:
        now = self._clock()
        self._in_flight += 1
        self._last_start = now
        return Slot(now)

    def release(self, slot: Slot, answered: bool) -> None:
        """The request ended: answered (arrived mid-round-trip) or not (arrived at the latest now)."""
        now = self._clock()
        round_trip = now - slot.started
        # A round trip longer than half the window is no network delay but a slow server, which may count
        # the request when it finishes with it: then it arrived, at the latest, now.
        symmetric = answered and round_trip <= self.span / 2
        arrival = slot.started + round_trip / 2 if symmetric else now
        self._in_flight -= 1
        heapq.heappush(self._releases, arrival + self.span + self.margin)
        self._changed.set()


class WindowStopped(Exception):
    """The sender stopped while waiting for its turn: no slot was taken."""


class GroupWindow:
    """Telegram's 20 messages a minute per group, counted for every sender of the bot (module docstring).

    A send `reserve`s its place when the group has room (so no other sender can take it while this one
    waits for the overall window), `start`s when it leaves (its arrival is counted from then, plus
    `margin` for the network) or `cancel`s if it does not go. Private chats (ids >= 0) are not counted.
    """

    def __init__(
        self,
        per_minute: float = 20,
        span: float = 60.0,
        margin: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1 or span <= 0 or margin < 0:
            raise ValueError("a group window needs at least 1 message, a positive span and a margin >= 0")
        self.per_minute = int(per_minute)
        self.span = span
        self.margin = margin
        self._clock = clock
        self._sends: dict[int, list[float]] = {}  # per group: start times; inf while reserved

    def _current(self, chat_id: int) -> list[float]:
        sends = self._sends.get(chat_id)
        if sends is None:
            return []
        cutoff = self._clock() - self.span - self.margin
        sends[:] = [start for start in sends if start > cutoff]
        if not sends:
            del self._sends[chat_id]  # a quiet group costs no memory
        return sends

    def delay(self, chat_id: int) -> float:
        """Seconds until one more message to `chat_id` is within the limit (0: now; private chats: 0)."""
        if chat_id >= 0:
            return 0.0
        sends = self._current(chat_id)
        if len(sends) < self.per_minute:
            return 0.0
        earliest = min(sends)
        if math.isinf(earliest):  # every place is reserved by sends about to leave: look again soon
            return 1.0
        return earliest + self.span + self.margin - self._clock()

    def reserve(self, chat_id: int) -> None:
        """Take a place (after `delay` said 0), held until `start` or `cancel`."""
        if chat_id < 0:
            self._sends.setdefault(chat_id, []).append(math.inf)

    def start(self, chat_id: int) -> None:
        """The reserved send leaves now."""
        self._replace_reserved(chat_id, self._clock())

    def cancel(self, chat_id: int) -> None:
        """The reserved send does not go: its place is free again."""
        self._replace_reserved(chat_id, None)

    def _replace_reserved(self, chat_id: int, start: float | None) -> None:
        sends = self._sends.get(chat_id)
        if chat_id >= 0 or not sends or math.inf not in sends:
            return
        sends.remove(math.inf)
        if start is not None:
            sends.append(start)
        elif not sends:
            del self._sends[chat_id]


class ChatSpacing:
    """When the bot last sent a message to each chat, by any sender; `delay` keeps the next one
    `1 / per_second` after it (module docstring)."""

    def __init__(self, per_second: float = 1.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._last: OrderedDict[int, float] = OrderedDict()  # oldest send first

    def delay(self, chat_id: int) -> float:
        """Seconds until a message to `chat_id` is a full interval after the last one (0: now)."""
        last = self._last.get(chat_id)
        return 0.0 if last is None else max(0.0, last + self.interval - self._clock())

    def sent(self, chat_id: int) -> None:
        """A message to `chat_id` leaves now."""
        now = self._clock()
        self._last[chat_id] = now
        self._last.move_to_end(chat_id)
        # Chats whose last message is an interval old hold nothing back: forgotten, memory stays small.
        while self._last:
            oldest, at = next(iter(self._last.items()))
            if at + self.interval > now:
                break
            del self._last[oldest]
