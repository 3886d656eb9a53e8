"""TelegramSender over the fake Bot API: each of Telegram's answers becomes its `SendResult`, and neutral
buttons arrive as an inline keyboard."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fake_telegram import FakeBotAPI
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.answers.reply import Button
from bot.reminders.sender import (
    Blocked,
    ChatMoved,
    Failed,
    Limits,
    OutgoingMessage,
    RetryLater,
    Sent,
    TextFormat,
)
from bot.tg.sender import TelegramSender, inline_keyboard

CHAT = 4242
GROUP = -100


@pytest_asyncio.fixture
async def bot(fake_telegram: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as opened:
        yield opened


async def test_a_message_is_sent_as_html_with_its_buttons_and_no_preview(
    fake_telegram: FakeBotAPI, bot: Bot
) -> None:
    rows = ((Button("✅ Done", "rem:done:1"), Button("⏰ Snooze", "rem:snooze:1")), (Button("All", "x"),))
    result = await TelegramSender(bot).send(CHAT, OutgoingMessage("<b>Fee</b> &amp; more", buttons=rows))
    [sent] = fake_telegram.calls_to("sendMessage")
    assert isinstance(result, Sent) and result.message_id == sent.result["message_id"]
    assert sent.params["parse_mode"] == "HTML"
    assert sent.params["link_preview_options"] == {"is_disabled": True}
    assert "allow_paid_broadcast" not in sent.params
    keyboard = sent.params["reply_markup"]["inline_keyboard"]
    assert [[(b["text"], b["callback_data"]) for b in row] for row in keyboard] == [
        [("✅ Done", "rem:done:1"), ("⏰ Snooze", "rem:snooze:1")],
        [("All", "x")],
    ]


async def test_plain_text_goes_without_parse_mode_and_without_buttons(
    fake_telegram: FakeBotAPI, bot: Bot
) -> None:
    sender = TelegramSender(bot, paid_broadcast=True)
    result = await sender.send(CHAT, OutgoingMessage("a < b & c", format=TextFormat.PLAIN))
    [sent] = fake_telegram.calls_to("sendMessage")
    assert isinstance(result, Sent)
    assert "parse_mode" not in sent.params and "reply_markup" not in sent.params
    assert sent.params["text"] == "a < b & c"
    assert sent.params["allow_paid_broadcast"] is True


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("blocked", Blocked),
        ("kicked", Blocked),
        ("chat_not_found", Failed),
        ("server_error", Failed),
    ],
)
async def test_telegram_errors_become_results(
    fake_telegram: FakeBotAPI, bot: Bot, kind: str, expected: type
) -> None:
    fake_telegram.fail_next("sendMessage", kind)  # type: ignore[arg-type]
    result = await TelegramSender(bot).send(CHAT, OutgoingMessage("hello"))
    assert isinstance(result, expected)
    if isinstance(result, Failed):
        # A 400 is Telegram's refusal for good; a 500 may pass.
        assert result.transient is (kind == "server_error")
        assert result.reason.startswith("refused: " if kind == "chat_not_found" else "NetworkError: ")


async def test_flood_control_gives_its_seconds(fake_telegram: FakeBotAPI, bot: Bot) -> None:
    fake_telegram.fail_next("sendMessage", "retry_after", retry_after=7)
    assert await TelegramSender(bot).send(CHAT, OutgoingMessage("hello")) == RetryLater(7.0)


async def test_a_migrated_group_gives_its_new_id(fake_telegram: FakeBotAPI, bot: Bot) -> None:
    fake_telegram.fail_next("sendMessage", "migrated", migrate_to_chat_id=-1001234)
    assert await TelegramSender(bot).send(GROUP, OutgoingMessage("hello")) == ChatMoved(-1001234)


async def test_a_timeout_is_a_transient_failure(fake_telegram: FakeBotAPI) -> None:
    fake_telegram.fail_next("sendMessage", "slow", delay=0.6)
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url, request=request) as slow_bot:
        result = await TelegramSender(slow_bot).send(CHAT, OutgoingMessage("hello"))
    assert isinstance(result, Failed) and result.transient and result.reason.startswith("TimedOut")


def test_limits_default_to_telegrams_and_no_buttons_is_no_keyboard() -> None:
    sender = TelegramSender(Bot("123:abc"))
    assert sender.limits == Limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    assert (
        TelegramSender(Bot("123:abc"), limits=Limits(global_per_second=1000)).limits.global_per_second == 1000
    )
    assert inline_keyboard(()) is None
