"""The console adapter: `policybot ask` and `policybot chat` print what the bot would reply, as plain text."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.answers.core import Answers, ChatContext
from bot.clock import Clock
from bot.i18n import normalize_language

DEFAULT_ZONES = {"zh": "Asia/Shanghai", "en": "UTC"}
_CJK = re.compile(r"[\u3400-\u9fff]")


def guess_language(text: str, environ: dict[str, str] | None = None) -> str:
    """A Chinese question gets a Chinese answer; otherwise the terminal's LANG decides."""
    if _CJK.search(text):
        return "zh"
    env = os.environ if environ is None else environ
    return normalize_language(env.get("LC_ALL") or env.get("LANG") or "en")


def make_context(lang: str, zone: str | None, today: dt.date | None, clock: Clock) -> ChatContext:
    tz = ZoneInfo(zone or DEFAULT_ZONES.get(lang, "UTC"))
    return ChatContext(lang, tz, today or clock.today(tz))


def chat(
    answers: Answers,
    ctx: ChatContext,
    today_fixed: bool,
    clock: Clock,
    read: Callable[[str], str] | None = None,
    out: TextIO | None = None,
) -> None:
    """An interactive console on the same core; /lang switches language; /quit, Ctrl-D or Ctrl-C end it."""
    # Looked up at call time, so a test or a wrapper can replace input() and sys.stdout.
    read = read or input
    out = out or sys.stdout
    print("policybot chat — /help for commands, /quit to leave.", file=out)
    while True:
        try:
            line = read("> ")
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return
        if line.strip() in {"/quit", "/exit", "quit", "exit"}:
            return
        if not today_fixed:
            ctx = replace(ctx, today=clock.today(ctx.zone))
        reply = answers.reply(line, ctx)
        print(reply.plain, file=out)
        print(file=out)
        if reply.language:
            ctx = replace(ctx, lang=reply.language)
