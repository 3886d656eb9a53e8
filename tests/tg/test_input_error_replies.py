"""One path from a user's bad input to a reply (#15): any handler's UserInputError becomes the usage reply in
the chat's language, through the real application and the fake Bot API; a button gets the "expired" alert."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from conftest import POLICIES
from fake_telegram import FakeBotAPI
from telegram import Update
from telegram.ext import CommandHandler

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import TelegramConfig
from bot.errors import UserInputError
from bot.i18n import t, to_plain_text
from bot.store import ChatSettings, Store
from bot.tg.app import build_application
from bot.tg.handlers import command
from bot.tg.services import BotApplication, Context

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
ZH_USER, EN_USER = 601, 602
HANDLED: list[int] = []


@command()
async def cmd_boom(update: Update, context: Context, settings: ChatSettings) -> None:
    """A command whose input is always wrong, as any command's can be."""
    HANDLED.append(settings.chat_id)
    raise UserInputError("track_usage")


@pytest_asyncio.fixture
async def app(fake_telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[BotApplication]:
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url)
    application = build_application(config, fake_telegram.token, LiveCatalog(POLICIES), store, clock)
    # Before the catch-all text handler of group 0, which would answer "no such command".
    application.handlers[0].insert(0, CommandHandler("boom", cmd_boom))
    async with application:
        assert application.updater is not None and application.post_shutdown is not None
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
            await application.post_shutdown(application)


async def say(server: FakeBotAPI, chat_id: int, text: str, lang: str) -> str:
    before = len(server.sent_messages(chat_id))
    server.message(chat_id, text, chat_type="private", language_code=lang)
    await server.wait_for(lambda: len(server.sent_messages(chat_id)) > before, timeout=10)
    return to_plain_text(str(server.sent_messages(chat_id)[-1]["text"]))


async def test_a_handlers_user_input_error_is_the_usage_reply_in_chinese_and_english(
    app: BotApplication, fake_telegram: FakeBotAPI
) -> None:
    HANDLED.clear()
    assert await say(fake_telegram, ZH_USER, "/boom", "zh-hans") == to_plain_text(t("zh", "track_usage"))
    assert await say(fake_telegram, EN_USER, "/boom", "en") == to_plain_text(t("en", "track_usage"))
    assert HANDLED == [ZH_USER, EN_USER]  # the handler ran (the reply is not the opening's refusal)
    assert fake_telegram.internal_errors == []


async def test_commands_that_converted_errors_themselves_now_reply_through_the_wrapper(
    app: BotApplication, fake_telegram: FakeBotAPI
) -> None:
    # Each was a handler of its own converting the error (SettingInputError, parse errors, choose_change).
    cases = [
        ("/settings time 25:00", "tg_set_usage_time"),
        ("/settings lead 999", "tg_set_usage_lead"),
        ("/settings nonsense", "tg_set_usage"),
        ("/track inform", "track_usage"),
        ("/untrack x", "untrack_usage"),
        ("/changes 1 2", "changes_usage"),
        ("/changes -5", "changes_usage"),  # parse_count's own message is replaced by the usage line
    ]
    for lang, user, language_code in [("zh", ZH_USER, "zh-hans"), ("en", EN_USER, "en")]:
        for text, key in cases:
            assert await say(fake_telegram, user, text, language_code) == to_plain_text(t(lang, key)), text
    assert app.bot_data.store.chat(EN_USER) is not None
    assert app.bot_data.store.chat(EN_USER).reminder_time == "09:00"  # type: ignore[union-attr]  # unchanged


async def test_a_button_with_a_value_that_cannot_be_applied_gets_the_expired_alert(
    app: BotApplication, fake_telegram: FakeBotAPI
) -> None:
    await say(fake_telegram, ZH_USER, "/settings", "zh-hans")
    before = len(fake_telegram.calls_to("answerCallbackQuery"))
    # A forged button (an old client, a crafted query): it matches the pattern, but 25:00 is no time.
    fake_telegram.callback(ZH_USER, ZH_USER, "set:time:2500", check_button=False)
    await fake_telegram.wait_for(
        lambda: len(fake_telegram.calls_to("answerCallbackQuery")) > before, timeout=10
    )
    answer = fake_telegram.calls_to("answerCallbackQuery")[-1].params
    assert answer["text"] == str(t("zh", "tg_menu_expired")) and answer["show_alert"] is True
    assert app.bot_data.store.chat(ZH_USER).reminder_time == "09:00"  # type: ignore[union-attr]
