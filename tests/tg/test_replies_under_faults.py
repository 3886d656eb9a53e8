"""No lost replies on Telegram's bad days: the real bot, the strict fake server answering 5% of sends with
500 and 5% slowly, enforcing 30 messages a second, while reminders go out at the full rate.

The scenario of issue #12: 200 chats send /subscribe at once. Every one must get its confirmation (a reply
that meets a 500, a timeout or a 429 is sent again), and every reminder queued meanwhile must arrive.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from conftest import POLICIES
from fake_telegram import FakeBotAPI

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import TelegramConfig
from bot.reminders.outbox import Outbox, Planned
from bot.store import Store
from bot.tg.app import build_application

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
SUBSCRIBERS = range(20_000, 20_200)
ALERTED = range(30_000, 30_200)


def queue_alerts(store: Store) -> None:
    for chat_id in ALERTED:
        store.ensure_chat(chat_id, "private", None, "en")
    Outbox(store).enqueue(
        Planned(chat_id, "alert", "change:faults", 0, NOW, None, {"summary_en": f"Alert {chat_id}"})
        for chat_id in ALERTED
    )


def confirmations(server: FakeBotAPI) -> Counter[int]:
    return Counter(
        int(m["chat_id"])
        for m in server.sent_messages()
        if int(m["chat_id"]) in SUBSCRIBERS and "Subscribed" in str(m.get("text"))
    )


def alerts(server: FakeBotAPI) -> set[int]:
    return {int(m["chat_id"]) for m in server.sent_messages() if int(m["chat_id"]) in ALERTED}


async def test_200_subscribe_replies_under_500s_slow_answers_and_flood_control_none_lost(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server = fake_telegram
    server.limit_rate(per_second=30)
    server.random_faults(server_error=0.05, slow=0.05, slow_delay=1.0, seed=12)
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    queue_alerts(store)
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url)
    app = build_application(config, server.token, LiveCatalog(POLICIES), store, clock)
    async with app:
        assert app.post_init is not None and app.updater is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            for chat_id in SUBSCRIBERS:
                server.message(chat_id, "/subscribe amazon us fees", chat_type="private", language_code="en")
            await server.wait_for(lambda: len(confirmations(server)) == len(SUBSCRIBERS), timeout=240)
            await server.wait_for(lambda: len(alerts(server)) == len(ALERTED), timeout=120)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)
    sends = server.calls_to("sendMessage")
    assert sum(call.status == 500 for call in sends) > 0  # the faults did happen
    assert set(confirmations(server)) == set(SUBSCRIBERS)  # 0 lost replies
    assert alerts(server) == set(ALERTED)  # 0 lost reminders
    with Store(tmp_path / "bot.db", clock=clock) as reopened:
        assert not [row for row in reopened.audit_log(limit=1000) if row["action"] == "reply-failed"]
