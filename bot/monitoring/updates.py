"""Is the bot receiving updates? What the health check knows of getUpdates and setWebhook.

A running updater is not enough: a polling loop whose every getUpdates fails (a revoked token, Telegram
down, a proxy in the way) still runs and retries, and receives nothing. `UpdatesWatch` hears the outcome
of every request the bot makes (`record`, from the bot's rate limiter) and keeps what tells whether
updates come in: when getUpdates last answered, its last error, and whether a webhook was set up (then
Telegram posts the updates, and no getUpdates is expected).
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["UpdatesWatch"]


class UpdatesWatch:
    """getUpdates' last success and error, and the webhook's setup; `problem` is the health verdict."""

    def __init__(self, stale_after: float = 60.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if stale_after <= 0:
            raise ValueError("stale_after is in seconds, above 0")
        self.stale_after = stale_after
        self._clock = clock
        self.last_poll: float | None = None  # when a getUpdates last answered
        self.last_error: str | None = None  # getUpdates' last failure, kept until it answers again
        self.webhook = False  # setWebhook answered and polling has not started since

    def record(self, endpoint: str, error: BaseException | None) -> None:
        """One request's outcome (None: answered); only getUpdates, setWebhook and deleteWebhook matter."""
        if endpoint == "getUpdates":
            if error is None:
                self.last_poll, self.last_error, self.webhook = self._clock(), None, False
            else:
                self.last_error = f"{type(error).__name__}: {error}"
        elif endpoint == "setWebhook" and error is None:
            self.webhook = True
        elif endpoint == "deleteWebhook" and error is None:
            self.webhook = False  # polling starts by deleting the webhook

    def problem(self) -> str | None:
        """None when updates come in (webhook set up, or a getUpdates answered lately), else why not."""
        if self.webhook:
            return None
        failing = f" (last error: {self.last_error})" if self.last_error else ""
        if self.last_poll is None:
            return "no getUpdates has succeeded yet" + failing
        age = self._clock() - self.last_poll
        if age > self.stale_after:
            return f"no successful getUpdates for {age:.0f} s" + failing
        return None
