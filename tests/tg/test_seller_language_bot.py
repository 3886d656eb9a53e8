"""Issue #17 through the real python-telegram-bot Application and the fake Bot API: every command a
Chinese seller types answers in Chinese without ids; /start's first steps; Done and Snooze mark the
reminder; /skus in the chat's zone; SKU files from group members; the operators' /broadcast, /reload and
/audit."""

# ruff: noqa: F811  (the `bot` fixture, imported)
from __future__ import annotations

import datetime as dt
import re

from support.seller_text import seller_problems
from test_skus_bot import report, send_file
from test_telegram_bot import ADMIN, EN_USER, GROUP, MEMBER, NOW, ZH_USER, Bot, bot  # noqa: F401  (the fixture)

from bot.reminders.outbox import Outbox
from bot.tg.admin import audit_line, readable_detail
from bot.tg.reminders import wake_dispatch

# What a Chinese seller types in Telegram: the core's commands and the chat's own.
ZH_COMMANDS = [
    "/start", "/help", "/fees 服装", "/fees 服装 18", "/fba 10x8x1 in 6 oz 18", "/fba 10x8x1 in 6 oz 18 de",
    "/rules temu", "/upcoming 90", "/history temu", "/subscribe amazon", "/mysubs", "/settings",
    "/track inform 2026-11-20", "/tracks", "/changes 30", "/skus", "/impact", "低库存费什么时候开始收",
    "temu 卖家保证金",
]  # fmt: skip


async def press_under(bot: Bot, chat_id: int, user_id: int, message_id: int, data: str) -> None:
    """Press a button under an earlier message of the bot, and wait for the query to be answered."""
    before = len(bot.server.calls_to("answerCallbackQuery"))
    bot.server.callback(chat_id, user_id, data, message_id)
    await bot.server.wait_for(lambda: len(bot.server.calls_to("answerCallbackQuery")) > before, timeout=10)
    await bot.settle()


def with_buttons(bot: Bot, chat_id: int) -> dict[str, object]:
    """The bot's latest message in the chat that carries buttons."""
    return [m for m in bot.server.chat_messages(chat_id) if buttons(m)][-1]


def buttons(message: dict[str, object]) -> list[str]:
    markup = message.get("reply_markup")
    if not isinstance(markup, dict):
        return []
    return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]


async def test_every_command_a_chinese_seller_types_reads_in_chinese_without_ids(bot: Bot) -> None:
    catalog = bot.app.bot_data.live.catalog
    await bot.say(ZH_USER, "/start", language_code="zh-hans", chat_type="private")
    found = {}
    for text in ZH_COMMANDS:
        for reply in await bot.say(ZH_USER, text):
            if problems := seller_problems(reply, catalog.rules, "zh"):
                found[text] = problems
    assert found == {}
    tracks = bot.texts(ZH_USER)
    assert any(
        "INFORM" in line and "截止" in line for line in tracks
    )  # the countdown is named, not "amazon-us-…"


async def test_start_greets_with_three_first_steps_and_help_keeps_the_list(bot: Bot) -> None:
    greeting = await bot.say(ZH_USER, "/start", language_code="zh-hans", chat_type="private")
    assert len(greeting) == 1 and len(greeting[0]) < 200 and "/fees" not in greeting[0]
    message = with_buttons(bot, ZH_USER)
    assert buttons(message) == ["start:sub", "start:fee", "start:skus"]
    start_id = int(str(message["message_id"]))
    assert "/fees 服装 18" in (await bot.say(ZH_USER, "/help"))[0]

    count = len(bot.server.sent_messages(ZH_USER))
    await press_under(bot, ZH_USER, ZH_USER, start_id, "start:fee")
    assert "/fees 服装 18" in bot.texts(ZH_USER)[-1] and len(bot.texts(ZH_USER)) == count + 1
    await press_under(bot, ZH_USER, ZH_USER, start_id, "start:skus")
    assert "Fee Preview" in bot.texts(ZH_USER)[-1] and "/impact" in bot.texts(ZH_USER)[-1]
    await press_under(bot, ZH_USER, ZH_USER, start_id, "start:sub")
    menu = bot.server.sent_messages(ZH_USER)[-1]
    assert any(data.startswith("sub:") for data in buttons(menu))  # the subscription menu, as /subscribe


