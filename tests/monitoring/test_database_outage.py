"""When the disk or the database says no (issue #18, item 5): a full disk or a locked database shows on
/healthz and in the log, the bot keeps answering what needs no write, tells a user whose command could
not be saved, and recovers by itself when writes succeed again, losing no reminder.

A real SQLite file throughout. "Disk full" is SQLite's own SQLITE_FULL, made by capping the bot's
connection with `PRAGMA max_page_count` at the file's current size (no root, no small filesystem);
"locked" is a second connection holding the write lock (`BEGIN IMMEDIATE`), as another process would.
The bot is the real python-telegram-bot Application against the fake Bot API server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import POLICIES
from fake_telegram import FakeBotAPI
from telegram import Update

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import MonitoringConfig, TelegramConfig
from bot.i18n import t, to_plain_text
from bot.monitoring import DatabaseHealth, is_database_unavailable
from bot.reminders.outbox import Outbox, Planned
from bot.store import Store
from bot.tg.app import build_application
from bot.tg.inbox import Inbox, try_write
from bot.tg.reminders import wake_dispatch
from bot.tg.services import BotApplication

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
CHAT = 901


@contextmanager
def disk_full(store: Store) -> Iterator[None]:
    """No new page for the bot's connection: every write that needs one fails with SQLITE_FULL."""
    store.db.execute("VACUUM")  # no free pages left to reuse
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    try:
        yield
    finally:
        store.db.execute("PRAGMA max_page_count = 1073741823")  # space is back


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another process holds the write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def message(update_id: int, text: str = "/fees apparel 18") -> Update:
    found = Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": 1,
                "date": 1_764_061_200,
                "chat": {"id": CHAT, "type": "private", "first_name": "Li"},
                "text": text,
            },
        },
        None,
    )
    assert found is not None
    return found


# --- the pieces ---


def test_sqlite_full_and_locked_are_told_apart_from_other_errors(db_path: Path, store: Store) -> None:
    with disk_full(store), pytest.raises(sqlite3.OperationalError) as full:
        try_write(store)
    assert is_database_unavailable(full.value) and "full" in str(full.value)
    with locked(db_path), pytest.raises(sqlite3.OperationalError) as busy:
        try_write(store, wait_ms=50)
    assert is_database_unavailable(busy.value) and "locked" in str(busy.value)
    with pytest.raises(sqlite3.OperationalError) as typo:
        store.db.execute("SELEC 1")
    assert not is_database_unavailable(typo.value)
    assert not is_database_unavailable(ValueError("full"))
    try_write(store)  # space and lock back: it writes, and keeps nothing
    assert store.db.execute("SELECT count(*) FROM update_inbox").fetchone()[0] == 0


def test_health_says_what_failed_and_since_when_and_retries_only_after_a_pause() -> None:
    now = [50.0]
    health = DatabaseHealth(retry_after=10, clock=lambda: now[0])
    assert health.problem() is None and health.should_try()
    health.failed("writing an update to the inbox", sqlite3.OperationalError("database or disk is full"))
    now[0] += 4
    assert (
        health.problem()
        == "writes failing for 4 s (writing an update to the inbox: database or disk is full)"
    )
    assert not health.should_try()
    now[0] += 6  # exactly retry_after since the last attempt
    assert health.should_try()
    health.failed("marking an update handled", sqlite3.OperationalError("database is locked"))
    assert health.outages == 1  # the same outage, its last error
    assert "for 10 s (marking an update handled: database is locked)" in str(health.problem())
    health.succeeded()
    assert health.problem() is None and health.should_try()


def test_an_update_received_while_the_disk_is_full_is_still_handled_and_later_ones_are_stored(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    health = DatabaseHealth(retry_after=0)
    inbox = Inbox(store, health)
    with caplog.at_level(logging.ERROR), disk_full(store):
        big = message(1, "运费 " * 2000)  # more than a page: the write needs new pages
        assert inbox.receive(big) is True  # handled from memory
        assert health.failing and "database or disk is full" in str(health.problem())
        assert inbox.receive(big) is False  # and still once per update id
    assert "refuses writes" in caplog.text
    assert inbox.receive(message(2)) is True  # space is back
    assert not health.failing
    assert [r[0] for r in store.db.execute("SELECT update_id FROM update_inbox")] == [2]


# --- the running bot ---


@asynccontextmanager
async def running(server: FakeBotAPI, store: Store, clock: Clock) -> AsyncIterator[BotApplication]:
    config = TelegramConfig(
        base_url=server.base_url, base_file_url=server.base_file_url, messages_per_minute=60
    )
    app = build_application(
        config,
        server.token,
        LiveCatalog(POLICIES),
        store,
        clock,
        monitoring=MonitoringConfig(listen="127.0.0.1:0"),
    )
    async with app:
        assert app.post_init is not None and app.updater is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)


