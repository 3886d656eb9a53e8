"""The paid-broadcast switch: off by default; on, reminders and broadcasts carry allow_paid_broadcast and
the bot's one pace rises to Telegram's 1,000 messages a second. Replies to users never pay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conftest import POLICIES
from fake_telegram import FakeBotAPI

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import TelegramConfig
from bot.reminders.dispatcher import Dispatcher
from bot.reminders.outbox import Outbox, Planned
from bot.store import Store
from bot.tg.app import build_application
from bot.tg.sender import TelegramSender

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
CHAT = 50_001


async def run_once(server: FakeBotAPI, tmp_path: Path, paid: bool) -> Dispatcher:
    clock = Clock(NOW)
    store = Store(tmp_path / f"bot-{paid}.db", clock=clock)
    store.ensure_chat(CHAT, "private", None, "en")
    Outbox(store).enqueue([Planned(CHAT, "alert", f"change:paid:{paid}", 0, NOW, None, {"summary_en": "x"})])
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url, paid_broadcast=paid)
    app = build_application(config, server.token, LiveCatalog(POLICIES), store, clock)
    before = len(server.sent_messages(CHAT))  # counted before the start: the alert may go at once
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None and app.updater is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await server.wait_for(lambda: len(server.sent_messages(CHAT)) > before, timeout=10)
            server.message(CHAT, "/help", chat_type="private", language_code="en")
            await server.wait_for(lambda: len(server.sent_messages(CHAT)) > before + 1, timeout=10)
            dispatcher = app.bot_data.dispatcher
            assert isinstance(dispatcher, Dispatcher)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)
    return dispatcher


async def test_paid_broadcast_is_off_by_default_and_raises_the_pace_when_on(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    free = await run_once(fake_telegram, tmp_path, paid=False)
    assert isinstance(free.sender, TelegramSender)
    assert free.window.limit == 30 and not free.sender.paid_broadcast
    free_calls = [c.params for c in fake_telegram.calls_to("sendMessage") if c.params["chat_id"] == CHAT]
    assert all("allow_paid_broadcast" not in params for params in free_calls)

    paid = await run_once(fake_telegram, tmp_path, paid=True)
    assert isinstance(paid.sender, TelegramSender)
    assert paid.window.limit == 1000 and paid.sender.paid_broadcast
    calls = [c.params for c in fake_telegram.calls_to("sendMessage") if c.params["chat_id"] == CHAT]
    alert, reply = calls[len(free_calls)], calls[len(free_calls) + 1]
    assert alert.get("allow_paid_broadcast") is True  # the reminder pays
    assert "allow_paid_broadcast" not in reply  # the answer to /help does not
