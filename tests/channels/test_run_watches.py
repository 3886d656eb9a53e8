"""`policybot run` with no Telegram token also runs the page watcher (issue #20): the official pages behind
the rules are checked and stored, with no bot to report to (changes are logged with their proposal)."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from channel_fakes import FakeChannels, start_fake_channels
from support.pages import Page, served, surcharge_policy
from test_cli_and_run import run_without_token, wait_for

from bot.cli import main


@pytest.fixture
def page() -> Iterator[Page]:
    with served(
        Page("<html><body><p>The surcharge is 15% from April 17, 2026.</p></body></html>")
    ) as running:
        yield running


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[FakeChannels]:
    started = start_fake_channels(tmp_path)
    yield started
    started.close()


def test_a_run_without_token_watches_the_rules_pages(page: Page, fakes: FakeChannels, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "demo.toml").write_text(surcharge_policy(page.url), encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        '[store]\npath = "bot.db"\n\n[policies]\ndir = "policies"\n\n[monitoring]\nlisten = ""\n\n'
        '[watch]\nallow_hosts = ["127.0.0.1"]\n' + fakes.config_toml(),
        encoding="utf-8",
    )
    assert main(["destinations", "add", "team", fakes.url("wecom", "team"), "--platform", "demo",
                 "--config", str(config)]) == 0  # fmt: skip

    def snapshots() -> int:
        connection = sqlite3.connect(tmp_path / "bot.db")
        try:
            return int(connection.execute("SELECT count(*) FROM page_snapshots").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0
        finally:
            connection.close()

    log = tmp_path / "run.log"
    process = run_without_token(config, dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC), log)
    try:
        wait_for(lambda: snapshots() >= 1, timeout=60)  # the first pass stores the page's baseline
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()
    connection = sqlite3.connect(tmp_path / "bot.db")
    try:
        (text,) = connection.execute("SELECT text FROM page_snapshots").fetchone()
    finally:
        connection.close()
    assert "15% from April 17, 2026" in text
