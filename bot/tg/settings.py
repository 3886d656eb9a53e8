"""/settings: language, time zone, reminder time, lead days and quiet hours, by buttons or typed."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.errors import UserInputError
from bot.i18n import Html, normalize_language, t
from bot.store import ChatSettings, InvalidSetting
from bot.tg.guard import admin_button, require_chat_admin
from bot.tg.handlers import command, replies_to_input_errors
from bot.tg.reminders import replan_chat
from bot.tg.send import edit_html, send_html
from bot.tg.services import Context
from bot.zones import resolve_zone, zone_label

ZONE_BUTTONS = [
    ("Asia/Shanghai", "tg_zone_shanghai"),
    ("Asia/Hong_Kong", "tg_zone_hong_kong"),
    ("America/Los_Angeles", "tg_zone_los_angeles"),
    ("America/New_York", "tg_zone_new_york"),
    ("Europe/London", "tg_zone_london"),
    ("Europe/Berlin", "tg_zone_berlin"),
]
TIME_BUTTONS = ["08:00", "09:00", "10:00", "18:00"]
LEAD_BUTTONS = [(30, 7, 1, 0), (14, 3, 0), (7, 1, 0)]
QUIET_BUTTONS = [("22:00", "08:00"), ("23:00", "07:00")]
CALLBACK = re.compile(
    r"^set:(?:lang:(?P<lang>zh|en)|tz:(?P<tz>[A-Za-z_]+/[A-Za-z_]+)|time:(?P<time>\d{4})"
    r"|lead:(?P<lead>\d{1,3}(?:-\d{1,3}){0,9})|quiet:(?P<quiet>\d{4}-\d{4}|off))$"
)
_TIME = re.compile(r"^([01]?\d|2[0-3])[:：]?([0-5]\d)$")


def parse_time(text: str) -> str:
    """ "9:00", "0900", "09：00" -> "09:00"."""
    match = _TIME.match(text.strip())
    if not match:
        raise UserInputError("tg_set_usage_time")
    return f"{int(match[1]):02d}:{match[2]}"


def parse_lead_days(words: list[str]) -> tuple[int, ...]:
    numbers = [part for word in words for part in re.split(r"[,，/\s]+", word) if part]
    if not numbers or not all(n.isdigit() and int(n) <= 365 for n in numbers) or len(numbers) > 10:
        raise UserInputError("tg_set_usage_lead")
    return tuple(sorted({int(n) for n in numbers}, reverse=True))


def parse_quiet(words: list[str]) -> tuple[str, str] | None:
    text = "".join(words).replace("–", "-").replace("～", "-").replace("~", "-")
    if text.casefold() in {"off", "none", "关闭", "关", "无"}:
        return None
    parts = text.split("-")
    if len(parts) != 2:
        raise UserInputError("tg_set_usage_quiet")
    try:
        start, end = parse_time(parts[0]), parse_time(parts[1])
    except UserInputError:
        raise UserInputError("tg_set_usage_quiet") from None
    if start == end:
        raise UserInputError("tg_set_usage_quiet")
    return start, end


def settings_view(settings: ChatSettings) -> tuple[Html, InlineKeyboardMarkup]:
    lang = settings.language
    quiet = (
        t(lang, "tg_quiet_range", start=settings.quiet_start, end=settings.quiet_end)
        if settings.quiet_start
        else t(lang, "tg_quiet_off")
    )
    text = t(
        lang,
        "tg_settings",
        language=t(lang, f"tg_language_{lang}"),
        zone=zone_label(settings.time_zone, lang),
        time=settings.reminder_time,
        lead=", ".join(str(day) for day in settings.lead_days),
        quiet=quiet,
    )
    button = InlineKeyboardButton
    keyboard = InlineKeyboardMarkup(
        [
            [button("中文", callback_data="set:lang:zh"), button("English", callback_data="set:lang:en")],
            [button(str(t(lang, key)), callback_data=f"set:tz:{zone}") for zone, key in ZONE_BUTTONS[:3]],
            [button(str(t(lang, key)), callback_data=f"set:tz:{zone}") for zone, key in ZONE_BUTTONS[3:]],
            [button(time, callback_data=f"set:time:{time.replace(':', '')}") for time in TIME_BUTTONS],
            [
                button("/".join(map(str, lead)), callback_data="set:lead:" + "-".join(map(str, lead)))
                for lead in LEAD_BUTTONS
            ],
            [
                *(
                    button(
                        f"🌙 {start}–{end}",
                        callback_data=f"set:quiet:{start.replace(':', '')}-{end.replace(':', '')}",
                    )
                    for start, end in QUIET_BUTTONS
                ),
                button(str(t(lang, "tg_quiet_off")), callback_data="set:quiet:off"),
            ],
        ]
    )
    return text, keyboard


def _typed_change(words: list[str]) -> dict[str, object]:
    """`lang zh`, `tz Shenzhen`, `time 9:00`, `lead 30 7 1 0`, `quiet 22:00-08:00` or `quiet off`."""
    name, rest = words[0].casefold(), words[1:]
    if (
        name in {"lang", "language", "语言"}
        and len(rest) == 1
        and rest[0].casefold() in {"zh", "en", "中文", "english"}
    ):
        return {"language": normalize_language(rest[0])}
    if name in {"tz", "zone", "timezone", "时区"} and rest:
        zone = resolve_zone(" ".join(rest))
        if zone is None:
            raise UserInputError("tg_set_usage_tz")
        return {"time_zone": zone}
    if name in {"time", "hour", "时间"} and len(rest) == 1:
        return {"reminder_time": parse_time(rest[0])}
    if name in {"lead", "days", "提前"} and rest:
        return {"lead_days": parse_lead_days(rest)}
    if name in {"quiet", "免打扰"} and rest:
        quiet = parse_quiet(rest)
        return {"quiet_start": quiet[0] if quiet else None, "quiet_end": quiet[1] if quiet else None}
    raise UserInputError("tg_set_usage")


def _button_change(match: re.Match[str]) -> dict[str, object]:
    if match["lang"]:
        return {"language": match["lang"]}
    if match["tz"]:
        zone = resolve_zone(match["tz"])
        if zone is None:
            raise UserInputError("tg_set_usage_tz")
        return {"time_zone": zone}
    if match["time"]:
        return {"reminder_time": parse_time(match["time"])}
    if match["lead"]:
        return {"lead_days": parse_lead_days(match["lead"].split("-"))}
    quiet = None if match["quiet"] == "off" else parse_quiet([match["quiet"][:4] + "-" + match["quiet"][5:]])
    return {"quiet_start": quiet[0] if quiet else None, "quiet_end": quiet[1] if quiet else None}


def _apply(
    update: Update, context: Context, settings: ChatSettings, change: dict[str, object]
) -> ChatSettings:
    svc = context.bot_data
    try:
        updated = svc.store.update_settings(settings.chat_id, **change)  # type: ignore[arg-type]
    except InvalidSetting:  # what the parsers let through but the store refuses
        raise UserInputError("tg_set_usage") from None
    replan_chat(context.application, settings.chat_id)  # reminder time, zone, lead days or quiet hours moved
    user = update.effective_user
    svc.store.audit(user.id if user else None, settings.chat_id, "settings", repr(change))
    return updated


@command()
async def cmd_settings(update: Update, context: Context, settings: ChatSettings) -> None:
    svc = context.bot_data
    words = context.args or []
    if words:
        if not await require_chat_admin(update, context, settings):
            return
        settings = _apply(update, context, settings, _typed_change(words))
        text, keyboard = settings_view(settings)
        saved = Html(t(settings.language, "tg_saved") + "\n\n" + text)
        await send_html(context.bot, svc.store, settings.chat_id, saved, keyboard)
        return
    text, keyboard = settings_view(settings)
    await send_html(context.bot, svc.store, settings.chat_id, text, keyboard)


@replies_to_input_errors  # a button's value we cannot apply: an old or forged button
async def on_settings_button(update: Update, context: Context) -> None:
    pressed = await admin_button(update, context, CALLBACK)
    if pressed is None:
        return
    query, settings, match = pressed
    settings = _apply(update, context, settings, _button_change(match))
    await query.answer(t(settings.language, "tg_saved"))
    text, keyboard = settings_view(settings)
    await edit_html(query, text, keyboard)
