"""`policybot destinations add|list|test|remove`, and `policybot run` with no Telegram token: the "Done
when" of #20 (a destination added on the command line, on a local HTTPS fake DingTalk, receives a
correctly signed markdown reminder), and SIGKILL in the middle of a burst to 100 destinations."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from channel_fakes import FakeChannels, start_fake_channels
from support.processes import free_port

from bot.catalog import Catalog
from bot.channels import destination_by_name, destinations
from bot.cli import main
from bot.clock import Clock
from bot.reminders import Outbox, plan_all
from bot.store import Store

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[FakeChannels]:
    started = start_fake_channels(tmp_path)
    yield started
    started.close()


@pytest.fixture
def config(tmp_path: Path, fakes: FakeChannels) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[store]\npath = "bot.db"\n\n[watch]\nenabled = false\n\n[monitoring]\nlisten = ""\n'
        + fakes.config_toml(),
        encoding="utf-8",
    )
    return path


def cli(*args: str) -> int:
    return main(list(args))


def test_a_url_on_a_host_not_allowed_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(
        "destinations", "add", "x", "https://127.0.0.1:1/robot/send?access_token=k", "--config", str(config)
    )
    assert code == 2
    assert "127.0.0.1" in capsys.readouterr().err
    code = cli(
        "destinations", "add", "y", "https://example.com/hook", "--config", str(config), "--lang", "en"
    )
    assert code == 2
    assert "does not send to example.com" in capsys.readouterr().err
    with Store(config.parent / "bot.db") as store:
        assert destinations(store) == []


def test_add_list_test_remove(config: Path, fakes: FakeChannels, capsys: pytest.CaptureFixture[str]) -> None:
    fakes.robots.secrets["ops"] = "SECops"
    url = fakes.url("dingtalk", "ops")
    base = ("--config", str(config))
    options = ["--secret", "SECops", "--platform", "amazon", "--marketplace", "us", "--topic", "fees"]
    options += ["--lang", "en", "--tz", "America/New_York", "--time", "08:30", "--quiet", "22:00-07:00"]
    assert cli("destinations", "add", "ops", url, *options, *base) == 0
    added = capsys.readouterr().out
    assert (
        "ops: dingtalk" in added
        and "subscriptions=1" in added
        and "SECops" not in added
        and "ops&" not in added
    )
    with Store(config.parent / "bot.db") as store:
        found = destination_by_name(store, "ops")
        assert found is not None
        settings = store.chat(found.chat_id)
        assert settings is not None
        assert (settings.reminder_time, settings.quiet_start, settings.quiet_end) == (
            "08:30",
            "22:00",
            "07:00",
        )
    assert cli("destinations", "add", "ops", url, *base) == 2  # the name is taken
    assert cli("destinations", "add", "q", url, "--quiet", "22:00", *base) == 2
    assert cli("destinations", "add", "bad", url, "--platform", "nosuch", *base) == 2
    capsys.readouterr()
    assert cli("destinations", "list", *base) == 0
    listed = capsys.readouterr().out
    assert "amazon/US/fees" in listed and "en America/New_York" in listed and "destinations=1" in listed
    assert "access_token" not in listed and "SECops" not in listed
    assert cli("destinations", "test", "ops", *base) == 0
    assert fakes.robots.texts("ops") == [
        "✅ policybot is connected: this group will get the reminders and alerts of ops."
    ]
    assert fakes.robots.refused == []  # signed as DingTalk wants
    fakes.robots.secrets["ops"] = "SECchanged"
    assert cli("destinations", "test", "ops", *base) == 1
    assert "310000" in capsys.readouterr().err
    assert cli("destinations", "remove", "ops", *base) == 0
    assert cli("destinations", "remove", "ops", *base) == 2
    with pytest.raises(SystemExit):
        cli("destinations", "add", "only-a-name", *base)


def first_reminder_due(db: Path, catalog: Catalog, name: str) -> dt.datetime:
    """Plan as the bot will, and say when the destination's first reminder falls due."""
    with Store(db, clock=Clock(START)) as store:
        found = destination_by_name(store, name)
        assert found is not None
        plan_all(store, catalog, [found.chat_id])
        pending = Outbox(store).pending_for_chat(found.chat_id, limit=1)
        assert pending, "the destination's subscriptions give it reminders"
        return pending[0].due_at


