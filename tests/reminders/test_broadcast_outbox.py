"""/broadcast goes through the outbox: killed with SIGKILL in the middle of it, the restarted bot finishes
it; nothing is lost and at most the sends in flight repeat (the reminders' bound)."""

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
from bot.store import Store

CHATS = range(40_000, 40_300)
ADMIN = 777
NOW = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
TEXT = "Amazon fee update tonight"
CONCURRENCY = Dispatcher.__init__.__kwdefaults__["concurrency"]


def start(server: FakeBotAPI, tmp_path: Path) -> subprocess.Popen[str]:
    return start_bot(server, tmp_path, now=NOW, admins=[ADMIN], monitoring=False, stdout=subprocess.DEVNULL)


def confirm_button(server: FakeBotAPI) -> str | None:
    """The callback data of the Send button under the operator's broadcast preview, once it is there."""
    for message in reversed(server.sent_messages(ADMIN)):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in (button for row in rows for button in row):
            if str(button.get("callback_data", "")).startswith("bc:send:"):
                return str(button["callback_data"])
    return None


def received(server: FakeBotAPI) -> Counter[int]:
    return Counter(
        int(m["chat_id"]) for m in server.sent_messages() if int(m["chat_id"]) in CHATS and m["text"] == TEXT
    )


def test_a_broadcast_killed_midway_is_finished_after_the_restart(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server = fake_telegram
    with Store(tmp_path / "bot.db", clock=Clock(NOW)) as store:
        for chat_id in CHATS:
            store.ensure_chat(chat_id, "private", None, "en")
    server.limit_rate(per_second=40)
    first = start(server, tmp_path)
    try:
        server.message(ADMIN, f"/broadcast {TEXT}", chat_type="private", language_code="en")
        # A preview comes first; the broadcast starts on its Confirm button (#17).
        server.wait_for_sync(lambda: confirm_button(server) is not None, timeout=60)
        server.callback(ADMIN, ADMIN, str(confirm_button(server)))
        server.wait_for_sync(lambda: sum(received(server).values()) >= 80, timeout=120)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    assert sum(received(server).values()) < len(CHATS), "the kill came too late to test anything"

    second = start(server, tmp_path)
    try:
        server.wait_for_sync(lambda: len(received(server)) == len(CHATS), timeout=180)
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=30)
    counts = received(server)
    assert set(counts) == set(CHATS)  # nothing lost
    assert sum(count - 1 for count in counts.values()) <= CONCURRENCY
    assert second.returncode == 0, stderr
