"""A strict fake Telegram Bot API server for end-to-end tests with the real python-telegram-bot.

Why: the bot's Telegram adapter is tested over real HTTP, so the code under test is exactly what runs in
production (PTB's request encoding, error mapping, polling loop). The fake is *stricter* than Telegram
where Telegram is lenient in ways that hide bugs (an unknown parameter is silently ignored by the real
server), and as strict as Telegram where it refuses (limits, HTML, flood control, blocked users).

Use::

    from fake_telegram import FakeBotAPI

    with FakeBotAPI() as server:                     # 127.0.0.1, a free port, token "123456:TEST-token"
        app = (ApplicationBuilder().token(server.token)
               .base_url(server.base_url).base_file_url(server.base_file_url).build())
        ...
        server.message(42, "/start", language_code="zh-hans")   # a user writes; returns the update_id
        await server.wait_for_messages(42, count=1)
        assert server.sent_messages(42)[0]["text"] == "..."
        server.assert_no_rejections()

Register the fixtures (`fake_telegram`, `fake_bot`) in ``tests/conftest.py`` with either::

    pytest_plugins = ["fake_telegram.fixtures"]
    # or: from fake_telegram.fixtures import fake_bot, fake_telegram  # noqa: F401

(``tests/`` is on ``sys.path`` because it has a conftest.py and no ``__init__.py``.)

Checked on every request (a refusal is a 400 with Telegram's error shape, recorded in `rejected`):
the token (401), the method (404), unknown/missing/wrongly typed parameters against api.json (Bot API
10.0, vendored in ``telegram-bot-api/``), JSON objects field by field (reply markups, entities, command
scopes, link preview options, ...), text 1-4096 and captions up to 1024 characters after parsing,
Telegram-HTML well-formedness, inline buttons (one action, callback_data 1-64 bytes, URL scheme),
answerCallbackQuery text up to 200 characters, bot commands, chat actions. Not checked: MarkdownV2
syntax (its length is counted on the raw text), nesting rules between entity types, file sizes, and
methods the fake does not implement answer 501 (also recorded as rejections).

Telegram's bad days at random: ``random_faults(server_error=0.05, slow=0.05)`` answers that share of
message sends and edits with 500 or slowly; ``network_delay(0.2)`` delays every round trip by 0-200 ms,
half before the request is handled (so flood control sees jittered arrivals) and half on the way back.

PTB 22 warns when it builds `RetryAfter` unless ``PTB_TIMEDELTA=true`` is set; under
``filterwarnings = error`` a 429 then surfaces as PTBDeprecationWarning. Tests that provoke 429s set
that variable (and get `retry_after` as a timedelta).

Exceptions: `ApiError` is the answer the server gives instead of a result (never raised to a test).
To the test: `NoSuchMessage(LookupError)` when a helper names a message the server never saw,
`WaitTimeout(AssertionError)` when `wait_for` gives up, `ValueError` for impossible requests (a user
writing in a chat the bot was removed from, an unknown fault kind), `AssertionError` from
`assert_no_rejections`.
"""

from .errors import ApiError, NoSuchMessage, WaitTimeout
from .faults import FAULT_KINDS, FaultKind
from .html_check import ParsedText, TelegramHtmlError, parse_html, utf16_len
from .server import DEFAULT_TOKEN, DEFAULT_USERNAME, SENT_MESSAGE_METHODS, Call, ChatType, FakeBotAPI
from .spec import SPEC_PATH, ApiSpec, SpecViolation
from .updates import DEFAULT_USER_ID

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USERNAME",
    "DEFAULT_USER_ID",
    "FAULT_KINDS",
    "SENT_MESSAGE_METHODS",
    "SPEC_PATH",
    "ApiError",
    "ApiSpec",
    "Call",
    "ChatType",
    "FakeBotAPI",
    "FaultKind",
    "NoSuchMessage",
    "ParsedText",
    "SpecViolation",
    "TelegramHtmlError",
    "WaitTimeout",
    "parse_html",
    "utf16_len",
]
