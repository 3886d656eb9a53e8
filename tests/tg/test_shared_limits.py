"""Telegram's per-group and per-chat limits count everything the bot sends to the chat: replies (the
application's bot, through ReplyLimiter) and reminders (the dispatcher) share one `GroupWindow` (20 a
minute per group) and one `ChatSpacing` (a second between messages to a chat), so together they keep to
them. The strict fake server enforces the limits; each test has its control, counted apart."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from conftest import POLICIES
from fake_telegram import FakeBotAPI
from telegram import Bot

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import TelegramConfig
from bot.reminders.dispatcher import Dispatcher, Limits
from bot.reminders.outbox import Outbox, Planned
from bot.reminders.pacing import GroupWindow
from bot.store import Store
from bot.tg.app import build_application
from bot.tg.sender import TelegramSender

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
GROUP = -4001
PER_MINUTE = 20  # Telegram's, as the bot counts it
REPLIES = PER_MINUTE - 1


async def replies_then_reminders(server: FakeBotAPI, tmp_path: Path, *, shared: bool) -> dict[str, int]:
    """19 replies to the group, then two reminders for it, for three seconds; the reminders by status."""
    server.add_chat(GROUP, "group", title="Sellers")
    server.limit_rate(per_group_per_minute=PER_MINUTE)
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    store.ensure_chat(GROUP, "group", "Sellers", "en")
    Outbox(store).enqueue(
        Planned(GROUP, "alert", f"change:{n}", 0, NOW - dt.timedelta(minutes=1), None, {}) for n in range(2)
    )
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url)
    app = build_application(config, server.token, LiveCatalog(POLICIES), store, clock)
    async with app, Bot(server.token, base_url=server.base_url) as plain:
        for n in range(REPLIES):
            await app.bot.send_message(GROUP, f"reply {n}")  # through the application's limiter
        dispatcher = Dispatcher(
            TelegramSender(plain),
            store,
            lambda deliveries, settings: (f"reminder #{deliveries[0].id}", ()),
            limits=Limits(per_group_per_minute=PER_MINUTE),
            window=app.bot_data.window,
            groups=app.bot_data.groups if shared else GroupWindow(PER_MINUTE),
            claim_batch=1,  # one row a message
        )
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(3.0, stop.set)
        await dispatcher.run(stop)
    statuses = dict(store.db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall())
    store.close()
    return statuses


async def test_replies_and_reminders_to_a_group_share_its_limit(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    statuses = await replies_then_reminders(fake_telegram, tmp_path, shared=True)
    sends = fake_telegram.calls_to("sendMessage")
    assert [call.status for call in sends] == [200] * (REPLIES + 1)  # the replies, one reminder, no 429
    assert statuses == {"sent": 1, "pending": 1}  # the other waits for the minute to pass


async def test_counted_apart_they_would_exceed_it(fake_telegram: FakeBotAPI, tmp_path: Path) -> None:
    """The control: a dispatcher with a window of its own sends into a group the replies filled."""
    await replies_then_reminders(fake_telegram, tmp_path, shared=False)
    assert 429 in [call.status for call in fake_telegram.calls_to("sendMessage")]


PRIVATE = 5001


async def reply_then_reminder(server: FakeBotAPI, tmp_path: Path, *, shared: bool) -> None:
    """A reply to a private chat, and at once a reminder due to the same chat."""
    server.add_chat(PRIVATE, "private", first_name="Seller")
    server.limit_rate(per_chat_per_second=1)  # Telegram's "about one message a second" in a chat
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    store.ensure_chat(PRIVATE, "private", None, "en")
    Outbox(store).enqueue(
        [Planned(PRIVATE, "alert", "change:chat", 0, NOW - dt.timedelta(minutes=1), None, {})]
    )
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url)
    app = build_application(config, server.token, LiveCatalog(POLICIES), store, clock)
    async with app, Bot(server.token, base_url=server.base_url) as plain:
        await app.bot.send_message(PRIVATE, "reply")  # through the application's limiter
        dispatcher = Dispatcher(
            TelegramSender(plain),
            store,
            lambda deliveries, settings: ("reminder", ()),
            window=app.bot_data.window,
            chats=app.bot_data.chats if shared else None,
        )
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(2.0, stop.set)
        await dispatcher.run(stop)
    store.close()


async def test_a_reminder_keeps_a_second_away_from_a_reply_to_the_same_chat(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    await reply_then_reminder(fake_telegram, tmp_path, shared=True)
    sends = fake_telegram.calls_to("sendMessage")
    assert [call.status for call in sends] == [200, 200]
    assert [call.params.get("text") for call in sends] == ["reply", "reminder"]


async def test_a_dispatcher_blind_to_the_replies_follows_one_too_closely(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    await reply_then_reminder(fake_telegram, tmp_path, shared=False)
    assert 429 in [call.status for call in fake_telegram.calls_to("sendMessage")]
