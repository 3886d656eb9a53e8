"""`policybot restore` (#18): a backup taken while the bot wrote comes back whole; a damaged, foreign or
newer file is refused and the database stays; a running bot's database is never replaced under it.
And `policybot doctor` shows the database's size and largest tables."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from conftest import ROOT
from fake_telegram import FakeBotAPI
from support.processes import start_bot, stop

import bot.reminders
import bot.skus
import bot.watch  # noqa: F401
from bot.clock import Clock
from bot.monitoring.doctor import database_size
from bot.monitoring.restore import hold_run_lock
from bot.reminders.tables import REMINDER_MIGRATIONS
from bot.store import Store

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=120,
        check=False,
    )


def rows(path: Path, table: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    finally:
        connection.close()


def test_round_trip_of_a_backup_taken_while_the_bot_wrote(fake_telegram: FakeBotAPI, tmp_path: Path) -> None:
    server = fake_telegram
    db, copy = tmp_path / "bot.db", tmp_path / "copy.db"
    bot = start_bot(server, tmp_path, monitoring=False)
    stop_writing = threading.Event()

    written = [0]

    def write() -> None:  # a second writer on the file (a CLI import, say), as fast as it can
        with Store(db, clock=Clock(NOW)) as writer:
            while not stop_writing.is_set():
                writer.audit(None, None, "writer", str(written[0]))
                written[0] += 1

    def converse(chats: range) -> None:  # users subscribing: the bot writes chats, subscriptions, audit
        for chat in chats:
            server.message(chat, "/subscribe amazon us fees", chat_type="private", language_code="en")
        for chat in chats:
            server.wait_for_sync(lambda chat=chat: server.sent_messages(chat), timeout=60)

    writer = threading.Thread(target=write)
    try:
        converse(range(5000, 5005))
        writer.start()
        server.message(5005, "/subscribe amazon us fees", chat_type="private", language_code="en")
        backup = run("backup", str(copy), "--config", str(tmp_path / "config.toml"))
        assert backup.returncode == 0, backup.stderr
        # While the bot runs, restore refuses and changes nothing.
        refused = run("restore", str(copy), "--config", str(tmp_path / "config.toml"))
        assert refused.returncode == 2
        assert f"{db}: a policybot is running on this database (pid {bot.pid})" in refused.stderr
        converse(range(5010, 5015))  # the bot writes on after the backup
    finally:
        stop_writing.set()
        if writer.is_alive():
            writer.join()
    code, log = stop(bot)
    assert code == 0, log
    backed_up = {table: rows(copy, table) for table in ("chats", "subscriptions", "audit_log", "deliveries")}
    live_audit, live_chats = rows(db, "audit_log"), rows(db, "chats")
    assert len(live_audit) > len(backed_up["audit_log"]) > 5, "written before and after the backup"
    assert len(live_chats) >= len(backed_up["chats"]) + 5 >= 10

    restored = run("restore", str(copy), "--config", str(tmp_path / "config.toml"))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.strip().splitlines()[-1].startswith(f"restored={db} tables=")
    assert f"kept as {db}.before-restore" in restored.stdout
    for table, content in backed_up.items():
        assert rows(db, table) == content, table
    assert rows(Path(f"{db}.before-restore"), "audit_log") == live_audit  # nothing lost, ever
    assert rows(Path(f"{db}.before-restore"), "chats") == live_chats
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    with Store(db, clock=Clock(NOW)) as store:  # it opens as this release's database
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.chat(5000) is not None and store.chat(5010) is None


def make_db(path: Path) -> None:
    with Store(path, clock=Clock(NOW)) as store:
        store.ensure_chat(1, "private", None, "en")
        store.audit(1, 1, "made", path.name)


def test_damaged_foreign_and_newer_backups_are_refused(tmp_path: Path) -> None:
    known = len(REMINDER_MIGRATIONS.steps)  # what this release knows of the reminders' schema
    db = tmp_path / "bot.db"
    make_db(db)
    before = rows(db, "audit_log")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    connection.close()
    newer = tmp_path / "newer.db"
    make_db(newer)
    with sqlite3.connect(newer) as connection:
        connection.execute(
            "INSERT INTO owner_migrations VALUES ('reminders', 99, 'from_the_future', '2030-01-01')"
        )
    connection.close()
    for backup, expected in [
        (tmp_path / "missing.db", "no such file"),
        (damaged, "not a readable SQLite database"),
        (foreign, "not a policybot database"),
        (newer, f"reminders tables are at schema version 99, newer than this policybot knows ({known})"),
    ]:
        result = run("restore", str(backup), "--db", str(db))
        assert result.returncode == 2, backup
        assert expected in result.stderr, result.stderr
        assert rows(db, "audit_log") == before
    assert not Path(f"{db}.before-restore").exists()


def test_a_held_run_lock_refuses_and_a_released_one_does_not(tmp_path: Path) -> None:
    db, copy = tmp_path / "bot.db", tmp_path / "copy.db"
    make_db(db)
    make_db(copy)
    lock = hold_run_lock(db)
    try:
        assert lock.held
        assert not hold_run_lock(db).held  # a second bot on the same file is told
        result = run("restore", str(copy), "--db", str(db))
        assert result.returncode == 2 and f"(pid {os.getpid()})" in result.stderr
    finally:
        lock.close()  # a failed assertion must not leave the file open for a later test to trip on
    result = run("restore", str(copy), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert rows(db, "audit_log")[0][-1] == "copy.db"


def test_doctor_shows_the_size_and_the_largest_tables(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    with Store(db, clock=Clock(NOW)) as store:
        for number in range(2000):
            store.audit(1, 1, "bulk", "x" * 500 + str(number))
    finding = database_size(db)
    assert finding.ok and finding.check == "database size"
    assert finding.detail.split("largest: ")[1].startswith("audit_log 1.")  # about 1.1 MB
    assert "MB (0.0 MB free for reuse)" in finding.detail
    result = run("doctor", "--db", str(db))
    assert "database size" in result.stdout and "audit_log" in result.stdout
    assert database_size(tmp_path / "none.db").detail.endswith("does not exist yet")
