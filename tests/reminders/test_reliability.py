"""Reliability with the real process: SIGKILL in the middle of a 500-message dispatch, then a restart.

The bound under test: the dispatcher claims a row (status 'sending') before it sends and marks it 'sent'
as soon as Telegram answers. A process killed in between leaves its in-flight rows in 'sending'; the next
start puts them back, so they may go out twice. Duplicates are therefore at most the rows that were in
'sending' at the kill, which is at most the dispatcher's concurrency. Nothing is lost."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
from collections import Counter
from pathlib import Path

from fake_telegram import FakeBotAPI
from support.processes import start_bot

from bot.clock import Clock
from bot.reminders.dispatcher import Dispatcher
from bot.reminders.outbox import Outbox, Planned
from bot.store import Store

CHATS = 500
FIRST_CHAT = 10_000
NOW = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
CONCURRENCY = Dispatcher.__init__.__kwdefaults__["concurrency"]  # the bot runs the default


def seed(db: Path) -> None:
    with Store(db, clock=Clock(NOW)) as store:
        for chat_id in range(FIRST_CHAT, FIRST_CHAT + CHATS):
            store.ensure_chat(chat_id, "private", None, "en")
        alerts = [
            Planned(
                chat_id,
                "alert",
                "change:reliability",
                0,
                NOW,
                None,
                {"summary_en": f"Test alert for chat {chat_id}", "summary_zh": f"测试提醒 {chat_id}"},
            )
            for chat_id in range(FIRST_CHAT, FIRST_CHAT + CHATS)
        ]
        Outbox(store).enqueue(alerts)


def start(server: FakeBotAPI, tmp_path: Path) -> subprocess.Popen[str]:
    return start_bot(server, tmp_path, now=NOW, stdout=subprocess.DEVNULL)


def delivered(server: FakeBotAPI) -> Counter[int]:
    return Counter(int(m["chat_id"]) for m in server.sent_messages() if int(m["chat_id"]) >= FIRST_CHAT)


def in_flight(db: Path) -> int:
    with Store(db, clock=Clock(NOW)) as store:
        return int(store.db.execute("SELECT count(*) FROM deliveries WHERE status = 'sending'").fetchone()[0])


def test_sigkill_mid_dispatch_loses_nothing_and_repeats_at_most_the_in_flight(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server = fake_telegram
    seed(tmp_path / "bot.db")
    # Telegram's own pace, slowed so the kill lands in the middle.
    server.limit_rate(per_second=40)
    first = start(server, tmp_path)
    try:
        server.wait_for_sync(lambda: sum(delivered(server).values()) >= 150, timeout=120)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    at_kill = sum(delivered(server).values())
    claimed_at_kill = in_flight(tmp_path / "bot.db")
    assert at_kill < CHATS, "the kill came too late to test anything"

    second = start(server, tmp_path)
    try:
        server.wait_for_sync(lambda: len(delivered(server)) == CHATS, timeout=180)
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=30)
    counts = delivered(server)
    duplicates = sum(count - 1 for count in counts.values())
    assert set(counts) == set(range(FIRST_CHAT, FIRST_CHAT + CHATS))  # nothing lost
    # Claimed rows not yet handed to Telegram come back once; only the sends in flight can repeat.
    assert duplicates <= min(claimed_at_kill, CONCURRENCY), (duplicates, claimed_at_kill)
    assert second.returncode == 0, stderr
    with Store(tmp_path / "bot.db", clock=Clock(NOW)) as store:
        statuses = dict(
            store.db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
        )
    assert statuses == {"sent": CHATS}
