"""Reminders and alerts in the running bot: the scheduler's jobs, and the commands and buttons around them.

Jobs are stateless and recreated at start with fixed names (nothing is pickled; SQLite holds the state):
- "plan": re-plan every chat's reminders, daily and after any change;
- "dispatch": send what is due, then wake again at the next due time (or sooner when woken).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from zoneinfo import ZoneInfo

from telegram import Bot, CallbackQuery, Message, Update
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest

from bot.answers import MAX_COUNT, parse_count, parse_date, rule_name
from bot.errors import UserInputError
from bot.i18n import Html, join, t
from bot.monitoring import is_database_unavailable
from bot.reminders import (
    Delivery,
    DeliveryStatus,
    Dispatcher,
    Keyboard,
    Limits,
    Outbox,
    add_track,
    calendar_ics,
    calendar_link_created,
    changes_text,
    create_calendar_link,
    list_tracks,
    plan_all,
    queue_change_alerts,
    recent_changes,
    reminder_keyboard,
    remove_track,
    render_digest,
    sync_catalog,
)
from bot.skus import IMPACT_LINES
from bot.store import ChatSettings
from bot.tg.guard import admin_button, is_chat_admin
from bot.tg.handlers import command, replies_to_input_errors
from bot.tg.inbox import try_lock, try_write
from bot.tg.send import send_html
from bot.tg.sender import TelegramSender
from bot.tg.services import BotApplication, BotData, Context
from bot.zones import local_time

log = logging.getLogger(__name__)
MESSAGE_LIMIT = MessageLimit.MAX_TEXT_LENGTH

PLAN_JOB, DISPATCH_JOB = "plan", "dispatch"
# The dispatch job looks at the outbox at least this often, whatever it expects.
MAX_DISPATCH_SLEEP = dt.timedelta(minutes=1)
# While the database refuses writes, the dispatch job looks again this often.
DATABASE_RETRY = dt.timedelta(seconds=10)
# How often a dispatch pass looks for rows a failed write left 'sending'.
ORPHAN_CHECK_EVERY = dt.timedelta(seconds=10)
REMINDER_BUTTON = re.compile(r"^rem:(?P<action>done|snooze):(?P<id>\d{1,12})$")
DEFAULT_CHANGES_DAYS = 30


def dispatch_concurrency(rate: int) -> int:
    """Sends in flight: enough for `rate` a second at round trips up to about 250 ms (8 at 30 a second,
    125 with paid broadcasts). It is also the most a crash can repeat."""
    return max(8, rate // 8)


def _dispatcher(application: BotApplication) -> Dispatcher:
    found = application.bot_data.dispatcher
    assert found is not None, "start_reminders creates the dispatcher before the first dispatch job"
    return found


def render_for_chat(svc: BotData, deliveries: list[Delivery], settings: ChatSettings) -> tuple[str, Keyboard]:
    """What a chat receives for the deliveries due to it now: one message, with done/snooze buttons."""
    catalog = svc.live.catalog
    # Cached per chat, change and catalog: a chat with 50,000 SKUs costs a second once, not per reminder.
    impact = IMPACT_LINES.lines_for(
        svc.store, catalog, settings.chat_id, settings.language, svc.today(settings)
    )
    html = render_digest(catalog, deliveries, settings, svc.clock.now(), impact)
    return html, reminder_keyboard(deliveries, lang=settings.language, catalog=svc.live.catalog)


async def start_reminders(application: BotApplication) -> None:
    """At start: recover what was in flight, sync the catalog (alerting changes), plan, start the jobs."""
    svc = application.bot_data
    recovered = Outbox(svc.store).recover_in_flight()
    if recovered:
        log.info("%s deliveries were in flight when the bot stopped; they will be sent again", recovered)
    # The dispatcher paces itself and handles 429s; the application's bot retries them inside
    # python-telegram-bot's rate limiter, which would hide them from it. So it gets a plain Bot.
    plain_bot = Bot(
        application.bot.token, base_url=svc.config.base_url, base_file_url=svc.config.base_file_url
    )
    await plain_bot.initialize()
    svc.dispatch_bot = plain_bot
    # The bot's one arrival window, per-group window and per-chat spacing (bot/tg/monitoring.py), so
    # reminders and replies share the limits.
    svc.dispatcher = Dispatcher(
        TelegramSender(plain_bot, paid_broadcast=svc.config.paid_broadcast),
        svc.store,
        lambda deliveries, settings: render_for_chat(svc, deliveries, settings),
        limits=Limits(global_per_second=svc.window.limit),
        window=svc.window,
        groups=svc.groups,
        chats=svc.chats,
        concurrency=dispatch_concurrency(svc.window.limit),
    )
    catalog_changed(application)
    job_queue = application.job_queue
    assert job_queue is not None
    job_queue.run_repeating(
        plan_job, interval=dt.timedelta(days=1), first=dt.timedelta(days=1), name=PLAN_JOB
    )
    wake_dispatch(application)


async def stop_reminders(application: BotApplication) -> None:
    plain_bot, application.bot_data.dispatch_bot = application.bot_data.dispatch_bot, None
    if plain_bot is not None:
        await plain_bot.shutdown()


def catalog_changed(application: BotApplication) -> int:
    """After start or a reload: sync the catalog into SQLite, alert the changes, re-plan everyone."""
    svc = application.bot_data
    changes = sync_catalog(svc.store, svc.live.catalog)
    queued = queue_change_alerts(svc.store, changes)
    plan_all(svc.store, svc.live.catalog)
    if changes:
        log.info("%s policy change(s); %s alert(s) queued", len(changes), queued)
    return len(changes)


def replan_chat(application: BotApplication, chat_id: int) -> None:
    """After a chat's subscriptions, settings or tracks change."""
    svc = application.bot_data
    plan_all(svc.store, svc.live.catalog, [chat_id])
    wake_dispatch(application)


