"""The page watcher in the running bot: a job that checks the due official pages, and the operators' side.

A changed page becomes a recorded change (source "page") and a message to the operators with a short
diff and two buttons: "publish" queues a "policy page changed" alert to the platform's subscribers through
the outbox (same limits as reminders), "ignore" files it. A failing page alerts the operators once, and
once more when it recovers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.catalog import default_policies_dir
from bot.config import ConfigError, WatchConfig
from bot.i18n import Html, escape, t
from bot.reminders import Change, get_change, queue_change_alerts, record_change
from bot.store import Store
from bot.tg.guard import is_operator
from bot.tg.handlers import replies_to_input_errors
from bot.tg.reminders import wake_dispatch
from bot.tg.send import edit_html
from bot.tg.services import BotApplication, BotData, Context, chat_settings
from bot.watch import (
    CheckResult,
    DraftError,
    InvalidSource,
    Proposal,
    Source,
    Watcher,
    WatchSettings,
    proposal_lines,
    propose,
    snapshot_texts,
    sources_from,
    write_draft,
)

log = logging.getLogger(__name__)

WATCH_JOB = "watch"
# How often the job looks for pages that are due; each page has its own, longer interval.
WATCH_TICK = dt.timedelta(minutes=5)
WATCH_BUTTON = re.compile(r"^watch:(?P<action>pub|ign|drf):(?P<id>\d{1,12})$")


def watch_settings(config: WatchConfig) -> WatchSettings:
    return WatchSettings(
        allow_hosts=tuple(config.allow_hosts),
        max_bytes=config.max_bytes,
        timeout=config.timeout,
        concurrency=config.concurrency,
        failures_before_alert=config.failures_before_alert,
        keep_snapshots=config.keep_snapshots,
        ca_file=str(config.ca_file) if config.ca_file else None,
    )


def configured_pages(config: WatchConfig) -> list[Source]:
    """The config's [[watch.pages]]; a bad one raises ConfigError naming it (watch.pages[2]: ...)."""
    pages = []
    for index, page in enumerate(config.pages):
        try:
            pages.append(Source(page.url, page.selector, page.platform, page.interval or config.interval))
        except InvalidSource as error:
            raise ConfigError(f"watch.pages[{index}]: {error}") from None
    return pages


def watched_sources(svc: BotData, config: WatchConfig) -> list[Source]:
    pages = configured_pages(config)
    sources = sources_from(svc.live.catalog, pages)
    # Rule sources and the policy files' pages to watch get the configured interval too (sources_from
    # gives them the default); a page of the config keeps its own.
    own = {page.key for page in pages}
    return [s if s.key in own else dataclasses.replace(s, interval=config.interval) for s in sources]


def record_page_change(store: Store, result: CheckResult) -> Change:
    source = result.source
    about = source.about
    change = Change(
        id=None,
        at=store.clock.now(),
        source="page",
        platform=source.platform,
        rule_id=source.rule_id,
        kind="page_changed",
        topic=None,
        marketplaces=(),
        summary_en=f"An official policy page changed: {source.url}" + (f" ({about.en})" if about else ""),
        summary_zh=f"官方政策页面有变化：{source.url}" + (f"（{about.zh}）" if about else ""),
        detail={"url": source.url, "selector": source.selector, "diff": result.diff},
    )
    return record_change(store, change)


def start_watching(application: BotApplication, config: WatchConfig) -> None:
    services = application.bot_data
    services.watcher = Watcher(services.store, watch_settings(config))
    services.watch_config = config
    job_queue = application.job_queue
    assert job_queue is not None
    job_queue.run_repeating(watch_job, interval=WATCH_TICK, first=dt.timedelta(seconds=30), name=WATCH_JOB)


async def stop_watching(application: BotApplication) -> None:
    watcher, application.bot_data.watcher = application.bot_data.watcher, None
    if watcher is not None:
        await watcher.aclose()


async def watch_job(context: Context) -> None:
    svc = context.bot_data
    watcher, config = svc.watcher, svc.watch_config
    if watcher is None or config is None:
        return
    due = watcher.due(watched_sources(svc, config), svc.clock.now())
    if not due:
        return
    for result in await watcher.check_all(due):
        svc.metrics.watch_result(result.status)
        await report(context, result)


def changed_page_text(result: CheckResult, lang: str, proposal: Proposal | None = None) -> Html:
    """The operators' message about a changed page: where, what to look for on it, the diff, and the
    proposal (the rules citing the page and which of their values moved)."""
    source = result.source
    about = t(lang, "watch_about", about=source.about.get(lang)) if source.about else Html("")
    platform = source.platform or "-"
    text = t(lang, "watch_changed", url=source.url, platform=platform, about=about, diff=result.diff[:2500])
    if proposal is None:
        return text
    lines = "\n".join(proposal_lines(proposal, lang))[:1200]
    return Html(f"{text}\n\n<pre>{escape(lines)}</pre>")


