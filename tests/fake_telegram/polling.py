"""The update queue behind getUpdates, with long polling as Telegram does it.

Updates stay queued until a later getUpdates confirms them with a higher ``offset`` (so an answer lost
on the way, e.g. to a cancelled request, is delivered again). A long poll waits in its server thread on a
Condition that `push` and `close` notify, so an injected update is answered at once and `stop()` never
waits for a poll's timeout. A newer getUpdates terminates an older waiting one with 409, like the real
server does when two bot instances poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from .errors import ApiError
from .updates import OPT_IN_UPDATE_TYPES, update_type

MAX_LONG_POLL = 50.0  # seconds; the real server caps the timeout too
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)


class UpdateQueue:
    """Pending updates with increasing update_id; thread-safe."""

    def __init__(self, first_update_id: int = 10_001) -> None:
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._next_id = first_update_id
        self._allowed: frozenset[str] | None = None  # None: Telegram's default set
        self._generation = 0
        self._closed = False

    def push(self, payload: dict[str, Any]) -> int:
        """Queue an update (a dict with one payload field) and wake a waiting poll; return its update_id."""
        update_type(payload)  # exactly one payload field
        with self._cond:
            update_id = self._next_id
            self._next_id += 1
            self._pending.append({"update_id": update_id, **payload})
            self._cond.notify_all()
        return update_id

    def pending(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(update) for update in self._pending]

    def clear(self) -> None:
        with self._cond:
            self._pending.clear()

    def close(self) -> None:
        """Release every waiting poll (with no updates) and make later polls return at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def poll(
        self, offset: int | None, limit: int | None, timeout: float, allowed: Iterable[str] | None
    ) -> list[dict[str, Any]]:
        """Confirm updates below `offset`, then return up to `limit` updates, waiting up to `timeout`."""
        limit = min(max(limit or 100, 1), 100)
        deadline = time.monotonic() + min(max(timeout, 0.0), MAX_LONG_POLL)
        with self._cond:
            self._generation += 1
            generation = self._generation
            self._cond.notify_all()  # an older waiting poll sees it was superseded
            if allowed is not None:
                allowed = frozenset(allowed)
                self._allowed = allowed or None
            self._confirm(offset)
            while True:
                if generation != self._generation:
                    raise ApiError(409, _CONFLICT)
                ready = self._deliverable(limit)
                remaining = deadline - time.monotonic()
                if ready or self._closed or remaining <= 0:
                    return ready
                self._cond.wait(remaining)

    def _confirm(self, offset: int | None) -> None:
        if not offset:
            return
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        else:
            self._pending = self._pending[offset:]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        """Drop what the bot did not ask for (Telegram never creates those), return the first `limit`."""
        self._pending = [u for u in self._pending if self._wanted(update_type(u))]
        return [dict(update) for update in self._pending[:limit]]

    def _wanted(self, kind: str) -> bool:
        if self._allowed is None:
            return kind not in OPT_IN_UPDATE_TYPES
        return kind in self._allowed
