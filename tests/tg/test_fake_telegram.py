"""The fake Telegram Bot API server, proven with the real python-telegram-bot over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import struct
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_telegram import (
    SPEC_PATH,
    ApiSpec,
    FakeBotAPI,
    NoSuchMessage,
    TelegramHtmlError,
    WaitTimeout,
    parse_html,
)
from fake_telegram.updates import text_entities
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MenuButtonCommands,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

pytest_plugins = ["fake_telegram.fixtures"]

SHARED_SPEC = Path("/work/shared/telegram-bot-api/api.json")


def png(width: int, height: int) -> bytes:
    """A real (tiny, valid) PNG: its bytes include CR LF, which multipart parsing must keep."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def told(text: str) -> str:
    """A `match=` pattern for PTB's copy of an error, which it re-capitalizes ("Button_data_invalid")."""
    return "(?i)" + re.escape(text)


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


async def raw_post(
    server: FakeBotAPI, method: str, token: str | None = None, **kwargs: Any
) -> httpx.Response:
    """A request PTB would never send: to check the server's answers to malformed input directly."""
    async with httpx.AsyncClient() as client:
        return await client.post(f"{server.base_url}{token or server.token}/{method}", **kwargs)


@pytest.fixture
async def app(fake_telegram: FakeBotAPI) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """A running Application (polling) with a /start command and a button handler."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_user is not None
        lang = update.effective_user.language_code
        await update.effective_message.reply_text(
            f"<b>Hello</b> {lang}", parse_mode=ParseMode.HTML, reply_markup=keyboard("lang:en", "lang:zh")
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Saved")
        await query.edit_message_text(f"Chosen: {query.data}")

    async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        context.bot_data.setdefault("migrations", []).append((message.chat_id, message.migrate_to_chat_id))

    application = (
        ApplicationBuilder()
        .token(fake_telegram.token)
        .base_url(fake_telegram.base_url)
        .base_file_url(fake_telegram.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, migrated))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        yield application
        await application.updater.stop()
        await application.stop()


# The happy path with the real library


async def test_get_me(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    me = await fake_bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "PolicyTestBot", True)
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert fake_telegram.base_url.startswith("http://127.0.0.1:") and fake_telegram.base_url.endswith("/bot")


async def test_send_message_is_recorded_with_decoded_params(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    first = await fake_bot.send_message(
        42,
        "<b>Fees</b> &amp; dates",
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=keyboard("sub:amazon"),
    )
    second = await fake_bot.send_message(42, "again")
    elsewhere = await fake_bot.send_message(-1001000000777, "group")

    assert (first.message_id, second.message_id, elsewhere.message_id) == (1, 2, 1)
    assert first.text == "Fees & dates"  # what Telegram stores: parsed text plus entities
    assert first.entities[0].type == "bold"
    assert first.chat.type == "private" and elsewhere.chat.type == "supergroup"
    assert first.from_user is not None and first.from_user.username == "PolicyTestBot"
    assert first.reply_markup == keyboard("sub:amazon")

    params = fake_telegram.calls_to("sendMessage")[0].params
    assert params == {
        "chat_id": 42,
        "text": "<b>Fees</b> &amp; dates",
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
        "reply_markup": {"inline_keyboard": [[{"text": "sub:amazon", "callback_data": "sub:amazon"}]]},
    }
    assert [m["text"] for m in fake_telegram.sent_messages(42)] == ["<b>Fees</b> &amp; dates", "again"]
    assert len(fake_telegram.sent_messages()) == 3


async def test_declared_chat_gives_type_and_title(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.add_chat(-4001, "group", title="Sellers")
    message = await fake_bot.send_message(-4001, "hi")
    assert (message.chat.type, message.chat.title) == ("group", "Sellers")


async def test_command_reaches_the_application_and_the_reply_is_recorded(
    app: Application,  # type: ignore[type-arg]
    fake_telegram: FakeBotAPI,
) -> None:
    fake_telegram.message(42, "/start", language_code="zh-hans", first_name="李")
    fake_telegram.message(
        -1001000001234, "/start@PolicyTestBot", chat_type="supergroup", title="Shop", user_id=7
    )

    (private,) = await fake_telegram.wait_for_messages(42)
    (group,) = await fake_telegram.wait_for_messages(-1001000001234)
    assert private["text"] == "<b>Hello</b> zh-hans"
    assert group["text"] == "<b>Hello</b> en"
    assert private["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "lang:zh"


async def test_button_press_is_answered_and_edits_the_message(
    app: Application,  # type: ignore[type-arg]
    fake_telegram: FakeBotAPI,
) -> None:
    fake_telegram.message(42, "/start")
    await fake_telegram.wait_for_messages(42)
    fake_telegram.callback(42, 42, "lang:zh")

    await fake_telegram.wait_for(lambda: fake_telegram.calls_to("editMessageText"))
    (answer,) = fake_telegram.calls_to("answerCallbackQuery")
    assert answer.ok and answer.params["text"] == "Saved"
    edited = fake_telegram.chat_messages(42)[-1]
    assert edited["text"] == "Chosen: lang:zh"
    assert "reply_markup" not in edited  # editing text without a markup removes the keyboard, as on Telegram
    assert "edit_date" in edited


async def test_callback_needs_a_real_button_unless_forged(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    with pytest.raises(NoSuchMessage):
        fake_telegram.callback(42, 42, "x")
    sent = await fake_bot.send_message(42, "menu", reply_markup=keyboard("a"))
    with pytest.raises(ValueError, match="no button"):
        fake_telegram.callback(42, 42, "b", sent.message_id)
    fake_telegram.callback(42, 42, "b", sent.message_id, check_button=False)
    (update,) = await fake_bot.get_updates()
    assert update.callback_query is not None and update.callback_query.data == "b"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == sent.message_id
    await update.callback_query.answer()
    with pytest.raises(BadRequest, match=told("query is too old")):
        await update.callback_query.answer()  # a query is answered once


async def test_migration_reaches_the_application_and_the_old_chat_answers_migrated(
    app: Application,  # type: ignore[type-arg]
    fake_telegram: FakeBotAPI,
) -> None:
    fake_telegram.add_chat(-555, "group", title="Old group")
    fake_telegram.migrate(-555, -1001000000555)

    await fake_telegram.wait_for(lambda: len(app.bot_data.get("migrations", [])) == 2)
    assert app.bot_data["migrations"] == [(-555, -1001000000555), (-1001000000555, None)]
    with pytest.raises(ChatMigrated) as raised:
        await app.bot.send_message(-555, "still there?")
    assert raised.value.new_chat_id == -1001000000555
    moved = await app.bot.send_message(-1001000000555, "moved")
    assert (moved.chat.type, moved.chat.title) == ("supergroup", "Old group")


# Long polling


async def test_long_poll_returns_as_soon_as_an_update_is_injected(
    fake_bot: Bot, fake_telegram: FakeBotAPI
) -> None:
    poll = asyncio.create_task(fake_bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    update_id = fake_telegram.message(42, "hello")
    (update,) = await asyncio.wait_for(poll, timeout=2)
    assert time.monotonic() - started < 1
    assert update.update_id == update_id
    assert update.message is not None and update.message.text == "hello"


async def test_long_poll_waits_for_its_timeout_when_nothing_comes(fake_bot: Bot) -> None:
    started = time.monotonic()
    assert await fake_bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2


async def test_offset_confirms_and_allowed_updates_filters(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    first = fake_telegram.message(42, "one")
    second = fake_telegram.message(42, "two")
    assert second == first + 1
    assert [u.update_id for u in await fake_bot.get_updates()] == [first, second]
    assert [u.update_id for u in await fake_bot.get_updates()] == [first, second]  # not confirmed yet
    assert await fake_bot.get_updates(offset=second + 1) == ()
    assert fake_telegram.pending_updates() == []

    fake_telegram.message(42, "dropped: not asked for")
    sent = await fake_bot.send_message(42, "menu", reply_markup=keyboard("ok"))
    fake_telegram.callback(42, 42, "ok", sent.message_id)
    (update,) = await fake_bot.get_updates(allowed_updates=["callback_query"])
    assert update.callback_query is not None


async def test_a_second_bot_instance_terminates_a_waiting_poll(
    fake_bot: Bot, fake_telegram: FakeBotAPI
) -> None:
    waiting = asyncio.create_task(fake_bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict, match=told("terminated by other getUpdates")):
        await waiting


async def test_stop_is_prompt_while_a_long_poll_waits(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    poll = asyncio.create_task(fake_bot.get_updates(timeout=30))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await asyncio.to_thread(fake_telegram.stop)
    assert time.monotonic() - started < 2
    with contextlib.suppress(NetworkError):  # the connection closed under the poll: also a clean end
        assert await poll == ()


async def test_updates_look_like_telegrams(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    sent = await fake_bot.send_message(-1001000000900, "bot says")
    fake_telegram.add_chat(-1001000000900, "supergroup", title="Shop")
    fake_telegram.message(
        -1001000000900, "/fees@PolicyTestBot 服装 18 @someone", user_id=5, reply_to=sent.message_id
    )
    fake_telegram.message(-1001000000900, "as the group", anonymous_admin=True)
    reply, anonymous = await fake_bot.get_updates()

    assert reply.message is not None and reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.message_id == sent.message_id
    assert [(e.type, e.offset, e.length) for e in reply.message.entities] == [
        ("bot_command", 0, 19),
        ("mention", 26, 8),
    ]
    assert anonymous.message is not None and anonymous.message.sender_chat is not None
    assert anonymous.message.sender_chat.id == -1001000000900
    assert anonymous.effective_user is not None and anonymous.effective_user.username == "GroupAnonymousBot"


# Strictness


async def test_text_limits(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.expect_rejections()
    await fake_bot.send_message(42, "x" * 4096)
    await fake_bot.send_message(42, "费" * 4096)
    await fake_bot.send_message(
        42, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML
    )  # tags don't count
    with pytest.raises(BadRequest, match="too long"):
        await fake_bot.send_message(42, "x" * 4097)
    with pytest.raises(BadRequest, match="text is empty"):
        await fake_bot.send_message(42, "  \n ")
    with pytest.raises(BadRequest, match="caption is too long"):
        await fake_bot.send_photo(42, png(2, 2), caption="c" * 1025)
    with pytest.raises(BadRequest, match="too long"):
        await fake_bot.edit_message_text("y" * 4097, chat_id=42, message_id=1)
    assert len(fake_telegram.rejected) == 4
    assert all(call.status == 400 for call in fake_telegram.rejected)


async def test_callback_data_over_64_bytes_is_rejected(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.expect_rejections()
    await fake_bot.send_message(42, "ok", reply_markup=keyboard("d" * 64))
    with pytest.raises(BadRequest, match=told("BUTTON_DATA_INVALID")):
        await fake_bot.send_message(42, "too long", reply_markup=keyboard("d" * 65))
    with pytest.raises(BadRequest, match=told("BUTTON_DATA_INVALID")):
        await fake_bot.send_message(
            42, "bytes, not characters", reply_markup=keyboard("订阅" * 11)
        )  # 66 bytes


async def test_answer_text_over_200_characters_is_rejected(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.expect_rejections()
    sent = await fake_bot.send_message(42, "menu", reply_markup=keyboard("a"))
    fake_telegram.callback(42, 42, "a", sent.message_id)
    (update,) = await fake_bot.get_updates()
    assert update.callback_query is not None
    with pytest.raises(BadRequest, match=told("MESSAGE_TOO_LONG")):
        await update.callback_query.answer("n" * 201)
    assert await update.callback_query.answer("n" * 200)


async def test_unknown_and_wrongly_typed_parameters_are_rejected(
    fake_bot: Bot, fake_telegram: FakeBotAPI
) -> None:
    fake_telegram.expect_rejections()
    with pytest.raises(BadRequest, match=told('unknown parameter "parse_mod"')):
        await fake_bot.send_message(42, "hi", api_kwargs={"parse_mod": "HTML"})
    with pytest.raises(BadRequest, match=told('"disable_notification" must be Boolean')):
        await fake_bot.send_message(42, "hi", api_kwargs={"disable_notification": "maybe"})
    with pytest.raises(BadRequest, match=told('"message_thread_id" must be Integer')):
        await fake_bot.send_message(42, "hi", api_kwargs={"message_thread_id": "seven"})
    with pytest.raises(BadRequest, match=told("commands[0].description: required field")):
        await fake_bot.set_my_commands([], api_kwargs={"commands": [{"command": "help"}]})
    assert [call.params.get("chat_id") for call in fake_telegram.rejected[:3]] == ["42", "42", "42"]


async def test_telegram_object_parameters_pass(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    """Everything PTB serializes for the bot's usual calls is accepted (and no rejection happens)."""
    sent = await fake_bot.send_message(
        42,
        "first",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("site", url="https://example.com")]]),
    )
    await fake_bot.send_message(42, "reply", reply_parameters=ReplyParameters(sent.message_id))
    await fake_bot.set_my_commands(
        [BotCommand("fees", "费用")], scope=BotCommandScopeDefault(), language_code="zh"
    )
    await fake_bot.set_my_commands([BotCommand("stats", "Stats")], scope=BotCommandScopeChat(42))
    await fake_bot.set_chat_menu_button(42, MenuButtonCommands())
    await fake_bot.send_chat_action(42, "typing")
    await fake_bot.delete_my_commands(scope=BotCommandScopeChat(42))
    assert fake_telegram.my_commands("zh") == [{"command": "fees", "description": "费用"}]
    assert await fake_bot.get_my_commands(scope=BotCommandScopeChat(42)) == ()
    assert await fake_bot.get_chat_menu_button(42) == MenuButtonCommands()
    fake_telegram.assert_no_rejections()


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<b>unclosed", 'end tag corresponding to start tag "b"'),
        ("<b><i>crossed</b></i>", 'expected "</i>", found "</b>"'),
        ("<div>block</div>", 'Unsupported start tag "div"'),
        ("price < 5", 'Unsupported start tag ""'),
        ("AT&T", 'Character "&"'),
        ("&nbsp;", 'Character "&"'),
        ('<span class="x">s</span>', 'class "tg-spoiler"'),
        ("</b>", "Unexpected end tag"),
    ],
)
async def test_malformed_html_is_rejected(
    fake_bot: Bot, fake_telegram: FakeBotAPI, html: str, problem: str
) -> None:
    fake_telegram.expect_rejections()
    with pytest.raises(BadRequest, match=told("can't parse entities")):
        await fake_bot.send_message(42, html, parse_mode=ParseMode.HTML)
    description = fake_telegram.rejected[0].description or ""
    assert description.startswith("Bad Request: can't parse entities: ")
    assert problem in description  # checked on the server's record: PTB re-capitalizes its copy


