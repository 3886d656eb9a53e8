"""Retention (#18): each owner prunes its own old rows in small batches, keeps what is still needed, and
the file gives the space back (auto_vacuum incremental)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.clock import Clock
from bot.config import ConfigError, KeepDays, load_config
from bot.reminders import Change, Outbox, Planned, record_change
from bot.reminders.retention import prune_attempts, prune_changes, prune_deliveries
from bot.retention import prune_all, prune_steps
from bot.skus import SkuRecords, prune_imports, read_sku_file
from bot.store import Store
from bot.watch import prune_snapshots

T0 = dt.datetime(2025, 1, 1, 9, 0, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(days=200)


def reminder(chat_id: int, key: str, event: dt.date | None, kind: str = "reminder") -> Planned:
    return Planned(chat_id, kind, key, 0, T0 - dt.timedelta(minutes=1), event, {"text": key})


def statuses(store: Store) -> dict[str, str]:
    return {key: status for key, status in store.db.execute("SELECT key, status FROM deliveries")}


@pytest.fixture
def old_store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "bot.db", clock=Clock(T0))
    for chat_id in (1, 2):
        store.ensure_chat(chat_id, "private", None, "en")
    return store


def test_defaults_and_bounds_of_keep_days(tmp_path: Path) -> None:
    keep = load_config(None).store.keep_days
    assert keep == KeepDays()
    assert (keep.deliveries, keep.attempts, keep.audit, keep.changes) == (180, 30, 365, 730)
    assert (keep.snapshots, keep.imports, keep.inbox) == (90, 365, 7)
    config = tmp_path / "config.toml"
    config.write_text("[store.keep_days]\naudit = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"store\.keep_days\.audit"):
        load_config(config)
    config.write_text("[store.keep_days]\nforever = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"store\.keep_days\.forever: unknown key"):
        load_config(config)


def test_final_deliveries_go_with_their_attempts_once_their_event_passed(old_store: Store) -> None:
    outbox = Outbox(old_store)
    outbox.enqueue(
        [
            reminder(1, "past", dt.date(2025, 1, 10)),
            reminder(1, "ahead", dt.date(2026, 6, 1)),  # sent, but its event is still ahead
            reminder(2, "change:1", None, kind="alert"),
        ]
    )
    sent = outbox.claim_due()
    outbox.mark_sent([d.id for d in sent], 77)
    outbox.enqueue([Planned(2, "reminder", "pending", 0, LATER, dt.date(2026, 1, 1), {})])
    assert old_store.db.execute("SELECT count(*) FROM delivery_attempts").fetchone()[0] == 3

    assert prune_deliveries(old_store, LATER - dt.timedelta(days=180), batch=1) == 1
    assert prune_deliveries(old_store, LATER - dt.timedelta(days=180), batch=10) == 1
    assert prune_deliveries(old_store, LATER - dt.timedelta(days=180), batch=10) == 0
    assert statuses(old_store) == {"ahead": "sent", "pending": "pending"}
    attempts = old_store.db.execute("SELECT delivery_id FROM delivery_attempts").fetchall()
    ahead_id = old_store.db.execute("SELECT id FROM deliveries WHERE key = 'ahead'").fetchone()[0]
    assert attempts == [(ahead_id,)]
    # Nothing younger than the cut goes: the same prune a day after the sends deletes nothing.
    outbox.enqueue([reminder(1, "past2", dt.date(2025, 1, 10))])
    outbox.mark_sent([d.id for d in outbox.claim_due()], 78)
    assert prune_deliveries(old_store, T0 - dt.timedelta(days=1)) == 0


def test_attempts_go_by_age(old_store: Store) -> None:
    outbox = Outbox(old_store)
    outbox.enqueue([reminder(1, "ahead", dt.date(2026, 6, 1))])
    outbox.mark_sent([d.id for d in outbox.claim_due()], 5)
    assert prune_attempts(old_store, T0 - dt.timedelta(seconds=1)) == 0
    assert prune_attempts(old_store, T0 + dt.timedelta(days=31)) == 1
    assert statuses(old_store) == {"ahead": "sent"}  # the delivery keeps its outcome


def change(at: dt.datetime) -> Change:
    return Change(None, at, "page", "amazon", None, "page_changed", None, (), "changed", "变更")


def test_changes_go_unless_an_alert_for_them_is_pending(old_store: Store) -> None:
    first = record_change(old_store, change(T0))
    second = record_change(old_store, change(T0))
    recent = record_change(old_store, change(LATER))
    Outbox(old_store).enqueue([Planned(1, "alert", f"change:{second.id}", 0, LATER, None, {})])
    assert prune_changes(old_store, LATER - dt.timedelta(days=30)) == 1
    left = [row[0] for row in old_store.db.execute("SELECT id FROM changes ORDER BY id")]
    assert left == [second.id, recent.id]
    assert first.id not in left


def test_audit_in_batches(old_store: Store) -> None:
    for number in range(5):
        old_store.audit(1, 1, "test", str(number))
    assert old_store.prune_audit(T0 - dt.timedelta(days=1)) == 0
    assert old_store.prune_audit(LATER, batch=2) == 2
    assert [entry["detail"] for entry in old_store.audit_log()] == ["4", "3", "2"]


def test_snapshots_keep_each_pages_latest(old_store: Store) -> None:
    db = old_store.db
    for key in ("a", "b"):
        db.execute("INSERT INTO page_sources (key, url) VALUES (?, ?)", [key, f"https://example.com/{key}"])
    for number, (key, day) in enumerate([("a", 1), ("a", 2), ("a", 3), ("b", 1)]):
        at = (T0 + dt.timedelta(days=day)).isoformat(timespec="seconds")
        db.execute(
            "INSERT INTO page_snapshots (key, fetched_at, hash, text) VALUES (?, ?, ?, ?)",
            [key, at, str(number), f"text {number}"],
        )
    db.conn.commit()
    assert prune_snapshots(old_store, LATER) == 2  # a's two older versions; b's only one stays
    kept = db.execute("SELECT key, text FROM page_snapshots ORDER BY id").fetchall()
    assert kept == [("a", "text 2"), ("b", "text 3")]


def test_imports_of_departed_chats_only(old_store: Store) -> None:
    skus = read_sku_file(b"sku,category,price\nA1,apparel,15\n", "a.csv")
    records = SkuRecords(old_store)
    for chat_id in (1, 2, 3):  # chat 3 was never seen by the store
        records.replace(chat_id, skus, "a.csv")
    old_store.set_active(2, False)
    assert prune_imports(old_store, T0 - dt.timedelta(days=1)) == 0  # too recent
    assert prune_imports(old_store, LATER, batch=1) == 1
    assert prune_imports(old_store, LATER) == 1
    assert [records.has_skus(chat_id) for chat_id in (1, 2, 3)] == [True, False, False]
    assert records.info(1) is not None and records.info(2) is None


def test_prune_steps_are_small_and_the_file_shrinks(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = Store(path, clock=Clock(T0))
    assert store.db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental, from the start
    for number in range(3000):
        store.audit(1, None, "bulk", "x" * 1000 + str(number))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    full = path.stat().st_size
    steps = list(prune_steps(store, KeepDays(), LATER + dt.timedelta(days=365), batch=500))
    audit_steps = [count for kind, count in steps if kind == "audit"]
    assert audit_steps == [500] * 6 + [0]  # one short transaction per batch, then one that finds none
    assert any(kind == "pages" and count > 0 for kind, count in steps)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.stat().st_size < full / 5
    assert store.db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert prune_all(store, KeepDays(), LATER)["audit"] == 0
    store.close()