def run_without_token(config: Path, now: dt.datetime, log: Path) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if key != "TELEGRAM_BOT_TOKEN"}
    env.update({"POLICYBOT_NOW": now.isoformat(), "PYTHONIOENCODING": "utf-8"})
    with log.open("w") as handle:  # the child keeps its own copy of the file
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=handle, text=True,
        )  # fmt: skip


def wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_done_when_a_cli_destination_gets_a_signed_markdown_reminder_from_a_run_without_token(
    config: Path, fakes: FakeChannels, catalog: Catalog, tmp_path: Path
) -> None:
    fakes.robots.secrets["team"] = "SECteam"
    assert cli("destinations", "add", "team", fakes.url("dingtalk", "team"), "--secret", "SECteam",
               "--platform", "amazon", "--config", str(config)) == 0  # fmt: skip
    due = first_reminder_due(tmp_path / "bot.db", catalog, "team")
    port = free_port()
    config.write_text(config.read_text().replace('listen = ""', f'listen = "127.0.0.1:{port}"'))
    log = tmp_path / "run.log"
    process = run_without_token(config, due - dt.timedelta(seconds=2), log)
    try:
        wait_for(lambda: fakes.robots.received, timeout=60)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert 'policybot_reminders{status="sent"}' in metrics
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()
    arrived = fakes.robots.received[0]
    assert fakes.robots.refused == []  # the fake checked the signature (timestamp + sign in the URL)
    assert {"timestamp", "sign"} <= set(arrived.query)
    assert arrived.body["msgtype"] == "markdown"
    text = arrived.body["markdown"]["text"]
    assert "天" in text or "今天" in text  # a Chinese reminder (the destination's default language)
    assert "<b>" not in text and "&amp;" not in text  # markdown, not Telegram HTML
    logged = log.read_text()
    assert "no Telegram token" in logged and "SECteam" not in logged and "access_token=team" not in logged
    with Store(tmp_path / "bot.db") as store:
        found = destination_by_name(store, "team")
        assert found is not None
        assert Outbox(store).counts_by_status()["sent"] >= 1


def test_run_without_token_and_without_destinations_asks_for_a_token(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert cli("run", "--config", str(config)) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_sigkill_during_a_burst_to_100_destinations_loses_nothing(
    config: Path, fakes: FakeChannels, catalog: Catalog, tmp_path: Path
) -> None:
    robots = [f"r{n:03d}" for n in range(100)]
    for robot in robots:
        assert cli("destinations", "add", robot, fakes.url("wecom", robot), "--platform", "amazon",
                   "--config", str(config)) == 0  # fmt: skip
    due = first_reminder_due(tmp_path / "bot.db", catalog, robots[0])
    with Store(tmp_path / "bot.db", clock=Clock(START)) as store:
        plan_all(store, catalog)  # every destination's first reminder is due at the same moment
    fakes.robots.delay = 0.2  # each answer takes 200 ms: the burst is in flight for a while
    log = tmp_path / "run.log"
    process = run_without_token(config, due - dt.timedelta(seconds=1), log)
    try:
        wait_for(lambda: len(fakes.robots.received) >= 30, timeout=60)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    before_restart = len(fakes.robots.received)
    assert before_restart < 100, "the kill came after the burst; the test proves nothing"
    process = run_without_token(config, due + dt.timedelta(seconds=5), tmp_path / "run2.log")
    try:
        wait_for(lambda: len({item.robot for item in fakes.robots.received}) == 100, timeout=90)
        time.sleep(0.5)  # anything still coming would be a repeat; let it come to be counted
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    per_robot = Counter(item.robot for item in fakes.robots.received)
    assert set(per_robot) == set(robots)  # 0 lost
    repeats = sum(per_robot.values()) - 100
    in_flight = 16  # the dispatcher's concurrency without Telegram: at most that many sends in flight
    assert repeats <= in_flight, per_robot
    print(f"killed after {before_restart} of 100; repeats after restart: {repeats} (bound {in_flight})")