def wake_dispatch(application: BotApplication, delay: dt.timedelta = dt.timedelta(0)) -> None:
    """(Re)schedule the one dispatch job: there is never more than one."""
    job_queue = application.job_queue
    if job_queue is None:
        return
    for job in job_queue.get_jobs_by_name(DISPATCH_JOB):
        job.schedule_removal()
    # However late (an event loop held by a slow write, say): a dispatch job that APScheduler skipped as
    # missed would leave no next one, and reminders would wait for the daily planning.
    job_queue.run_once(
        dispatch_job,
        when=max(delay, dt.timedelta(0)),
        name=DISPATCH_JOB,
        job_kwargs={"misfire_grace_time": None},
    )


async def plan_job(context: Context) -> None:
    svc = context.bot_data
    result = plan_all(svc.store, svc.live.catalog)
    log.info("daily planning: %s added, %s moved, %s withdrawn", result.added, result.moved, result.withdrawn)
    wake_dispatch(context.application)


async def dispatch_job(context: Context) -> None:
    """Send what is due, then sleep until the next due time (at most a minute, so nothing waits long).

    Whatever the database does, the job comes back: while it refuses writes (a full disk, a lock held
    elsewhere) no pass runs, since its sends could not be recorded, and the job looks again within
    `DATABASE_RETRY`; so an outage delays reminders and loses none.
    """
    svc = context.bot_data
    ready = False
    try:
        async with svc.dispatch_lock:
            ready = _database_ready(svc)
            if ready:
                await _dispatcher(context.application).dispatch_due()
    finally:
        delay = MAX_DISPATCH_SLEEP if ready else DATABASE_RETRY
        try:
            next_due = Outbox(svc.store).next_due_at() if ready else None
        except Exception:
            log.exception("cannot read the outbox; looking again in %s", delay)
            next_due = None
        if next_due is not None:
            delay = min(delay, max(next_due - svc.clock.now(), dt.timedelta(0)))
        wake_dispatch(context.application, delay)


def _database_ready(svc: BotData) -> bool:
    """Whether a dispatch pass may run: the database takes writes.

    Checked with a real write when an outage is known, or when rows are still 'sending' between passes
    (no row is being sent then: a failed write left them after their claim). Once it takes writes those
    rows are pending again and sent (perhaps a second time) instead of never.
    """
    orphans = 0
    if time.monotonic() >= svc.orphans_checked_at + ORPHAN_CHECK_EVERY.total_seconds():
        # Counting reads the outbox's status index: not at every pass of a busy dispatch.
        svc.orphans_checked_at = time.monotonic()
        orphans = Outbox(svc.store).counts_by_status([DeliveryStatus.SENDING])[DeliveryStatus.SENDING]
    if not svc.database.should_try():
        return False
    try:
        if not svc.database.failing and not orphans:
            # The write lock only, waiting a moment: every worker of a pass would otherwise wait out
            # SQLite's busy timeout on a lock held elsewhere, one after another, the event loop held.
            try_lock(svc.store)
            return True
        try_write(svc.store)
        freed = Outbox(svc.store).recover_in_flight() if orphans else 0
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        svc.database.failed("the dispatcher's write", error)
        return False
    svc.database.succeeded()
    if freed:
        log.warning("%s deliveries left 'sending' by a failed write are pending again", freed)
    return True


# --- commands ---


