"""The update inbox (issue #18, item 1): every update in SQLite before Telegram is told it arrived, marked
handled after its reply, handled again at the next start if it was not, and never twice for one update id.

The Inbox against a real SQLite file, then the real python-telegram-bot Application over HTTP against the
strict fake Bot API server (polling), and its webhook server with a real HTTP client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import POLICIES
from fake_telegram import FakeBotAPI
from support.processes import free_port
from support.sku_files import SMALL, fee_preview, fee_preview_row
from telegram import Update

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import TelegramConfig
from bot.i18n import to_plain_text
from bot.monitoring import DatabaseHealth
from bot.store import Store, Subscription
from bot.tg import prune_inbox
from bot.tg.app import build_application
from bot.tg.inbox import MAX_ATTEMPTS, Inbox, InboxQueue
from bot.tg.services import BotApplication

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
ADMIN = 777
SKUS = fee_preview([fee_preview_row(f"SKU-{n}", "Sundries", "12.00", SMALL, "2", "ounces") for n in range(3)])


def update(update_id: int, text: str = "/fees apparel 18", chat_id: int = 501) -> Update:
    payload = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_764_061_200,
            "chat": {"id": chat_id, "type": "private", "first_name": "Li"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Li", "language_code": "zh"},
            "text": text,
        },
    }
    found = Update.de_json(payload, None)
    assert found is not None
    return found


def rows(store: Store) -> list[dict[str, Any]]:
    return [dict(row) for row in store.db.query("SELECT * FROM update_inbox ORDER BY update_id")]


# --- the inbox on a real SQLite file ---


def test_an_update_is_written_with_its_payload_once_then_marked_handled(store: Store) -> None:
    inbox = Inbox(store, DatabaseHealth())
    assert inbox.receive(update(5, "低库存费什么时候开始收")) is True
    [row] = rows(store)
    assert row["update_id"] == 5 and row["handled_at"] is None and row["attempts"] == 1
    assert json.loads(row["payload"])["message"]["text"] == "低库存费什么时候开始收"  # kept as sent
    assert row["received_at"] == "2026-11-25T09:00:00+00:00"
    assert inbox.receive(update(5)) is False  # Telegram sent it again
    inbox.handled(5)
    assert rows(store)[0]["handled_at"] == "2026-11-25T09:00:00+00:00"
    assert inbox.counts() == {"handled": 1, "unhandled": 0}


def test_an_update_received_by_an_earlier_run_is_refused_by_its_id(store: Store) -> None:
    Inbox(store, DatabaseHealth()).receive(update(7))
    later_run = Inbox(store, DatabaseHealth())  # nothing in memory: the table says it
    assert later_run.receive(update(7)) is False
    assert later_run.receive(update(8)) is True


def test_unhandled_updates_are_given_again_oldest_first_at_most_max_attempts_in_all(store: Store) -> None:
    inbox = Inbox(store, DatabaseHealth())
    for update_id in (12, 10, 11):
        inbox.receive(update(update_id, f"text {update_id}"))
    inbox.handled(11)
    for start in range(1, MAX_ATTEMPTS):  # each start after a crash gives them once more
        again = Inbox(store, DatabaseHealth()).take_unhandled()
        assert [p["update_id"] for p in again] == [10, 12], start
    assert Inbox(store, DatabaseHealth()).take_unhandled() == []  # an update that crashes every time
    assert {r["update_id"]: r["attempts"] for r in rows(store)} == {10: MAX_ATTEMPTS, 11: 1, 12: MAX_ATTEMPTS}


def test_prune_deletes_rows_received_before_the_cutoff_handled_or_not_in_batches(
    store: Store, now: dt.datetime
) -> None:
    old = (now - dt.timedelta(days=8)).isoformat(timespec="seconds")
    store.db.conn.executemany(
        "INSERT INTO update_inbox (update_id, payload, received_at, handled_at) VALUES (?, '{}', ?, ?)",
        [(i, old, old if i % 2 else None) for i in range(1, 2_502)],  # more than two batches
    )
    store.db.conn.commit()
    inbox = Inbox(store, DatabaseHealth())
    inbox.receive(update(9_000))
    cutoff = now - dt.timedelta(days=7)
    assert prune_inbox(store, cutoff) == 2_501
    assert [r["update_id"] for r in rows(store)] == [9_000]
    assert prune_inbox(store, now) == 0  # received exactly at the cutoff: kept
    assert prune_inbox(store, now + dt.timedelta(seconds=1)) == 1


# --- the real Application against the fake Bot API ---


def build(server: FakeBotAPI, store: Store, clock: Clock) -> BotApplication:
    config = TelegramConfig(
        base_url=server.base_url, base_file_url=server.base_file_url, admins=[ADMIN], messages_per_minute=30
    )
    return build_application(config, server.token, LiveCatalog(POLICIES), store, clock)


class Running:
    def __init__(self, app: BotApplication, server: FakeBotAPI) -> None:
        self.app, self.server = app, server

    async def settle(self, *update_ids: int) -> None:
        """Until `update_ids` are in the inbox, the queue is empty and every update in it is handled."""
        inbox = self.app.bot_data.inbox
        store = self.app.bot_data.store

        def done() -> bool:
            stored = {r["update_id"] for r in rows(store)}
            return (
                set(update_ids) <= stored
                and self.app.update_queue.empty()
                and inbox.counts()["unhandled"] == 0
            )

        await self.server.wait_for(done, timeout=20)


@asynccontextmanager
async def running(app: BotApplication, server: FakeBotAPI) -> AsyncIterator[Running]:
    async with app:
        assert app.post_init is not None and app.updater is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield Running(app, server)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)


def texts(server: FakeBotAPI, chat_id: int) -> list[str]:
    return [to_plain_text(str(m.get("text") or "")) for m in server.sent_messages(chat_id)]


async def test_every_update_is_in_the_inbox_and_marked_handled_after_its_reply(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server, clock = fake_telegram, Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    async with running(build(server, store, clock), server) as bot:
        first = server.message(501, "/fees apparel 18", chat_type="private", language_code="en")
        second = server.message(502, "/mysubs", chat_type="private", language_code="en")
        await server.wait_for(lambda: texts(server, 501) and texts(server, 502), timeout=20)
        await bot.settle(first, second)
        with Store(tmp_path / "bot.db", clock=clock) as other:  # what a restarted process would read
            stored = {r["update_id"]: r for r in rows(other)}
        assert set(stored) == {first, second}
        assert all(r["handled_at"] is not None for r in stored.values())
    assert "$1.80" in texts(server, 501)[0]


async def test_at_start_an_unhandled_update_is_answered_once_and_a_handled_one_not_again(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    """As after a SIGKILL: the last run stored two updates and Telegram still has both (never acked);
    it had answered the first (handled), not the second."""
    server, clock = fake_telegram, Clock(NOW)
    answered = server.message(601, "/fees apparel 18", chat_type="private", language_code="en")
    unanswered = server.message(602, "/subscribe amazon us fees", chat_type="private", language_code="en")
    payloads = {u["update_id"]: u for u in server.pending_updates()}
    with Store(tmp_path / "bot.db", clock=clock) as before:
        inbox = Inbox(before, DatabaseHealth())
        for update_id in (answered, unanswered):
            found = Update.de_json(payloads[update_id], None)
            assert found is not None and inbox.receive(found)
        inbox.handled(answered)
    store = Store(tmp_path / "bot.db", clock=clock)
    async with running(build(server, store, clock), server) as bot:
        await server.wait_for(lambda: texts(server, 602), timeout=20)
        later = server.message(
            603, "/mysubs", chat_type="private", language_code="en"
        )  # after the redelivery
        await server.wait_for(lambda: texts(server, 603), timeout=20)
        await bot.settle(later)
        assert store.subscriptions(602) == [Subscription("amazon", "US", "fees")]
        assert {r["update_id"]: r["attempts"] for r in rows(store)} == {answered: 1, unanswered: 2, later: 1}
    assert texts(server, 601) == []  # answered by the last run: not again
    assert len(texts(server, 602)) == 1 and "Subscribed" in texts(server, 602)[0]  # once, not twice


async def test_commands_with_effects_handled_twice_change_things_once(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    """A crash after a command's effect and before its row was marked handled: the next start handles
    it again. Subscribing, a setting, a broadcast and a SKU import stay as if handled once."""
    server, clock = fake_telegram, Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    start = server.message(ADMIN, "/start", chat_type="private", language_code="en")  # the operator's chat
    async with running(build(server, store, clock), server) as bot:
        await bot.settle(start)
        sent = [
            server.message(701, "/subscribe amazon us fees", chat_type="private", language_code="en"),
            server.message(701, "/settings tz Shenzhen", chat_type="private", language_code="en"),
            server.document(701, SKUS, "Fee Preview.txt", mime_type="text/plain"),
        ]
        await bot.settle(*sent)
        # A broadcast is previewed first; its effect is the operator's Send press (#17), replayed too.
        preview = server.message(
            ADMIN, "/broadcast Amazon's fee changes are in /changes", chat_type="private"
        )
        await bot.settle(preview)
        markup = server.sent_messages(ADMIN)[-1]["reply_markup"]
        button = next(b["callback_data"] for row in markup["inline_keyboard"] for b in row)
        assert button.startswith("bc:send:")
        press = server.callback(ADMIN, ADMIN, button)
        await bot.settle(press)
        sent.append(press)
        for update_id in sent:  # handled a second time, from the stored payload, as a replay does
            [payload] = [r["payload"] for r in rows(store) if r["update_id"] == update_id]
            again = Update.de_json(json.loads(payload), bot.app.bot)
            assert again is not None
            await bot.app.process_update(again)
        await bot.settle()
        assert store.subscriptions(701) == [Subscription("amazon", "US", "fees")]
        settings = store.chat(701)
        assert settings is not None and settings.time_zone == "Asia/Shanghai"
        broadcasts = store.db.execute(
            "SELECT chat_id, count(*) FROM deliveries WHERE kind = 'broadcast' GROUP BY chat_id"
        ).fetchall()
        assert sorted(broadcasts) == [(701, 1), (ADMIN, 1)]  # one row per chat, not two
        skus = store.db.execute("SELECT count(*) FROM seller_skus WHERE chat_id = 701").fetchone()[0]
        assert skus == 3  # the file's SKUs replace the chat's: imported twice, still 3
    assert sum("Imported 3 SKUs" in x for x in texts(server, 701)) == 2  # each handling replies


async def test_webhook_the_update_is_stored_before_the_200_and_a_repeat_post_is_handled_once(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server, clock = fake_telegram, Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    app = build(server, store, clock)
    port = free_port()
    server.message(801, "/fees apparel 18", chat_type="private", language_code="en")
    [payload] = server.pending_updates()
    async with app, httpx.AsyncClient(timeout=10) as client:
        assert app.post_init is not None and app.updater is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook", webhook_url="https://bot.example.com/hook",
            secret_token="s3cret",
        )  # fmt: skip
        try:
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            answer = await client.post(f"http://127.0.0.1:{port}/hook", json=payload, headers=headers)
            assert answer.status_code == 200
            # Read with another connection the moment the 200 came: the row is there.
            with Store(tmp_path / "bot.db", clock=clock) as other:
                assert [r["update_id"] for r in rows(other)] == [payload["update_id"]]
            repeat = await client.post(f"http://127.0.0.1:{port}/hook", json=payload, headers=headers)
            assert repeat.status_code == 200  # Telegram's retry, the 200 lost on the way
            await server.wait_for(lambda: texts(server, 801), timeout=20)
            await Running(app, server).settle(payload["update_id"])
            await asyncio.sleep(0.5)  # a second answer would have come by now
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)
    assert len(texts(server, 801)) == 1 and "$1.80" in texts(server, 801)[0]


async def test_inbox_queue_refuses_a_repeat_and_replays_unhandled_before_new_ones(store: Store) -> None:
    inbox = Inbox(store, DatabaseHealth())
    inbox.receive(update(20, "left by the last run"))
    queue = InboxQueue(Inbox(store, DatabaseHealth()))
    assert queue.replay(None) == 1  # type: ignore[arg-type]  # (de_json needs no bot for a message)
    await queue.put(update(20))  # Telegram redelivers it: already queued by the replay
    await queue.put(update(21))
    await queue.put(update(21))
    taken = [queue.get_nowait() for _ in range(queue.qsize())]
    assert [u.update_id for u in taken if isinstance(u, Update)] == [20, 21]


def test_max_attempts_is_small_and_positive() -> None:
    assert 2 <= MAX_ATTEMPTS <= 5  # handled again after a crash, yet no crash loop for ever


@pytest.fixture
def now() -> dt.datetime:
    return NOW
