"""Failures on demand: one-off faults for the next calls of a method, and Telegram-like flood control.

A bot is only as good as its handling of a blocked user, a 429, a migrated group, a 500 or a slow
answer; these are rare in manual testing and certain in production. Faults apply to requests that passed
validation (a malformed request is still rejected first), exactly as the real server behaves.
"""

from __future__ import annotations

import math
import random
import time
import typing
from collections import deque
from dataclasses import dataclass
from typing import Literal

from .errors import ApiError, bad_request, chat_migrated, forbidden, too_many_requests

FaultKind = Literal["blocked", "kicked", "chat_not_found", "retry_after", "migrated", "server_error", "slow"]
FAULT_KINDS: tuple[str, ...] = typing.get_args(FaultKind)
ANY_METHOD = "*"
# Message-producing calls count against Telegram's flood limits; chat actions and reads do not.
_LIMITED_PREFIXES = ("send", "edit", "copy", "forward")
_UNLIMITED = frozenset({"sendChatAction"})


@dataclass
class Fault:
    """A failure for the next `remaining` matching calls."""

    method: str
    kind: FaultKind
    remaining: int
    chat_id: int | None = None
    retry_after: int = 5
    delay: float = 1.0
    migrate_to_chat_id: int | None = None

    def matches(self, method: str, chat_id: object) -> bool:
        if self.method not in (ANY_METHOD, method):
            return False
        return self.chat_id is None or chat_id == self.chat_id

    def error(self) -> ApiError | None:
        """The answer this fault gives; None for "slow", which answers normally after its delay."""
        if self.kind == "blocked":
            return forbidden("bot was blocked by the user")
        if self.kind == "kicked":
            return forbidden("bot was kicked from the group chat")
        if self.kind == "chat_not_found":
            return bad_request("chat not found")
        if self.kind == "retry_after":
            return too_many_requests(self.retry_after)
        if self.kind == "migrated":
            assert self.migrate_to_chat_id is not None
            return chat_migrated(self.migrate_to_chat_id)
        if self.kind == "server_error":
            return ApiError(500, "Internal Server Error")
        return None


class FaultPlan:
    """Pending faults, consumed in the order they were planned."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; use one of {FAULT_KINDS}")
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        if fault.kind == "migrated" and fault.migrate_to_chat_id is None:
            raise ValueError('a "migrated" fault needs migrate_to_chat_id')
        self._faults.append(fault)

    def take(self, method: str, chat_id: object) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, chat_id):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def __len__(self) -> int:
        return sum(fault.remaining for fault in self._faults)


def is_rate_limited(method: str) -> bool:
    return method.startswith(_LIMITED_PREFIXES) and method not in _UNLIMITED


class RateLimiter:
    """Sliding-window flood control: overall per second, per chat per second, per group per minute.

    A call answered 429 does not use up the window; any call let through does, whatever its outcome.
    """

    def __init__(self) -> None:
        self.per_second: int | None = None
        self.per_chat_per_second: int | None = None
        self.per_group_per_minute: int | None = None
        self._overall: deque[float] = deque()
        self._per_chat: dict[object, deque[float]] = {}
        self._per_group: dict[object, deque[float]] = {}

    def configure(
        self, per_second: int | None, per_chat_per_second: int | None, per_group_per_minute: int | None
    ) -> None:
        for value in (per_second, per_chat_per_second, per_group_per_minute):
            if value is not None and value < 1:
                raise ValueError("rate limits must be at least 1 (or None for no limit)")
        self.per_second = per_second
        self.per_chat_per_second = per_chat_per_second
        self.per_group_per_minute = per_group_per_minute
        self._overall.clear()
        self._per_chat.clear()
        self._per_group.clear()

    def admit(self, chat_id: object, is_group: bool, now: float | None = None) -> ApiError | None:
        """None and count the call when it is within every limit, else the 429 to answer."""
        now = time.monotonic() if now is None else now
        windows: list[tuple[deque[float], int, float]] = []
        if self.per_second is not None:
            windows.append((self._overall, self.per_second, 1.0))
        if chat_id is not None and self.per_chat_per_second is not None:
            windows.append((self._per_chat.setdefault(chat_id, deque()), self.per_chat_per_second, 1.0))
        if chat_id is not None and is_group and self.per_group_per_minute is not None:
            windows.append((self._per_group.setdefault(chat_id, deque()), self.per_group_per_minute, 60.0))
        for window, limit, span in windows:
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                return too_many_requests(max(1, math.ceil(window[0] + span - now)))
        for window, _, _ in windows:
            window.append(now)
        return None


class RandomFaults:
    """Telegram's bad days, at random: a share of message sends fail with 500 or answer slowly.

    Drawn per rate-limited call (sends and edits) that no planned fault took; seeded for repeatable runs.
    """

    def __init__(self) -> None:
        self.server_error = 0.0
        self.slow = 0.0
        self.slow_delay = 1.0
        self._rng = random.Random()

    def configure(self, server_error: float, slow: float, slow_delay: float, seed: int | None) -> None:
        if not (0 <= server_error <= 1 and 0 <= slow <= 1 and server_error + slow <= 1):
            raise ValueError("fault shares are fractions of the calls, 0 to 1, together at most 1")
        if slow_delay < 0:
            raise ValueError("slow_delay is in seconds, at least 0")
        self.server_error, self.slow, self.slow_delay = server_error, slow, slow_delay
        self._rng = random.Random(seed)

    def draw(self, method: str) -> Fault | None:
        if not is_rate_limited(method) or not (self.server_error or self.slow):
            return None
        roll = self._rng.random()
        if roll < self.server_error:
            return Fault(method, "server_error", 1)
        if roll < self.server_error + self.slow:
            return Fault(method, "slow", 1, delay=self.slow_delay)
        return None


class NetworkDelay:
    """Random network delay per request, 0 to `max_delay` seconds for the round trip.

    Half of it passes before the server handles the request (so arrivals, which flood control counts,
    move by up to `max_delay / 2`), half before the answer leaves: a symmetric path, as most are.
    """

    def __init__(self) -> None:
        self.max_delay = 0.0
        self._rng = random.Random()

    def configure(self, max_delay: float, seed: int | None) -> None:
        if max_delay < 0:
            raise ValueError("max_delay is in seconds, at least 0")
        self.max_delay = max_delay
        self._rng = random.Random(seed)

    def draw(self) -> float:
        """One direction's delay of a new request (the other direction is the same)."""
        return self._rng.uniform(0, self.max_delay) / 2 if self.max_delay else 0.0