def _one_count(
    words: list[str], usage: str, what: str, *, allow_zero: bool = True, limit: int = MAX_COUNT
) -> int:
    """The one number a command takes; anything else gets the command's usage line, not parse_count's."""
    if len(words) != 1:
        raise UserInputError(usage)
    try:
        return parse_count(words[0], what, allow_zero=allow_zero, limit=limit)
    except UserInputError:
        raise UserInputError(usage) from None


@command(admins_only=True)
async def cmd_track(update: Update, context: Context, settings: ChatSettings) -> None:
    """/track <countdown> <start date>: reminders before a deadline that runs from the seller's own date."""
    svc, lang, words = context.bot_data, settings.language, context.args or []
    if len(words) != 2:
        raise UserInputError("track_usage")
    track = add_track(svc.store, svc.live.catalog, settings.chat_id, words[0], parse_date(words[1]))
    user = update.effective_user
    svc.store.audit(
        user.id if user else None, settings.chat_id, "track", f"{track.rule_id} {track.start_date}"
    )
    replan_chat(context.application, settings.chat_id)
    text = t(
        lang,
        "track_added",
        deadline=track.deadline.isoformat(),
        track_id=track.id,
        title=rule_name(svc.live.catalog, track.rule_id, lang),
    )
    await send_html(context.bot, svc.store, settings.chat_id, text)


@command()
async def cmd_tracks(update: Update, context: Context, settings: ChatSettings) -> None:
    svc, lang = context.bot_data, settings.language
    tracks = list_tracks(svc.store, settings.chat_id)
    if not tracks:
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "tracks_none"))
        return
    today = svc.today(settings)
    lines = [t(lang, "tracks_title")]
    lines += [
        t(
            lang,
            "tracks_line",
            track_id=track.id,
            title=rule_name(svc.live.catalog, track.rule_id, lang),
            start=track.start_date.isoformat(),
            deadline=track.deadline.isoformat(),
            days=(track.deadline - today).days,
        )
        for track in tracks
    ]
    await send_html(context.bot, svc.store, settings.chat_id, join(lines))


@command(admins_only=True)
async def cmd_untrack(update: Update, context: Context, settings: ChatSettings) -> None:
    svc, lang, words = context.bot_data, settings.language, context.args or []
    track_id = _one_count(words, "untrack_usage", "id")
    removed = remove_track(svc.store, settings.chat_id, track_id)
    if removed:
        replan_chat(context.application, settings.chat_id)
    key = "untrack_done" if removed else "untrack_unknown"
    await send_html(context.bot, svc.store, settings.chat_id, t(lang, key, track_id=track_id))


@command()
async def cmd_changes(update: Update, context: Context, settings: ChatSettings) -> None:
    svc, lang, words = context.bot_data, settings.language, context.args or []
    days = DEFAULT_CHANGES_DAYS
    if words:
        days = _one_count(words, "changes_usage", "days", allow_zero=False, limit=3660)
    changes = recent_changes(svc.store, days, svc.clock.now())
    await send_html(
        context.bot, svc.store, settings.chat_id, changes_text(changes, lang, days, svc.live.catalog)
    )


@command()
async def cmd_calendar(update: Update, context: Context, settings: ChatSettings) -> None:
    """/calendar: an .ics file of the chat's subscribed events and countdowns, for any calendar app;
    /calendar link: a private URL a calendar app subscribes to (kept current); /calendar reset: a new one."""
    svc, lang = context.bot_data, settings.language
    args = [arg.lower() for arg in (context.args or [])]
    if args and args[0] in ("link", "reset", "链接", "重置"):
        await calendar_link(update, context, settings, reset=args[0] in ("reset", "重置"))
        return
    if args:
        raise UserInputError("calendar_usage")
    subscriptions = svc.store.subscriptions(settings.chat_id)
    if not subscriptions:
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "tg_no_subs"))
        return
    catalog = svc.live.catalog
    tracks = [
        (
            str(t(lang, "calendar_track", title=rule_name(catalog, track.rule_id, lang))),
            track.rule_id,
            track.deadline,
        )
        for track in list_tracks(svc.store, settings.chat_id)
    ]
    data = calendar_ics(svc.live.catalog, subscriptions, lang, svc.clock.now(), tracks=tracks)
    await context.bot.send_document(
        settings.chat_id,
        data,
        filename="policybot.ics",
        caption=t(lang, "calendar_caption"),
        parse_mode=ParseMode.HTML,
    )


