"""The answers core: text plus a chat context in, a reply out. It knows nothing of Telegram.

The Telegram adapter and the console (`policybot ask`, `policybot chat`) are thin layers over
`Answers.reply`. Replies are Telegram HTML; `Reply.plain` is the same reply as plain text.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from bot.answers.ask import Answered, QuestionAnswers, short_card
from bot.answers.calculators import (
    answer_coupon,
    answer_inform,
    answer_lowinv,
    answer_temuprice,
    calculator_rule,
)
from bot.answers.cards import (
    ChatContext,
    event_line,
    rule_card,
    rule_line,
)
from bot.answers.compare import answer_compare
from bot.answers.fba import answer_fba, parse_fba_request
from bot.answers.fees import answer_fees
from bot.answers.parsing import MAX_DAYS, find_platform, parse_count
from bot.answers.reply import Button, Chart, Reply
from bot.answers.search import SearchIndex
from bot.catalog import REF_PATTERN, Calculator, Catalog, Rule, SurchargeBase, card_on, cards_of
from bot.errors import UserInputError
from bot.i18n import LANGUAGES, Html, join, normalize_language, t

__all__ = ["COMMANDS", "Answers", "Button", "Chart", "ChatContext", "Reply"]

log = logging.getLogger(__name__)

DEFAULT_UPCOMING_DAYS = 30
HISTORY_LIMIT = 25
LIST_LIMIT = 40
SEARCH_RESULTS = 3
MAX_INPUT = 1000


Handler = Callable[["Answers", list[str], ChatContext], Reply | Html]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    # Whether the command shows in Telegram's command menu and in /help.
    listed: bool = True


# The first steps /start offers as buttons; "start:sub" opens the subscription menu in Telegram, the others
# are answered here (Answers.press), so the console can follow them too.
START_STEPS = (
    ("seller_start_subscribe", "start:sub"),
    ("seller_start_fee", "start:fee"),
    ("seller_start_skus", "start:skus"),
)


def _start(answers: Answers, words: list[str], ctx: ChatContext) -> Reply:
    """A short greeting and three first steps; /help keeps the full list."""
    buttons = tuple(Button(str(t(ctx.lang, label)), data) for label, data in START_STEPS)
    return Reply(join([t(ctx.lang, "start"), Html(""), t(ctx.lang, "seller_start_steps")]), buttons=buttons)


def _help(answers: Answers, words: list[str], ctx: ChatContext) -> Html:
    lines = [t(ctx.lang, "help_title")]
    for command in COMMANDS.values():
        if command.listed:
            lines.append(t(ctx.lang, f"help_{command.name}"))
    lines += [Html(""), t(ctx.lang, "help_free_text"), Html(""), t(ctx.lang, "help_telegram")]
    return join(lines)


def _lang(answers: Answers, words: list[str], ctx: ChatContext) -> Reply:
    if len(words) != 1 or words[0].casefold() not in {"zh", "en", "中文", "english", "cn", "zh-cn"}:
        raise UserInputError("usage_lang")
    lang = normalize_language(words[0])
    return Reply(t(lang, "lang_set"), language=lang)


def _fees(answers: Answers, words: list[str], ctx: ChatContext) -> Reply:
    answer = answer_fees(answers.catalog, words, ctx)
    chart = Chart(answer.chart_schedule, answer.chart_title) if answer.chart_schedule else None
    return Reply(answer.html, chart=chart, rules=answer.rules)


def _fba(answers: Answers, words: list[str], ctx: ChatContext) -> Reply:
    if not words:
        raise UserInputError("fba_usage")
    text, catalog = " ".join(words), answers.catalog
    html = answer_fba(catalog, text, ctx)
    # The rules it rests on, as the reply uses them: the rate card's, then the surcharges' on the fee.
    request = parse_fba_request(catalog, text)
    day = request.day or ctx.today
    on_day = [
        rule
        for rule, card in cards_of(catalog, request.marketplace)
        if card is card_on(catalog, request.marketplace, day)
    ]
    surcharges = [
        rule
        for rule in catalog.rules.values()
        for surcharge in rule.surcharges
        if surcharge.applies_to is SurchargeBase.FBA_FULFILLMENT
        and request.marketplace in surcharge.marketplaces
        and surcharge.in_force(day)
    ]
    return Reply(html, rules=_ids([*on_day, *surcharges]))


def _platform_arg(answers: Answers, words: list[str], usage: str) -> str | None:
    if not words:
        return None
    platform = find_platform(answers.catalog, " ".join(words)) or find_platform(answers.catalog, words[0])
    if platform is None or len(words) > 2:
        raise UserInputError(usage, platforms=", ".join(sorted(answers.catalog.platforms)))
    return platform


def _rules(answers: Answers, words: list[str], ctx: ChatContext) -> Reply:
    platform = _platform_arg(answers, words, "usage_rules")
    catalog = answers.catalog
    lines: list[Html] = []
    listed: list[str] = []
    for platform_id in sorted(catalog.platforms) if platform is None else [platform]:
        rules = catalog.rules_of(platform_id)
        if not rules:
            continue
        name = catalog.platforms[platform_id].info.name.get(ctx.lang)
        lines += [Html(""), t(ctx.lang, "rules_heading", platform=name, count=len(rules))]
        lines += [rule_line(rule, catalog, ctx) for rule in rules]
        listed += [rule.id for rule in rules]
    lines += [Html(""), t(ctx.lang, "rules_more")]
    return Reply(join(lines[1:]), rules=tuple(listed))


def _rule(answers: Answers, words: list[str], ctx: ChatContext) -> Reply:
    if not words:
        raise UserInputError("usage_rule")
    catalog = answers.catalog
    query = " ".join(words)
    rule = catalog.rules.get(query.casefold())
    if rule is None and re.fullmatch(REF_PATTERN, query.upper()):
        by_ref = catalog.by_ref(query)
        if len(by_ref) == 1:
            rule = by_ref[0]
        elif by_ref:
            lines = [t(ctx.lang, "rule_several", ref=query.upper())]
            return Reply(join(lines + [rule_line(r, catalog, ctx) for r in by_ref]), rules=_ids(by_ref))
    if rule is None:
        hits = answers.index.search(query, limit=1)
        if not hits:
            raise UserInputError("rule_not_found", query=query)
        rule = hits[0].rule
    return Reply(rule_card(rule, catalog, ctx), rules=(rule.id,))


def _ids(rules: Iterable[Rule]) -> tuple[str, ...]:
    """Rule ids in the order a reply uses them, each once."""
    return tuple(dict.fromkeys(rule.id for rule in rules))


def _days_arg(words: list[str], ctx: ChatContext, usage: str) -> int:
    if len(words) > 1:
        raise UserInputError(usage)
    if not words:
        return DEFAULT_UPCOMING_DAYS
    return parse_count(words[0], t(ctx.lang, "what_days"), allow_zero=False, limit=MAX_DAYS)


def _upcoming(answers: Answers, words: list[str], ctx: ChatContext) -> Reply | Html:
    # "/upcoming 90" or "/upcoming amazon" or "/upcoming amazon 90", in either order.
    platform = None
    numbers = []
    for word in words:
        found = find_platform(answers.catalog, word)
        if found and platform is None:
            platform = found
        else:
            numbers.append(word)
    days = _days_arg(numbers, ctx, "usage_upcoming")
    end = ctx.today + dt.timedelta(days=days)
    occurrences = answers.catalog.occurrences(ctx.today, end, platform)
    if not occurrences:
        return t(ctx.lang, "upcoming_none", days=days)
    lines = [t(ctx.lang, "upcoming_title", days=days, count=len(occurrences), today=ctx.today.isoformat())]
    lines += [event_line(o, answers.catalog, ctx) for o in occurrences[:LIST_LIMIT]]
    if len(occurrences) > LIST_LIMIT:
        lines.append(t(ctx.lang, "list_more", count=len(occurrences) - LIST_LIMIT))
    return Reply(join(lines), rules=_ids(o.rule for o in occurrences[:LIST_LIMIT]))


def _history(answers: Answers, words: list[str], ctx: ChatContext) -> Reply | Html:
    platform = _platform_arg(answers, words, "usage_history")
    start = dt.date(2000, 1, 1)
    past = answers.catalog.occurrences(start, ctx.today - dt.timedelta(days=1), platform)
    past.reverse()
    if not past:
        return t(ctx.lang, "history_none")
    lines = [t(ctx.lang, "history_title", count=len(past), today=ctx.today.isoformat())]
    lines += [event_line(o, answers.catalog, ctx) for o in past[:HISTORY_LIMIT]]
    if len(past) > HISTORY_LIMIT:
        lines.append(t(ctx.lang, "list_more", count=len(past) - HISTORY_LIMIT))
    return Reply(join(lines), rules=_ids(o.rule for o in past[:HISTORY_LIMIT]))


def _search(answers: Answers, words: list[str], ctx: ChatContext) -> Reply:
    if not words:
        raise UserInputError("usage_search")
    return answers.search_reply(" ".join(words), ctx)


def _calculator(function: Callable[[Catalog, list[str], ChatContext], Html], kind: Calculator) -> Handler:
    def handler(answers: Answers, words: list[str], ctx: ChatContext) -> Reply:
        html = function(answers.catalog, words, ctx)
        return Reply(html, rules=(calculator_rule(answers.catalog, kind).id,))

    return handler


def _compare(answers: Answers, words: list[str], ctx: ChatContext) -> Reply:
    # One category across every platform's schedules: no single rule it rests on.
    return Reply(answer_compare(answers.catalog, words, ctx))


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        Command("start", _start, listed=False),
        Command("help", _help),
        Command("fees", _fees),
        Command("compare", _compare),
        Command("fba", _fba),
        Command("rules", _rules),
        Command("rule", _rule),
        Command("upcoming", _upcoming),
        Command("history", _history),
        Command("search", _search),
        Command("coupon", _calculator(answer_coupon, Calculator.COUPON)),
        Command("lowinv", _calculator(answer_lowinv, Calculator.LOW_INVENTORY)),
        Command("inform", _calculator(answer_inform, Calculator.INFORM)),
        Command("temuprice", _calculator(answer_temuprice, Calculator.TEMU_PRICE)),
        Command("lang", _lang),
    )
}

# Commands the Telegram bot answers from a chat's own state (subscriptions, settings, countdowns, SKUs)
# or for operators; the console has no chat, so it says where they work instead of "unknown command".
CHAT_COMMANDS = frozenset(
    {
        "subscribe", "unsubscribe", "mysubs", "settings", "track", "tracks", "untrack", "changes", "calendar",
        "skus", "impact", "stats", "broadcast", "reload", "audit", "connect", "connections", "disconnect",
    }
)  # fmt: skip

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s+|$)(.*)$", re.S)


class Answers:
    """Answers questions about one catalog. Build a new one when the catalog is reloaded."""

    def __init__(self, catalog: Catalog, on_bug: Callable[[], None] = lambda: None) -> None:
        self.catalog = catalog
        # Called once per unexpected error (a bug), after it is logged: the running bot counts them
        # (policybot_answer_errors_total) so operators hear of bugs the users only saw an apology for.
        self.on_bug = on_bug
        self.index = SearchIndex(catalog)
        self.questions = QuestionAnswers(catalog, self.index)

    def reply(self, text: str, ctx: ChatContext) -> Reply:
        """The reply to `text`; a bad input gets a usage line in the chat's language, never an exception."""
        if ctx.lang not in LANGUAGES:
            ctx = replace(ctx, lang=normalize_language(ctx.lang))
        text = text.strip()
        try:
            if len(text) > MAX_INPUT:
                raise UserInputError("error_too_long", limit=MAX_INPUT)
            result = self._dispatch(text, ctx)
        except UserInputError as error:
            result = t(ctx.lang, error.key, **error.values)
        except Exception:
            # A bug, not the user's fault: log it for the operator, count it, apologise to the user.
            log.exception("answering %r failed", text[:200])
            self.on_bug()
            result = t(ctx.lang, "internal_error")
        return result if isinstance(result, Reply) else Reply(result)

    def ask(self, text: str, ctx: ChatContext) -> Answered:
        """A question's reply and the rules it is about (for measuring); may raise UserInputError."""
        return self.questions.answer(text.strip()[:MAX_INPUT], ctx)

    def press(self, data: str, ctx: ChatContext) -> Reply:
        """The reply to a button under an answer; an old or forged button gets a short note."""
        if data in {"start:fee", "start:skus"}:
            return Reply(t(ctx.lang, f"seller_{data.replace(':', '_')}_how"))
        try:
            return self.questions.press(data, ctx)
        except UserInputError as error:
            return Reply(t(ctx.lang, error.key, **error.values))
        except Exception:
            log.exception("button %r failed", data[:64])
            self.on_bug()
            return Reply(t(ctx.lang, "internal_error"))

    def _dispatch(self, text: str, ctx: ChatContext) -> Reply | Html:
        if not text:
            return t(ctx.lang, "empty_message")
        match = _COMMAND.match(text)
        if match is None:
            if text.startswith("/"):
                raise UserInputError("unknown_command", command=text.split()[0][:40])
            answered = self.questions.answer(text, ctx)
            return replace(answered.reply, rules=answered.reply.rules or _ids(answered.rules))
        name, rest = match.group(1).casefold(), match.group(2)
        command = COMMANDS.get(name)
        if command is None and name in CHAT_COMMANDS:
            raise UserInputError("chat_command_elsewhere", command="/" + name)
        if command is None:
            raise UserInputError("unknown_command", command="/" + name)
        return command.handler(self, rest.split(), ctx)

    def search_reply(self, query: str, ctx: ChatContext) -> Reply:
        hits = self.index.search(query, limit=SEARCH_RESULTS)
        if not hits:
            return Reply(join([t(ctx.lang, "search_nothing", query=query), t(ctx.lang, "search_suggest")]))
        lines = [t(ctx.lang, "search_title", query=query)]
        for hit in hits:
            lines += [Html(""), short_card(self.catalog, hit.rule, ctx)]
        lines += [Html(""), t(ctx.lang, "search_more")]
        return Reply(join(lines), rules=_ids(hit.rule for hit in hits))
