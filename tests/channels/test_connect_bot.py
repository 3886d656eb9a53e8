"""/connect in a Telegram group: the real python-telegram-bot Application against the fake Bot API, a real
SQLite file, and the fake Feishu over HTTPS. The group's reminders are mirrored to the Feishu group."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from channel_fakes import FakeChannels, start_fake_channels
from conftest import POLICIES
from fake_telegram import FakeBotAPI
from telegram.ext import Application

from bot.answers.live import LiveCatalog
from bot.channels import destinations
from bot.clock import Clock
from bot.config import ChannelsConfig, TelegramConfig
from bot.i18n import to_plain_text
from bot.reminders import Outbox
from bot.store import Store
from bot.tg.app import build_application
from bot.tg.reminders import wake_dispatch

ADMIN, MEMBER = 777, 1001
GROUP = -4001
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[FakeChannels]:
    started = start_fake_channels(tmp_path)
    yield started
    started.close()


class Running:
    def __init__(self, server: FakeBotAPI, app: Application, store: Store) -> None:  # type: ignore[type-arg]
        self.server, self.app, self.store = server, app, store

    async def say(self, text: str, user_id: int = ADMIN, **kwargs: Any) -> list[str]:
        before = len(self.server.sent_messages(GROUP))
        self.server.message(GROUP, text, user_id=user_id, **kwargs)
        await self.server.wait_for(lambda: len(self.server.sent_messages(GROUP)) > before, timeout=10)
        await self.server.wait_for(lambda: self.app.update_queue.empty(), timeout=10)
        await asyncio.sleep(0.1)
        return [to_plain_text(str(m.get("text") or "")) for m in self.server.sent_messages(GROUP)][before:]


@pytest_asyncio.fixture
async def running(fake_telegram: FakeBotAPI, fakes: FakeChannels, tmp_path: Path) -> AsyncIterator[Running]:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url)
    hosts = {kind: [fakes.host(kind)] for kind in ("feishu", "dingtalk", "wecom")}
    channels = ChannelsConfig.model_validate({"hosts": hosts, "ca_file": fakes.ca_file, "timeout": 5})
    app = build_application(
        config, fake_telegram.token, LiveCatalog(policies), store, clock, channels=channels
    )
    fake_telegram.add_chat(GROUP, "group", title="Seller team")
    fake_telegram.set_admins(GROUP, {ADMIN}, creator=ADMIN)
    async with app:
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield Running(fake_telegram, app, store)
        finally:
            await app.updater.stop()
            await app.stop()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)


async def test_connect_mirrors_the_groups_reminders_to_feishu(running: Running, fakes: FakeChannels) -> None:
    fakes.robots.secrets["team"] = "SECteam"
    url = fakes.url("feishu", "team")
    refused = await running.say(f"/connect {url} SECteam", user_id=MEMBER)
    assert "Only this group's admins" in refused[0]
    assert destinations(running.store) == []
    elsewhere = await running.say("/connect https://203.0.113.7/hook")
    assert "does not send to 203.0.113.7" in elsewhere[0]
    wrong = await running.say(f"/connect {url} SECwrong")
    assert "did not arrive" in wrong[0] and "19021" in wrong[0]
    assert destinations(running.store) == [] and fakes.robots.received == []
    deleted = len(running.server.calls_to("deleteMessage"))
    connected = await running.say(f"/connect {url} SECteam")
    assert len(running.server.calls_to("deleteMessage")) == deleted + 1  # the key is not left in the chat
    assert "Connected: feishu destination feishu-4001" in connected[0]
    assert fakes.robots.texts("team") == [
        "✅ policybot is connected: this group will get the reminders and alerts of Seller team."
    ]
    listed = await running.say("/connections", user_id=MEMBER)
    assert "feishu-4001: feishu, https://" in listed[0] and "team" not in listed[0].split("feishu-4001")[1]
    audit = str(running.store.audit_log())
    assert "SECteam" not in audit and "/hook/team" not in audit and "connect" in audit

    # The group subscribes; one of its reminders falls due; Telegram and Feishu both get it.
    await running.say("/subscribe amazon")
    outbox = Outbox(running.store)
    first = outbox.pending_for_chat(GROUP, limit=1)[0]
    running.store.db.execute("UPDATE deliveries SET due_at = ? WHERE id = ?", [NOW.isoformat(), first.id])
    running.store.db.conn.commit()
    before = len(running.server.sent_messages(GROUP))
    wake_dispatch(running.app)
    await running.server.wait_for(lambda: len(running.server.sent_messages(GROUP)) > before, timeout=10)
    await running.server.wait_for(lambda: len(fakes.robots.texts("team")) == 2, timeout=10)
    in_telegram = to_plain_text(running.server.sent_messages(GROUP)[-1]["text"])
    in_feishu = fakes.robots.texts("team")[1]
    assert in_feishu.replace("**", "") == in_telegram  # the same reminder, in markdown
    assert fakes.robots.refused[-1][2] == 19021  # only the wrong secret was ever refused
    mirror = destinations(running.store)[0]
    assert [d.status for d in Outbox(running.store).pending_for_chat(mirror.chat_id, limit=10)] == []

    gone = await running.say("/disconnect feishu-4001")
    assert "Disconnected feishu-4001" in gone[0]
    assert destinations(running.store) == []