async def calendar_link(update: Update, context: Context, settings: ChatSettings, *, reset: bool) -> None:
    """The chat's calendar subscription URL. In a group only its admins get or reset it: the URL shows
    the group's dates to whoever has it."""
    svc, lang = context.bot_data, settings.language
    chat_id = settings.chat_id
    public = svc.monitoring_config.public_url if svc.monitoring_config else ""
    if not public:
        await send_html(context.bot, svc.store, chat_id, t(lang, "calendar_link_off"))
        return
    if settings.kind != "private" and not await is_chat_admin(update, context):
        await send_html(context.bot, svc.store, chat_id, t(lang, "calendar_link_admins"))
        return
    token = create_calendar_link(svc.store, chat_id, replace=reset)
    user = update.effective_user
    if token is None:
        created = calendar_link_created(svc.store, chat_id)
        when = created.astimezone(ZoneInfo(settings.time_zone)).strftime("%Y-%m-%d %H:%M") if created else "?"
        await send_html(context.bot, svc.store, chat_id, t(lang, "calendar_link_exists", created=when))
        return
    svc.store.audit(user.id if user else None, chat_id, "calendar-reset" if reset else "calendar-link")
    url = f"{public.rstrip('/')}/cal/{token}.ics"
    await send_html(context.bot, svc.store, chat_id, t(lang, "calendar_link", url=url))


@command()
async def cmd_upcoming(update: Update, context: Context, settings: ChatSettings) -> None:
    """/upcoming: the core's coming dates, then this chat's own next reminders."""
    message = update.effective_message
    if message is None:
        return
    svc, lang = context.bot_data, settings.language
    reply = svc.live.answers.reply(message.text or "/upcoming", svc.chat_context(settings))
    pending = Outbox(svc.store).pending_for_chat(settings.chat_id, limit=10)
    lines = [reply.html, Html("")]
    if pending:
        lines.append(t(lang, "upcoming_reminders_title"))
        for delivery in pending:
            rule_id = str(delivery.payload.get("rule_id", ""))
            lines.append(
                t(
                    lang,
                    "upcoming_reminder_line",
                    when=local_time(delivery.due_at, settings.time_zone, lang),
                    title=rule_name(svc.live.catalog, rule_id, lang),
                    date=delivery.event_date.isoformat() if delivery.event_date else "",
                )
            )
    else:
        lines.append(t(lang, "upcoming_reminders_none"))
    await send_html(context.bot, svc.store, settings.chat_id, join(lines))


async def _mark_reminder(query: CallbackQuery, note: Html) -> None:
    """The reminder says what was done with it (done, or when it comes back), and its spent buttons go."""
    message = query.message
    if not isinstance(message, Message) or message.text is None or message.reply_markup is None:
        return  # too old for Telegram to show us, or marked already (a forged press): the toast has said it
    text = Html(f"{message.text_html}\n\n{note}")
    try:
        if len(message.text) + len(note) + 2 <= MESSAGE_LIMIT:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=None)
        else:  # no room for the note: at least the buttons go
            await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:  # e.g. the message was deleted meanwhile; the press itself counted
        log.info("could not mark reminder message %s: %s", message.message_id, error)


@replies_to_input_errors
async def on_reminder_button(update: Update, context: Context) -> None:
    """ "Done": no more reminders for that event in this chat. "Snooze": the same reminder in a day."""
    pressed = await admin_button(update, context, REMINDER_BUTTON)
    if pressed is None:
        return
    query, settings, match = pressed
    svc, lang = context.bot_data, settings.language
    outbox = Outbox(svc.store)
    delivery = outbox.get(int(match["id"]))
    if delivery is None or delivery.chat_id != settings.chat_id:
        await query.answer(t(lang, "tg_menu_expired"), show_alert=True)
        return
    if match["action"] == "done":
        outbox.dismiss(settings.chat_id, delivery.key)
        await query.answer(t(lang, "reminder_done"))
        note = t(lang, "seller_reminder_done_note")
    else:
        back_at = svc.clock.now() + dt.timedelta(days=1)
        outbox.snooze(delivery.id, settings.chat_id, back_at)
        await query.answer(t(lang, "reminder_snoozed"))
        wake_dispatch(context.application)
        note = t(lang, "seller_reminder_snoozed_note", when=local_time(back_at, settings.time_zone, lang))
    await _mark_reminder(query, note)
    user = update.effective_user
    svc.store.audit(user.id if user else None, settings.chat_id, f"reminder-{match['action']}", delivery.key)


__all__ = [
    "catalog_changed",
    "cmd_calendar",
    "cmd_changes",
    "cmd_track",
    "cmd_tracks",
    "cmd_untrack",
    "cmd_upcoming",
    "on_reminder_button",
    "replan_chat",
    "start_reminders",
    "stop_reminders",
    "wake_dispatch",
]
