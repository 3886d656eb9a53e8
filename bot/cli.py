"""policybot: answers about cross-border platform rules, from the command line.

policybot check [DIR]            validate the policy files
policybot ask [--lang zh|en] [--today YYYY-MM-DD] "TEXT"
policybot chat [--lang zh|en] [--today YYYY-MM-DD]
policybot skus import FILE --chat ID     store a chat's SKUs (Fee Preview report, CSV or .xlsx)
policybot impact FILE [--date YYYY-MM-DD | --rule ID]   what the fee changes cost those SKUs
policybot backup FILE [--config FILE] [--db FILE]
policybot doctor [--config FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.answers import Answers, chat, guess_language, make_context
from bot.catalog import Catalog, CatalogError, load_catalog
from bot.clock import clock_from_env
from bot.config import Config, load_config
from bot.errors import PolicyBotError, UserInputError
from bot.i18n import t, to_plain_text

if TYPE_CHECKING:
    from bot.skus import SkuFile, UploadLimits


class CliError(PolicyBotError):
    """A misuse of the command line itself (exit status 2)."""


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def _catalog(directory: Path | None) -> Catalog:
    return load_catalog(directory)


def cmd_check(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog(args.directory)
    except CatalogError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} problem(s) found", file=sys.stderr)
        return 1
    from bot.terminal import print_table

    rows = catalog.summary()
    rules, events, schedules = (sum(column) for column in list(zip(*rows, strict=True))[1:])
    columns = ["platform", "rules", "events", "fee schedules"]
    table = [(p, str(r), str(e), str(f)) for p, r, e, f in [*rows, ("total", rules, events, schedules)]]
    print_table(columns, table, right=columns[1:])
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
    from bot.answers import LiveCatalog
    from bot.monitoring import hold_run_lock
    from bot.store import Store
    from bot.tg import build_application, configure_logging

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
    live = LiveCatalog(args.policies or config.policies.dir)
    database = Path(args.db or config.store.path)
    # Held while the bot runs, so `policybot restore` refuses to replace the file under it (#18).
    run_lock = hold_run_lock(database)
    if not run_lock.held:
        print(f"policybot: warning: another process holds {database}.lock (a second bot?)", file=sys.stderr)
    store = Store(database, clock=clock)
    if config.watch.enabled:
        from bot.tg import configured_pages

        configured_pages(config.watch)  # a bad page is an error now, not at every check
    application = build_application(
        config.telegram,
        token,
        live,
        store,
        clock,
        config.watch,
        monitoring=config.monitoring,
        keep_days=config.store.keep_days,
        upload_limits=upload_limits(config),
    )
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
    run_lock.close()
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """One pass of the page watcher from the shell: a progress bar, a summary table, one machine line."""
    import asyncio

    from bot.store import Store
    from bot.tg import configured_pages, record_page_change, watch_settings
    from bot.watch import CheckResult, Watcher, sources_from

    if not args.once:
        raise CliError("use --once (the running bot watches on its own schedule)")
    config = _config(args)
    catalog = _catalog(args.policies or config.policies.dir)
    clock = clock_from_env(os.environ)
    sources = sources_from(catalog, configured_pages(config.watch))
    if args.only:
        sources = [s for s in sources if args.only in (s.url, s.rule_id, s.key)]
        if not sources:
            raise CliError(f"no watched page or rule matches {args.only!r}")
    store = Store(args.db or config.store.path, clock=clock)
    from bot.terminal import print_table, progress

    async def one_pass(step: Callable[[], None]) -> list[CheckResult]:
        watcher = Watcher(store, watch_settings(config.watch))
        try:
            return await watcher.check_all(sources, lambda _result: step())
        finally:
            await watcher.aclose()

    with store:
        with progress(len(sources), "checking pages") as step:
            results = asyncio.run(one_pass(step))
        for result in results:
            if result.status == "changed":
                record_page_change(store, result)  # the operators see it in /changes and can publish it
    counts = {
        status: sum(r.status == status for r in results) for status in ("changed", "not_modified", "failed")
    }
    rows = [
        (
            result.status,
            str(result.http_status or "-"),
            result.source.url + (f"  ({result.error})" if result.error else ""),
        )
        for result in results
    ]
    print_table(["status", "http", "url"], rows, right=["http"])
    for result in results:
        if result.status == "changed" and result.diff:
            print(f"\n--- {result.source.url}")
            print(result.diff)
    print(
        f"checked={len(results)} changed={counts['changed']} not_modified={counts['not_modified']} "
        f"failed={counts['failed']}"
    )
    return 0


def cmd_export_ics(args: argparse.Namespace) -> int:
    """Write an .ics calendar: of every rule, or of one chat's subscriptions and countdowns."""
    from bot.reminders import calendar_ics, calendar_ics_all

    config = _config(args)
    catalog = _catalog(args.policies or config.policies.dir)
    clock = clock_from_env(os.environ)
    lang = args.lang or config.defaults.language or guess_language("")
    if args.chat is None:
        data = calendar_ics_all(catalog, lang, clock.now())
    else:
        from bot.reminders import list_tracks
        from bot.store import Store

        store = Store(args.db or config.store.path)
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


