"""/healthz and /metrics: in polling and webhook mode (the real `policybot run` process), and the 503 paths
with the real Application in this process."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from conftest import POLICIES
from fake_telegram import FakeBotAPI
from support.processes import USER, ask, free_port, start_bot, stop
from telegram.error import NetworkError, TimedOut

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import ConfigError, MonitoringConfig, TelegramConfig, load_config
from bot.monitoring.server import parse_listen
from bot.monitoring.updates import UpdatesWatch
from bot.store import Store
from bot.tg.app import build_application

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def wait_healthy(client: httpx.Client, base: str, server: FakeBotAPI) -> httpx.Response:
    def healthy() -> httpx.Response | None:
        try:
            answer = client.get(f"{base}/healthz")
        except httpx.TransportError:
            return None
        return answer if answer.status_code == 200 else None

    found: httpx.Response = server.wait_for_sync(healthy, timeout=30, interval=0.1)
    return found


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics:\n{text}")


def test_healthz_and_metrics_in_polling_mode(fake_telegram: FakeBotAPI, tmp_path: Path) -> None:
    server = fake_telegram
    port = free_port()
    process = start_bot(
        server, tmp_path, admins=[USER], config_extra=f'\n[monitoring]\nlisten = "127.0.0.1:{port}"\n'
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=10) as client:
            assert wait_healthy(client, base, server).text == "ok\n"
            ask(server, "/help")
            answer = client.get(f"{base}/metrics")
            assert client.get(f"{base}/nothing").status_code == 404
    finally:
        code, stderr = stop(process)
    assert code == 0, stderr
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert metric(text, "policybot_updates_handled_total") >= 1
    assert metric(text, "policybot_replies_sent_total") >= 1
    assert metric(text, "policybot_replies_failed_total") == 0
    assert metric(text, 'policybot_reminders{status="pending"}') >= 0
    for name in ("sent", "skipped"):
        assert f'policybot_reminders{{status="{name}"}}' in text
    assert metric(text, "policybot_reminders_late") == 0
    assert metric(text, "policybot_telegram_429_total") == 0
    assert metric(text, "policybot_catalog_rule_versions") > 0  # every rule recorded at the first start
    assert metric(text, "policybot_catalog_rules") > 10
    for name in ("checks", "changes", "failures"):
        assert metric(text, f"policybot_watch_{name}_total") == 0


def test_healthz_in_webhook_mode(fake_telegram: FakeBotAPI, tmp_path: Path) -> None:
    server = fake_telegram
    port, hook = free_port(), free_port()
    config_extra = (
        f'\n[monitoring]\nlisten = "127.0.0.1:{port}"\n'
        f'\n[telegram.webhook]\nlisten = "127.0.0.1"\nport = {hook}\npath = "hook"\nsecret_token = "s3cret"\n'
    )
    process = start_bot(
        server,
        tmp_path,
        "--webhook",
        "https://bot.example.com/hook",
        admins=[USER],
        config_extra=config_extra,
    )
    try:
        with httpx.Client(timeout=10) as client:
            assert wait_healthy(client, f"http://127.0.0.1:{port}", server).text == "ok\n"
            assert (
                "policybot_updates_handled_total 0.0" in client.get(f"http://127.0.0.1:{port}/metrics").text
            )
    finally:
        code, stderr = stop(process)
    assert code == 0, stderr


async def test_healthz_is_503_with_the_reason_until_the_bot_polls_and_when_the_database_fails(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server = fake_telegram
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url)
    app = build_application(
        config,
        server.token,
        LiveCatalog(POLICIES),
        store,
        clock,
        monitoring=MonitoringConfig(listen="127.0.0.1:0"),
    )
    async with app, httpx.AsyncClient(timeout=10) as client:
        assert app.post_init is not None and app.updater is not None and app.post_shutdown is not None
        await app.post_init(app)
        base = f"http://127.0.0.1:{app.bot_data.monitoring_server.port}"
        early = await client.get(f"{base}/healthz")
        assert early.status_code == 503 and "updates: not polling" in early.text
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await server.wait_for(lambda: server.calls_to("getUpdates"), timeout=10)
            await healthy(client, base, server)  # once a getUpdates has answered
            store.db.conn.close()  # the database stops answering
            broken = await client.get(f"{base}/healthz")
            assert broken.status_code == 503 and "database:" in broken.text
            assert (await client.post(f"{base}/healthz")).status_code == 405
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)
        with pytest.raises(httpx.TransportError):  # stopped with the bot
            await client.get(f"{base}/healthz")


async def healthy(client: httpx.AsyncClient, base: str, server: FakeBotAPI, timeout: float = 20) -> None:
    answers: list[httpx.Response] = []

    async def ok() -> bool:
        answers.append(await client.get(f"{base}/healthz"))
        return answers[-1].status_code == 200

    deadline = asyncio.get_running_loop().time() + timeout
    while not await ok():
        assert asyncio.get_running_loop().time() < deadline, answers[-1].text
        await asyncio.sleep(0.1)


async def test_healthz_is_503_while_getupdates_keeps_failing_and_200_once_it_answers_again(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server = fake_telegram
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url)
    monitoring = MonitoringConfig(listen="127.0.0.1:0", updates_stale_after=1)
    app = build_application(config, server.token, LiveCatalog(POLICIES), store, clock, monitoring=monitoring)
    async with app, httpx.AsyncClient(timeout=10) as client:
        assert app.post_init is not None and app.updater is not None and app.post_shutdown is not None
        await app.post_init(app)
        base = f"http://127.0.0.1:{app.bot_data.monitoring_server.port}"
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            polling = await client.get(f"{base}/healthz")  # the first long poll has not answered yet
            assert polling.status_code == 503 and "updates: no getUpdates has succeeded yet" in polling.text
            await healthy(client, base, server)
            server.fail_next("getUpdates", "server_error", times=10_000)  # Telegram refuses to poll

            async def refused() -> str | None:
                # Under load the 1 s staleness can show before the first refused poll is recorded: wait
                # for the 503 that names Telegram's error.
                answer = await client.get(f"{base}/healthz")
                return answer.text if answer.status_code == 503 and "500" in answer.text else None

            reason = await _eventually(refused, timeout=20)
            assert "updates: no successful getUpdates for" in reason and "500" in reason, reason
            assert "scheduler" not in reason and "database" not in reason  # only what is wrong
            server.clear_faults()
            await healthy(client, base, server, timeout=60)  # polling backs off up to 30 s between tries
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)
    assert sum(call.status == 500 for call in server.calls_to("getUpdates")) >= 1


async def _eventually(probe: Callable[[], Awaitable[str | None]], timeout: float) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, "not within the time"
        await asyncio.sleep(0.1)
    return found


def test_monitoring_listen_is_checked(tmp_path: Path) -> None:
    assert parse_listen("127.0.0.1:9090") == ("127.0.0.1", 9090)
    assert parse_listen("[::1]:9100") == ("::1", 9100)
    with pytest.raises(ValueError):
        parse_listen("9090")
    config = tmp_path / "config.toml"
    config.write_text('[monitoring]\nlisten = "localhost"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"monitoring\.listen"):
        load_config(config)
    config.write_text('[monitoring]\nlisten = ""\n', encoding="utf-8")
    assert load_config(config).monitoring.listen == ""
    assert load_config(None).monitoring.listen == "127.0.0.1:9090"


def test_updates_watch_counts_getupdates_successes_and_a_webhook() -> None:
    now = [100.0]
    watch = UpdatesWatch(stale_after=60, clock=lambda: now[0])
    assert watch.problem() == "no getUpdates has succeeded yet"
    watch.record("deleteWebhook", None)
    watch.record("getUpdates", NetworkError("Bad Gateway"))
    assert watch.problem() == "no getUpdates has succeeded yet (last error: NetworkError: Bad Gateway)"
    watch.record("getUpdates", None)
    now[0] += 60  # exactly the limit: still fine
    watch.record("getUpdates", TimedOut())
    assert watch.problem() is None
    now[0] += 1
    assert watch.problem() == "no successful getUpdates for 61 s (last error: TimedOut: Timed out)"
    watch.record("sendMessage", None)  # other requests say nothing about updates
    assert watch.problem() is not None
    watch.record("setWebhook", None)  # Telegram posts the updates now
    assert watch.problem() is None
    watch.record("deleteWebhook", None)  # back to polling
    assert watch.problem() is not None