def texts(server: FakeBotAPI, chat_id: int) -> list[str]:
    return [to_plain_text(str(m.get("text") or "")) for m in server.sent_messages(chat_id)]


async def ask(server: FakeBotAPI, text: str) -> str:
    before = len(texts(server, CHAT))
    server.message(CHAT, text, chat_type="private", language_code="en")
    await server.wait_for(lambda: len(texts(server, CHAT)) > before, timeout=30)
    return texts(server, CHAT)[before]


async def healthz(client: httpx.AsyncClient, app: BotApplication) -> httpx.Response:
    server = app.bot_data.monitoring_server
    assert server is not None
    return await client.get(f"http://127.0.0.1:{server.port}/healthz")


async def until_healthy(client: httpx.AsyncClient, app: BotApplication, server: FakeBotAPI) -> None:
    for _ in range(300):
        answer = await healthz(client, app)
        if answer.status_code == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(answer.text)


def reminder_due_soon(app: BotApplication, key: str) -> None:
    """Queued as the bot's own code queues: the row, then a wake-up of the dispatch job."""
    store = app.bot_data.store
    due = store.clock.now() + dt.timedelta(seconds=1)
    Outbox(store).enqueue([Planned(CHAT, "broadcast", key, 0, due, None, {"text": f"reminder {key}"})])
    wake_dispatch(app)


async def test_disk_full_is_on_healthz_and_in_the_log_questions_answered_recovers_losing_no_reminder(
    fake_telegram: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, clock = fake_telegram, Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    long_question = "/fees apparel 18" + " " * 5000  # its inbox row needs new pages
    async with running(server, store, clock) as app, httpx.AsyncClient(timeout=10) as client:
        assert "Unknown" not in await ask(server, "/mysubs")  # the chat is known before the outage
        await until_healthy(client, app, server)
        reminder_due_soon(app, "full-1")
        with caplog.at_level(logging.WARNING), disk_full(store):
            assert "$1.80" in await ask(server, long_question)  # the inbox write fails; the answer comes
            assert "writing an update to the inbox" in str(app.bot_data.database.problem())
            sick = await healthz(client, app)
            assert sick.status_code == 503
            assert "database: writes failing for" in sick.text and "database or disk is full" in sick.text
            # The reminder falls due now: no dispatch pass runs while its send could not be recorded.
            await asyncio.sleep(2)
        assert caplog.text.count("the database refuses writes") == 1  # once per outage, not per update
        await until_healthy(client, app, server)  # space is back: no restart needed
        assert "takes writes again" in caplog.text
        # Due during the outage: sent now, by the dispatch job's own retry.
        await server.wait_for(lambda: any("reminder full-1" in x for x in texts(server, CHAT)), timeout=30)
        assert "$1.80" in await ask(server, long_question)

        def recorded() -> bool:
            counts = Outbox(store).counts()
            return counts.get("sent", 0) >= 1 and not counts.get("sending") and not counts.get("pending")

        await server.wait_for(recorded, timeout=30)
        await server.wait_for(lambda: app.bot_data.inbox.counts()["unhandled"] == 0, timeout=10)
    delivered = [x for x in texts(server, CHAT) if "reminder full-1" in x]
    assert len(delivered) == 1  # late, not lost, not repeated


async def test_locked_database_answers_questions_says_so_and_sends_the_reminder_once_unlocked(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server, clock = fake_telegram, Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    # SQLite waits 5 s for a lock by default, the event loop held meanwhile; shorter here for the test.
    store.db.execute("PRAGMA busy_timeout = 300")
    async with running(server, store, clock) as app, httpx.AsyncClient(timeout=10) as client:
        await ask(server, "/mysubs")
        await until_healthy(client, app, server)
        reminder_due_soon(app, "during-lock")
        with locked(tmp_path / "bot.db"):
            assert "$1.80" in await ask(server, "/fees apparel 18")
            sick = await healthz(client, app)
            assert sick.status_code == 503 and "database is locked" in sick.text
            refused = await ask(server, "/subscribe amazon us fees")
            assert refused == to_plain_text(t("en", "tg_database_unavailable"))
        await until_healthy(client, app, server)
        # Due during the lock: sent once the lock is gone, by the dispatch job's own retry.
        await server.wait_for(
            lambda: any("reminder during-lock" in x for x in texts(server, CHAT)), timeout=30
        )
        assert "Subscribed" in await ask(server, "/subscribe amazon us fees")
    assert len([x for x in texts(server, CHAT) if "reminder during-lock" in x]) == 1


@pytest.fixture
def now() -> dt.datetime:
    return NOW
