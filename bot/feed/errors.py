"""The feed's errors: every refusal names its reason, one short word for the metrics and the audit."""

from __future__ import annotations

from bot.errors import PolicyBotError

__all__ = ["FeedError", "Refused"]


class FeedError(PolicyBotError):
    """Something about the catalog feed went wrong (publishing, keys or a pull)."""


class Refused(FeedError):
    """A pull refused what the feed offered; the last good catalog stays. `reason` is the metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
