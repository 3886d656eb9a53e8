"""/subscribe (buttons: platform -> marketplaces -> topics -> confirm, or typed), /unsubscribe, /mysubs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.answers import find_marketplace, find_platform
from bot.catalog import Catalog, Topic
from bot.i18n import LANGUAGES, Html, escape, join, messages, t
from bot.store import ChatSettings, Subscription
from bot.tg.guard import admin_button
from bot.tg.handlers import command, replies_to_input_errors
from bot.tg.reminders import replan_chat
from bot.tg.send import answer_in_place, edit_html, send_html
from bot.tg.services import Context

ALL = "*"
WIZARD_KEY = "subscribe_wizard"
CALLBACK = re.compile(
    r"^sub:(?:(?P<step>[pmt]):(?P<value>[A-Za-z0-9*_-]{1,40})|(?P<action>next|review|ok|x))$"
)
UNSUB_CALLBACK = re.compile(r"^unsub:(?P<platform>[a-z0-9*-]{1,40})$")


@dataclass
class Wizard:
    """The choices of a /subscribe menu in progress, kept per chat until confirmed or cancelled."""

    platform: str | None = None
    markets: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)

    def subscriptions(self) -> list[Subscription]:
        assert self.platform is not None
        markets = sorted(self.markets) or [ALL]
        topics = sorted(self.topics) or [ALL]
        return [Subscription(self.platform, market, topic) for market in markets for topic in topics]


def platform_markets(catalog: Catalog, platform: str) -> list[str]:
    found = {market for rule in catalog.rules_of(platform) for market in rule.marketplaces}
    return sorted(found - {"ALL"})


def platform_topics(catalog: Catalog, platform: str) -> list[str]:
    found = {str(rule.topic) for rule in catalog.rules_of(platform)}
    return [topic.value for topic in Topic if topic.value in found]


def find_topic(word: str) -> str | None:
    folded = word.strip().casefold()
    for topic in Topic:
        names = {topic.value, *(messages(lang)[f"topic_{topic.value}"].casefold() for lang in LANGUAGES)}
        if folded in names:
            return topic.value
    return None


def describe(subscriptions: list[Subscription], catalog: Catalog, lang: str) -> Html:
    """One line per platform: "Amazon: US, DE · fees, promotion"."""
    by_platform: dict[str, tuple[set[str], set[str]]] = {}
    for sub in subscriptions:
        markets, topics = by_platform.setdefault(sub.platform, (set(), set()))
        markets.add(sub.marketplace)
        topics.add(sub.topic)
    lines = []
    for platform_id, (markets, topics) in sorted(by_platform.items()):
        platform = catalog.platforms.get(platform_id)
        name = platform.info.name.get(lang) if platform else platform_id
        market_text = t(lang, "tg_all_markets") if ALL in markets else escape(", ".join(sorted(markets)))
        topic_text = (
            t(lang, "tg_all_topics")
            if ALL in topics
            else join([t(lang, f"topic_{topic}") for topic in sorted(topics)], ", ")
        )
        lines.append(t(lang, "tg_sub_line", platform=name, markets=market_text, topics=topic_text))
    return join(lines)


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _platform_keyboard(catalog: Catalog, lang: str) -> InlineKeyboardMarkup:
    buttons = [
        _button(platform.info.name.get(lang), f"sub:p:{platform_id}")
        for platform_id, platform in sorted(catalog.platforms.items())
        if catalog.rules_of(platform_id)
    ]
    return InlineKeyboardMarkup([*_rows(buttons, 2), [_button(t(lang, "tg_cancel"), "sub:x")]])


def _toggle_keyboard(
    options: list[tuple[str, str]], chosen: set[str], step: str, next_action: str, lang: str
) -> InlineKeyboardMarkup:
    buttons = [
        _button(("✅ " if value in chosen else "") + label, f"sub:{step}:{value}") for value, label in options
    ]
    every = _button(("✅ " if not chosen else "") + t(lang, "tg_all"), f"sub:{step}:{ALL}")
    footer = [_button(t(lang, "tg_cancel"), "sub:x"), _button(t(lang, "tg_next"), f"sub:{next_action}")]
    return InlineKeyboardMarkup([*_rows(buttons, 3), [every], footer])


def _step_view(wizard: Wizard, catalog: Catalog, lang: str, step: str) -> tuple[Html, InlineKeyboardMarkup]:
    assert wizard.platform is not None
    name = catalog.platforms[wizard.platform].info.name.get(lang)
    if step == "m":
        options = [(market, market) for market in platform_markets(catalog, wizard.platform)]
        keyboard = _toggle_keyboard(options, wizard.markets, "m", "next", lang)
        return t(lang, "tg_sub_markets", platform=name), keyboard
    if step == "t":
        options = [
            (topic, str(t(lang, f"topic_{topic}"))) for topic in platform_topics(catalog, wizard.platform)
        ]
        keyboard = _toggle_keyboard(options, wizard.topics, "t", "review", lang)
        return t(lang, "tg_sub_topics", platform=name), keyboard
    summary = describe(wizard.subscriptions(), catalog, lang)
    keyboard = InlineKeyboardMarkup(
        [[_button(t(lang, "tg_cancel"), "sub:x"), _button(t(lang, "tg_confirm"), "sub:ok")]]
    )
    return t(lang, "tg_sub_review", summary=summary), keyboard


@command(admins_only=True)
async def cmd_subscribe(update: Update, context: Context, settings: ChatSettings) -> None:
    svc = context.bot_data
    catalog, lang = svc.live.catalog, settings.language
    words = context.args or []
    if not words:
        assert context.chat_data is not None
        context.chat_data[WIZARD_KEY] = Wizard()
        keyboard = _platform_keyboard(catalog, lang)
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "tg_sub_platform"), keyboard)
        return
    wanted = _parse_typed(catalog, words, lang)
    if isinstance(wanted, Html):
        await send_html(
            context.bot, svc.store, settings.chat_id, Html(wanted + "\n" + t(lang, "tg_sub_usage"))
        )
        return
    await _save(update, context, settings, wanted)


def _parse_typed(catalog: Catalog, words: list[str], lang: str) -> Wizard | Html:
    """`/subscribe amazon us de fees promotion`: a platform, then marketplaces and topics in any order."""
    platform = find_platform(catalog, words[0])
    if platform is None:
        return t(
            lang, "tg_sub_unknown_platform", value=words[0], platforms=", ".join(sorted(catalog.platforms))
        )
    wizard = Wizard(platform)
    markets = set(platform_markets(catalog, platform))
    for word in words[1:]:
        market, topic = find_marketplace(catalog, word), find_topic(word)
        if word.casefold() in {"all", "全部", "*"}:
            continue
        if market is not None and market in markets:
            wizard.markets.add(market)
        elif topic is not None:
            wizard.topics.add(topic)
        else:
            return t(lang, "tg_sub_unknown_word", value=word, markets=", ".join(sorted(markets)))
    return wizard


async def _save(update: Update, context: Context, settings: ChatSettings, wizard: Wizard) -> None:
    svc = context.bot_data
    subscriptions = wizard.subscriptions()
    added = svc.store.subscribe(settings.chat_id, subscriptions)
    replan_chat(context.application, settings.chat_id)
    user = update.effective_user
    svc.store.audit(user.id if user else None, settings.chat_id, "subscribe", repr(subscriptions))
    lang = settings.language
    text = t(lang, "tg_sub_done", summary=describe(subscriptions, svc.live.catalog, lang), added=added)
    await answer_in_place(update.callback_query, context.bot, svc.store, settings.chat_id, text)


@replies_to_input_errors
async def on_subscribe_button(update: Update, context: Context) -> None:
    """A press in the /subscribe menu. The data is checked against the catalog, never trusted."""
    pressed = await admin_button(update, context, CALLBACK)
    if pressed is None:
        return
    query, settings, match = pressed
    svc = context.bot_data
    catalog, lang = svc.live.catalog, settings.language
    assert context.chat_data is not None
    wizard = context.chat_data.get(WIZARD_KEY)
    if match["action"] == "x":
        context.chat_data.pop(WIZARD_KEY, None)
        await query.answer()
        await edit_html(query, t(lang, "tg_cancelled"))
        return
    if not isinstance(wizard, Wizard):
        await query.answer(t(lang, "tg_menu_expired"), show_alert=True)
        return
    step, value, action = match["step"], match["value"], match["action"]
    if step == "p":
        if value not in catalog.platforms:
            await query.answer(t(lang, "tg_menu_expired"), show_alert=True)
            return
        wizard.platform, wizard.markets, wizard.topics = value, set(), set()
        view = "m"
    elif wizard.platform is None:
        await query.answer(t(lang, "tg_menu_expired"), show_alert=True)
        return
    elif step == "m":
        _toggle(wizard.markets, value, set(platform_markets(catalog, wizard.platform)))
        view = "m"
    elif step == "t":
        _toggle(wizard.topics, value, set(platform_topics(catalog, wizard.platform)))
        view = "t"
    elif action == "next":
        view = "t"
    elif action == "review":
        view = "review"
    else:  # ok
        context.chat_data.pop(WIZARD_KEY, None)
        await query.answer()
        await _save(update, context, settings, wizard)
        return
    await query.answer()
    text, keyboard = _step_view(wizard, catalog, lang, view)
    await edit_html(query, text, keyboard)


def _toggle(chosen: set[str], value: str, allowed: set[str]) -> None:
    if value == ALL:
        chosen.clear()
    elif value in allowed:
        chosen.symmetric_difference_update({value})


@command(admins_only=True)
async def cmd_unsubscribe(update: Update, context: Context, settings: ChatSettings) -> None:
    svc = context.bot_data
    lang, words = settings.language, context.args or []
    current = svc.store.subscriptions(settings.chat_id)
    if not current:
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "tg_no_subs"))
        return
    if not words:
        platforms = sorted({sub.platform for sub in current})
        buttons = [
            _button(
                svc.live.catalog.platforms[p].info.name.get(lang) if p in svc.live.catalog.platforms else p,
                f"unsub:{p}",
            )
            for p in platforms
        ]
        keyboard = InlineKeyboardMarkup([*_rows(buttons, 2), [_button(t(lang, "tg_unsub_all"), "unsub:*")]])
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "tg_unsub_choose"), keyboard)
        return
    word = words[0]
    platform = None if word.casefold() in {"all", "全部", "*"} else find_platform(svc.live.catalog, word)
    if platform is None and word.casefold() not in {"all", "全部", "*"}:
        await send_html(context.bot, svc.store, settings.chat_id, t(lang, "tg_unsub_usage"))
        return
    await _unsubscribe(update, context, settings, platform)


async def _unsubscribe(
    update: Update, context: Context, settings: ChatSettings, platform: str | None
) -> None:
    svc = context.bot_data
    removed = svc.store.unsubscribe(settings.chat_id, platform)
    replan_chat(context.application, settings.chat_id)
    user = update.effective_user
    svc.store.audit(user.id if user else None, settings.chat_id, "unsubscribe", platform or ALL)
    text = t(settings.language, "tg_unsub_done", removed=removed)
    await answer_in_place(update.callback_query, context.bot, svc.store, settings.chat_id, text)


@replies_to_input_errors
async def on_unsubscribe_button(update: Update, context: Context) -> None:
    pressed = await admin_button(update, context, UNSUB_CALLBACK)
    if pressed is None:
        return
    query, settings, match = pressed
    await query.answer()
    platform = match["platform"]
    await _unsubscribe(update, context, settings, None if platform == ALL else platform)


@command()
async def cmd_mysubs(update: Update, context: Context, settings: ChatSettings) -> None:
    svc = context.bot_data
    current = svc.store.subscriptions(settings.chat_id)
    lang = settings.language
    if not current:
        text = t(lang, "tg_no_subs")
    else:
        text = t(lang, "tg_mysubs", summary=describe(current, svc.live.catalog, lang))
    await send_html(context.bot, svc.store, settings.chat_id, text)
