"""The bot's metrics in the Prometheus text format (prometheus-client), in a registry of their own.

Counters of what happened in this process (updates, replies, watcher checks) live here; what SQLite
already knows (reminders by status, the catalog's version) is asked of the package that owns it at each
scrape (the wiring in tg/ passes those functions), so it is right after a restart too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.feed import FeedStatus

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Counters the bot increments, and collectors that read the store when scraped."""

    def __init__(
        self,
        *,
        reminders: Callable[[], Iterable[tuple[str, int]]],
        late_reminders: Callable[[], int],
        catalog_version: Callable[[], int],
        catalog_rules: Callable[[], int],
        too_many_requests: Callable[[], int],
    ) -> None:
        """Each callable is asked at a scrape, of the package that owns the figure: `reminders` gives the
        outbox's rows by the statuses an operator watches, `late_reminders` those sent late,
        `catalog_version` the rule versions recorded."""
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter(
            "policybot_updates_handled", "Telegram updates received and handled", registry=self.registry
        )
        self.replies_sent = Counter(
            "policybot_replies_sent", "Messages sent or edited in answer to users", registry=self.registry
        )
        self.replies_failed = Counter(
            "policybot_replies_failed",
            "Answers to users that failed after their retries (recorded in the audit log)",
            registry=self.registry,
        )
        self.answer_errors = Counter(
            "policybot_answer_errors",
            "Unexpected errors (bugs) while answering; each is logged with its traceback",
            registry=self.registry,
        )
        self.watch_checks = Counter(
            "policybot_watch_checks", "Official pages checked by the watcher", registry=self.registry
        )
        self.watch_changes = Counter(
            "policybot_watch_changes", "Official pages found changed", registry=self.registry
        )
        self.watch_failures = Counter(
            "policybot_watch_failures", "Official page checks that failed", registry=self.registry
        )
        # The catalog feed's figures (issue #19); None while the bot has no [catalog] feed.
        self.catalog_feed: Callable[[], FeedStatus | None] = lambda: None
        self.registry.register(
            _OwnersCollector(reminders, late_reminders, catalog_version, catalog_rules, too_many_requests)
        )
        self.registry.register(_FeedCollector(lambda: self.catalog_feed()))

    def watch_result(self, status: str) -> None:
        """One page check's outcome (bot/watch/watcher.py's CheckResult.status)."""
        self.watch_checks.inc()
        if status == "changed":
            self.watch_changes.inc()
        elif status == "failed":
            self.watch_failures.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _OwnersCollector(Collector):
    """Reminders by status, late ones, 429s and the catalog's version, asked of their owners when scraped."""

    def __init__(
        self,
        reminders: Callable[[], Iterable[tuple[str, int]]],
        late_reminders: Callable[[], int],
        catalog_version: Callable[[], int],
        catalog_rules: Callable[[], int],
        too_many_requests: Callable[[], int],
    ) -> None:
        self.reminders = reminders
        self.late_reminders = late_reminders
        self.catalog_version = catalog_version
        self.catalog_rules = catalog_rules
        self.too_many_requests = too_many_requests

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # described when collected: the store is read only at a scrape

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        reminders = GaugeMetricFamily(
            "policybot_reminders", "Outbox messages (reminders and alerts) by status", labels=["status"]
        )
        for status, count in self.reminders():
            reminders.add_metric([str(status)], int(count))
        yield reminders
        yield GaugeMetricFamily(
            "policybot_reminders_late",
            "Reminders sent marked late (due while the bot was down)",
            value=self.late_reminders(),
        )
        yield CounterMetricFamily(
            "policybot_telegram_429",
            "Flood-control answers (429) from Telegram since the start",
            value=self.too_many_requests(),
        )
        # Every recorded change of a rule adds a version: the sum moves whenever the catalog changes.
        yield GaugeMetricFamily(
            "policybot_catalog_rule_versions",
            "Rule versions recorded from the policy files",
            value=self.catalog_version(),
        )
        yield GaugeMetricFamily(
            "policybot_catalog_rules", "Rules in the live catalog", value=self.catalog_rules()
        )


class _FeedCollector(Collector):
    """The installed feed catalog's version and age, and the pulls refused by reason (from SQLite, so a
    `policybot catalog pull` run from cron counts too)."""

    def __init__(self, status: Callable[[], FeedStatus | None]) -> None:
        self.status = status

    def describe(self) -> list[GaugeMetricFamily]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        status = self.status()
        if status is None:
            return
        yield GaugeMetricFamily(
            "policybot_catalog_version",
            "Version of the catalog installed from the signed feed (0: the shipped one)",
            value=status.version or 0,
        )
        if status.age_seconds is not None:
            yield GaugeMetricFamily(
                "policybot_catalog_age_seconds",
                "Seconds since the installed feed catalog was published",
                value=status.age_seconds,
            )
        failures = CounterMetricFamily(
            "policybot_catalog_update_failures",
            "Catalog feed pulls refused or failed, by reason (the last good catalog was kept)",
            labels=["reason"],
        )
        for reason, count in status.failures.items():
            failures.add_metric([reason], count)
        yield failures
