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

from bot.answers.console import chat, guess_language, make_context
from bot.answers.core import Answers
from bot.catalog.load import Catalog, CatalogError, load_catalog
from bot.clock import ClockError, clock_from_env
from bot.config import Config, ConfigError, load_config


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
    _print_rules_by_marketplace(catalog)
    _print_fee_schedules(catalog)
    print(f"OK: {len(catalog.files)} file(s) in {args.directory or 'policies/'}")
    return 0


def _print_rules_by_marketplace(catalog: Catalog) -> None:
    """Rules per platform and marketplace, one line a platform: "amazon  US 40, DE 3, EU 2"."""
    print()
    print("rules by marketplace (a rule for several counts in each)")
    by_platform: dict[str, list[str]] = {}
    for platform, market, count in catalog.market_summary():
        by_platform.setdefault(platform, []).append(f"{market} {count}")
    for platform, parts in by_platform.items():
        print(f"{platform:<14} {', '.join(parts)}")
    watched = len(catalog.watch_pages())
    print(f"pages to watch listed in the policy files: {watched}")


def _print_fee_schedules(catalog: Catalog) -> None:
    """Fee schedules per marketplace: how many categories, dated versions, the currency, who shares them."""
    print()
    print(f"{'fee schedules':<14} {'market':<6} {'categories':>10} {'versions':>8} {'currency':<8} also for")
    for platform, market, schedules, versions, currency, shared in catalog.schedules_by_marketplace():
        also = " ".join(shared) or "-"
        print(f"{platform:<14} {market:<6} {schedules:>10} {versions:>8} {currency:<8} {also}")


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
    except (ZoneInfoNotFoundError, ValueError, OSError):
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


NO_TOKEN = """policybot: no bot token.
Create a bot: open Telegram, talk to @BotFather, send /newbot and follow the steps; it gives you a token.
Then run:  TELEGRAM_BOT_TOKEN=<your token> policybot run
(or put it in the [telegram] section of a config file: see config.example.toml).
To try the answers without Telegram:  policybot chat"""


def cmd_run(args: argparse.Namespace) -> int:
    """Run the Telegram bot: long polling, or a webhook server with --webhook URL."""
    from bot.answers.live import LiveCatalog
    from bot.store import Store, StoreError
    from bot.tg.app import build_application
    from bot.tg.redact import configure_logging

    config = _config(args)
    token = (os.environ.get("TELEGRAM_BOT_TOKEN") or config.telegram.token or "").strip()
    if not token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    if any(character.isspace() for character in token):
        raise CliError("the bot token contains white space; copy it again from @BotFather")
    webhook = config.telegram.webhook
    webhook_url = args.webhook or webhook.url
    if webhook_url and not webhook.secret_token:
        raise CliError(
            "webhook mode needs telegram.webhook.secret_token in the config, so forged updates are refused"
        )
    configure_logging([token])
    clock = clock_from_env(os.environ)
    try:
        live = LiveCatalog(args.policies or config.policies.dir)
    except CatalogError as error:
        raise CliError(str(error)) from None
    try:
        store = Store(args.db or config.store.path, clock=clock)
    except StoreError as error:
        raise CliError(str(error)) from None
    if config.watch.enabled:
        from bot.tg.watching import configured_pages

        try:
            configured_pages(config.watch)  # a bad page is an error now, not at every check
        except ConfigError as error:
            raise CliError(str(error)) from None
    application = build_application(config.telegram, token, live, store, clock, config.watch)
    if webhook_url:
        application.run_webhook(
            listen=webhook.listen,
            port=webhook.port,
            url_path=webhook.path,
            webhook_url=webhook_url,
            secret_token=webhook.secret_token,
        )
    else:
        # run_polling stops cleanly on SIGINT and SIGTERM, finishing the update in hand.
        application.run_polling(allowed_updates=["message", "callback_query", "my_chat_member"])
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """One pass of the page watcher from the shell: a progress bar, a summary table, one machine line."""
    import asyncio

    from bot.store import Store, StoreError
    from bot.tg.watching import configured_pages, record_page_change, watch_settings
    from bot.watch.watcher import CheckResult, Watcher, sources_from

    if not args.once:
        raise CliError("use --once (the running bot watches on its own schedule)")
    config = _config(args)
    catalog = _catalog(args.policies or config.policies.dir)
    clock = clock_from_env(os.environ)
    try:
        sources = sources_from(catalog, configured_pages(config.watch))
    except ConfigError as error:
        raise CliError(str(error)) from None
    if args.only:
        sources = [s for s in sources if args.only in (s.url, s.rule_id, s.key)]
        if not sources:
            raise CliError(f"no watched page or rule matches {args.only!r}")
    try:
        store = Store(args.db or config.store.path, clock=clock)
    except StoreError as error:
        raise CliError(str(error)) from None
    done: list[CheckResult] = []

    def progress(result: CheckResult) -> None:
        done.append(result)
        width = 30
        filled = width * len(done) // max(len(sources), 1)
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r[{bar}] {len(done)}/{len(sources)}", end="", file=sys.stderr, flush=True)

    async def one_pass() -> list[CheckResult]:
        watcher = Watcher(store, watch_settings(config.watch))
        try:
            return await watcher.check_all(sources, progress)
        finally:
            await watcher.aclose()

    with store:
        results = asyncio.run(one_pass())
        print(file=sys.stderr)
        for result in results:
            if result.status == "changed":
                record_page_change(store, result)  # the operators see it in /changes and can publish it
    counts = {
        status: sum(r.status == status for r in results) for status in ("changed", "not_modified", "failed")
    }
    print(f"{'status':<13} {'http':>4}  url")
    for result in results:
        detail = f"  ({result.error})" if result.error else ""
        print(f"{result.status:<13} {result.http_status or '-':>4}  {result.source.url}{detail}")
    print(
        f"checked={len(results)} changed={counts['changed']} not_modified={counts['not_modified']} "
        f"failed={counts['failed']}"
    )
    return 0