def upload_limits(config: Config) -> UploadLimits:
    """The SKU upload limits of `[skus]` (#18)."""
    from bot.skus import UploadLimits

    return UploadLimits(**config.skus.model_dump())


def _read_skus(path: Path, lang: str, limits: UploadLimits) -> tuple[SkuFile, str]:
    from bot.skus import read_sku_file

    try:
        data = path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None
    return read_sku_file(data, path.name, limits), path.name


def cmd_skus(args: argparse.Namespace) -> int:
    """Import, show or erase a chat's SKUs without Telegram."""
    from bot.skus import FeeModel, SkuRecords, import_summary, skus_status
    from bot.store import Store

    config = _config(args)
    # main's error line (a bad file, an unknown change) speaks this language too
    lang = args.lang = args.lang or config.defaults.language or guess_language("")
    parsed = _read_skus(args.file, lang, upload_limits(config)) if args.action == "import" else None
    store = Store(args.db or config.store.path)
    with store:
        records = SkuRecords(store)
        if parsed is not None:
            file, name = parsed
            records.replace(args.chat, file, name)
            policies = args.policies or config.policies.dir
            model = FeeModel(_catalog(policies))
            print(to_plain_text(import_summary(file, name, model, lang)))
        elif args.action == "delete":
            print(to_plain_text(t(lang, "skus_deleted", count=records.delete(args.chat))))
        else:
            print(to_plain_text(skus_status(records.info(args.chat), lang)))
    return 0


