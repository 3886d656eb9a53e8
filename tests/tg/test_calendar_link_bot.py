"""/calendar link in the running bot (issue #20): the URL it gives is served by the bot's own HTTP
server with the chat's dates, 304 when nothing changed, 404 after /calendar reset; a group member who is
no admin gets no link; the token never reaches the log. The feed of changes is served beside it."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import httpx
import pytest
import vobject
from conftest import POLICIES
from fake_telegram import FakeBotAPI

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import MonitoringConfig, TelegramConfig
from bot.i18n import to_plain_text
from bot.store import Store, Subscription
from bot.tg.app import build_application

USER = 620
GROUP = -4620
MEMBER = 621
NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
PUBLIC = "https://bot.example.com"


async def test_the_calendar_link_is_served_then_304_then_revoked(
    fake_telegram: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = fake_telegram
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url)
    monitoring = MonitoringConfig(listen="127.0.0.1:0", public_url=PUBLIC)
    app = build_application(config, server.token, LiveCatalog(POLICIES), store, clock, monitoring=monitoring)
    caplog.set_level(
        logging.INFO
    )  # the level the bot logs at (bot/tg/redact.py); PTB writes message texts at DEBUG
    async with app, httpx.AsyncClient(timeout=10) as client:
        assert app.post_init is not None and app.updater is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        base = f"http://127.0.0.1:{app.bot_data.monitoring_server.port}"  # type: ignore[union-attr]
        try:

            async def say(chat: int, text: str, user: int = USER, kind: str = "private") -> str:
                before = len(server.sent_messages(chat))
                server.message(chat, text, chat_type=kind, user_id=user, language_code="en")
                await server.wait_for(lambda: len(server.sent_messages(chat)) > before, timeout=10)
                return to_plain_text(server.sent_messages(chat)[-1]["text"])

            store.ensure_chat(USER, "private", None, "en")
            store.subscribe(USER, [Subscription("amazon", "US")])
            reply = await say(USER, "/calendar link")
            found = re.search(rf"{re.escape(PUBLIC)}(/cal/[A-Za-z0-9_-]+\.ics)", reply)
            assert found is not None, reply
            path = found.group(1)
            first = await client.get(base + path)
            assert first.status_code == 200 and first.headers["content-type"].startswith("text/calendar")
            calendar = vobject.readOne(first.text)
            assert any(
                event.uid.value.startswith("amazon-us-fuel-surcharge-2026/") for event in calendar.vevent_list
            )
            second = await client.get(base + path, headers={"If-None-Match": first.headers["etag"]})
            assert second.status_code == 304 and second.content == b""

            assert "already has a calendar URL" in await say(USER, "/calendar link")
            reset = await say(USER, "/calendar reset")
            assert (await client.get(base + path)).status_code == 404  # the old URL is revoked
            new_path = re.search(r"/cal/[A-Za-z0-9_-]+\.ics", reset)
            assert new_path is not None and (await client.get(base + new_path.group(0))).status_code == 200

            store.ensure_chat(GROUP, "group", "Team", "en")
            server.add_chat(GROUP, "group", title="Team")
            assert "Only the group's admins" in await say(GROUP, "/calendar link", user=MEMBER, kind="group")
            assert "Usage: /calendar" in await say(USER, "/calendar sometime")

            feed = await client.get(base + "/feeds/changes.json?platform=amazon")
            assert feed.status_code == 200 and feed.json()["version"] == "https://jsonfeed.org/version/1.1"
            assert (await client.get(base + "/feeds/nothing")).status_code == 404
            audit = str(store.audit_log())
            assert "calendar-link" in audit and "calendar-reset" in audit
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)
    token = path.removeprefix("/cal/").removesuffix(".ics")
    # httpx logs the URLs it requests (here: the test's own calendar client); the bot silences it.
    bot_log = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert token not in bot_log and token not in audit
    server.assert_no_rejections()


async def test_without_a_public_url_the_bot_says_links_are_off(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server = fake_telegram
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url)
    app = build_application(config, server.token, LiveCatalog(POLICIES), store, clock)
    async with app:
        assert app.post_init is not None and app.updater is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            server.message(USER, "/calendar link", chat_type="private", language_code="zh-hans")
            await server.wait_for(lambda: server.sent_messages(USER), timeout=10)
            assert "未开启日历链接" in to_plain_text(server.sent_messages(USER)[0]["text"])
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)
