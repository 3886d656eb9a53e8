"""The Telegram bot end to end: the real python-telegram-bot Application over real HTTP against the strict
fake Bot API server, a real SQLite file and the shipped policies. Nothing of ours is mocked."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from conftest import POLICIES
from fake_telegram import FakeBotAPI
from telegram.ext import Application

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import TelegramConfig
from bot.i18n import to_plain_text
from bot.reminders.outbox import Outbox
from bot.store import Store, Subscription
from bot.tg.app import build_application
from bot.tg.reminders import wake_dispatch
from bot.tg.replies import ReplyLimiter

ADMIN = 777
ZH_USER = 501
EN_USER = 502
GROUP = -4001
MEMBER = 1001
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


class Bot:
    """A running bot and the handles a test needs."""

    def __init__(self, server: FakeBotAPI, app: Application, store: Store, policies: Path) -> None:  # type: ignore[type-arg]
        self.server, self.app, self.store, self.policies = server, app, store, policies

    async def say(self, chat_id: int, text: str, **kwargs: Any) -> list[str]:
        """Send `text` as a user, wait for the bot's answer; return its new messages as plain text."""
        before = len(self.server.sent_messages(chat_id))
        self.server.message(chat_id, text, **kwargs)
        await self.server.wait_for(lambda: len(self.server.sent_messages(chat_id)) > before, timeout=10)
        await self.settle()
        return self.texts(chat_id)[before:]

    async def press(self, chat_id: int, user_id: int, data: str) -> None:
        """Press a button under the bot's latest message and wait for the query to be answered."""
        before = len(self.server.calls_to("answerCallbackQuery"))
        self.server.callback(chat_id, user_id, data)
        await self.server.wait_for(
            lambda: len(self.server.calls_to("answerCallbackQuery")) > before, timeout=10
        )
        await self.settle()

    async def settle(self) -> None:
        """Let the update in hand finish (edits and follow-up messages come after the first reply)."""
        await self.server.wait_for(lambda: self.app.update_queue.empty(), timeout=10)
        for _ in range(40):
            count = len(self.server.calls)
            await asyncio.sleep(0.05)
            if len(self.server.calls) == count:
                return

    def texts(self, chat_id: int) -> list[str]:
        """What the user sees of each message the bot sent (HTML rendered to plain text)."""
        return [
            to_plain_text(str(m.get("text") or m.get("caption") or ""))
            for m in self.server.sent_messages(chat_id)
        ]

    def edited_texts(self, chat_id: int) -> list[str]:
        """The bot's messages in the chat as they read now, after any edits."""
        messages = self.server.chat_messages(chat_id)
        return [to_plain_text(str(m.get("text") or "")) for m in messages if m.get("from", {}).get("is_bot")]

    def last_text(self, chat_id: int) -> str:
        """The text of the bot's latest message in the chat, as edited."""
        messages = self.server.chat_messages(chat_id)
        bot_messages = [m for m in messages if m.get("from", {}).get("is_bot")]
        return to_plain_text(str(bot_messages[-1].get("text") or bot_messages[-1].get("caption") or ""))


@pytest_asyncio.fixture
async def bot(fake_telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Bot]:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(
        base_url=fake_telegram.base_url,
        base_file_url=fake_telegram.base_file_url,
        admins=[ADMIN],
        messages_per_minute=30,
    )
    app = build_application(config, fake_telegram.token, LiveCatalog(policies), store, clock)
    fake_telegram.add_chat(GROUP, "group", title="Seller team")
    fake_telegram.set_admins(GROUP, {ADMIN}, creator=ADMIN)
    async with app:
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield Bot(fake_telegram, app, store, policies)
        finally:
            await app.updater.stop()
            await app.stop()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)


async def test_command_menus_are_set_in_both_languages(bot: Bot) -> None:
    calls = bot.server.calls_to("setMyCommands")
    languages = {call.params.get("language_code") for call in calls}
    assert {None, "zh", "en"} <= languages
    zh_menu = next(c for c in calls if c.params.get("language_code") == "zh").params["commands"]
    assert {"command": "fees", "description": "查询类目和价格对应的佣金"} in zh_menu


