"""Each robot's own rate limits, counted in sliding windows on our side before the channel counts them.

Reference §1.1: Feishu/Lark 100 requests a minute and 5 a second per bot; DingTalk 20 messages a
minute per robot, and going over blocks the robot for 10 minutes (errcode 130101); WeCom 20 a minute per
robot. The channel counts arrivals and we count departures, so each window is kept a little longer than
the channel's (`MARGIN`, `SLACK`): jitter in the network then cannot squeeze 21 sends into DingTalk's
minute, nor 6 into Feishu's second (with 5 % alone, `bench/channels.py --destinations 300 --per-robot 30`
met 4 refusals in 300 sends, by elimination Feishu's 11232; with the slack, none).

A robot is its webhook URL: two destinations on the same URL share its limits.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from bot.channels.kinds import Kind

__all__ = ["MARGIN", "SLACK", "WINDOWS", "RobotPace"]

# (most sends, in seconds) per kind; e-mail and the generic webhook have no published limit.
WINDOWS: dict[Kind, tuple[tuple[int, float], ...]] = {
    Kind.FEISHU: ((5, 1.0), (100, 60.0)),
    Kind.DINGTALK: ((20, 60.0),),
    Kind.WECOM: ((20, 60.0),),
    Kind.EMAIL: (),
    Kind.WEBHOOK: (),
}
MARGIN = 1.05  # each window counted 5 % longer than the channel's,
SLACK = 0.25  # and a quarter of a second more: arrival jitter matters most in Feishu's 1-second window


class RobotPace:
    """The sends to one robot in the last window(s); `delay` says how long until one more is allowed."""

    def __init__(
        self, windows: tuple[tuple[int, float], ...], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.windows = tuple((count, seconds * MARGIN + SLACK) for count, seconds in windows)
        self._clock = clock
        longest = max((count for count, _ in windows), default=0)
        self._sent: deque[float] = deque(maxlen=max(longest, 1))
        self._blocked_until = 0.0

    def delay(self) -> float:
        """Seconds until a send keeps within every window (0: now)."""
        now = self._clock()
        wait = max(0.0, self._blocked_until - now)
        for count, seconds in self.windows:
            if len(self._sent) >= count:
                # The count-th latest send must have left the window.
                oldest = self._sent[-count]
                wait = max(wait, oldest + seconds - now)
        return wait

    def take(self) -> None:
        """A send leaves now."""
        self._sent.append(self._clock())

    def block(self, seconds: float) -> None:
        """The channel said "too fast": nothing goes to this robot for `seconds`."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    @property
    def idle(self) -> bool:
        """No send in any window and not blocked: it can be forgotten and made again."""
        return self.delay() == 0 and (
            not self._sent or all(self._sent[-1] + seconds < self._clock() for _, seconds in self.windows)
        )
