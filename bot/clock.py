"""One clock for every part of the bot.

`POLICYBOT_NOW` (ISO 8601 with an offset) starts the clock at that instant and lets it run forward in
real time: a demo of "what would I have received in March 2024", and a fixed point for tests.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from bot.errors import PolicyBotError


class ClockError(PolicyBotError, ValueError):
    """POLICYBOT_NOW is not an ISO 8601 instant with an offset."""


class Clock:
    def __init__(self, start: dt.datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ClockError("the start instant needs a UTC offset, e.g. 2024-03-01T09:00:00+08:00")
        self._offset = 0.0 if start is None else start.timestamp() - time.time()

    def now(self) -> dt.datetime:
        """The current instant, in UTC."""
        return dt.datetime.fromtimestamp(time.time() + self._offset, tz=dt.UTC)

    def today(self, zone: ZoneInfo | str = "UTC") -> dt.date:
        """Today's date in `zone`."""
        tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        return self.now().astimezone(tz).date()


def clock_from_env(environ: Mapping[str, str]) -> Clock:
    value = environ.get("POLICYBOT_NOW", "").strip()
    if not value:
        return Clock()
    try:
        start = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ClockError(f"POLICYBOT_NOW={value!r} is not an ISO 8601 instant") from None
    if start.tzinfo is None:
        raise ClockError(f"POLICYBOT_NOW={value!r} needs a UTC offset, e.g. 2024-03-01T09:00:00+08:00")
    return Clock(start)
