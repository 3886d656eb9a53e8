"""policybot: answers about cross-border platform rules, from the command line.

policybot check [DIR]            validate the policy files
policybot ask [--lang zh|en] [--today YYYY-MM-DD] "TEXT"
policybot chat [--lang zh|en] [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.answers import Answers
from bot.catalog import Catalog, CatalogError, load_catalog
from bot.clock import ClockError, clock_from_env
from bot.config import Config, ConfigError, load_config
from bot.console import chat, guess_language, make_context


class CliError(Exception):
    """A misuse of the command line itself (exit status 2)."""


def _config(args: argparse.Namespace) -> Config:
    try:
        return load_config(args.config)
    except ConfigError as error:
        raise CliError(str(error)) from None


def _catalog(directory: Path | None) -> Catalog:
    try:
        return load_catalog(directory)
    except CatalogError as error:
        raise CliError(str(error)) from None


def cmd_check(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog(args.directory)
    except CatalogError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} problem(s) found", file=sys.stderr)
        return 1
    rows = catalog.summary()
    print(f"{'platform':<14} {'rules':>5} {'events':>6} {'fee schedules':>13}")
    for platform, rules, events, schedules in rows:
        print(f"{platform:<14} {rules:>5} {events:>6} {schedules:>13}")
    rules, events, schedules = (sum(column) for column in list(zip(*rows, strict=True))[1:])
    print(f"{'total':<14} {rules:>5} {events:>6} {schedules:>13}")
    print(f"OK: {len(catalog.files)} file(s) in {args.directory or 'policies/'}")
    return 0


def _today(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CliError(f"--today {value!r} is not a date written YYYY-MM-DD") from None


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise CliError(f"--tz {value!r} is not an IANA time zone such as Asia/Shanghai") from None
    return value


def cmd_ask(args: argparse.Namespace) -> int:
    config = _config(args)
    text = " ".join(args.text)
    lang = args.lang or config.defaults.language or guess_language(text)
    zone = _zone(args.tz) or config.defaults.time_zone
    ctx = make_context(lang, zone, _today(args.today), clock_from_env(os.environ))
    answers = Answers(_catalog(args.policies or config.policies.dir))
    print(answers.reply(text, ctx).plain)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    config = _config(args)
    lang = args.lang or config.defaults.language or guess_language("")
    clock = clock_from_env(os.environ)
    today = _today(args.today)
    ctx = make_context(lang, _zone(args.tz) or config.defaults.time_zone, today, clock)
    chat(
        Answers(_catalog(args.policies or config.policies.dir)),
        ctx,
        today_fixed=today is not None,
        clock=clock,
    )
    return 0


def _answer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang", choices=["zh", "en"], help="reply language (default: from the text or LANG)"
    )
    parser.add_argument("--today", metavar="YYYY-MM-DD", help="answer as if today were this date")
    parser.add_argument(
        "--tz", metavar="ZONE", help="your IANA time zone (default Asia/Shanghai for zh, else UTC)"
    )
    parser.add_argument("--policies", type=Path, metavar="DIR", help="policy folder (default: policies/)")
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (see config.example.toml)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policybot", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("check", help="validate the policy files and print a summary")
    check.add_argument(
        "directory", nargs="?", type=Path, default=None, help="policy folder (default: policies/)"
    )
    check.set_defaults(handler=cmd_check)
    ask = commands.add_parser("ask", help="print the bot's reply to one message")
    _answer_options(ask)
    ask.add_argument("text", nargs="+", help='the message, e.g. "/fees apparel 18" or a question')
    ask.set_defaults(handler=cmd_ask)
    console = commands.add_parser("chat", help="talk to the bot in this terminal")
    _answer_options(console)
    console.set_defaults(handler=cmd_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (CliError, ClockError) as error:
        print(f"policybot: {error}", file=sys.stderr)
        return 2
