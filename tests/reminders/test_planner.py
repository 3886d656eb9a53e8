"""Planning reminders on real SQLite files: due times (DST, quiet hours), what is planned, re-planning."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.catalog.load import Catalog, load_catalog
from bot.clock import Clock
from bot.reminders.outbox import Outbox
from bot.reminders.planner import (
    PLANNING_WINDOW_DAYS,
    plan_all,
    plan_chat,
    reminder_due_at,
    subscription_matches,
)
from bot.reminders.tracks import add_track, list_tracks, remove_track
from bot.store import ChatSettings, Store, Subscription

UTC = dt.UTC
NOW = dt.datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
CHAT, OTHER = 42, 43

HEADER = """
platform = "demo"
name = {{ en = "Demo", zh = "示例" }}
time_zone = "America/Los_Angeles"
marketplace_zones = {{ US = "America/Los_Angeles", DE = "Europe/Berlin" }}

[[rules]]
id = "demo-us-fee"
marketplaces = ["US"]
topic = "fees"
title = {{ en = "Demo fee", zh = "示例费用" }}
summary = {{ en = "A demo fee.", zh = "示例费用。" }}
confidence = "high"
sources = [{{ url = "https://example.com/fee", says = "fee", confidence = "high" }}]

[[rules.events]]
id = "announced"
kind = "announced"
date = 2026-02-01
label = {{ en = "Fee announced", zh = "费用公布" }}

[[rules.events]]
id = "effective"
kind = "effective"
date = {effective}
label = {{ en = "Fee takes effect", zh = "费用生效" }}

[[rules.events]]
id = "soon"
kind = "deadline"
date = 2026-01-15
label = {{ en = "Soon", zh = "很快" }}

[[rules]]
id = "demo-certification"
marketplaces = ["ALL"]
topic = "verification"
title = {{ en = "Yearly certification", zh = "年度认证" }}
summary = {{ en = "Certify every year.", zh = "每年认证。" }}
confidence = "high"
sources = [{{ url = "https://example.com/cert", says = "cert", confidence = "high" }}]

[[rules.events]]
id = "certify"
kind = "deadline"
date = 2024-01-20
recurrence = "yearly"
label = {{ en = "Certify", zh = "认证" }}

[[rules]]
id = "demo-de-deposit"
marketplaces = ["DE"]
topic = "deposit"
title = {{ en = "DE deposit", zh = "德国保证金" }}
summary = {{ en = "A deposit.", zh = "保证金。" }}
confidence = "high"
sources = [{{ url = "https://example.com/dep", says = "dep", confidence = "high" }}]

[[rules.events]]
id = "due"
kind = "deadline"
date = 2026-02-10
label = {{ en = "Deposit due", zh = "保证金到期" }}

[[rules]]
id = "demo-old"
marketplaces = ["US"]
topic = "fees"
title = {{ en = "Old fee", zh = "旧费用" }}
summary = {{ en = "Replaced.", zh = "已替换。" }}
confidence = "high"
superseded_by = "demo-us-fee"
sources = [{{ url = "https://example.com/old", says = "old", confidence = "high" }}]

[[rules.events]]
id = "effective"
kind = "effective"
date = 2026-02-05
label = {{ en = "Old fee takes effect", zh = "旧费用生效" }}