def cmd_export_ics(args: argparse.Namespace) -> int:
    """Write an .ics calendar: of every rule, or of one chat's subscriptions and countdowns."""
    from bot.reminders.ics import calendar_ics, calendar_ics_all

    config = _config(args)
    catalog = _catalog(args.policies or config.policies.dir)
    clock = clock_from_env(os.environ)
    lang = args.lang or config.defaults.language or guess_language("")
    if args.chat is None:
        data = calendar_ics_all(catalog, lang, clock.now())
    else:
        from bot.reminders.tracks import list_tracks
        from bot.store import Store, StoreError

        try:
            store = Store(args.db or config.store.path)
        except StoreError as error:
            raise CliError(str(error)) from None
        with store:
            settings = store.chat(args.chat)
            if settings is None:
                raise CliError(f"no chat {args.chat} in {args.db or config.store.path}")
            tracks = [
                (f"Deadline: {t.rule_id}", t.rule_id, t.deadline) for t in list_tracks(store, args.chat)
            ]
            data = calendar_ics(
                catalog, store.subscriptions(args.chat), settings.language, clock.now(), tracks=tracks
            )
    if args.output == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output} ({data.count(b'BEGIN:VEVENT')} events)")
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


def _store_options(parser: argparse.ArgumentParser, db_help: str) -> None:
    """--config, --policies and --db, shared by the commands that use the database."""
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (see config.example.toml)"
    )
    parser.add_argument("--policies", type=Path, metavar="DIR", help="policy folder (default: policies/)")
    parser.add_argument("--db", type=Path, metavar="FILE", help=db_help)


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
    run = commands.add_parser("run", help="run the Telegram bot (long polling, or --webhook URL)")
    _store_options(run, "SQLite database (default: store.path in the config)")
    run.add_argument(
        "--webhook", metavar="URL", help="receive updates at this public HTTPS URL instead of polling"
    )
    run.set_defaults(handler=cmd_run)
    watch = commands.add_parser("watch", help="check the official policy pages once (for cron)")
    watch.add_argument("--once", action="store_true", help="one pass over every due page, then exit")
    _store_options(watch, "SQLite database (default: store.path in the config)")
    watch.add_argument(
        "--only", metavar="URL_OR_RULE", help="check only this page, or the pages of this rule"
    )
    watch.set_defaults(handler=cmd_watch)
    export = commands.add_parser("export-ics", help="write an .ics calendar of the rules' dates")
    _store_options(export, "SQLite database, with --chat")
    export.add_argument(
        "--chat", type=int, metavar="ID", help="only this chat's subscriptions and countdowns"
    )
    export.add_argument("--lang", choices=["zh", "en"], help="language of the event titles")
    export.add_argument(
        "-o", "--output", default="policybot.ics", metavar="FILE", help="output file, - for stdout"
    )
    export.set_defaults(handler=cmd_export_ics)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (CliError, ClockError) as error:
        print(f"policybot: {error}", file=sys.stderr)
        return 2