async def test_in_a_group_only_admins_take_the_subscribe_step(bot: Bot) -> None:
    await bot.say(GROUP, "/start", user_id=ADMIN)
    start_id = int(str(with_buttons(bot, GROUP)["message_id"]))
    await press_under(bot, GROUP, MEMBER, start_id, "start:sub")
    alert = bot.server.calls_to("answerCallbackQuery")[-1].params
    assert alert.get("show_alert") is True and "admin" in str(alert.get("text"))


async def _due_reminder(bot: Bot, chat_id: int) -> int:
    await bot.say(chat_id, "/subscribe amazon")
    pending = Outbox(bot.store).pending_for_chat(chat_id, limit=100)
    first = next(d for d in pending if d.key.startswith("amazon-us-peak-storage-fee/"))
    bot.store.db.execute("UPDATE deliveries SET due_at = ? WHERE id = ?", [NOW.isoformat(), first.id])
    bot.store.db.conn.commit()
    before = len(bot.server.sent_messages(chat_id))
    wake_dispatch(bot.app)
    await bot.server.wait_for(lambda: len(bot.server.sent_messages(chat_id)) > before, timeout=10)
    await bot.settle()
    return first.id


async def test_snooze_says_when_it_comes_back_and_removes_the_buttons(bot: Bot) -> None:
    await bot.say(ZH_USER, "/start", language_code="zh-hans", chat_type="private")
    delivery_id = await _due_reminder(bot, ZH_USER)
    reminder = bot.last_text(ZH_USER)
    await bot.press(ZH_USER, ZH_USER, f"rem:snooze:{delivery_id}")
    edited = bot.last_text(ZH_USER)
    # A day after NOW (09:00 UTC), in the chat's zone: 17:00 Beijing time.
    back = (NOW + dt.timedelta(days=1)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert edited.startswith(reminder.split("\n")[0])
    assert f"⏰ 已推迟：将于 {back:%Y-%m-%d %H:%M} 北京时间 再次提醒。" in edited
    message = bot.server.chat_messages(ZH_USER)[-1]
    assert buttons(message) == []


async def test_done_marks_the_reminder_and_removes_the_buttons(bot: Bot) -> None:
    await bot.say(EN_USER, "/start", language_code="en", chat_type="private")
    delivery_id = await _due_reminder(bot, EN_USER)
    await bot.press(EN_USER, EN_USER, f"rem:done:{delivery_id}")
    assert bot.last_text(EN_USER).endswith("✅ Done: no more reminders about this in this chat.")
    assert buttons(bot.server.chat_messages(EN_USER)[-1]) == []
    # A second press of the spent button (a forged one: it is gone) changes nothing more.
    bot.server.callback(EN_USER, EN_USER, f"rem:done:{delivery_id}", check_button=False)
    await bot.settle()
    assert bot.last_text(EN_USER).count("✅ Done") == 1


async def test_skus_show_the_import_time_in_the_chats_zone(bot: Bot) -> None:
    await bot.say(ZH_USER, "/start", language_code="zh-hans", chat_type="private")
    await send_file(bot, ZH_USER, report(), "Fee Preview.txt")
    status = (await bot.say(ZH_USER, "/skus"))[0]
    assert f"导入时间 {NOW.astimezone(dt.timezone(dt.timedelta(hours=8))):%Y-%m-%d %H:%M} 北京时间" in status
    assert "UTC" not in status


async def test_a_group_member_sending_a_sku_file_hears_that_admins_manage_skus(bot: Bot) -> None:
    await bot.say(GROUP, "/lang zh", user_id=ADMIN)
    refused = await send_file(bot, GROUP, report(), "team.txt", user_id=MEMBER)
    assert refused == ["在群组中只有管理员可以导入或删除SKU。"]
    assert "订阅" not in refused[0]  # not the "subscriptions and settings" message


async def test_broadcast_previews_and_sends_only_on_confirm(bot: Bot) -> None:
    await bot.say(EN_USER, "/start", language_code="en", chat_type="private")
    await bot.say(ADMIN, "/start", language_code="en", chat_type="private")
    before = len(bot.server.sent_messages(EN_USER))
    preview = await bot.say(ADMIN, "/broadcast Amazon <b>fee</b> update tonight")
    assert preview[0].startswith("📣 Preview: this goes to 2 chat(s)")
    assert preview[0].endswith("Amazon <b>fee</b> update tonight")  # as the chats will read it
    data = buttons(bot.server.sent_messages(ADMIN)[-1])
    assert data[0].startswith("bc:send:") and data[1].startswith("bc:cancel:")
    await bot.settle()
    assert len(bot.server.sent_messages(EN_USER)) == before  # nothing sent yet
    assert not any(row["action"] == "broadcast" for row in bot.store.audit_log())

    await bot.press(ADMIN, ADMIN, data[0])
    finished = "Broadcast finished: 2 sent, 0 failed, of 2 chats."
    await bot.server.wait_for(lambda: finished in bot.edited_texts(ADMIN), timeout=10)
    assert bot.texts(EN_USER)[-1] == "Amazon <b>fee</b> update tonight"
    # Pressed twice (a slow double tap): sent once.
    bot.server.callback(ADMIN, ADMIN, data[0], check_button=False)
    await bot.settle()
    assert bot.texts(EN_USER).count("Amazon <b>fee</b> update tonight") == 1


async def test_a_cancelled_broadcast_sends_nothing(bot: Bot) -> None:
    await bot.say(EN_USER, "/start", language_code="en", chat_type="private")
    before = len(bot.server.sent_messages(EN_USER))
    await bot.say(ADMIN, "/broadcast Not this one", language_code="en", chat_type="private")
    cancel = buttons(bot.server.sent_messages(ADMIN)[-1])[1]
    await bot.press(ADMIN, ADMIN, cancel)
    assert bot.last_text(ADMIN) == "Broadcast cancelled: nothing was sent."
    assert len(bot.server.sent_messages(EN_USER)) == before
    # A stranger cannot send a draft, even with the right data.
    await bot.say(ADMIN, "/broadcast Operators only")
    send = buttons(bot.server.sent_messages(ADMIN)[-1])[0]
    bot.server.callback(ADMIN, EN_USER, send, check_button=False)
    await bot.settle()
    assert len(bot.server.sent_messages(EN_USER)) == before


async def test_reload_without_changes_says_nothing_was_sent(bot: Bot) -> None:
    reply = await bot.say(ADMIN, "/reload", language_code="en", chat_type="private")
    assert reply[0].endswith("No rule changed, so nothing was sent.")
    assert "alerted" not in reply[0]


async def test_audit_shows_one_readable_line_per_entry_in_the_operators_zone(bot: Bot) -> None:
    await bot.say(ADMIN, "/start", language_code="zh-hans", chat_type="private")
    await bot.say(ADMIN, "/subscribe amazon us")
    await bot.say(ADMIN, "/settings tz 深圳")
    lines = (await bot.say(ADMIN, "/audit"))[0].split("\n")
    assert lines[0].startswith("审计日志") or "20" in lines[0]
    entries = lines[1:]
    assert entries and all(
        re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d 北京时间 · 用户 777 · 聊天 777 · ", e) for e in entries
    )
    assert not any("Subscription(" in e or "{'" in e for e in entries)
    assert any("subscribe：amazon/US/" in e for e in entries)


def test_audit_details_read_as_words_and_cut_at_a_word() -> None:
    assert readable_detail("{'time_zone': 'Asia/Shanghai', 'reminder_time': '09:00'}") == (
        "time_zone=Asia/Shanghai reminder_time=09:00"
    )
    assert readable_detail("[Subscription(platform='temu', marketplace='*', topic='*')]") == "temu/*/*"
    long = readable_detail("sendMessage: " + "word " * 40, limit=30)
    assert long == "sendMessage: word word word…" and len(long) <= 31
    assert readable_detail("line one\n  line two") == "line one line two"
    row = {
        "at": "2026-11-25T09:00:00+00:00",
        "actor_id": None,
        "chat_id": 5,
        "action": "reload",
        "detail": "9",
    }
    assert (
        audit_line(row, "America/New_York", "en")
        == "2026-11-25 04:00 US Eastern time · the bot · chat 5 · reload: 9"
    )
    broken = {"at": "yesterday", "actor_id": 1, "chat_id": 5, "action": "x", "detail": ""}
    assert audit_line(broken, "UTC", "en").startswith("yesterday · user 1")


async def test_settings_name_the_chats_zone(bot: Bot) -> None:
    await bot.say(ZH_USER, "/start", language_code="zh-hans", chat_type="private")
    assert "时区：北京时间" in (await bot.say(ZH_USER, "/settings"))[0]
    await bot.say(ZH_USER, "/settings tz Asia/Kolkata")
    assert "时区：Asia/Kolkata" in (await bot.say(ZH_USER, "/settings"))[0]  # no common name on file: IANA