[[rules]]
id = "demo-inform"
marketplaces = ["US"]
topic = "verification"
title = {{ en = "Verification", zh = "验证" }}
summary = {{ en = "Answer within the days.", zh = "按期回复。" }}
confidence = "high"
calculator = "inform"
sources = [{{ url = "https://example.com/inf", says = "inf", confidence = "high" }}]
numbers = [
  {{ id = "high-volume-units", value = 200, unit = "units", label = {{ en = "u", zh = "u" }} }},
  {{ id = "high-volume-revenue", value = 5000, unit = "USD", label = {{ en = "r", zh = "r" }} }},
  {{ id = "disclosure-revenue", value = 20000, unit = "USD", label = {{ en = "d", zh = "d" }} }},
  {{ id = "response-days", value = {response_days}, unit = "days", label = {{ en = "Days", zh = "天数" }} }},
]
"""


def demo_catalog(folder: Path, effective: str = "2026-02-20", response_days: int = 10) -> Catalog:
    folder.mkdir(parents=True, exist_ok=True)
    text = HEADER.format(effective=effective, response_days=response_days)
    (folder / "demo.toml").write_text(text, encoding="utf-8")
    return load_catalog(folder)


def settings(
    zone: str = "UTC",
    hour: str = "09:00",
    quiet: tuple[str | None, str | None] = (None, None),
    lead_days: tuple[int, ...] = (0,),
    *,
    active: bool = True,
    chat_id: int = CHAT,
) -> ChatSettings:
    return ChatSettings(chat_id, "private", None, "en", zone, hour, lead_days, quiet[0], quiet[1], active, "")


def at(zone_hour: str) -> dt.datetime:
    return dt.datetime.fromisoformat(zone_hour)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return demo_catalog(tmp_path / "policies")


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def store(store: Store) -> Store:
    for chat_id in (CHAT, OTHER):
        store.ensure_chat(chat_id, "private", None, "en")
        store.subscribe(chat_id, [Subscription("demo", "US", "*")])
    return store


def pending(store: Store, chat_id: int = CHAT) -> dict[tuple[str, str, int], str]:
    rows = store.db.execute(
        "SELECT kind, key, lead, due_at FROM deliveries WHERE chat_id = ? AND status = 'pending'", [chat_id]
    ).fetchall()
    return {(kind, key, lead): due for kind, key, lead, due in rows}


def statuses(store: Store) -> dict[str, int]:
    return Outbox(store).counts()


# --- due times ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "hour", "expected"),
    [
        # Los Angeles springs forward at 02:00 on 2026-03-08: 02:30 does not exist, 03:00 PDT is next.
        ("America/Los_Angeles", "2026-03-07", "09:00", "2026-03-07T17:00:00+00:00"),  # PST, UTC-8
        ("America/Los_Angeles", "2026-03-08", "09:00", "2026-03-08T16:00:00+00:00"),  # PDT, UTC-7
        ("America/Los_Angeles", "2026-03-08", "02:30", "2026-03-08T10:00:00+00:00"),  # = 03:00 PDT
        ("America/Los_Angeles", "2026-03-08", "01:59", "2026-03-08T09:59:00+00:00"),  # just before the gap
        ("America/Los_Angeles", "2026-03-08", "03:00", "2026-03-08T10:00:00+00:00"),  # the gap's end itself
        # ... and falls back at 02:00 on 2026-11-01: 01:30 happens twice, the first (PDT) is taken.
        ("America/Los_Angeles", "2026-11-01", "01:30", "2026-11-01T08:30:00+00:00"),
        ("America/Los_Angeles", "2026-11-01", "09:00", "2026-11-01T17:00:00+00:00"),  # PST again
        # Berlin springs forward at 02:00 on 2026-03-29 and falls back at 03:00 on 2026-10-25.
        ("Europe/Berlin", "2026-03-29", "02:30", "2026-03-29T01:00:00+00:00"),  # = 03:00 CEST
        ("Europe/Berlin", "2026-03-29", "09:00", "2026-03-29T07:00:00+00:00"),
        ("Europe/Berlin", "2026-10-25", "02:30", "2026-10-25T00:30:00+00:00"),  # first 02:30, CEST
        ("Europe/Berlin", "2026-10-25", "09:00", "2026-10-25T08:00:00+00:00"),  # CET
    ],
)
def test_due_times_on_dst_change_days(zone: str, day: str, hour: str, expected: str) -> None:
    due = reminder_due_at(dt.date.fromisoformat(day), 0, settings(zone, hour))
    assert due == at(expected)
    assert due.tzinfo is not None and due.utcoffset() == dt.timedelta(0)


def test_lead_days_count_back_in_local_days_across_a_dst_change() -> None:
    chat = settings("America/Los_Angeles", "09:00")
    event = dt.date(2026, 3, 10)
    assert reminder_due_at(event, 0, chat) == at("2026-03-10T16:00:00+00:00")  # PDT
    assert reminder_due_at(event, 7, chat) == at("2026-03-03T17:00:00+00:00")  # PST: same local hour
    assert reminder_due_at(event, 30, chat) == at("2026-02-08T17:00:00+00:00")


@pytest.mark.parametrize(
    ("hour", "quiet", "expected"),
    [
        ("12:30", ("12:00", "14:00"), "2026-05-01T14:00:00+08:00"),  # inside: to the end
        ("12:00", ("12:00", "14:00"), "2026-05-01T14:00:00+08:00"),  # the start is quiet
        ("14:00", ("12:00", "14:00"), "2026-05-01T14:00:00+08:00"),  # the end is not: unchanged
        ("11:59", ("12:00", "14:00"), "2026-05-01T11:59:00+08:00"),
        ("23:00", ("22:00", "07:00"), "2026-05-02T07:00:00+08:00"),  # wraps: next morning
        ("06:00", ("22:00", "07:00"), "2026-05-01T07:00:00+08:00"),  # after midnight: same morning
        ("07:00", ("22:00", "07:00"), "2026-05-01T07:00:00+08:00"),
        ("21:59", ("22:00", "07:00"), "2026-05-01T21:59:00+08:00"),
        ("00:00", ("00:00", "06:00"), "2026-05-01T06:00:00+08:00"),
    ],
)
def test_a_reminder_hour_inside_quiet_hours_moves_to_their_end(
    hour: str, quiet: tuple[str, str], expected: str
) -> None:
    due = reminder_due_at(dt.date(2026, 5, 1), 0, settings("Asia/Shanghai", hour, quiet))
    assert due == at(expected)


def test_quiet_hours_and_a_dst_gap_together() -> None:
    day = dt.date(2026, 3, 8)
    zone = "America/Los_Angeles"
    # 02:30 does not exist; its replacement, 03:00, is inside quiet hours that end at 03:30.
    assert reminder_due_at(day, 0, settings(zone, "02:30", ("22:00", "03:30"))) == at(
        "2026-03-08T03:30:00-07:00"
    )
    # Quiet hours ending at 03:00 (exclusive) leave 03:00 alone.
    assert reminder_due_at(day, 0, settings(zone, "02:30", ("01:00", "03:00"))) == at(
        "2026-03-08T03:00:00-07:00"
    )
    # The evening before, quiet until 02:30: the next morning's 02:30 does not exist either.
    assert reminder_due_at(day, 1, settings(zone, "23:00", ("22:00", "02:30"))) == at(
        "2026-03-08T03:00:00-07:00"
    )


def test_subscription_matching() -> None:
    assert subscription_matches(Subscription("demo", "US", "fees"), "demo", ["US"], "fees")
    assert subscription_matches(Subscription("demo", "*", "*"), "demo", ["DE"], "deposit")
    assert subscription_matches(Subscription("demo", "US", "*"), "demo", ["ALL"], "verification")
    assert not subscription_matches(Subscription("demo", "US", "*"), "demo", ["DE"], "fees")
    assert not subscription_matches(Subscription("demo", "US", "fees"), "demo", ["US"], "deposit")
    assert not subscription_matches(Subscription("other", "*", "*"), "demo", ["US"], "fees")


# --- what a chat gets --------------------------------------------------------------------------------


def test_plan_chat_covers_matching_events_at_each_lead(catalog: Catalog) -> None:
    chat = settings("UTC", "09:00", lead_days=(30, 7, 1, 0))
    planned = plan_chat(catalog, chat, [Subscription("demo", "US", "*")], [], NOW)
    keys = {(p.key, p.lead) for p in planned}
    # 2026-01-15 is 5 days ahead: the 30- and 7-day reminders are already past and not planned.
    assert {lead for key, lead in keys if key == "demo-us-fee/soon/2026-01-15"} == {1, 0}
    assert {lead for key, lead in keys if key == "demo-us-fee/effective/2026-02-20"} == {30, 7, 1, 0}
    # The yearly event, twice within the horizon; the rule for ALL marketplaces matches "US".
    assert {key for key, _ in keys if key.startswith("demo-certification/")} == {
        "demo-certification/certify/2026-01-20",
        "demo-certification/certify/2027-01-20",
    }
    # Not planned: the announcement (history), the superseded rule, the DE rule.
    assert not any("announced" in key or key.startswith(("demo-old/", "demo-de-")) for key, _ in keys)
    effective = next(p for p in planned if p.key == "demo-us-fee/effective/2026-02-20" and p.lead == 7)
    assert effective.kind == "reminder"
    assert effective.due_at == at("2026-02-13T09:00:00+00:00")
    assert effective.event_date == dt.date(2026, 2, 20)
    assert effective.payload == {"rule_id": "demo-us-fee", "event_id": "effective", "date": "2026-02-20"}
    assert [p.due_at for p in planned] == sorted(p.due_at for p in planned)


def test_plan_chat_topics_marketplaces_horizon_and_inactive(catalog: Catalog) -> None:
    chat = settings(lead_days=(0,))
    fees_only = plan_chat(catalog, chat, [Subscription("demo", "US", "fees")], [], NOW)
    assert {p.key for p in fees_only} == {"demo-us-fee/soon/2026-01-15", "demo-us-fee/effective/2026-02-20"}
    everything = plan_chat(catalog, chat, [Subscription("demo", "*", "*")], [], NOW)
    assert "demo-de-deposit/due/2026-02-10" in {p.key for p in everything}
    short = plan_chat(catalog, chat, [Subscription("demo", "*", "*")], [], NOW, horizon_days=6)
    assert {p.key for p in short} == {"demo-us-fee/soon/2026-01-15"}
    assert plan_chat(catalog, settings(active=False), [Subscription("demo", "*", "*")], [], NOW) == []
    assert plan_chat(catalog, chat, [], [], NOW) == []


def test_two_subscriptions_matching_one_rule_plan_it_once(catalog: Catalog) -> None:
    subscriptions = [Subscription("demo", "US", "*"), Subscription("demo", "*", "fees")]
    planned = plan_chat(catalog, settings(), subscriptions, [], NOW)
    identities = [(p.key, p.lead) for p in planned]
    assert len(identities) == len(set(identities))


def test_the_chats_today_is_in_its_own_zone(catalog: Catalog) -> None:
    # 2026-01-14 23:30 UTC is already the 15th in Shanghai: the event on the 15th is today there.
    now = at("2026-01-14T23:30:00+00:00")
    shanghai = plan_chat(
        catalog, settings("Asia/Shanghai", "09:00"), [Subscription("demo", "US", "*")], [], now
    )
    assert any(p.key == "demo-us-fee/soon/2026-01-15" for p in shanghai)  # 09:00 local is still ahead
    la = plan_chat(
        catalog, settings("America/Los_Angeles", "09:00"), [Subscription("demo", "US", "*")], [], now
    )
    assert any(p.key == "demo-us-fee/soon/2026-01-15" for p in la)


# --- writing the plan ------------------------------------------------------------------------------


def test_plan_all_writes_what_plan_chat_plans_and_a_second_run_adds_nothing(
    store: Store, catalog: Catalog
) -> None:
    first = plan_all(store, catalog)
    assert first.added > 0 and (first.moved, first.withdrawn) == (0, 0)
    settings_now = store.chat(CHAT)
    assert settings_now is not None
    expected = plan_chat(
        catalog, settings_now, store.subscriptions(CHAT), [], NOW, window_days=PLANNING_WINDOW_DAYS
    )
    assert pending(store) == {(p.kind, p.key, p.lead): p.due_at.isoformat() for p in expected}
    assert len(pending(store, OTHER)) == len(expected)
    again = plan_all(store, catalog)
    assert (again.added, again.moved, again.withdrawn) == (0, 0, 0)
    total = store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    assert total == first.added


def test_chunks_cover_every_chat_and_rows_of_chats_no_longer_known(tmp_path: Path, catalog: Catalog) -> None:
    results = []
    for chunk in (1, 2, 1000):
        store = Store(tmp_path / f"chunks-{chunk}.db", clock=Clock(NOW))
        for chat_id in (-1_000_000_000_005, -3, 1, 2, 5, 8, 13):
            store.ensure_chat(chat_id, "group" if chat_id < 0 else "private", None, "en")
            store.subscribe(chat_id, [Subscription("demo", "*", "*")])
        # A row left by a chat that is gone from the chats table (id below and above every known chat).
        for orphan in (-2_000_000_000_000, 99):
            store.db.execute(
                "INSERT INTO deliveries (chat_id, kind, key, lead, due_at, payload, status, created_at,"
                " updated_at) VALUES (?, 'reminder', 'x/y/2026-02-01', 0, '2026-02-01T09:00:00+00:00', '{}',"
                " 'pending', '', '')",
                [orphan],
            )
        store.db.conn.commit()
        result = plan_all(store, catalog, chunk_chats=chunk)
        assert result.withdrawn == 2
        rows = store.db.execute(
            "SELECT chat_id, kind, key, lead, due_at, status FROM deliveries ORDER BY chat_id, key, lead"
        ).fetchall()
        results.append(rows)
        assert plan_all(store, catalog, chunk_chats=chunk) == type(result)(0, 0, 0)
    assert results[0] == results[1] == results[2]
    assert {row[0] for row in results[0] if row[5] == "pending"} == {-1_000_000_000_005, -3, 1, 2, 5, 8, 13}
    with pytest.raises(ValueError):
        plan_all(store, catalog, chunk_chats=0)


def test_only_reminders_due_within_the_window_are_written_until_the_window_reaches_them(
    tmp_path: Path, store: Store, catalog: Catalog
) -> None:
    plan_all(store, catalog, window_days=10)
    assert ("reminder", "demo-us-fee/effective/2026-02-20", 0) not in pending(store)
    assert ("reminder", "demo-us-fee/soon/2026-01-15", 0) in pending(store)
    later = Store(tmp_path / "policybot.db", clock=Clock(at("2026-02-12T00:00:00+00:00")))
    result = plan_all(later, catalog, window_days=10)
    assert ("reminder", "demo-us-fee/effective/2026-02-20", 0) in pending(later)
    assert result.added > 0


def test_an_unsubscribed_chat_gets_nothing_more(store: Store, catalog: Catalog) -> None:
    plan_all(store, catalog)
    planned = len(pending(store))
    assert planned > 0
    store.unsubscribe(CHAT)
    result = plan_all(store, catalog)
    assert result.withdrawn == planned and result.added == 0
    assert pending(store) == {}
    assert pending(store, OTHER)  # the other chat keeps its reminders
    assert plan_all(store, catalog) == type(result)(0, 0, 0)


def test_subscribing_again_brings_the_withdrawn_reminders_back(store: Store, catalog: Catalog) -> None:
    plan_all(store, catalog)
    before = pending(store)
    store.unsubscribe(CHAT)
    plan_all(store, catalog)
    store.subscribe(CHAT, [Subscription("demo", "US", "*")])
    result = plan_all(store, catalog)
    assert result.added == len(before)
    assert pending(store) == before
    rows = store.db.execute("SELECT count(*) FROM deliveries WHERE chat_id = ?", [CHAT]).fetchone()[0]
    assert rows == len(before)  # the same rows, pending again: no duplicates


def test_an_inactive_chat_in_scope_is_withdrawn_and_other_chats_are_left_alone(
    store: Store, catalog: Catalog
) -> None:
    plan_all(store, catalog)
    other_before = pending(store, OTHER)
    store.set_active(CHAT, False)
    result = plan_all(store, catalog, [CHAT])
    assert result.withdrawn > 0 and pending(store) == {}
    assert pending(store, OTHER) == other_before
    assert plan_all(store, catalog, []) == type(result)(0, 0, 0)


def test_a_settings_change_moves_pending_rows_instead_of_duplicating(store: Store, catalog: Catalog) -> None:
    plan_all(store, catalog)
    before = pending(store)
    store.update_settings(CHAT, reminder_time="10:00")
    result = plan_all(store, catalog)
    after = pending(store)
    assert after.keys() == before.keys()
    assert result.moved == len(before) and (result.added, result.withdrawn) == (0, 0)
    for identity, due in after.items():
        assert dt.datetime.fromisoformat(due) - dt.datetime.fromisoformat(before[identity]) == dt.timedelta(
            hours=1
        )
    assert store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 2 * len(before)


def test_fewer_lead_days_withdraw_and_more_add(store: Store, catalog: Catalog) -> None:
    plan_all(store, catalog)
    store.update_settings(CHAT, lead_days=[1])
    plan_all(store, catalog)
    assert {lead for _, _, lead in pending(store)} == {1}
    store.update_settings(CHAT, lead_days=[30, 7, 1, 0])
    plan_all(store, catalog)
    assert {lead for _, _, lead in pending(store)} == {30, 7, 1, 0}


def test_a_moved_event_date_moves_the_reminder(tmp_path: Path, store: Store, catalog: Catalog) -> None:
    plan_all(store, catalog)
    assert ("reminder", "demo-us-fee/effective/2026-02-20", 7) in pending(store)  # due 2026-02-13
    changed = demo_catalog(tmp_path / "policies", effective="2026-02-18")
    result = plan_all(store, changed)
    now_pending = pending(store)
    assert not any(key == "demo-us-fee/effective/2026-02-20" for _, key, _ in now_pending)
    assert now_pending[("reminder", "demo-us-fee/effective/2026-02-18", 7)] == "2026-02-11T09:00:00+00:00"
    # Per chat (two), the 30- and 7-day reminders; the 1- and 0-day ones are beyond the window still.
    assert result.withdrawn == result.added == 4


def test_dismissed_keys_are_not_planned_again(store: Store, catalog: Catalog) -> None:
    plan_all(store, catalog)
    key = "demo-us-fee/effective/2026-02-20"
    assert Outbox(store).dismiss(CHAT, key) > 0
    result = plan_all(store, catalog)
    assert (result.added, result.moved, result.withdrawn) == (0, 0, 0)
    assert not any(k == key for _, k, _ in pending(store))
    assert any(k == key for _, k, _ in pending(store, OTHER))


def test_a_dismissed_key_stays_dismissed_for_new_lead_days_and_later_windows(
    tmp_path: Path, store: Store, catalog: Catalog
) -> None:
    plan_all(store, catalog)
    key = "demo-us-fee/effective/2026-02-20"
    Outbox(store).dismiss(CHAT, key)
    store.update_settings(CHAT, lead_days=[30, 14, 7, 1, 0])  # a lead day never planned before
    plan_all(store, catalog)
    later = Store(
        tmp_path / "policybot.db", clock=Clock(at("2026-02-15T00:00:00+00:00"))
    )  # 1 and 0 in the window
    plan_all(later, catalog)
    rows = later.db.execute(
        "SELECT lead, status FROM deliveries WHERE chat_id = ? AND key = ? ORDER BY lead", [CHAT, key]
    ).fetchall()
    assert rows == [(7, "dismissed"), (30, "dismissed")]
    assert ("reminder", key, 1) in pending(later, OTHER)


def test_sent_rows_are_never_touched_by_a_replan(tmp_path: Path, store: Store, catalog: Catalog) -> None:
    plan_all(store, catalog)
    later = Store(tmp_path / "policybot.db", clock=Clock(at("2026-01-14T09:00:00+00:00")))
    outbox = Outbox(later)
    claimed = [d for d in outbox.claim_due() if d.chat_id == CHAT and d.key.startswith("demo-us-fee/")]
    assert [(d.key, d.lead) for d in claimed] == [("demo-us-fee/soon/2026-01-15", 1)]
    outbox.mark_sent([claimed[0].id], message_id=7)
    later.update_settings(CHAT, reminder_time="08:00")
    plan_all(later, catalog)
    row = later.db.execute("SELECT status, due_at FROM deliveries WHERE id = ?", [claimed[0].id]).fetchone()
    assert row == ("sent", "2026-01-14T09:00:00+00:00")
    count = later.db.execute(
        "SELECT count(*) FROM deliveries WHERE chat_id = ? AND key = ? AND lead = 1", [CHAT, claimed[0].key]
    ).fetchone()[0]
    assert count == 1


def test_a_reminder_due_while_the_bot_was_down_stays_for_the_dispatcher(
    tmp_path: Path, store: Store, catalog: Catalog
) -> None:
    plan_all(store, catalog)
    identity = ("reminder", "demo-us-fee/soon/2026-01-15", 1)  # due 2026-01-14 09:00 UTC
    # The bot comes back at noon: re-planning at start must not withdraw what is now overdue.
    back = Store(tmp_path / "policybot.db", clock=Clock(at("2026-01-14T12:00:00+00:00")))
    result = plan_all(back, catalog)
    assert result.withdrawn == 0
    assert identity in pending(back)
    claimed = [d for d in Outbox(back).claim_due() if d.chat_id == CHAT and d.key.startswith("demo-us-fee/")]
    assert [(d.key, d.lead, d.late) for d in claimed] == [("demo-us-fee/soon/2026-01-15", 1, True)]
    # But an overdue reminder of a chat that unsubscribed meanwhile is withdrawn.
    back.unsubscribe(OTHER)
    plan_all(back, catalog)
    assert pending(back, OTHER) == {}


def test_a_reminder_whose_event_passed_while_the_bot_was_down_is_left_to_be_recorded_skipped(
    tmp_path: Path, store: Store, catalog: Catalog
) -> None:
    plan_all(store, catalog)
    key = "demo-us-fee/soon/2026-01-15"
    back = Store(tmp_path / "policybot.db", clock=Clock(at("2026-01-19T12:00:00+00:00")))
    plan_all(back, catalog)
    assert {lead for _, k, lead in pending(back) if k == key} == {1, 0}
    Outbox(back).claim_due()
    rows = back.db.execute(
        "SELECT DISTINCT status FROM deliveries WHERE chat_id = ? AND key = ?", [CHAT, key]
    ).fetchall()
    assert rows == [("skipped",)]


# --- countdowns --------------------------------------------------------------------------------------


def test_tracks_are_planned_before_their_deadline_and_withdrawn_when_removed(
    store: Store, catalog: Catalog
) -> None:
    store.update_settings(CHAT, lead_days=[7, 1, 0])
    track = add_track(store, catalog, CHAT, "inform", dt.date(2026, 1, 8))
    assert track.deadline == dt.date(2026, 1, 18)
    plan_all(store, catalog)
    tracked = {identity: due for identity, due in pending(store).items() if identity[0] == "track"}
    # 7 days before (2026-01-11) is ahead at NOW (2026-01-10 12:00); so are 1 and 0.
    assert tracked == {
        ("track", f"track:{track.id}", 7): "2026-01-11T09:00:00+00:00",
        ("track", f"track:{track.id}", 1): "2026-01-17T09:00:00+00:00",
        ("track", f"track:{track.id}", 0): "2026-01-18T09:00:00+00:00",
    }
    delivery = next(d for d in Outbox(store).pending_for_chat(CHAT, 50) if d.kind == "track")
    assert delivery.payload == {
        "track_id": track.id,
        "rule_id": "demo-inform",
        "number_id": "response-days",
        "start_date": "2026-01-08",
        "deadline": "2026-01-18",
    }
    assert delivery.event_date == dt.date(2026, 1, 18)
    assert plan_all(store, catalog).added == 0
    assert remove_track(store, CHAT, track.id)
    assert not any(identity[0] == "track" for identity in pending(store))
    assert plan_all(store, catalog).added == 0
    assert list_tracks(store, CHAT) == []


def test_plan_chat_plans_tracks(catalog: Catalog, store: Store) -> None:
    track = add_track(store, catalog, CHAT, "inform", dt.date(2026, 1, 10))
    planned = plan_chat(catalog, settings(lead_days=(1,)), [], [track], NOW)
    assert [(p.kind, p.key, p.lead, p.due_at) for p in planned] == [
        ("track", f"track:{track.id}", 1, at("2026-01-19T09:00:00+00:00"))
    ]