def cmd_impact(args: argparse.Namespace) -> int:
    """The impact of the fee changes on the SKUs of a file, printed (and a chart, with --chart)."""
    from bot.skus import FeeModel, choose_change, impact_detail, impact_of, impact_overview

    config = _config(args)
    # main's error line (a bad file, an unknown change) speaks this language too
    lang = args.lang = args.lang or config.defaults.language or guess_language("")
    ctx = make_context(lang, config.defaults.time_zone, _today(args.today), clock_from_env(os.environ))
    catalog = _catalog(args.policies or config.policies.dir)
    file, _ = _read_skus(args.file, lang, upload_limits(config))
    wanted = args.date or args.rule
    if wanted is None:
        print(to_plain_text(impact_overview(catalog, file.rows, ctx)))
        return 0
    change = choose_change(catalog, [wanted], ctx.today)
    result = impact_of(FeeModel(catalog), change, file.rows)
    print(to_plain_text(impact_detail(result, ctx)))
    if args.chart is not None:
        from bot.skus import impact_chart_png

        args.chart.write_bytes(impact_chart_png(result, lang))
        print(f"wrote {args.chart}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the live database consistently (SQLite's online backup API), even while the bot runs."""
    from bot.monitoring import backup_database
    from bot.terminal import print_table

    config = _config(args)
    source = args.db or config.store.path
    result = backup_database(Path(source), Path(args.file))
    rows = [(table, str(count)) for table, count in result.rows.items()]
    print_table(["table", "rows"], rows, title=f"{source} -> {result.target}", right=["rows"])
    print(f"backup={result.target} tables={len(result.rows)} rows={result.total_rows} bytes={result.size}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the database with a backup after checking it; refused while a bot runs on it (#18)."""
    # Importing a package registers its tables: the backup's schema is checked against every one.
    import bot.reminders
    import bot.skus
    import bot.watch  # noqa: F401
    from bot.monitoring import restore_database

    config = _config(args)
    result = restore_database(Path(args.file), Path(args.db or config.store.path))
    if result.previous is not None:
        print(f"the replaced database is kept as {result.previous}")
    print(f"restored={result.target} tables={len(result.rows)} rows={result.total_rows} bytes={result.size}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check the installation; print what is wrong and how to fix it; exit 1 when something is."""
    # Importing a package registers its tables: the doctor checks the schema of every one.
    import bot.reminders
    import bot.skus
    import bot.watch  # noqa: F401
    from bot.monitoring import check_installation
    from bot.terminal import print_table

    findings = check_installation(args.config, os.environ, args.db)
    print_table(
        ["check", "status", "detail"],
        [(f.check, "ok" if f.ok else "fail", f.detail) for f in findings],
    )
    failed = [finding for finding in findings if not finding.ok]
    for finding in failed:
        print(f"fix {finding.check}: {finding.fix}")
    print(f"doctor: checks={len(findings)} failed={len(failed)}")
    return 1 if failed else 0


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
    skus = commands.add_parser("skus", help="import, show or erase a chat's SKUs (no Telegram needed)")
    skus.add_argument("action", choices=["import", "show", "delete"], help="what to do")
    skus.add_argument("file", nargs="?", type=Path, help="with import: the Fee Preview report, .csv or .xlsx")
    skus.add_argument("--chat", type=int, required=True, metavar="ID", help="the Telegram chat id")
    skus.add_argument("--lang", choices=["zh", "en"], help="language of the messages")
    _store_options(skus, "SQLite database (default: store.path in the config)")
    skus.set_defaults(handler=cmd_skus)
    impact = commands.add_parser("impact", help="what the fee changes cost the SKUs of a file")
    impact.add_argument("file", type=Path, help="the Fee Preview report, .csv or .xlsx")
    which = impact.add_mutually_exclusive_group()
    which.add_argument("--date", metavar="YYYY-MM-DD", help="the detail of the change on this date")
    which.add_argument("--rule", metavar="ID", help="the detail of this rule's change (id or ref, e.g. R-A1)")
    impact.add_argument("--chart", type=Path, metavar="PNG", help="with --date or --rule: write the chart")
    _answer_options(impact)
    impact.set_defaults(handler=cmd_impact)
    backup = commands.add_parser(
        "backup", help="copy the live database consistently (safe while the bot runs)"
    )
    backup.add_argument("file", type=Path, metavar="FILE", help="the copy to write (replaced if it exists)")
    backup.add_argument("--config", type=Path, metavar="FILE", help="configuration file (for store.path)")
    backup.add_argument(
        "--db", type=Path, metavar="FILE", help="the database (default: store.path in the config)"
    )
    backup.set_defaults(handler=cmd_backup)
    restore = commands.add_parser(
        "restore", help="replace the database with a backup (checked first; refused while the bot runs)"
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="a copy made by policybot backup")
    restore.add_argument("--config", type=Path, metavar="FILE", help="configuration file (for store.path)")
    restore.add_argument(
        "--db", type=Path, metavar="FILE", help="the database (default: store.path in the config)"
    )
    restore.set_defaults(handler=cmd_restore)
    doctor = commands.add_parser("doctor", help="check config, token, catalog, database, time zones, Bot API")
    doctor.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (see config.example.toml)"
    )
    doctor.add_argument(
        "--db", type=Path, metavar="FILE", help="the database (default: store.path in the config)"
    )
    doctor.set_defaults(handler=cmd_doctor)
    return parser


def error_message(error: PolicyBotError, args: argparse.Namespace) -> str:
    """An expected error as one line: a user's bad input in their language (--lang, else the terminal's)."""
    if isinstance(error, UserInputError):
        lang = getattr(args, "lang", None) or guess_language("")
        return to_plain_text(error.message(lang))
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "skus" and (args.action == "import") != (args.file is not None):
        build_parser().error("skus import needs a FILE; show and delete take none")
    try:
        return int(args.handler(args))
    except PolicyBotError as error:  # expected: one clear line, no traceback; anything else is a bug
        print(f"policybot: {error_message(error, args)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`policybot ask ... | head`): stop quietly, as cat does
        sys.stdout = None  # nothing more can be written; no flush at exit
        return 0
