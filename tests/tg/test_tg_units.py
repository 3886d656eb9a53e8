"""The Telegram adapter's plain parts: secrets kept out of logs, flood control, zones, typed settings."""

from __future__ import annotations

import datetime as dt
import io
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import POLICIES, ROOT

from bot.errors import UserInputError
from bot.tg.redact import RedactingFilter, configure_logging
from bot.tg.settings import parse_lead_days, parse_quiet, parse_time
from bot.tg.throttle import Throttle
from bot.zones import resolve_zone

TOKEN = "123456789:AAHsecretSECRETsecret-0123456789"


def test_the_token_never_reaches_the_log_even_from_httpx_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = configure_logging([TOKEN], stream)
    try:
        logging.getLogger("httpx").setLevel(logging.INFO)  # even if someone turns httpx back up
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise httpx.ConnectError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getUpdates")
        except httpx.ConnectError:
            logging.getLogger("bot").exception("polling failed for %s", f"bot{TOKEN}")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
    output = stream.getvalue()
    assert "getUpdates" in output and "getMe" in output
    assert TOKEN not in output
    assert "<token>" in output


def test_configure_logging_silences_httpx_request_lines() -> None:
    stream = io.StringIO()
    handler = configure_logging([TOKEN], stream)
    try:
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
    assert stream.getvalue() == ""


def test_filter_redacts_arguments_formatted_into_the_message() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token is %s", (TOKEN,), None)
    RedactingFilter([TOKEN]).filter(record)
    assert record.getMessage() == "token is <token>"


def test_throttle_warns_once_then_drops_until_the_minute_passes() -> None:
    now = [0.0]
    throttle = Throttle(3, clock=lambda: now[0])
    assert [throttle.check(1) for _ in range(5)] == ["ok", "ok", "ok", "warn", "drop"]
    assert throttle.check(2) == "ok"  # other users are not affected
    now[0] = 60.0
    assert throttle.check(1) == "ok"


@pytest.mark.parametrize(
    ("text", "zone"),
    [("Shenzhen", "Asia/Shanghai"), ("深圳", "Asia/Shanghai"), ("los angeles", "America/Los_Angeles"),
     ("Europe/Berlin", "Europe/Berlin"), ("berlin", "Europe/Berlin"), ("Mars", None), ("", None)],
)  # fmt: skip
def test_zones_by_city_or_name(text: str, zone: str | None) -> None:
    assert resolve_zone(text) == zone


def test_typed_settings_parsing() -> None:
    assert parse_time("9:00") == "09:00"
    assert parse_time("0930") == "09:30"
    assert parse_lead_days(["30,7", "1", "0", "7"]) == (30, 7, 1, 0)
    assert parse_quiet(["22:00-08:00"]) == ("22:00", "08:00")
    assert parse_quiet(["off"]) is None
    for bad in (
        lambda: parse_time("25:00"),
        lambda: parse_lead_days(["400"]),
        lambda: parse_quiet(["22:00"]),
    ):
        with pytest.raises(UserInputError):
            bad()


def test_run_without_a_token_explains_how_to_get_one() -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "@BotFather" in result.stderr and "policybot chat" in result.stderr


def test_every_telegram_command_is_answered_by_the_core_or_named_as_a_chat_command(tmp_path: Path) -> None:
    """The console says where a chat command works; a command the bot registers is never "unknown" there."""
    from telegram.ext import CommandHandler

    from bot.answers.core import CHAT_COMMANDS, COMMANDS
    from bot.answers.live import LiveCatalog
    from bot.clock import Clock
    from bot.config import TelegramConfig
    from bot.store import Store
    from bot.tg.app import build_application

    clock = Clock(dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    with Store(tmp_path / "bot.db", clock=clock) as store:
        app = build_application(TelegramConfig(), TOKEN, LiveCatalog(POLICIES), store, clock)
        registered = {
            name
            for handlers in app.handlers.values()
            for handler in handlers
            if isinstance(handler, CommandHandler)
            for name in handler.commands
        }
    assert registered - set(COMMANDS) == CHAT_COMMANDS
