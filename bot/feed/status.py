"""What `policybot catalog status`, /metrics and /healthz say about the feed's catalog."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.feed.records import FeedRecords
from bot.store import Store

__all__ = ["FeedStatus", "feed_status"]


@dataclass(frozen=True)
class FeedStatus:
    version: int | None  # None: the catalog shipped with the package
    created: dt.datetime | None
    expires: dt.datetime | None
    source: str | None
    last_check: str | None
    last_result: str | None
    failures: dict[str, int]
    now: dt.datetime

    @property
    def age_seconds(self) -> float | None:
        """Since the installed catalog was published (not installed): how stale the rules may be."""
        return None if self.created is None else (self.now - self.created).total_seconds()

    @property
    def expired(self) -> bool:
        return self.expires is not None and self.expires <= self.now

    def lines(self) -> list[str]:
        if self.version is None:
            installed = "installed: none from the feed (the catalog shipped with the package)"
        else:
            age = self.age_seconds or 0.0
            installed = (
                f"installed: version {self.version}, published {self.created:%Y-%m-%d %H:%M}Z "
                f"({age / 86400:.1f} days ago), expires {self.expires:%Y-%m-%d %H:%M}Z"
                + (" (EXPIRED)" if self.expired else "")
            )
        failures = ", ".join(f"{reason}={count}" for reason, count in self.failures.items()) or "none"
        return [
            installed,
            f"source: {self.source or '-'}",
            f"last check: {self.last_check or 'never'}",
            f"last result: {self.last_result or '-'}",
            f"failures: {failures}",
        ]


def feed_status(store: Store) -> FeedStatus:
    records = FeedRecords(store)
    current = records.current()
    return FeedStatus(
        version=current.version if current else None,
        created=current.created if current else None,
        expires=current.expires if current else None,
        source=current.source if current else None,
        last_check=records.get("last_check"),
        last_result=records.get("last_result"),
        failures=records.failures(),
        now=store.clock.now(),
    )
