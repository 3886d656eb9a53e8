"""When to try a failed send again: the one retry policy of replies (bot/tg/replies.py) and reminders
(bot/reminders/dispatcher.py).

A channel that says when to come back (Telegram's `retry_after` on a 429) is obeyed, plus an optional
margin. Otherwise the wait doubles from `first` with each failed try, up to `cap`, and is multiplied by a
random factor in [0.5, 1] so that many sends that failed together (an outage) do not all come back at
once. A policy gives up after `max_attempts` tries or when the wait would end past `deadline` seconds
after the first try, whichever it has. Pure: no I/O, no clock; the caller says how long it has spent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """A retry policy: exponential backoff with jitter, or the channel's own retry-after."""

    first: float  # seconds: the longest wait after the first failed try (jitter makes it 0.5-1 times that)
    cap: float  # seconds: no exponential wait is longer
    max_attempts: int | None = None  # give up after this many tries (a retry-after does not count)
    deadline: float | None = None  # seconds after the first try by which the last retry must have begun
    retry_after_margin: float = 0.0  # seconds added to a channel's retry-after, to keep clear of its edge

    def __post_init__(self) -> None:
        if self.first < 0 or self.cap < 0:
            raise ValueError("a backoff's first wait and cap must not be negative")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.deadline is not None and self.deadline < 0:
            raise ValueError("deadline must not be negative")
        if self.retry_after_margin < 0:
            raise ValueError("retry_after_margin must not be negative")

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The exponential wait after the `attempt`-th failed try (1 = the first), with jitter."""
        if attempt < 1:
            raise ValueError("attempts count from 1")
        return min(self.cap, self.first * 2.0 ** (attempt - 1)) * rng.uniform(0.5, 1.0)

    def next_wait(
        self,
        attempt: int,
        rng: random.Random,
        *,
        retry_after: float | None = None,
        elapsed: float = 0.0,
    ) -> float | None:
        """Seconds to wait before trying again after the `attempt`-th failed try; None: give up.

        `retry_after` is the channel's own word (it wins over the backoff and does not use up attempts:
        it is flow control, not a failure); `elapsed` is how long the tries have taken so far.
        """
        if retry_after is not None:
            wait = retry_after + self.retry_after_margin
        elif self.max_attempts is not None and attempt >= self.max_attempts:
            return None
        else:
            wait = self.delay(attempt, rng)
        if self.deadline is not None and elapsed + wait > self.deadline:
            return None
        return wait