def test_well_formed_html_becomes_text_and_entities() -> None:
    parsed = parse_html(
        '😀 <b>bold <i>both</i></b> <a href="https://x.test/?a=1&amp;b=2">link</a> &lt;tag&gt; &#x1F600;'
        '<pre><code class="language-python">x = 1</code></pre><blockquote expandable>q</blockquote>'
        '<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span><tg-emoji emoji-id="5368324170671202286">'
        '👍</tg-emoji><tg-time unix="1700000000" format="wDT">then</tg-time><B>upper</B>'
    )
    assert parsed.text.startswith("😀 bold both link <tag> 😀x = 1qst👍thenupper")
    by_type = {entity["type"]: entity for entity in reversed(parsed.entities)}  # the first of each type
    assert by_type["bold"] == {"type": "bold", "offset": 3, "length": 9}  # the emoji is 2 UTF-16 units
    assert by_type["text_link"]["url"] == "https://x.test/?a=1&b=2"
    assert by_type["pre"]["language"] == "python"
    assert "expandable_blockquote" in by_type and "custom_emoji" in by_type
    assert by_type["date_time"]["unix_time"] == 1700000000
    with pytest.raises(TelegramHtmlError):
        parse_html("<b>x</B ")


async def test_unknown_method_and_wrong_token(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.expect_rejections()
    with pytest.raises(EndPointNotFound):
        await fake_bot.do_api_request("fly_to_the_moon")
    response = await raw_post(fake_telegram, "flyToTheMoon")
    assert (response.status_code, response.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    response = await raw_post(fake_telegram, "getMe", token="999:WRONG")
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake_telegram.base_url):
            pass
    assert [c.status for c in fake_telegram.rejected] == [404, 404, 401, 401]


async def test_raw_requests_get_the_real_error_shape(fake_telegram: FakeBotAPI) -> None:
    fake_telegram.expect_rejections()
    missing = await raw_post(fake_telegram, "sendMessage", data={"text": "hi"})
    assert missing.json() == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: parameter "chat_id" is required',
    }
    no_action = await raw_post(
        fake_telegram,
        "sendMessage",
        data={"chat_id": "1", "text": "a", "reply_markup": '{"inline_keyboard":[[{"text":"a"}]]}'},
    )
    assert no_action.json()["description"] == "Bad Request: text buttons are unallowed in the inline keyboard"
    flat = await raw_post(
        fake_telegram,
        "sendMessage",
        data={"chat_id": "1", "text": "a", "reply_markup": '{"inline_keyboard":[{"text":"a"}]}'},
    )
    assert "inline_keyboard[0]: must be an Array" in flat.json()["description"]
    stray_file = await raw_post(
        fake_telegram, "sendMessage", data={"chat_id": "1", "text": "a"}, files={"photoo": ("p.png", b"x")}
    )
    assert "no parameter refers to it" in stray_file.json()["description"]
    as_json = await raw_post(fake_telegram, "sendmessage", json={"chat_id": 1, "text": "JSON body, any case"})
    assert as_json.json()["ok"] is True and as_json.json()["result"]["text"] == "JSON body, any case"
    async with httpx.AsyncClient() as client:
        as_get = await client.get(f"{fake_telegram.base_url}{fake_telegram.token}/getChat?chat_id=-4002")
    assert as_get.json()["result"]["type"] == "group"
    assert len(fake_telegram.rejected) == 4


