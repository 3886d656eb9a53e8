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

from bot.config import ConfigError, WatchConfig
from bot.i18n import Html, t
from bot.reminders import Change, get_change, queue_change_alerts, record_change
from bot.store import Store
from bot.tg.guard import is_operator
from bot.tg.handlers import replies_to_input_errors
from bot.tg.reminders import wake_dispatch
from bot.tg.send import edit_html
from bot.tg.services import BotApplication, BotData, Context, chat_settings
from bot.watch import CheckResult, InvalidSource, Source, Watcher, WatchSettings, sources_from

log = logging.getLogger(__name__)

WATCH_JOB = "watch"
# How often the job looks for pages that are due; each page has its own, longer interval.
WATCH_TICK = dt.timedelta(minutes=5)
WATCH_BUTTON = re.compile(r"^watch:(?P<action>pub|ign):(?P<id>\d{1,12})$")


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


def changed_page_text(result: CheckResult, lang: str) -> Html:
    """The operators' message about a changed page: where, what to look for on it, and the diff."""
    source = result.source
    about = t(lang, "watch_about", about=source.about.get(lang)) if source.about else Html("")
    platform = source.platform or "-"
    return t(lang, "watch_changed", url=source.url, platform=platform, about=about, diff=result.diff[:3000])


async def report(context: Context, result: CheckResult) -> None:
    """Tell the operators what needs them: a changed page (to publish or ignore), a failing source."""
    svc = context.bot_data
    change = record_page_change(svc.store, result) if result.status == "changed" else None
    if change is None and result.alert is None:
        return
    for admin in svc.config.admins:
        known = svc.store.chat(admin)
        lang = known.language if known else "en"
        messages: list[tuple[Html, InlineKeyboardMarkup | None]] = []
        if change is not None:
            button = InlineKeyboardButton
            keyboard = InlineKeyboardMarkup(
                [
                    [
                        button(str(t(lang, "watch_publish")), callback_data=f"watch:pub:{change.id}"),
                        button(str(t(lang, "watch_ignore")), callback_data=f"watch:ign:{change.id}"),
                    ]
                ]
            )
            messages.append((changed_page_text(result, lang), keyboard))
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
