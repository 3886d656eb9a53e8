"""`policybot backup` while the database is being written, and `policybot doctor` on good and broken
installations (against the fake Bot API server). Run in a subprocess, as an operator runs them."""

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

# Importing a package registers its tables: the stores made here have every owner's, as the bot's do.
import bot.reminders
import bot.skus
import bot.tg
import bot.watch  # noqa: F401
from bot.clock import Clock
from bot.store import Store, registered

# Shaped like BotFather's tokens (the doctor checks the shape); the fake server accepts any shape.
TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
        check=False,
    )


def test_backup_while_the_database_is_written_holds_the_same_rows(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    with Store(db, clock=Clock(NOW)) as store:
        for chat_id in range(1, 201):
            store.ensure_chat(chat_id, "private", None, "en")
    stop = threading.Event()
    written = [0]

    def write() -> None:  # the bot, writing its audit log as fast as it can
        with Store(db, clock=Clock(NOW)) as writer:
            while not stop.is_set():
                writer.audit(1, 1, "write", str(written[0]))
                written[0] += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        threading.Event().wait(0.3)
        result = run("backup", str(tmp_path / "copy.db"), "--db", str(db))
        during = written[0]
    finally:
        stop.set()
        thread.join()
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(f"backup={tmp_path / 'copy.db'} tables=") and " rows=" in last
    assert during > 0
    copy = sqlite3.connect(tmp_path / "copy.db")
    live = sqlite3.connect(db)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        copied = copy.execute("SELECT id, detail FROM audit_log ORDER BY id").fetchall()
        assert copied, "the copy holds the rows written before it"
        # The rows the copy holds are exactly the live rows up to that instant: no half transaction.
        original = live.execute("SELECT id, detail FROM audit_log WHERE id <= ? ORDER BY id", [copied[-1][0]])
        assert copied == original.fetchall()
        assert copy.execute("SELECT count(*) FROM chats").fetchone()[0] == 200
    finally:
        copy.close()
        live.close()
    with Store(tmp_path / "copy.db", clock=Clock(NOW)) as reopened:  # the bot can run on the copy
        assert len(reopened.chats()) == 200


def test_backup_refuses_a_missing_database_and_overwriting_itself(tmp_path: Path) -> None:
    missing = run("backup", str(tmp_path / "copy.db"), "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "no such database" in missing.stderr
    Store(tmp_path / "bot.db").close()
    itself = run("backup", str(tmp_path / "bot.db"), "--db", str(tmp_path / "bot.db"))
    assert itself.returncode == 2 and "must not overwrite" in itself.stderr
    assert not list(tmp_path.glob(".*partial"))


def config_for(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[telegram]\nbase_url = "{base_url}"\n\n[store]\npath = "bot.db"\n{extra}', "utf-8")
    return config


def test_doctor_on_a_good_installation_exits_0(tmp_path: Path) -> None:
    with FakeBotAPI(TOKEN) as server:
        config = config_for(tmp_path, server.base_url)
        Store(tmp_path / "bot.db").close()
        result = run("doctor", "--config", str(config), env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "@PolicyTestBot" in result.stdout
    every_owner = ", ".join(f"{owner.owner} {len(owner.steps)}" for owner in registered())
    assert f"schema up to date ({every_owner})" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "doctor: checks=7 failed=0"
    assert "database size" in result.stdout  # #18: the size and the largest tables
    assert TOKEN.split(":")[1] not in result.stdout + result.stderr


def test_doctor_names_a_malformed_token_without_printing_it(tmp_path: Path) -> None:
    config = config_for(tmp_path, "http://127.0.0.1:9/bot")
    bad = "123456789:short-secret"
    result = run("doctor", "--config", str(config), env={"TELEGRAM_BOT_TOKEN": bad})
    assert result.returncode == 1
    assert "malformed" in result.stdout and "fix token:" in result.stdout
    assert "short-secret" not in result.stdout + result.stderr


def test_doctor_reports_an_unreachable_api_a_refused_token_and_a_newer_database(tmp_path: Path) -> None:
    unreachable = config_for(tmp_path, "http://127.0.0.1:9/bot")
    result = run("doctor", "--config", str(unreachable), env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert result.returncode == 1 and "cannot reach http://127.0.0.1:9/bot" in result.stdout
    assert TOKEN.split(":")[1] not in result.stdout + result.stderr
    with FakeBotAPI() as server:  # another bot's server: our token is refused
        config = config_for(tmp_path, server.base_url)
        refused = run("doctor", "--config", str(config), env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert refused.returncode == 1 and "refused the token" in refused.stdout
    Store(tmp_path / "bot.db").close()
    with sqlite3.connect(tmp_path / "bot.db") as db:
        db.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')")
    newer = run("doctor", "--config", str(config), env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert newer.returncode == 1 and "newer than this policybot" in newer.stdout


def test_doctor_stops_at_a_broken_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[telegram]\nnot_a_key = 1\n", "utf-8")
    result = run("doctor", "--config", str(config))
    assert result.returncode == 1 and "telegram.not_a_key: unknown key" in result.stdout