# Faults


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns (an error here) when RetryAfter is built unless PTB_TIMEDELTA opts in to timedeltas."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_blocked(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.fail_next("sendMessage", "blocked", chat_id=42)
    await fake_bot.send_message(43, "other chats are fine")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await fake_bot.send_message(42, "hi")
    await fake_bot.send_message(42, "only once")
    assert [c.status for c in fake_telegram.calls_to("sendMessage")] == [200, 403, 200]
    assert [m["text"] for m in fake_telegram.sent_messages(42)] == ["only once"]


async def test_retry_after(fake_bot: Bot, fake_telegram: FakeBotAPI, timedelta_retry_after: None) -> None:
    fake_telegram.fail_next("sendMessage", "retry_after", times=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(RetryAfter) as raised:
            await fake_bot.send_message(42, "hi")
        assert raised.value.retry_after == dt.timedelta(seconds=7)
    await fake_bot.send_message(42, "hi")


async def test_migrated(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.fail_next("sendMessage", "migrated", migrate_to_chat_id=-1001000009876)
    with pytest.raises(ChatMigrated) as raised:
        await fake_bot.send_message(-9876, "hi")
    assert raised.value.new_chat_id == -1001000009876


async def test_server_error(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.fail_next("*", "server_error")
    with pytest.raises(NetworkError, match="Internal Server Error") as raised:
        await fake_bot.send_chat_action(42, "typing")
    assert type(raised.value) is NetworkError


async def test_slow_answer_times_out_but_is_still_carried_out(fake_telegram: FakeBotAPI) -> None:
    fake_telegram.fail_next("sendMessage", "slow", delay=0.6)
    impatient = HTTPXRequest(read_timeout=0.2)
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url, request=impatient) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(42, "late")
        # Like Telegram, the message may still be delivered after the client gave up.
        await fake_telegram.wait_for(lambda: fake_telegram.sent_messages(42), timeout=3)


def test_fault_arguments_are_checked(fake_telegram: FakeBotAPI) -> None:
    with pytest.raises(ValueError, match="not a Bot API method"):
        fake_telegram.fail_next("sendMesage", "blocked")
    with pytest.raises(ValueError, match="unknown fault kind"):
        fake_telegram.fail_next("sendMessage", "boom")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="migrate_to_chat_id"):
        fake_telegram.fail_next("sendMessage", "migrated")


async def test_global_rate_limit(
    fake_bot: Bot, fake_telegram: FakeBotAPI, timedelta_retry_after: None
) -> None:
    fake_telegram.limit_rate(per_second=3)
    for chat_id in (1, 2, 3):
        await fake_bot.send_message(chat_id, "within the limit")
    await fake_bot.send_chat_action(4, "typing")  # not a message: not counted
    with pytest.raises(RetryAfter) as raised:
        await fake_bot.send_message(4, "one too many")
    assert raised.value.retry_after == dt.timedelta(seconds=1)
    assert [c.status for c in fake_telegram.calls_to("sendMessage")] == [200, 200, 200, 429]


async def test_per_chat_rate_limit(
    fake_bot: Bot, fake_telegram: FakeBotAPI, timedelta_retry_after: None
) -> None:
    fake_telegram.limit_rate(per_chat_per_second=1)
    await fake_bot.send_message(1, "a")
    await fake_bot.send_message(2, "b")
    with pytest.raises(RetryAfter):
        await fake_bot.send_message(1, "c")


# Files, members, webhooks, the bot's own membership


async def test_photo_upload_is_recorded_with_its_bytes(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    image = png(640, 480)
    message = await fake_bot.send_photo(42, image, caption="<i>Fee chart</i>", parse_mode=ParseMode.HTML)

    (call,) = fake_telegram.calls_to("sendPhoto")
    assert call.files == {"photo": image}
    assert call.params["photo"] == "attach://photo" and call.params["caption"] == "<i>Fee chart</i>"
    assert fake_telegram.sent_messages(42) == [call.params]
    assert message.caption == "Fee chart"
    assert (message.photo[-1].width, message.photo[-1].height) == (640, 480)
    downloaded = await (await fake_bot.get_file(message.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == image


async def test_document_upload_and_non_image_photo(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    message = await fake_bot.send_document(42, b"a,b\r\n1,2\r\n", filename="fees.csv", caption="CSV")
    assert message.document is not None
    assert (message.document.file_name, message.document.mime_type) == ("fees.csv", "text/csv")
    assert fake_telegram.calls_to("sendDocument")[0].files["document"] == b"a,b\r\n1,2\r\n"
    with pytest.raises(BadRequest, match=told("IMAGE_PROCESS_FAILED")):
        await fake_bot.send_photo(42, b"not an image")


async def test_chat_members_follow_the_admin_set(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.add_chat(-1001000000300, "supergroup", title="Team")
    fake_telegram.set_admins(-1001000000300, {7, 8}, creator=7)
    statuses = [(await fake_bot.get_chat_member(-1001000000300, user)).status for user in (7, 8, 9)]
    assert statuses == [ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER]
    admins = await fake_bot.get_chat_administrators(-1001000000300)
    assert [member.user.id for member in admins] == [7, 8]
    with pytest.raises(BadRequest, match="no administrators in the private chat"):
        await fake_bot.get_chat_administrators(42)


async def test_edits_and_deletes_follow_telegram(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    sent = await fake_bot.send_message(42, "menu", reply_markup=keyboard("a"))
    edited = await fake_bot.edit_message_reply_markup(42, sent.message_id, reply_markup=keyboard("b"))
    assert isinstance(edited, Message) and edited.reply_markup == keyboard("b")
    with pytest.raises(BadRequest, match=told("message is not modified")):
        await fake_bot.edit_message_text(
            "menu", chat_id=42, message_id=sent.message_id, reply_markup=keyboard("b")
        )
    with pytest.raises(BadRequest, match=told("message to edit not found")):
        await fake_bot.edit_message_text("x", chat_id=42, message_id=999)
    assert await fake_bot.delete_message(42, sent.message_id)
    with pytest.raises(BadRequest, match=told("message to delete not found")):
        await fake_bot.delete_message(42, sent.message_id)
    assert fake_telegram.chat_messages(42) == []


async def test_blocking_the_bot_makes_sends_forbidden(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.my_chat_member(42, "kicked")
    fake_telegram.my_chat_member(-1001000000400, "administrator")
    blocked, promoted = await fake_bot.get_updates()
    assert blocked.my_chat_member is not None and promoted.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == ChatMemberStatus.BANNED
    assert promoted.my_chat_member.old_chat_member.status == ChatMemberStatus.LEFT
    with pytest.raises(Forbidden, match="blocked by the user"):
        await fake_bot.send_message(42, "hello?")
    assert (
        await fake_bot.get_chat_member(-1001000000400, fake_bot.id)
    ).status == ChatMemberStatus.ADMINISTRATOR
    with pytest.raises(ValueError, match="not in chat"):
        fake_telegram.message(42, "cannot reach the bot")


async def test_webhook_is_recorded_and_blocks_polling(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    fake_telegram.message(42, "queued")
    assert await fake_bot.set_webhook("https://bot.example/hook", secret_token="s3cret")
    assert fake_telegram.webhook == {"url": "https://bot.example/hook", "secret_token": "s3cret"}
    info = await fake_bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://bot.example/hook", 1)
    with pytest.raises(Conflict, match="webhook is active"):
        await fake_bot.get_updates()
    with pytest.raises(BadRequest, match=told("HTTPS URL")):
        await fake_bot.set_webhook("http://insecure.example/hook")
    assert await fake_bot.delete_webhook(drop_pending_updates=True)
    assert fake_telegram.webhook is None and await fake_bot.get_updates() == ()


# Waiting, rejection reporting, and the fake's own honesty


async def test_wait_for_times_out_with_a_report(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    await fake_bot.send_message(42, "something")
    with pytest.raises(WaitTimeout, match="sendMessage chat_id=42 -> 200"):
        await fake_telegram.wait_for(lambda: fake_telegram.sent_messages(7), timeout=0.05)
    assert fake_telegram.wait_for_sync(lambda: fake_telegram.sent_messages(42), timeout=0.05)


async def test_assert_no_rejections_names_the_refused_request() -> None:
    with FakeBotAPI() as server:
        async with Bot(server.token, base_url=server.base_url) as bot:
            with pytest.raises(BadRequest):
                await bot.send_message(42, "<b>", parse_mode=ParseMode.HTML)
        with pytest.raises(AssertionError, match="can't parse entities"):
            server.assert_no_rejections()


async def test_every_answer_matches_the_spec(
    app: Application,  # type: ignore[type-arg]
    fake_telegram: FakeBotAPI,
) -> None:
    """The fake's own results and updates match api.json, so PTB parses them as it would Telegram's."""
    bot = app.bot
    fake_telegram.set_admins(-1001000000300, {7}, creator=8)
    fake_telegram.message(42, "/start")
    await fake_telegram.wait_for_messages(42)
    fake_telegram.callback(42, 42, "lang:en")
    await fake_telegram.wait_for(lambda: fake_telegram.calls_to("editMessageText"))
    fake_telegram.my_chat_member(-1001000000300, "administrator")
    await bot.send_photo(42, png(3, 2), caption="c")
    await bot.send_document(42, b"doc", filename="d.txt")
    for user in (7, 8, 9):
        await bot.get_chat_member(-1001000000300, user)
    await bot.get_chat(-1001000000300)
    await bot.get_webhook_info()
    await bot.copy_message(43, 42, 1)
    await fake_telegram.wait_for(lambda: not fake_telegram.pending_updates())

    spec = ApiSpec.load()
    checked = set()
    for call in fake_telegram.calls:
        if call.ok:
            spec.check_value(spec.methods[call.method].returns, call.result, call.method)
            checked.add(call.method)
    assert {"getMe", "getUpdates", "sendMessage", "sendPhoto", "getChatMember", "getChat"} <= checked
    delivered = [u for c in fake_telegram.calls_to("getUpdates") for u in c.result or []]
    assert {next(k for k in u if k != "update_id") for u in delivered} >= {
        "message",
        "callback_query",
        "my_chat_member",
    }


def test_command_entities_count_utf16_units() -> None:
    assert text_entities("/start 你好") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert text_entities("😀 /notacommand @PolicyTestBot") == [
        {"type": "mention", "offset": 16, "length": 14}
    ]


@pytest.mark.skipif(not SHARED_SPEC.exists(), reason="the project's shared spec is not on this machine")
def test_vendored_spec_is_the_shared_one() -> None:
    assert json.loads(SPEC_PATH.read_bytes()) == json.loads(SHARED_SPEC.read_bytes())


async def test_random_faults_hit_about_their_share_of_sends_only(
    fake_bot: Bot, fake_telegram: FakeBotAPI
) -> None:
    fake_telegram.random_faults(server_error=0.3, slow=0.2, slow_delay=0.0, seed=5)
    outcomes = []
    for index in range(60):
        try:
            await fake_bot.send_message(42, f"message {index}")
            outcomes.append("ok")
        except NetworkError:
            outcomes.append("500")
        await fake_bot.send_chat_action(42, "typing")  # not a message: never a random fault
    failures = outcomes.count("500")
    assert 8 <= failures <= 30  # about 30% of 60
    assert len(fake_telegram.sent_messages(42)) == outcomes.count("ok")
    assert all(call.ok for call in fake_telegram.calls_to("sendChatAction"))
    with pytest.raises(ValueError):
        fake_telegram.random_faults(server_error=0.8, slow=0.5)


async def test_network_delay_moves_arrivals_and_answers(fake_bot: Bot, fake_telegram: FakeBotAPI) -> None:
    import time

    fake_telegram.network_delay(0.4, seed=3)
    started = time.monotonic()
    for index in range(10):
        await fake_bot.send_message(42, f"message {index}")
    elapsed = time.monotonic() - started
    assert elapsed >= 0.4  # ten round trips of 0-400 ms: about 2 s, at least surely more than one
    with pytest.raises(ValueError):
        fake_telegram.network_delay(-1)
