"""The bot's metrics in the Prometheus text format (prometheus-client), in a registry of their own.

Counters of what happened in this process (updates, replies, watcher checks) live here; what SQLite
already knows (reminders by status, the catalog's version) is read from the store at each scrape, so it
is right after a restart too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.store import Store

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The reminder statuses an operator watches; the outbox has a few more (withdrawn, dismissed...).
REMINDER_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class Metrics:
    """Counters the bot increments, and collectors that read the store when scraped."""

    def __init__(
        self,
        store: Store,
        *,
        catalog_rules: Callable[[], int],
        too_many_requests: Callable[[], int],
    ) -> None:
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
        self.registry.register(_StoreCollector(store, catalog_rules, too_many_requests))

    def watch_result(self, status: str) -> None:
        """One page check's outcome (bot/watch/watcher.py's CheckResult.status)."""
        self.watch_checks.inc()
        if status == "changed":
            self.watch_changes.inc()
        elif status == "failed":
            self.watch_failures.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StoreCollector(Collector):
    """Reminders by status, late ones, 429s and the catalog's version, read when scraped."""

    def __init__(
        self, store: Store, catalog_rules: Callable[[], int], too_many_requests: Callable[[], int]
    ) -> None:
        self.store = store
        self.catalog_rules = catalog_rules
        self.too_many_requests = too_many_requests

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # described when collected: the store is read only at a scrape

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        db = self.store.db
        counts = dict(db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall())
        reminders = GaugeMetricFamily(
            "policybot_reminders", "Outbox messages (reminders and alerts) by status", labels=["status"]
        )
        for status in REMINDER_STATUSES:
            reminders.add_metric([status], int(counts.get(status, 0)))
        yield reminders
        late = db.execute("SELECT count(*) FROM deliveries WHERE status = 'sent' AND late = 1").fetchone()[0]
        yield GaugeMetricFamily(
            "policybot_reminders_late", "Reminders sent marked late (due while the bot was down)", value=late
        )
        yield CounterMetricFamily(
            "policybot_telegram_429",
            "Flood-control answers (429) from Telegram since the start",
            value=self.too_many_requests(),
        )
        # Every recorded change of a rule adds a version: the sum moves whenever the catalog changes.
        version = db.execute("SELECT coalesce(sum(version), 0) FROM catalog_rules").fetchone()[0]
        yield GaugeMetricFamily(
            "policybot_catalog_version", "Rule versions recorded from the policy files", value=version
        )
        yield GaugeMetricFamily(
            "policybot_catalog_rules", "Rules in the live catalog", value=self.catalog_rules()
        )
