"""A bug in the answers core (#15): logged with its traceback, counted in the metrics, and the user gets a
short apology in their language: never silence, never a traceback.

The bug is a real one, not a planted mock: a caller hands the core a chat context without today's date
(a wrong type that strict typing would catch in bot/, but a caller outside it may still pass), and the
core fails deep inside while comparing dates.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import POLICIES, context

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.i18n import t
from bot.monitoring.metrics import Metrics
from bot.reminders.changes import catalog_version
from bot.reminders.outbox import Outbox
from bot.store import Store


def store_metrics(store: Store, rules: Callable[[], int]) -> Metrics:
    """The metrics as build_application wires them to the outbox and the catalog history."""
    return Metrics(
        reminders=lambda: Outbox(store).counts_by_status().items(),
        late_reminders=lambda: Outbox(store).late_sent_count(),
        catalog_version=lambda: catalog_version(store),
        catalog_rules=rules,
        too_many_requests=lambda: 0,
    )


def answer_errors(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value("policybot_answer_errors_total")
    assert value is not None
    return value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_bug_is_logged_with_its_traceback_counted_and_apologised_for(
    lang: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path / "bot.db", clock=Clock())
    live = LiveCatalog(POLICIES)
    metrics = store_metrics(store, lambda: len(live.catalog.rules))
    live.on_bug = metrics.answer_errors.inc  # as build_application wires it
    broken = dataclasses.replace(context(lang), today=None)  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR, logger="bot.answers.core"):
        reply = live.answers.reply("/rule R-A1", broken)

    assert reply.html == t(lang, "internal_error")  # the apology, in the chat's language
    assert "Traceback" not in reply.html and "TypeError" not in reply.html
    [record] = [r for r in caplog.records if r.name == "bot.answers.core"]
    assert record.exc_info is not None and record.exc_info[0] is TypeError  # logged with its traceback
    assert "/rule R-A1" in record.getMessage()
    assert answer_errors(metrics) == 1
    assert b"policybot_answer_errors_total 1.0" in metrics.render()


def test_the_count_survives_a_reload_and_a_good_answer_counts_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "bot.db", clock=Clock())
    live = LiveCatalog(POLICIES)
    metrics = store_metrics(store, lambda: 0)
    live.on_bug = metrics.answer_errors.inc

    good = live.answers.reply("/rule R-A1", context("en"))
    assert good.html != t("en", "internal_error") and answer_errors(metrics) == 0
    user_error = live.answers.reply("/fees", context("en"))  # bad input: a usage line, not a bug
    assert user_error.html != t("en", "internal_error") and answer_errors(metrics) == 0

    assert live.reload() == []  # new Answers, same counter
    live.answers.reply("/upcoming", dataclasses.replace(context("zh"), today=None))  # type: ignore[arg-type]
    assert answer_errors(metrics) == 1
