"""Per-user flood control: a sliding one-minute window of the messages each user sent."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable


class Throttle:
    """Allows `per_minute` messages per user; past that, the first refusal is said, later ones are not."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[int, deque[float]] = defaultdict(deque)
        self._warned: set[int] = set()

    def check(self, user_id: int) -> str:
        """ "ok", "warn" (refuse and say so once) or "drop" (refuse silently)."""
        now = self._clock()
        window = self._seen[user_id]
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) < self.per_minute:
            window.append(now)
            self._warned.discard(user_id)
            return "ok"
        if user_id in self._warned:
            return "drop"
        self._warned.add(user_id)
        return "warn"
