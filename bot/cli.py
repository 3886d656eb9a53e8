"""policybot: answers about cross-border platform rules, from the command line.

policybot check [DIR]            validate the policy files
policybot ask [--json] [--lang zh|en] [--today YYYY-MM-DD] "TEXT"
policybot chat [--lang zh|en] [--today YYYY-MM-DD]
policybot skus import FILE --chat ID     store a chat's SKUs (Fee Preview report, CSV or .xlsx)
policybot impact FILE [--date YYYY-MM-DD | --rule ID]   what the fee changes cost those SKUs
policybot backup FILE [--config FILE] [--db FILE]
policybot doctor [--config FILE]
policybot destinations add NAME URL [--secret S] [--platform P ...] --config FILE   (list, test, remove)
policybot catalog keygen|publish|pull|status|rollback   the signed catalog feed (see README)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.answers import Answers, chat, guess_language, make_context
from bot.catalog import Catalog, CatalogError, default_policies_dir, load_catalog
from bot.clock import clock_from_env
from bot.config import Config, load_config
from bot.errors import PolicyBotError, UserInputError
from bot.i18n import t, to_plain_text

if TYPE_CHECKING:
    from bot.answers import LiveCatalog
    from bot.clock import Clock
    from bot.feed import Feed
    from bot.monitoring import Metrics, MonitoringServer
    from bot.skus import SkuFile, UploadLimits
    from bot.store import Store


# How often a run without Telegram looks for due pages (each page has its own, longer interval).
WATCH_TICK_SECONDS = 300


def register_every_owner() -> None:
    """Import every package that owns tables: importing one registers its migrations with the store, and
    a command that opens, checks or replaces the database must know them all."""
    import bot.channels
    import bot.feed
    import bot.reminders
    import bot.skus
    import bot.tg
    import bot.watch  # noqa: F401


class CliError(PolicyBotError):
    """A misuse of the command line itself (exit status 2)."""


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def _catalog(directory: Path | None) -> Catalog:
    return load_catalog(directory)


def cmd_check(args: argparse.Namespace) -> int:
    import tempfile

    try:
        if args.local is None:
            catalog = load_catalog(args.directory)
        else:  # the operator's local rules on top, as the running bot loads them
            from bot.catalog import default_policies_dir
            from bot.feed import overlay_local

            with tempfile.TemporaryDirectory() as scratch:
                merged = Path(scratch) / "catalog"
                overlay_local(args.directory or default_policies_dir(), args.local, merged)
                catalog = load_catalog(merged)
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
    if args.stale is not None:
        _print_stale(catalog, args)
    return 0


def _print_stale(catalog: Catalog, args: argparse.Namespace) -> None:
    """Rules to look at first: cited pages changed after the review, then not reviewed in DAYS days."""
    from bot.store import Store
    from bot.watch import page_changes, stale_counts, stale_rules

    db = args.db or (_config(args).store.path if args.config else None)
    changes = {}
    if db is not None and Path(db).exists():
        with Store(db, clock=clock_from_env(os.environ)) as store:
            changes = page_changes(store)
    else:
        print("\nno database given (--db or --config): page changes unknown, review dates only")
    today = clock_from_env(os.environ).today()
    stale = stale_rules(catalog, changes, today, args.stale)
    changed, overdue = stale_counts(stale)
    print(
        f"\nstale rules: {changed} with a cited page changed after review,"
        f" {overdue} not reviewed in {args.stale} days"
    )
    for item in stale:
        reviewed = item.reviewed.isoformat() if item.reviewed else "never"
        if item.changed_pages:
            url, moment = item.changed_pages[0]
            why = f"page changed {moment.date().isoformat()} after review ({reviewed}): {url}"
        else:
            why = f"reviewed: {reviewed}"
        print(f"{item.rule_id:<48} {item.platform:<14} {why}")


def feed_of(config: Config, store: Store, db: Path, policies: Path | None = None) -> Feed | None:
    """The configured catalog feed, or None when [catalog] names none (and no local rules)."""
    from bot.catalog import default_policies_dir
    from bot.feed import CatalogFolders, Feed, FeedSettings, catalog_folder

    settings = config.catalog
    if settings.feed is None and settings.local is None:
        return None
    feed_settings = FeedSettings(
        url=settings.feed or "",
        public_keys=settings.public_keys,
        max_bytes=settings.max_bytes,
        ca_file=settings.ca_file,
        local=settings.local,
    )
    folders = CatalogFolders(catalog_folder(db))
    return Feed(feed_settings, store, folders, policies or config.policies.dir or default_policies_dir())


def cmd_catalog(args: argparse.Namespace) -> int:
    """The signed catalog feed: keygen and publish (maintainers), pull, status and rollback (operators)."""
    import asyncio

    from bot.feed import Outcome, feed_status, keygen, publish, rollback
    from bot.store import Store

    if args.action == "keygen":
        public = keygen(args.out)
        print(f"wrote {args.out / 'catalog.key'} (secret, mode 0600) and {args.out / 'catalog.pub'}")
        print(f'[catalog] public_keys = ["{public.to_base64()}"]')
        return 0
    clock = clock_from_env(os.environ)
    if args.action == "publish":
        if args.policies is None or args.key is None or args.out is None:
            raise CliError("catalog publish needs --policies DIR --key FILE --out SITE")
        try:
            published = publish(
                args.policies,
                args.key,
                args.out,
                now=clock.now(),
                version=args.version,
                expires_days=args.expires_days,
            )
        except CatalogError as error:
            for problem in error.problems:
                print(problem, file=sys.stderr)
            print(f"refusing to publish: {len(error.problems)} problem(s)", file=sys.stderr)
            return 1
        print(
            f"published version {published.version}: {published.payload.name} "
            f"({published.size} bytes, {published.rules} rules, sha256 {published.sha256[:16]}...)"
        )
        return 0
    config = _config(args)
    db = args.db or config.store.path
    store = Store(db, clock=clock)
    try:
        if args.action == "status":
            for line in feed_status(store).lines():
                print(line)
            return 0
        feed = feed_of(config, store, db)
        if feed is None or not config.catalog.feed:
            raise CliError("no [catalog] feed in the config")
        if args.action == "rollback":
            previous = rollback(feed)
            print(f"rolled back to version {previous.version}; the bot loads it at its next start or pull")
            return 0
        result = asyncio.run(feed.pull())
        print(result.line())
        return 1 if result.outcome is Outcome.REFUSED else 0
    finally:
        store.close()


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
    # --market US --market UK: answer as a chat that follows these marketplaces would be answered.
    ctx = dataclasses.replace(ctx, marketplaces=tuple(code.upper() for code in args.market or ()))
    answers = Answers(_catalog(args.policies or config.policies.dir))
    reply = answers.reply(text, ctx)
    if args.json:
        # For tools and tests: the reply as a seller sees it, and the rule ids it rests on (#17).
        buttons = [{"label": button.label, "data": button.data} for button in reply.buttons]
        found = {"text": reply.plain, "rules": list(reply.rules), "buttons": buttons}
        print(json.dumps(found, ensure_ascii=False))
        return 0
    print(reply.plain)
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
    from bot.tg import build_application, configure_logging

    config = _config(args)
    token = (os.environ.get("TELEGRAM_BOT_TOKEN") or config.telegram.token or "").strip()
    if not token:
        return _run_without_telegram(args, config)
    if any(character.isspace() for character in token):
        raise CliError("the bot token contains white space; copy it again from @BotFather")
    webhook = config.telegram.webhook
    webhook_url = args.webhook or webhook.url
    if webhook_url and not webhook.secret_token:
        raise CliError(
            "webhook mode needs telegram.webhook.secret_token in the config, so forged updates are refused"
        )
    configure_logging([token])
    import bot.feed  # noqa: F401  (its tables are created with the others)

    clock = clock_from_env(os.environ)
    database = Path(args.db or config.store.path)
    # Held while the bot runs, so `policybot restore` refuses to replace the file under it (#18).
    run_lock = hold_run_lock(database)
    if not run_lock.held:
        print(f"policybot: warning: another process holds {database}.lock (a second bot?)", file=sys.stderr)
    store = open_store_waiting(database, clock)
    feed = feed_of(config, store, database, args.policies)
    # With a feed or local rules, the bot loads the installed catalog (local rules on top).
    live = LiveCatalog(feed.directory() if feed is not None else args.policies or config.policies.dir)
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
        channels=config.channels,
        keep_days=config.store.keep_days,
        upload_limits=upload_limits(config),
    )
    if feed is not None and config.catalog.feed:
        application.bot_data.feed, application.bot_data.feed_interval = feed, config.catalog.interval
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


# Waits between tries to open a database that takes no writes at start: doubling up to a minute.
STORE_RETRY_FIRST = 2.0
STORE_RETRY_MAX = 60.0


def open_store_waiting(database: Path, clock: Clock) -> Store:
    """Open the store, waiting while the database takes no writes (a full disk, a lock held elsewhere):
    said once, then retried with backoff, so a supervisor sees a process that waits, not a crash loop."""
    import time

    from bot.monitoring import is_database_unavailable
    from bot.store import Store

    delay, told = STORE_RETRY_FIRST, False
    while True:
        try:
            return Store(database, clock=clock)
        except Exception as error:
            if not is_database_unavailable(error) and not is_database_unavailable(error.__cause__ or error):
                raise
            if not told:
                print(
                    f"policybot: {database} takes no writes ({error}): waiting for it, retrying every"
                    f" {STORE_RETRY_FIRST:.0f} to {STORE_RETRY_MAX:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
                told = True
            time.sleep(delay)
            delay = min(delay * 2, STORE_RETRY_MAX)


def _run_without_telegram(args: argparse.Namespace, config: Config) -> int:
    """`policybot run` with no token: reminders and alerts to the destinations only (#20), no bot."""
    import asyncio
    import signal

    from bot.answers import LiveCatalog
    from bot.channels import destinations, run_without_telegram, telegram_chats_waiting
    from bot.tg import configure_logging

    clock = clock_from_env(os.environ)
    store = open_store_waiting(Path(args.db or config.store.path), clock)
    try:
        kept = destinations(store)
        if not kept:
            print(NO_TOKEN, file=sys.stderr)
            return 2
        waiting = telegram_chats_waiting(store)
        if waiting:
            raise CliError(
                f"{waiting} Telegram chat(s) have subscriptions: set TELEGRAM_BOT_TOKEN so they get their"
                " reminders too (without a token only destinations are served)"
            )
        # The webhook keys and secrets never reach the log, even inside a library's message.
        configure_logging([secret for found in kept for secret in (found.url, found.secret) if secret])
        live = LiveCatalog(args.policies or config.policies.dir)

        async def serve() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            server = await _metrics_without_telegram(config, store, live)
            watching = asyncio.create_task(
                _watch_without_telegram(config, store, live, server.metrics if server else None, stop)
            )
            try:
                await run_without_telegram(store, live, config.channels, stop)
            finally:
                stop.set()
                await watching
                if server is not None:
                    await server.stop()

        print(f"policybot: no Telegram token; sending to {len(kept)} destination(s)", file=sys.stderr)
        asyncio.run(serve())
    finally:
        store.close()
    return 0


async def _watch_without_telegram(
    config: Config, store: Store, live: LiveCatalog, metrics: Metrics | None, stop: asyncio.Event
) -> None:
    """The page watcher of a run without Telegram: due pages checked every few minutes, a changed page
    recorded as a change and logged with its proposal (the operators read it with `policybot propose`)."""
    import logging

    from bot.tg import configured_pages, record_page_change, watch_settings
    from bot.watch import Watcher, proposal_lines, propose, sources_from

    if not config.watch.enabled:
        return
    log = logging.getLogger("bot.watch")
    pages = configured_pages(config.watch)
    watcher = Watcher(store, watch_settings(config.watch))
    try:
        while not stop.is_set():
            sources = sources_from(live.catalog, pages)
            for result in await watcher.check_all(watcher.due(sources, store.clock.now())):
                if metrics is not None:
                    metrics.watch_result(result.status)
                if result.status == "changed":
                    record_page_change(store, result)
                    proposal = propose(
                        live.catalog, result.source.url, result.previous_text or "", result.text or ""
                    )
                    log.warning(
                        "official page changed: %s\n%s\ndraft the update: policybot propose %s",
                        result.source.url,
                        "\n".join(proposal_lines(proposal, "en")),
                        result.source.key,
                    )
                elif result.alert == "failing":
                    log.warning("official page failing: %s (%s)", result.source.url, result.error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCH_TICK_SECONDS)
    finally:
        await watcher.aclose()


async def _metrics_without_telegram(
    config: Config, store: Store, live: LiveCatalog
) -> MonitoringServer | None:
    """/healthz and /metrics at `[monitoring] listen` for a run without Telegram (no updates to watch)."""
    from bot.monitoring import Metrics, MonitoringServer, parse_listen
    from bot.reminders import Outbox, catalog_version

    if not config.monitoring.listen:
        return None
    metrics = Metrics(
        reminders=lambda: Outbox(store).counts_by_status().items(),
        late_reminders=lambda: Outbox(store).late_sent_count(),
        catalog_version=lambda: catalog_version(store),
        catalog_rules=lambda: len(live.catalog.rules),
        too_many_requests=lambda: 0,  # Telegram's 429s: no Telegram here
    )

    def database() -> str | None:
        store.db.execute("SELECT 1").fetchone()
        return None

    host, port = parse_listen(config.monitoring.listen)
    server = MonitoringServer(host, port, {"database": database}, metrics)
    try:
        await server.start()
    except OSError as error:
        print(
            f"policybot: cannot serve /healthz and /metrics at {config.monitoring.listen}: {error}",
            file=sys.stderr,
        )
        return None
    return server


def _quiet_hours(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    start, _, end = value.partition("-")
    if not end:
        raise CliError(f"--quiet {value}: write it as HH:MM-HH:MM, e.g. 22:00-08:00")
    return start.strip(), end.strip()


def cmd_destinations(args: argparse.Namespace) -> int:
    """Destinations beside Telegram: add, list, test, remove (#20)."""
    import asyncio

    from bot.channels import (
        ChannelSender,
        add_destination,
        allowed_hosts,
        destination_by_name,
        destinations,
        kind_of,
        remove_destination,
    )
    from bot.reminders import OutgoingMessage, Sent, TextFormat
    from bot.store import Store, Subscription

    config = _config(args)
    store = Store(args.db or config.store.path, clock=clock_from_env(os.environ))
    try:
        if args.action == "add":
            kind = kind_of(args.url, allowed_hosts(config.channels))
            catalog = _catalog(args.policies or config.policies.dir)
            unknown = sorted(set(args.platform or []) - set(catalog.platforms))
            if unknown:
                raise CliError(
                    f"unknown platform(s): {', '.join(unknown)}; known: {' '.join(sorted(catalog.platforms))}"
                )
            subscriptions = [
                Subscription(platform, marketplace.upper() if marketplace != "*" else marketplace, topic)
                for platform in args.platform or []
                for marketplace in args.marketplace or ["*"]
                for topic in args.topic or ["*"]
            ]
            found = add_destination(
                store,
                args.name,
                args.url,
                kind,
                secret=args.secret,
                language=args.lang or "zh",
                time_zone=_zone(args.tz),
                reminder_time=args.time,
                quiet_hours=_quiet_hours(args.quiet),
                subscriptions=subscriptions,
            )
            print(
                f"added {found.name}: {found.kind.value} {found.shown_url} subscriptions={len(subscriptions)}"
            )
            return 0
        if args.action == "list":
            kept = destinations(store)
            for found in kept:
                settings = store.chat(found.chat_id)
                subs = ", ".join(
                    f"{s.platform}/{s.marketplace}/{s.topic}" for s in store.subscriptions(found.chat_id)
                )
                mirror = f" mirrors chat {found.mirror_of}" if found.mirror_of is not None else ""
                state = "on" if found.enabled else f"off ({found.disabled_reason})"
                where = f"{settings.language} {settings.time_zone}" if settings else "?"
                fields = [found.name, found.kind.value, found.shown_url, state, where, (subs or "-") + mirror]
                print("\t".join(fields))
            print(f"destinations={len(kept)}")
            return 0
        named = destination_by_name(store, args.name)
        if named is None:
            raise CliError(f"no destination called {args.name}")
        if args.action == "remove":
            remove_destination(store, args.name)
            print(f"removed {named.name}")
            return 0
        found = named
        # test
        settings = store.chat(found.chat_id)
        lang = settings.language if settings else "zh"
        text = t(lang, "channels_test_message", chat=found.name)

        async def send_test() -> object:
            sender = ChannelSender(store, config.channels)
            try:
                return await sender.send_to(found, OutgoingMessage(text, TextFormat.HTML))
            finally:
                await sender.aclose()

        result = asyncio.run(send_test())
        if isinstance(result, Sent):
            print(f"sent a test message to {found.name}")
            return 0
        print(f"policybot: the test message to {found.name} did not arrive: {result}", file=sys.stderr)
        return 1
    finally:
        store.close()


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
    from bot.watch import proposal_lines, propose

    lang = guess_language("")
    for result in results:
        if result.status == "changed" and result.diff:
            print(f"\n--- {result.source.url}")
            print(result.diff)
            proposal = propose(catalog, result.source.url, result.previous_text or "", result.text or "")
            print("\n".join(proposal_lines(proposal, lang)))
            if any(rule.touched for rule in proposal.rules):
                print(f"draft the update: policybot propose {result.source.key}")
    print(
        f"checked={len(results)} changed={counts['changed']} not_modified={counts['not_modified']} "
        f"failed={counts['failed']}"
    )
    return 0


def cmd_propose(args: argparse.Namespace) -> int:
    """Draft a rule update from the last change of a watched page, for a person to review."""
    from bot.store import Store
    from bot.watch import proposal_lines, propose, snapshot_texts, watched_pages, write_draft

    config = _config(args)
    policies = args.policies or config.policies.dir or default_policies_dir()
    catalog = _catalog(policies)
    clock = clock_from_env(os.environ)
    with Store(args.db or config.store.path, clock=clock) as store:
        pages = watched_pages(store)
        keys = [key for key, url in pages.items() if args.page in (key, url)]
        if len(keys) != 1:
            known = "several: " + ", ".join(keys) if keys else "none; see policybot watch --once"
            raise CliError(f"{args.page!r} names {known}")
        key = keys[0]
        texts = snapshot_texts(store, key)
    if len(texts) < 2:
        raise CliError(f"{key}: only one version stored, nothing changed yet")
    proposal = propose(catalog, pages[key], texts[1], texts[0])
    print("\n".join(proposal_lines(proposal, args.lang or guess_language(""))))
    rules = [args.rule] if args.rule else [rule.rule_id for rule in proposal.rules if rule.touched]
    if not rules:
        print("no rule's values changed: no draft written")
        return 0
    drafts = args.out or config.watch.drafts
    for rule_id in rules:
        path = write_draft(catalog, Path(policies), proposal, rule_id, Path(drafts), clock.today())
        print(f"draft: {path}")
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
        from bot.skus import chart_currencies, impact_chart_png

        # One chart per currency: PATH for a single one, PATH-EUR.png, PATH-USD.png ... for several.
        currencies = chart_currencies(result)
        for currency in currencies:
            path = (
                args.chart if len(currencies) == 1 else args.chart.with_stem(f"{args.chart.stem}-{currency}")
            )
            path.write_bytes(impact_chart_png(result, lang, currency))
            print(f"wrote {path}")
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
    # The backup's schema is checked against every owner's tables.
    register_every_owner()
    from bot.monitoring import restore_database

    config = _config(args)
    result = restore_database(Path(args.file), Path(args.db or config.store.path))
    if result.previous is not None:
        print(f"the replaced database is kept as {result.previous}")
    print(f"restored={result.target} tables={len(result.rows)} rows={result.total_rows} bytes={result.size}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check the installation; print what is wrong and how to fix it; exit 1 when something is."""
    # The doctor checks the schema of every owner's tables.
    register_every_owner()
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
    check.add_argument(
        "--stale",
        nargs="?",
        type=int,
        const=180,
        metavar="DAYS",
        help="also list rules whose cited pages changed after their review, and rules not reviewed in DAYS"
        " days (default 180)",
    )
    check.add_argument("--config", type=Path, metavar="FILE", help="configuration file (for --stale)")
    check.add_argument("--db", type=Path, metavar="FILE", help="SQLite database with the watched pages")
    check.add_argument(
        "--local", type=Path, metavar="DIR", help="also the local rules ([catalog] local), loaded on top"
    )
    check.set_defaults(handler=cmd_check)
    ask = commands.add_parser("ask", help="print the bot's reply to one message")
    _answer_options(ask)
    ask.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: text, rules (ids in reply order), buttons",
    )
    ask.add_argument("text", nargs="+", help='the message, e.g. "/fees apparel 18" or a question')
    ask.add_argument(
        "--market",
        action="append",
        metavar="CODE",
        help="a marketplace the chat follows (repeatable): US, UK",
    )
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
    propose = commands.add_parser(
        "propose", help="draft a rule update from the last change of a watched page (for review)"
    )
    propose.add_argument("page", help="the page's key or URL, as policybot watch --once prints it")
    propose.add_argument("--rule", help="draft only this rule (default: every rule whose values changed)")
    propose.add_argument("--out", type=Path, metavar="DIR", help="drafts folder (default: watch.drafts)")
    propose.add_argument("--lang", choices=["zh", "en"], help="language of the summary")
    _store_options(propose, "SQLite database (default: store.path in the config)")
    propose.set_defaults(handler=cmd_propose)
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
    dest = commands.add_parser(
        "destinations",
        help="Feishu, DingTalk, WeCom, e-mail or webhook destinations: add, list, test, remove",
    )
    dest.add_argument("action", choices=["add", "list", "test", "remove"], help="what to do")
    dest.add_argument("name", nargs="?", help="the destination's name (add, test, remove)")
    dest.add_argument("url", nargs="?", help="with add: the webhook URL, or mailto:ADDRESS")
    dest.add_argument("--secret", help="with add: the signing secret (Feishu, DingTalk, webhook)")
    dest.add_argument("--platform", action="append", metavar="P", help="with add: subscribe to a platform")
    dest.add_argument("--marketplace", action="append", metavar="M", help="with add: only these marketplaces")
    dest.add_argument("--topic", action="append", metavar="T", help="with add: only these topics")
    dest.add_argument("--lang", choices=["zh", "en"], help="with add: the messages' language (default zh)")
    dest.add_argument("--tz", metavar="ZONE", help="with add: its time zone (default by language)")
    dest.add_argument("--time", metavar="HH:MM", help="with add: its reminder time (default 09:00)")
    dest.add_argument("--quiet", metavar="HH:MM-HH:MM", help="with add: quiet hours, e.g. 22:00-08:00")
    _store_options(dest, "SQLite database (default: store.path in the config)")
    dest.set_defaults(handler=cmd_destinations)
    catalog = commands.add_parser(
        "catalog", help="the signed catalog feed: keygen, publish, pull, status, rollback"
    )
    catalog.add_argument(
        "action", choices=["keygen", "publish", "pull", "status", "rollback"], help="what to do"
    )
    catalog.add_argument(
        "--out", type=Path, metavar="DIR", help="keygen: where the keys go; publish: the SITE folder"
    )
    catalog.add_argument("--policies", type=Path, metavar="DIR", help="publish: the reviewed policy folder")
    catalog.add_argument("--key", type=Path, metavar="FILE", help="publish: the secret key (catalog.key)")
    catalog.add_argument(
        "--version", type=int, metavar="N", help="publish: the version (default: minutes since 1970)"
    )
    catalog.add_argument(
        "--expires-days", type=int, default=14, metavar="N", help="publish: days until it expires"
    )
    catalog.add_argument(
        "--config", type=Path, metavar="FILE", help="pull, status, rollback: the configuration"
    )
    catalog.add_argument(
        "--db", type=Path, metavar="FILE", help="the database (default: store.path in the config)"
    )
    catalog.set_defaults(handler=cmd_catalog)
    return parser


def error_message(error: PolicyBotError, args: argparse.Namespace) -> str:
    """An expected error as one line: a user's bad input in their language (--lang, else the terminal's)."""
    if isinstance(error, UserInputError):
        lang = getattr(args, "lang", None) or guess_language("")
        return to_plain_text(error.message(lang))
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "catalog" and args.action == "keygen" and args.out is None:
        build_parser().error("catalog keygen needs --out DIR")
    if args.command == "skus" and (args.action == "import") != (args.file is not None):
        build_parser().error("skus import needs a FILE; show and delete take none")
    if args.command == "destinations":
        needs = {"add": (True, True), "list": (False, False), "test": (True, False), "remove": (True, False)}
        name_needed, url_needed = needs[args.action]
        if (args.name is not None) != name_needed or (args.url is not None) != url_needed:
            build_parser().error("destinations add takes NAME URL; test and remove take NAME; list none")
    if args.command not in ("ask", "chat", "check"):
        register_every_owner()  # these commands open the database: with every owner's tables, always
    try:
        return int(args.handler(args))
    except PolicyBotError as error:  # expected: one clear line, no traceback; anything else is a bug
        print(f"policybot: {error_message(error, args)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`policybot ask ... | head`): stop quietly, as cat does
        sys.stdout = None  # nothing more can be written; no flush at exit
        return 0
