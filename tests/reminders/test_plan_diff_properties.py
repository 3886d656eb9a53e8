"""Properties of diff_plan, the pure core of re-planning: any chats, settings, countdowns and outbox rows.

The chats and their outbox rows are drawn at random (the rows mostly from the chats' own plan, moved,
in every status, plus rows the plan no longer wants); the shipped catalog gives the events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalog.load import Catalog
from bot.reminders.planner import (
    DEFAULT_HORIZON_DAYS,
    ChunkState,
    PlanDiff,
    Planner,
    StoredReminder,
    diff_plan,
)
from bot.reminders.tracks import Track
from bot.store import MAX_LEAD_DAYS, ChatSettings

SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
STATUSES = ("pending", "sending", "sent", "failed", "skipped", "withdrawn")
ZONES = ("UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe")
HOURS = ("09:00", "02:30", "00:00", "23:59")
QUIET = ((None, None), ("22:00", "07:00"), ("08:00", "10:00"))
# Weighted towards broad subscriptions: a narrow one matches no event in most windows.
MARKETS = ("*", "*", "*", "US", "DE", "EU", "UK", "ALL")
TOPICS = ("*", "*", "*", "fees", "compliance", "deposit", "program", "logistics")
NOWS = st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2027, 6, 1), timezones=st.just(dt.UTC))


def _chat_settings(chat_id: int) -> st.SearchStrategy[ChatSettings]:
    return st.builds(
        lambda zone, hour, quiet, leads, active: ChatSettings(
            chat_id, "private", None, "en", zone, hour, tuple(sorted(leads, reverse=True)), *quiet, active, ""
        ),
        st.sampled_from(ZONES),
        st.sampled_from(HOURS),
        st.sampled_from(QUIET),
        st.sets(st.one_of(st.integers(0, 7), st.integers(0, MAX_LEAD_DAYS)), min_size=1, max_size=3),
        st.sampled_from([True, True, True, False]),  # mostly active
    )


def _applied(state: ChunkState, diff: PlanDiff) -> ChunkState:
    """The chunk as the store holds it after the diff is written (as _write_plan writes it)."""
    rows = {row.id: row for row in state.reminders}
    for update in diff.moves:
        rows[update.id] = rows[update.id]._replace(due_at=update.due_at, payload=update.payload)
    for update in diff.revivals:
        rows[update.id] = rows[update.id]._replace(
            due_at=update.due_at, payload=update.payload, status="pending"
        )
    for row_id in diff.withdrawals:
        rows[row_id] = rows[row_id]._replace(status="withdrawn")
    next_id = max(rows, default=0) + 1
    for index, new in enumerate(diff.inserts):
        rows[next_id + index] = StoredReminder(
            next_id + index, new.chat_id, new.kind, new.key, new.lead, new.due_at, new.payload, "pending"
        )
    return ChunkState(state.chats, state.subscriptions, state.tracks, state.dismissed, tuple(rows.values()))


def _wanted(planner: Planner, state: ChunkState) -> Iterator[tuple[int, tuple[str, str, int], str]]:
    """(chat, identity, due) of every row the plan wants, dismissed keys left out."""
    for chat_id, chat in state.chats.items():
        subscriptions = state.subscriptions.get(chat_id, ())
        for kind, key, lead, due, _, _ in planner.rows(chat, subscriptions, state.tracks.get(chat_id, ())):
            if (chat_id, key) not in state.dismissed:
                yield chat_id, (kind, key, lead), due


@st.composite
def chunks(draw: st.DrawFn, catalog: Catalog) -> tuple[Planner, ChunkState]:
    now = draw(NOWS)
    window = draw(st.sampled_from([None, None, 35, 35, 7, 0]))
    planner = Planner(catalog, now, draw(st.sampled_from([400, 400, 30, 0])), window)
    chat_ids = draw(st.sets(st.integers(1, 6), min_size=1, max_size=4))
    chats = {chat_id: draw(_chat_settings(chat_id)) for chat_id in sorted(chat_ids)}
    subscription = st.tuples(
        st.sampled_from(["amazon", "amazon", *sorted(catalog.platforms)]),
        st.sampled_from(MARKETS),
        st.sampled_from(TOPICS),
    )
    subscriptions = {
        chat_id: tuple(sorted(draw(st.sets(subscription, min_size=1, max_size=3)))) for chat_id in chats
    }
    track_ids = iter(range(1, 100))
    tracks = {
        chat_id: tuple(
            Track(next(track_ids), chat_id, "some-rule", "days", deadline - dt.timedelta(days=30), deadline)
            for deadline in draw(
                st.lists(
                    st.dates(now.date() - dt.timedelta(days=10), now.date() + dt.timedelta(days=90)),
                    max_size=2,
                )
            )
        )
        for chat_id in chats
    }
    wanted = [
        (chat_id, kind, key, lead, due, payload)
        for chat_id, chat in chats.items()
        for kind, key, lead, due, _, payload in planner.rows(chat, subscriptions[chat_id], tracks[chat_id])
    ]
    # Outbox rows: some of the plan (moved or not, in any status), some the plan does not want (a chat
    # that is gone, a key no event has, a lead the chat no longer uses), at most one per identity.
    rows: dict[tuple[int, str, str, int], StoredReminder] = {}
    for chat_id, kind, key, lead, due, payload in (
        draw(st.lists(st.sampled_from(wanted), max_size=12)) if wanted else []
    ):
        stored_due = draw(st.sampled_from([due, "2024-01-01T00:00:00+00:00", "2030-01-01T00:00:00+00:00"]))
        rows[(chat_id, kind, key, lead)] = StoredReminder(
            0, chat_id, kind, key, lead, stored_due, payload, draw(st.sampled_from(STATUSES))
        )
    stale = st.tuples(
        st.integers(1, 8),
        st.sampled_from(["reminder", "track"]),
        st.sampled_from(["gone/effective/2025-01-01", "track:999"]),
        st.integers(0, 10),
        st.sampled_from(STATUSES),
        st.sampled_from(["2024-06-01T09:00:00+00:00", "2031-06-01T09:00:00+00:00"]),
    )
    for chat_id, kind, key, lead, status, due in draw(st.lists(stale, max_size=4)):
        rows[(chat_id, kind, key, lead)] = StoredReminder(0, chat_id, kind, key, lead, due, "{}", status)
    reminders = tuple(row._replace(id=index) for index, row in enumerate(rows.values(), start=1))
    keys = sorted({(row.chat_id, row.key) for row in reminders} | {(w[0], w[2]) for w in wanted})
    dismissed = frozenset(draw(st.sets(st.sampled_from(keys), max_size=3)) if keys else ())
    return planner, ChunkState(chats, subscriptions, tracks, dismissed, reminders)


@SETTINGS
@given(data=st.data())
def test_planning_twice_changes_nothing_the_second_time(catalog: Catalog, data: st.DataObject) -> None:
    planner, state = data.draw(chunks(catalog))
    after = _applied(state, diff_plan(planner, state))
    assert diff_plan(planner, after) == PlanDiff((), (), (), ())


@SETTINGS
@given(data=st.data())
def test_nothing_is_planned_before_now_or_after_the_window(catalog: Catalog, data: st.DataObject) -> None:
    drawn, state = data.draw(chunks(catalog))
    now = dt.datetime.fromisoformat(drawn.now_iso)
    window = data.draw(st.sampled_from([None, 0, 1, 7, 35]))
    diff = diff_plan(Planner(catalog, now, DEFAULT_HORIZON_DAYS, window), state)
    window_end = None if window is None else (now + dt.timedelta(days=window)).isoformat()
    for due in [row.due_at for row in (*diff.inserts, *diff.moves, *diff.revivals)]:
        assert due > drawn.now_iso
        assert window_end is None or due <= window_end


@SETTINGS
@given(data=st.data())
def test_keys_stay_unique_and_only_pending_or_withdrawn_rows_are_touched(
    catalog: Catalog, data: st.DataObject
) -> None:
    planner, state = data.draw(chunks(catalog))
    diff = diff_plan(planner, state)
    status = {row.id: row.status for row in state.reminders}
    assert {status[update.id] for update in diff.moves} <= {"pending"}
    assert {status[update.id] for update in diff.revivals} <= {"withdrawn"}
    assert {status[row_id] for row_id in diff.withdrawals} <= {"pending"}
    touched = [update.id for update in (*diff.moves, *diff.revivals)] + list(diff.withdrawals)
    assert len(touched) == len(set(touched))
    identities = [(row.chat_id, row.kind, row.key, row.lead) for row in _applied(state, diff).reminders]
    assert len(identities) == len(set(identities))
    for new in diff.inserts:
        assert (new.chat_id, new.key) not in state.dismissed


@SETTINGS
@given(data=st.data())
def test_after_the_diff_the_pending_rows_ahead_are_exactly_the_plan(
    catalog: Catalog, data: st.DataObject
) -> None:
    planner, state = data.draw(chunks(catalog))
    before = {(row.chat_id, row.kind, row.key, row.lead): row.status for row in state.reminders}
    after = _applied(state, diff_plan(planner, state))
    pending_ahead = {
        (row.chat_id, row.kind, row.key, row.lead): row.due_at
        for row in after.reminders
        if row.status == "pending" and row.due_at > planner.now_iso
    }
    # A wanted row already sent, sending, failed or skipped stays as it is: it is not planned again.
    settled = {identity for identity, status in before.items() if status not in ("pending", "withdrawn")}
    wanted = {
        (chat_id, *identity): due
        for chat_id, identity, due in _wanted(planner, state)
        if (chat_id, *identity) not in settled
    }
    assert pending_ahead == wanted
    # Dismissed keys have nothing pending (a late row included).
    assert not [
        row
        for row in after.reminders
        if row.status == "pending" and (row.chat_id, row.key) in state.dismissed
    ]