def page_proposal(svc: BotData, result: CheckResult) -> Proposal | None:
    if result.status != "changed" or result.previous_text is None or result.text is None:
        return None
    return propose(svc.live.catalog, result.source.url, result.previous_text, result.text)


async def report(context: Context, result: CheckResult) -> None:
    """Tell the operators what needs them: a changed page (to publish or ignore), a failing source."""
    svc = context.bot_data
    change = record_page_change(svc.store, result) if result.status == "changed" else None
    if change is None and result.alert is None:
        return
    proposal = page_proposal(svc, result)
    for admin in svc.config.admins:
        known = svc.store.chat(admin)
        lang = known.language if known else "en"
        messages: list[tuple[Html, InlineKeyboardMarkup | None]] = []
        if change is not None:
            button = InlineKeyboardButton
            rows = [
                [
                    button(str(t(lang, "watch_publish")), callback_data=f"watch:pub:{change.id}"),
                    button(str(t(lang, "watch_ignore")), callback_data=f"watch:ign:{change.id}"),
                ]
            ]
            if proposal is not None and any(rule.touched for rule in proposal.rules):
                rows.append([button(str(t(lang, "watch_draft")), callback_data=f"watch:drf:{change.id}")])
            messages.append((changed_page_text(result, lang, proposal), InlineKeyboardMarkup(rows)))
        if result.alert == "failing":
            messages.append((t(lang, "watch_failing", url=result.source.url, error=result.error or ""), None))
        elif result.alert == "recovered":
            messages.append((t(lang, "watch_recovered", url=result.source.url), None))
        for text, markup in messages:
            try:
                await context.bot.send_message(admin, text, parse_mode=ParseMode.HTML, reply_markup=markup)
            except Exception:  # one unreachable operator must not stop the others
                log.warning("could not tell operator %s about %s", admin, result.source.url)


@replies_to_input_errors
async def on_watch_button(update: Update, context: Context) -> None:
    """An operator publishes a page change to the platform's subscribers, or ignores it."""
    query = update.callback_query
    assert query is not None
    settings = chat_settings(update, context)
    match = WATCH_BUTTON.match(query.data or "")
    lang = settings.language if settings else "en"
    if match is None or settings is None or not is_operator(update, context):
        await query.answer(t(lang, "tg_operators_only"), show_alert=True)
        return
    svc = context.bot_data
    change = get_change(svc.store, int(match["id"]))
    if change is None or change.source != "page":
        await query.answer(t(lang, "tg_menu_expired"), show_alert=True)
        return
    user = update.effective_user
    if match["action"] == "drf":
        await query.answer()
        text = draft_updates(svc, change, lang)
        svc.store.audit(user.id if user else None, settings.chat_id, "page-draft", str(change.id))
        await context.bot.send_message(settings.chat_id, text, parse_mode=ParseMode.HTML)
        return
    if match["action"] == "pub":
        queued = queue_change_alerts(svc.store, [change])
        wake_dispatch(context.application)
        svc.store.audit(user.id if user else None, settings.chat_id, "page-publish", str(change.id))
        await query.answer()
        await edit_html(
            query, t(lang, "watch_published", url=str(change.detail.get("url", "")), chats=queued)
        )
    else:
        svc.store.audit(user.id if user else None, settings.chat_id, "page-ignore", str(change.id))
        await query.answer()
        await edit_html(query, t(lang, "watch_ignored", url=str(change.detail.get("url", ""))))


def draft_updates(svc: BotData, change: Change, lang: str) -> Html:
    """Write a draft for every rule whose values the page's last change moved; say where, for review."""
    url = str(change.detail.get("url", ""))
    selector = change.detail.get("selector")
    key = f"{url}#{selector}" if selector else url
    texts = snapshot_texts(svc.store, key)
    config = svc.watch_config
    if len(texts) < 2 or config is None:
        return t(lang, "watch_draft_failed", error="no earlier version of the page is stored")
    proposal = propose(svc.live.catalog, url, texts[1], texts[0])
    policies = svc.live.directory or default_policies_dir()
    paths = []
    try:
        for rule in proposal.rules:
            if rule.touched:
                paths.append(
                    write_draft(
                        svc.live.catalog, policies, proposal, rule.rule_id, config.drafts, svc.clock.today()
                    )
                )
    except (DraftError, OSError) as error:
        return t(lang, "watch_draft_failed", error=str(error))
    if not paths:
        return t(lang, "watch_draft_failed", error="the change touches no rule's values")
    return t(lang, "watch_drafted", path=", ".join(str(path) for path in paths))