async def test_private_chat_in_chinese(bot: Bot) -> None:
    replies = await bot.say(ZH_USER, "/start", language_code="zh-hans", chat_type="private")
    assert "跨境卖家" in replies[0]
    assert bot.store.chat(ZH_USER) is not None and bot.store.chat(ZH_USER).time_zone == "Asia/Shanghai"  # type: ignore[union-attr]
    fee = await bot.say(ZH_USER, "/fees apparel 18")
    assert "$1.80（10%）" in fee[0] and "此前 17% = $3.06" in fee[0]
    answer = await bot.say(ZH_USER, "低库存费什么时候开始收")
    assert "低库存" in answer[0]


async def test_private_chat_in_english_and_a_typo(bot: Bot) -> None:
    replies = await bot.say(EN_USER, "/fees aparel 18", language_code="en", chat_type="private")
    assert "Did you mean: apparel" in replies[0]
    assert bot.store.chat(EN_USER).language == "en"  # type: ignore[union-attr]


async def test_a_question_gets_the_answer_and_next_step_buttons(bot: Bot) -> None:
    """A fee question in Chinese gets the /fees number and buttons; pressing them answers in Chinese."""
    answer = await bot.say(ZH_USER, "亚马逊服装18美元佣金多少", language_code="zh-hans", chat_type="private")
    assert "$1.80（10%）" in answer[0]
    sent = bot.server.sent_messages(ZH_USER)[-1]
    buttons = [b for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["其他价格的费用", "完整规则"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    await bot.press(ZH_USER, ZH_USER, buttons[1]["callback_data"])
    card = bot.last_text(ZH_USER)
    assert "来源" in card and "服装类目销售佣金下调" in card
    assert "amazon-us-apparel-referral-fee-2024" not in card  # named, not by id (#17)
    # The other button is still under the answer (message_id: not the bot's latest message any more).
    answer_id = next(m for m in bot.server.chat_messages(ZH_USER) if m.get("reply_markup"))["message_id"]
    bot.server.callback(ZH_USER, ZH_USER, buttons[0]["callback_data"], answer_id)
    await bot.server.wait_for(lambda: bot.server.calls_to("sendPhoto"), timeout=20)
    assert "≤$15.00 收 5%" in "\n".join(bot.texts(ZH_USER)[-2:])


async def test_an_exemption_question_and_its_dates_button(bot: Bot) -> None:
    answer = await bot.say(
        EN_USER,
        "which products are exempt from the low inventory fee",
        language_code="en",
        chat_type="private",
    )
    assert "365 days" in answer[0] and "70% or more" in answer[0]
    sent = bot.server.sent_messages(EN_USER)[-1]
    buttons = {b["text"]: b["callback_data"] for row in sent["reply_markup"]["inline_keyboard"] for b in row}
    assert "Exemptions" not in buttons  # already shown
    await bot.press(EN_USER, EN_USER, buttons["Dates"])
    assert "2024-04-01" in bot.last_text(EN_USER)
    # A button of a rule no longer in the catalog (or forged) gets a note, not silence.
    bot.server.callback(EN_USER, EN_USER, "ask:d:zzzzzzzzzzzzz", check_button=False)
    await bot.server.wait_for(lambda: "no longer valid" in bot.last_text(EN_USER), timeout=10)


async def test_subscribe_through_the_buttons(bot: Bot) -> None:
    await bot.say(ZH_USER, "/subscribe", language_code="zh-hans", chat_type="private")
    assert "第1步" in bot.last_text(ZH_USER)
    await bot.press(ZH_USER, ZH_USER, "sub:p:amazon")
    assert "第2步" in bot.last_text(ZH_USER)
    await bot.press(ZH_USER, ZH_USER, "sub:m:US")
    await bot.press(ZH_USER, ZH_USER, "sub:next")
    assert "第3步" in bot.last_text(ZH_USER)
    await bot.press(ZH_USER, ZH_USER, "sub:t:fees")
    await bot.press(ZH_USER, ZH_USER, "sub:t:promotion")
    await bot.press(ZH_USER, ZH_USER, "sub:review")
    assert "请确认" in bot.last_text(ZH_USER)
    await bot.press(ZH_USER, ZH_USER, "sub:ok")
    assert "已订阅" in bot.last_text(ZH_USER)
    assert bot.store.subscriptions(ZH_USER) == [
        Subscription("amazon", "US", "fees"),
        Subscription("amazon", "US", "promotion"),
    ]
    mine = await bot.say(ZH_USER, "/mysubs")
    assert "亚马逊" in mine[0] and "US" in mine[0]


async def test_typed_subscribe_and_unsubscribe(bot: Bot) -> None:
    done = await bot.say(EN_USER, "/subscribe tiktok us uk fees", language_code="en", chat_type="private")
    assert "Subscribed (2 new)" in done[0]
    bad = await bot.say(EN_USER, "/subscribe amazon mars")
    assert "“mars” is neither a marketplace" in bad[0]
    await bot.say(EN_USER, "/unsubscribe tiktok")
    assert bot.store.subscriptions(EN_USER) == []


async def test_a_forged_or_stale_button_is_answered_and_ignored(bot: Bot) -> None:
    await bot.say(EN_USER, "/subscribe", language_code="en", chat_type="private")
    bot.server.callback(EN_USER, EN_USER, "sub:p:" + "x" * 50, check_button=False)
    bot.server.callback(EN_USER, EN_USER, "evil:payload", check_button=False)
    await bot.server.wait_for(lambda: len(bot.server.calls_to("answerCallbackQuery")) >= 2, timeout=10)
    assert bot.store.subscriptions(EN_USER) == []


async def test_settings_by_buttons_and_typed(bot: Bot) -> None:
    await bot.say(ZH_USER, "/settings tz Los Angeles", language_code="zh-hans", chat_type="private")
    assert bot.store.chat(ZH_USER).time_zone == "America/Los_Angeles"  # type: ignore[union-attr]
    await bot.press(ZH_USER, ZH_USER, "set:lang:en")
    assert bot.store.chat(ZH_USER).language == "en"  # type: ignore[union-attr]
    assert "Settings" in bot.last_text(ZH_USER)
    await bot.press(ZH_USER, ZH_USER, "set:time:1000")
    await bot.press(ZH_USER, ZH_USER, "set:quiet:2200-0800")
    settings = bot.store.chat(ZH_USER)
    assert settings is not None and settings.reminder_time == "10:00" and settings.quiet_start == "22:00"
    bad = await bot.say(ZH_USER, "/settings tz Atlantis")
    assert "I don't know that time zone" in bad[0]
    fee = await bot.say(ZH_USER, "/fees apparel 18")
    assert "Fee on" in fee[0]


async def test_fees_without_a_price_sends_a_chart(bot: Bot) -> None:
    await bot.say(EN_USER, "/fees apparel", language_code="en", chat_type="private")
    await bot.server.wait_for(lambda: bot.server.calls_to("sendPhoto"), timeout=20)
    photo = bot.server.calls_to("sendPhoto")[0]
    assert next(iter(photo.files.values())).startswith(b"\x89PNG")
    assert "Clothing" in photo.params["caption"]


async def test_group_admins_change_subscriptions_and_others_are_refused(bot: Bot) -> None:
    refused = await bot.say(GROUP, "/subscribe amazon", user_id=MEMBER)
    assert "Only this group's admins" in refused[0]
    assert bot.store.subscriptions(GROUP) == []
    await bot.say(GROUP, "/subscribe amazon", user_id=ADMIN)
    assert bot.store.subscriptions(GROUP) == [Subscription("amazon", "*", "*")]
    answer = await bot.say(GROUP, "/fees@PolicyTestBot apparel 18", user_id=MEMBER)
    assert "$1.80" in answer[0]


async def test_group_ignores_chatter_and_other_bots_commands(bot: Bot) -> None:
    await bot.say(GROUP, "/help", user_id=MEMBER)
    count = len(bot.server.sent_messages(GROUP))
    bot.server.message(GROUP, "/fees@OtherBot apparel 18", user_id=MEMBER)
    bot.server.message(GROUP, "lunch at noon?", user_id=MEMBER)
    await bot.settle()
    assert len(bot.server.sent_messages(GROUP)) == count
    mention = await bot.say(GROUP, "@PolicyTestBot coupon rules", user_id=MEMBER)
    assert "coupon" in mention[0].lower()


async def test_group_migration_keeps_subscriptions(bot: Bot) -> None:
    await bot.say(GROUP, "/subscribe temu", user_id=ADMIN)
    bot.server.migrate(GROUP, -1001234567890)
    await bot.server.wait_for(
        lambda: bot.store.chat(-1001234567890) and bot.store.subscriptions(-1001234567890)
    )
    assert bot.store.subscriptions(-1001234567890) == [Subscription("temu", "*", "*")]
    assert bot.store.chat(-1001234567890).kind == "supergroup"  # type: ignore[union-attr]


async def test_admin_commands_from_an_admin_and_a_stranger(bot: Bot) -> None:
    await bot.say(EN_USER, "/start", language_code="en", chat_type="private")
    refused = await bot.say(EN_USER, "/stats")
    assert "for the bot's operators" in refused[0]
    stats = await bot.say(ADMIN, "/stats", language_code="en", chat_type="private")
    assert "Chats: 2" in stats[0]
    await bot.say(ADMIN, "/broadcast Amazon <b>fee</b> update tonight")
    preview = bot.server.sent_messages(ADMIN)[-1]["reply_markup"]["inline_keyboard"][0][0]
    await bot.press(ADMIN, ADMIN, preview["callback_data"])  # sent on Confirm only (#17)
    finished = "Broadcast finished: 2 sent, 0 failed, of 2 chats."
    await bot.server.wait_for(lambda: finished in bot.edited_texts(ADMIN), timeout=10)
    assert "Amazon &lt;b&gt;fee&lt;/b&gt; update tonight" in bot.server.sent_messages(EN_USER)[-1]["text"]
    assert bot.texts(EN_USER)[-1] == "Amazon <b>fee</b> update tonight"
    assert any(row["action"] == "broadcast" for row in bot.store.audit_log())


async def test_reload_keeps_the_last_good_catalog_and_reports_every_problem(bot: Bot) -> None:
    amazon = bot.policies / "amazon.toml"
    amazon.write_text(amazon.read_text(encoding="utf-8").replace('topic = "fees"', 'topic = "feez"', 1))
    failed = await bot.say(ADMIN, "/reload", language_code="en", chat_type="private")
    text = "\n".join(failed)
    assert "Reload failed with 1 problem(s)" in text
    assert "amazon.toml rule amazon-us-apparel-referral-fee-2024 field topic" in text
    still = await bot.say(ADMIN, "/fees apparel 18")
    assert "$1.80" in still[0]
    amazon.write_text(amazon.read_text(encoding="utf-8").replace('topic = "feez"', 'topic = "fees"', 1))
    ok = await bot.say(ADMIN, "/reload")
    assert "Policies reloaded" in ok[0]


async def test_a_blocked_user_is_marked_inactive(bot: Bot) -> None:
    await bot.say(EN_USER, "/start", language_code="en", chat_type="private")
    bot.server.fail_next("sendMessage", "blocked", chat_id=EN_USER)
    bot.server.message(EN_USER, "/help")
    await bot.server.wait_for(lambda: not bot.store.chat(EN_USER).active, timeout=10)  # type: ignore[union-attr]


async def test_flood_control_warns_once_then_stays_silent(bot: Bot, fake_telegram: FakeBotAPI) -> None:
    services = bot.app.bot_data
    services.throttle.per_minute = 3
    for _ in range(5):
        bot.server.message(EN_USER, "/help", chat_type="private", language_code="en")
    await bot.server.wait_for(lambda: len(bot.server.sent_messages(EN_USER)) >= 4, timeout=10)
    await bot.settle()
    texts = bot.texts(EN_USER)
    assert len(texts) == 4
    assert "faster than I can answer" in texts[3]


async def test_long_replies_are_split_within_telegrams_limit(bot: Bot) -> None:
    replies = await bot.say(ZH_USER, "/rule U2", language_code="zh-hans", chat_type="private")
    await bot.say(ZH_USER, "/rules")
    for text in bot.texts(ZH_USER):
        assert len(text) <= 4096
    assert replies


async def test_flood_wait_from_telegram_is_honoured(bot: Bot) -> None:
    await bot.say(EN_USER, "/start", language_code="en", chat_type="private")
    bot.server.fail_next("sendMessage", "retry_after", chat_id=EN_USER, retry_after=1)
    replies = await bot.say(EN_USER, "/fees apparel 18")
    assert "$1.80" in replies[0]
    attempts = [c for c in bot.server.calls_to("sendMessage") if c.params.get("chat_id") == EN_USER]
    assert [c.status for c in attempts[-2:]] == [429, 200]


async def test_a_reply_that_meets_a_server_error_is_sent_again(bot: Bot) -> None:
    await bot.say(EN_USER, "/start", language_code="en", chat_type="private")
    bot.server.fail_next("sendMessage", "server_error", times=2, chat_id=EN_USER)
    replies = await bot.say(EN_USER, "/help")
    assert len(replies) == 1 and "/fees" in replies[0]
    statuses = [c.status for c in bot.server.calls_to("sendMessage") if c.params["chat_id"] == EN_USER]
    assert statuses[-3:] == [500, 500, 200]
    assert not bot.server.sent_messages(ADMIN)  # nothing for the operators: the user got the answer


async def test_a_reply_that_finally_fails_is_recorded_and_reaches_the_error_handler(bot: Bot) -> None:
    await bot.say(EN_USER, "/start", language_code="en", chat_type="private")
    limiter = bot.app.bot.rate_limiter
    assert isinstance(limiter, ReplyLimiter)
    limiter.deadline = 1.0  # Telegram down for longer than the retries last
    bot.server.fail_next("sendMessage", "server_error", times=100, chat_id=EN_USER)
    bot.server.message(EN_USER, "/help")
    await bot.server.wait_for(lambda: bot.server.sent_messages(ADMIN), timeout=10)
    bot.server.clear_faults()
    assert "policybot error" in bot.texts(ADMIN)[0]
    failed = [row for row in bot.store.audit_log() if row["action"] == "reply-failed"]
    assert len(failed) == 1 and failed[0]["chat_id"] == EN_USER
    assert "sendMessage" in str(failed[0]["detail"]) and "attempts" in str(failed[0]["detail"])


NEW_RULE = """
[[rules]]
id = "amazon-us-test-announcement-2027"
marketplaces = ["US"]
topic = "fees"
title = { en = "Test fee announcement", zh = "测试费用公告" }
summary = { en = "A fee change announced by the operator.", zh = "运营者公布的费用变化。" }
confidence = "high"

[[rules.events]]
id = "effective"
kind = "effective"
date = 2026-12-20
label = { en = "Test fee takes effect", zh = "测试费用生效" }

[[rules.sources]]
url = "https://sellercentral.amazon.com/help/test"
says = "test"
confidence = "high"
"""


async def test_reload_alerts_exactly_the_subscribed_chats_once_and_moves_reminders(bot: Bot) -> None:
    await bot.say(ZH_USER, "/subscribe amazon us fees", language_code="zh-hans", chat_type="private")
    await bot.say(EN_USER, "/subscribe temu", language_code="en", chat_type="private")
    await bot.say(ADMIN, "/start", language_code="en", chat_type="private")
    amazon = bot.policies / "amazon.toml"
    amazon.write_text(amazon.read_text(encoding="utf-8") + NEW_RULE, encoding="utf-8")
    before_zh, before_en = len(bot.server.sent_messages(ZH_USER)), len(bot.server.sent_messages(EN_USER))
    reloaded = await bot.say(ADMIN, "/reload")
    assert "1 change(s)" in reloaded[0]
    await bot.server.wait_for(lambda: len(bot.server.sent_messages(ZH_USER)) > before_zh, timeout=10)
    await bot.settle()
    alerts = bot.texts(ZH_USER)[before_zh:]
    assert len(alerts) == 1 and "测试费用公告" in alerts[0]
    assert len(bot.server.sent_messages(EN_USER)) == before_en  # temu only: not alerted
    outbox = Outbox(bot.store)
    keys = {d.key for d in outbox.pending_for_chat(ZH_USER, limit=100)}
    assert "amazon-us-test-announcement-2027/effective/2026-12-20" in keys

    # The operator moves the date: one more alert, and the reminders move with it.
    amazon.write_text(amazon.read_text(encoding="utf-8").replace("date = 2026-12-20", "date = 2026-12-22"))
    await bot.say(ADMIN, "/reload")
    await bot.server.wait_for(lambda: len(bot.server.sent_messages(ZH_USER)) > before_zh + 1, timeout=10)
    await bot.settle()
    moved = bot.texts(ZH_USER)[before_zh + 1 :]
    assert len(moved) == 1 and "2026-12-20" in moved[0] and "2026-12-22" in moved[0]
    keys = {d.key for d in outbox.pending_for_chat(ZH_USER, limit=100)}
    assert "amazon-us-test-announcement-2027/effective/2026-12-22" in keys
    assert "amazon-us-test-announcement-2027/effective/2026-12-20" not in keys
    changes = await bot.say(ADMIN, "/changes 7")
    assert "Test fee" in changes[0]


async def test_a_due_reminder_arrives_with_done_and_snooze(bot: Bot) -> None:
    await bot.say(EN_USER, "/subscribe amazon", language_code="en", chat_type="private")
    outbox = Outbox(bot.store)
    pending = outbox.pending_for_chat(EN_USER, limit=100)
    assert pending, "subscribing plans reminders"
    assert any(d.key.startswith("amazon-us-peak-storage-fee/") for d in pending)
    # Make one due now, as the clock would on its day, and wake the dispatcher.
    first = next(d for d in pending if d.key.startswith("amazon-us-peak-storage-fee/"))
    bot.store.db.execute("UPDATE deliveries SET due_at = ? WHERE id = ?", [NOW.isoformat(), first.id])
    bot.store.db.conn.commit()
    before = len(bot.server.sent_messages(EN_USER))
    wake_dispatch(bot.app)
    await bot.server.wait_for(lambda: len(bot.server.sent_messages(EN_USER)) > before, timeout=10)
    reminder = bot.server.sent_messages(EN_USER)[-1]
    buttons = [b["callback_data"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row]
    assert f"rem:done:{first.id}" in buttons and f"rem:snooze:{first.id}" in buttons
    assert "days" in to_plain_text(reminder["text"]) or "today" in to_plain_text(reminder["text"])
    await bot.press(EN_USER, EN_USER, f"rem:snooze:{first.id}")
    assert any(d.kind == "snooze" for d in outbox.pending_for_chat(EN_USER, limit=200))
    # Snooze marked the message and took its buttons (#17); an old client can still send Done.
    bot.server.callback(EN_USER, EN_USER, f"rem:done:{first.id}", check_button=False)
    await bot.settle()
    assert not any(d.key == first.key for d in outbox.pending_for_chat(EN_USER, limit=200))


async def test_track_tracks_untrack(bot: Bot) -> None:
    added = await bot.say(EN_USER, "/track inform 2026-11-20", language_code="en", chat_type="private")
    assert "deadline 2026-11-30" in added[0]
    listed = await bot.say(EN_USER, "/tracks")
    assert "2026-11-30" in listed[0]
    bad = await bot.say(EN_USER, "/track nonsense 2026-11-20")
    assert "don't know the countdown" in bad[0]
    track_id = listed[0].split("#")[1].split(" ")[0]
    removed = await bot.say(EN_USER, f"/untrack {track_id}")
    assert f"Countdown {track_id} removed" in removed[0]
    assert "No countdowns" in (await bot.say(EN_USER, "/tracks"))[0]


async def test_calendar_and_upcoming_reminders(bot: Bot) -> None:
    await bot.say(ZH_USER, "/subscribe amazon", language_code="zh-hans", chat_type="private")
    bot.server.message(ZH_USER, "/calendar")
    await bot.server.wait_for(lambda: bot.server.calls_to("sendDocument"), timeout=10)
    document = bot.server.calls_to("sendDocument")[0]
    data = next(iter(document.files.values()))
    assert data.startswith(b"BEGIN:VCALENDAR") and b"BEGIN:VEVENT" in data
    upcoming = await bot.say(ZH_USER, "/upcoming 60")
    assert "本聊天接下来的提醒" in upcoming[0]


async def test_fees_default_to_the_chats_subscribed_marketplace(bot: Bot) -> None:
    before = await bot.say(EN_USER, "/fees apparel 18", language_code="en", chat_type="private")
    assert "Amazon US" in before[0] and "$1.80" in before[0]
    await bot.say(EN_USER, "/subscribe amazon uk fees")
    after = await bot.say(EN_USER, "/fees apparel 18")
    assert "Amazon UK" in after[0] and "£1.80" in after[0] and "your chat subscribes to" in after[0]
    named = await bot.say(EN_USER, "/fees 服装 18 德国")
    assert "Amazon DE (EU)" in named[0] and "€1.80" in named[0]
