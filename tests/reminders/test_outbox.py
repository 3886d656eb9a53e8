"""The outbox on a real SQLite file: unique keys, re-planning, claiming, crash recovery, retries."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.reminders.outbox import Outbox, Planned
from bot.store import Store

NOW = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
CHAT = 42


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def store(store: Store) -> Store:
    store.ensure_chat(CHAT, "private", None, "en")
    return store


def planned(key: str, lead: int = 0, due: dt.datetime = NOW, day: dt.date | None = None) -> Planned:
    return Planned(CHAT, "reminder", key, lead, due, day or NOW.date() + dt.timedelta(days=lead), {"k": key})


def test_replan_adds_once_moves_and_withdraws(store: Store) -> None:
    outbox = Outbox(store)
    first = outbox.replace_plan([CHAT], [planned("a/e/2026-12-01", 7), planned("b/e/2026-12-02", 1)])
    assert (first.added, first.moved, first.withdrawn) == (2, 0, 0)
    again = outbox.replace_plan([CHAT], [planned("a/e/2026-12-01", 7), planned("b/e/2026-12-02", 1)])
    assert (again.added, again.moved, again.withdrawn) == (0, 0, 0)
    later = NOW + dt.timedelta(hours=3)
    moved = outbox.replace_plan([CHAT], [planned("a/e/2026-12-01", 7, later)])
    assert (moved.added, moved.moved, moved.withdrawn) == (0, 1, 1)
    assert outbox.counts() == {"pending": 1, "withdrawn": 1}
    assert outbox.pending_for_chat(CHAT)[0].due_at == later


def test_sent_rows_are_never_sent_again_by_a_replan(store: Store) -> None:
    outbox = Outbox(store)
    outbox.replace_plan([CHAT], [planned("a/e/2026-11-26", 1)])
    [claimed] = outbox.claim_due()
    outbox.mark_sent([claimed.id], message_id=9)
    result = outbox.replace_plan([CHAT], [planned("a/e/2026-11-26", 1)])
    assert (result.added, result.moved) == (0, 0)
    assert outbox.claim_due() == []


def test_claim_recover_and_retry(store: Store) -> None:
    outbox = Outbox(store)
    outbox.replace_plan([CHAT], [planned("a/e/2026-11-26", 1), planned("b/e/2026-11-27", 2)])
    claimed = outbox.claim_due()
    assert [d.status for d in claimed] == ["sending", "sending"]
    assert outbox.claim_due() == []  # claimed rows are not claimed twice
    assert outbox.recover_in_flight() == 2  # the process died with both in flight
    again = outbox.claim_due()
    assert len(again) == 2 and again[0].attempts == 2
    outbox.retry_later([again[0].id], NOW + dt.timedelta(seconds=5), "429")
    outbox.mark_failed([again[1].id], "chat not found")
    assert outbox.counts() == {"pending": 1, "failed": 1}
    attempts = store.db.execute("SELECT status FROM delivery_attempts ORDER BY id").fetchall()
    assert [row[0] for row in attempts] == ["retry", "failed"]


def test_late_and_skipped_after_downtime(store: Store) -> None:
    outbox = Outbox(store)
    long_ago = NOW - dt.timedelta(days=3)
    outbox.replace_plan(
        [CHAT],
        [
            planned("past/e/2026-11-22", 0, long_ago, dt.date(2026, 11, 22)),  # its event has passed
            planned(
                "ahead/e/2026-12-01", 8, NOW - dt.timedelta(hours=2), dt.date(2026, 12, 1)
            ),  # still ahead
            planned("fresh/e/2026-12-01", 7, NOW - dt.timedelta(minutes=1), dt.date(2026, 12, 1)),
        ],
    )
    claimed = {d.key: d for d in outbox.claim_due()}
    assert set(claimed) == {"ahead/e/2026-12-01", "fresh/e/2026-12-01"}
    assert claimed["ahead/e/2026-12-01"].late and not claimed["fresh/e/2026-12-01"].late
    assert outbox.counts()["skipped"] == 1


def test_dismissed_events_are_not_planned_again(store: Store) -> None:
    outbox = Outbox(store)
    outbox.replace_plan([CHAT], [planned("a/e/2026-12-01", 7), planned("a/e/2026-12-01", 1)])
    assert outbox.dismiss(CHAT, "a/e/2026-12-01") == 2
    result = outbox.replace_plan([CHAT], [planned("a/e/2026-12-01", 7), planned("a/e/2026-12-01", 1)])
    assert result.added == 0
    assert outbox.pending_for_chat(CHAT) == []


def test_snooze_queues_a_copy_only_for_its_own_chat(store: Store) -> None:
    outbox = Outbox(store)
    outbox.replace_plan([CHAT], [planned("a/e/2026-12-01", 7)])
    [row] = outbox.claim_due()
    outbox.mark_sent([row.id], 5)
    assert not outbox.snooze(row.id, CHAT + 1, NOW + dt.timedelta(days=1))  # a forged button
    assert outbox.snooze(row.id, CHAT, NOW + dt.timedelta(days=1))
    [snoozed] = outbox.pending_for_chat(CHAT)
    assert snoozed.kind == "snooze" and snoozed.payload["snoozed"] is True


def test_alerts_are_queued_once(store: Store) -> None:
    outbox = Outbox(store)
    alert = Planned(CHAT, "alert", "change:1", 0, NOW, None, {"change_id": 1})
    assert outbox.enqueue([alert]) == 1
    assert outbox.enqueue([alert]) == 0
    assert outbox.replace_plan([CHAT], []).withdrawn == 0  # re-planning never touches alerts


def test_outbox_follows_a_migrated_group(store: Store) -> None:
    store.ensure_chat(-5, "group", "Team", "en")
    outbox = Outbox(store)
    outbox.enqueue([Planned(-5, "alert", "change:1", 0, NOW, None, {})])
    store.migrate_chat(-5, -1005)
    assert [d.chat_id for d in outbox.pending_for_chat(-1005)] == [-1005]


def test_times_must_be_aware(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Outbox(store).enqueue([Planned(CHAT, "alert", "x", 0, NOW.replace(tzinfo=None), None, {})])


def test_migration_into_a_chat_that_has_the_same_rows_keeps_attempt_history_consistent(store: Store) -> None:
    store.ensure_chat(-5, "group", "Team", "en")
    store.ensure_chat(-1005, "supergroup", "Team", "en")
    outbox = Outbox(store)
    outbox.enqueue([Planned(chat, "alert", "change:1", 0, NOW, None, {}) for chat in (-5, -1005)])
    claimed = outbox.claim_due()
    outbox.retry_later([d.id for d in claimed], NOW, "500")  # both rows now have attempts
    store.migrate_chat(-5, -1005)  # must not trip the attempts' foreign key
    assert [d.chat_id for d in outbox.pending_for_chat(-1005)] == [-1005]
    assert outbox.pending_for_chat(-5) == []
