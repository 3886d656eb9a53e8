"""A database written by the release before #15 (one global migration sequence, 1..5) opens with the
per-owner runner: every row is still there, each owner's first steps count as run, and the code works on
it. The file is data/release_a68f5ac.sql, made by data/make_release_db.py with that release's code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

# Importing a package registers its tables: the bot opens its store with every owner's.
import bot.skus
import bot.watch  # noqa: F401
from bot.catalog.load import Catalog, load_catalog
from bot.clock import Clock
from bot.reminders.changes import recent_changes
from bot.reminders.outbox import DeliveryStatus, Outbox
from bot.reminders.planner import plan_all
from bot.reminders.tracks import list_tracks
from bot.skus.records import SkuRecords
from bot.store import LEGACY_VERSION, Store, Subscription, registered
from bot.watch.watcher import last_snapshot_text

DUMP = Path(__file__).parent / "data" / "release_a68f5ac.sql"
MADE_AT = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # the clock of make_release_db.py
ALICE, BOB, GROUP, SUPERGROUP = 11, 12, -1001, -1001999
PAGE = "https://sellercentral.example/fees"
OLD_TABLES = (
    "chats",
    "subscriptions",
    "audit_log",
    "deliveries",
    "delivery_attempts",
    "dismissed",
    "tracks",
    "catalog_rules",
    "catalog_rule_versions",
    "catalog_events",
    "changes",
    "page_sources",
    "page_snapshots",
    "seller_skus",
    "seller_sku_imports",
)


def rows_of(path: Path, table: str, columns: list[str] | None = None) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        names = ", ".join(f'"{name}"' for name in columns) if columns else "*"
        return connection.execute(f'SELECT {names} FROM "{table}" ORDER BY rowid').fetchall()
    finally:
        connection.close()


def columns_of(path: Path, table: str) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")').fetchall()]
    finally:
        connection.close()


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "bot.db"
    connection = sqlite3.connect(path)
    connection.executescript(DUMP.read_text("utf-8"))
    connection.close()
    return path


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_the_dump_is_what_the_old_release_wrote(old_file: Path) -> None:
    # Guards the fixture itself: every table has rows, under the old global versions 1..5.
    assert [version for version, *_ in rows_of(old_file, "schema_migrations")] == [1, 2, 3, 4, 5]
    empty = [table for table in OLD_TABLES if not rows_of(old_file, table)]
    assert empty == []


def test_every_row_survives_the_upgrade(old_file: Path) -> None:
    before = {table: rows_of(old_file, table) for table in OLD_TABLES}
    old_columns = {table: columns_of(old_file, table) for table in OLD_TABLES}
    old_versions = rows_of(old_file, "schema_migrations")

    Store(old_file, clock=Clock(MADE_AT + dt.timedelta(days=1))).close()

    # skus step 2 (#16) gives each SKU its marketplace's currency (column 8) and adds report_fba_fee.
    currency = {"US": "USD", "UK": "GBP"}
    before["seller_skus"] = [(*row[:8], currency[row[5]], *row[9:]) for row in before["seller_skus"]]
    for table in OLD_TABLES:
        # Later steps may add columns (watch 2: page_sources.last_changed_at); the old ones keep every value.
        assert rows_of(old_file, table, old_columns[table]) == before[table], table
    # The old sequence keeps its rows and ends with the split: a release from before it refuses the file.
    after = rows_of(old_file, "schema_migrations")
    assert after[:-1] == old_versions
    assert after[-1][:2] == (LEGACY_VERSION, "split_migrations_by_owner")


def test_each_owner_counts_its_first_steps_as_run(old_file: Path) -> None:
    old = {version: (name, at) for version, name, at in rows_of(old_file, "schema_migrations")}
    with Store(old_file) as store:
        versions = store.schema_versions
    assert versions == {owner.owner: len(owner.steps) for owner in registered()}
    recorded = rows_of(old_file, "owner_migrations")
    # Every step of every owner is recorded once; steps added after the split ran on this open.
    assert sorted((owner, version) for owner, version, *_ in recorded) == sorted(
        (owner.owner, version) for owner in registered() for version in range(1, len(owner.steps) + 1)
    )
    added = [row[:3] for row in recorded if (row[0], row[1]) == ("store", 3)]
    assert added == [("store", 3, "_incremental_vacuum")]  # #18: auto_vacuum, applied by a VACUUM
    assert rows_of_pragma(old_file, "auto_vacuum") == 2
    legacy = {("store", 1), ("store", 2), ("reminders", 1), ("watch", 1), ("skus", 1)}
    # Nothing ran again: each owner's first steps are the old global ones, with their names and times.
    assert sorted(row for row in recorded if (row[0], row[1]) in legacy) == sorted(
        [
            ("store", 1, *old[1]),
            ("store", 2, *old[2]),
            ("reminders", 1, *old[3]),
            ("watch", 1, *old[4]),
            ("skus", 1, *old[5]),
        ]
    )
    with Store(old_file) as again:  # a second open changes nothing
        assert again.schema_versions == versions
    assert sorted(rows_of(old_file, "owner_migrations")) == sorted(recorded)


def test_the_new_code_works_on_the_upgraded_file(old_file: Path, catalog: Catalog) -> None:
    now = MADE_AT + dt.timedelta(minutes=10)
    with Store(old_file, clock=Clock(now)) as store:
        chat = store.chat(ALICE)
        assert chat is not None and chat.quiet_start == "22:00" and chat.lead_days == (7, 1)
        assert Subscription("temu") in store.subscriptions(GROUP)
        assert [entry["action"] for entry in store.audit_log()] == ["subscribe", "settings"]

        outbox = Outbox(store)
        assert outbox.counts() == {
            DeliveryStatus.DISMISSED: 2,
            DeliveryStatus.SENT: 1,
            DeliveryStatus.PENDING: 1,
            DeliveryStatus.FAILED: 1,
        }
        # Plan with today's catalog: the dismissed countdown stays dismissed, nothing is planned twice.
        plan_all(store, catalog)
        plan_all(store, catalog)
        assert outbox.counts_by_status([DeliveryStatus.DISMISSED]) == {DeliveryStatus.DISMISSED: 2}
        # Dispatch: the alert retried after a 429 is due again and goes out.
        claimed = outbox.claim_due()
        assert [(d.chat_id, d.kind, d.attempts) for d in claimed if d.kind == "alert"] == [
            (GROUP, "alert", 2)
        ]
        outbox.mark_sent([delivery.id for delivery in claimed], message_id=777)
        assert outbox.counts_by_status([DeliveryStatus.SENT])[DeliveryStatus.SENT] >= 2

        tracks = list_tracks(store, ALICE)
        assert [(t.rule_id, t.deadline) for t in tracks] == [
            ("temu-one-click-30-day-exemption", dt.date(2026, 12, 20))
        ]
        assert [change.summary("en") for change in recent_changes(store, 7, now)] == ["Fees changed"]
        assert last_snapshot_text(store, PAGE) == "Referral fee 17%"
        skus = SkuRecords(store)
        assert [row.sku for row in skus.rows(ALICE)] == ["A1", "B2"]
        info = skus.info(ALICE)
        assert info is not None and info.file_name == "a.csv"

        # A group becoming a supergroup takes every owner's rows along (each owner's hook).
        store.migrate_chat(ALICE, SUPERGROUP)
        assert skus.rows(ALICE) == [] and [row.sku for row in skus.rows(SUPERGROUP)] == ["A1", "B2"]
        assert list_tracks(store, SUPERGROUP) == [dataclasses.replace(tracks[0], chat_id=SUPERGROUP)]
        assert outbox.pending_for_chat(ALICE) == []


def rows_of_pragma(path: Path, pragma: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute(f"PRAGMA {pragma}").fetchone()[0])
    finally:
        connection.close()
