"""Does the database take writes? What /healthz and the log know of a full disk or a locked database.

A full disk ("database or disk is full") or a database another process keeps locked ("database is
locked") does not stop reads: the bot can still answer most questions. So a failed write is not fatal:
whoever writes tells `DatabaseHealth` (`failed`), which logs the first failure of an outage once, says
so on /healthz until a write succeeds again (`succeeded`, logged once too), and meanwhile lets callers
try their writes only every `retry_after` seconds (`should_try`), since each attempt on a locked
database waits out SQLite's busy timeout with the event loop held.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

__all__ = ["DatabaseHealth", "is_database_unavailable"]

log = logging.getLogger(__name__)

# SQLite's primary result codes (the low byte of an extended code) that mean "no write now, later maybe".
_BUSY, _LOCKED, _IOERR, _FULL, _CANTOPEN, _READONLY = 5, 6, 10, 13, 14, 8
_UNAVAILABLE = {_BUSY, _LOCKED, _IOERR, _FULL, _CANTOPEN, _READONLY}


def is_database_unavailable(error: BaseException) -> bool:
    """A disk full, a lock held too long, an I/O error: the database may take the write later."""
    if not isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _UNAVAILABLE
    text = str(error).lower()
    return "full" in text or "locked" in text or "disk i/o" in text


class DatabaseHealth:
    """The outage in course, if any: since when, and the last error (module docstring)."""

    def __init__(self, retry_after: float = 10.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_after = retry_after
        self._clock = clock
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self._last_try = 0.0
        self.outages = 0  # how many began since the start (for the log and tests)

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    def failed(self, what: str, error: BaseException) -> None:
        """A write (`what`, for the log) failed with `error`."""
        now = self._clock()
        self.last_error = f"{what}: {error}"
        self._last_try = now
        if self.failing_since is None:
            self.failing_since = now
            self.outages += 1
            log.error("the database refuses writes (%s); answering what it can meanwhile", self.last_error)

    def succeeded(self) -> None:
        """A write went through: the outage, if any, is over."""
        if self.failing_since is not None:
            log.warning(
                "the database takes writes again after %.0f s (last error: %s)",
                self._clock() - self.failing_since,
                self.last_error,
            )
        self.failing_since = None
        self.last_error = None

    def should_try(self) -> bool:
        """Healthy, or the last attempt during the outage is `retry_after` seconds old."""
        return self.failing_since is None or self._clock() - self._last_try >= self.retry_after

    def problem(self) -> str | None:
        """None while writes succeed, else what failed and for how long (one line for /healthz)."""
        if self.failing_since is None:
            return None
        age = self._clock() - self.failing_since
        return f"writes failing for {age:.0f} s ({self.last_error})"
