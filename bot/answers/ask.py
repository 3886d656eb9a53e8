"""A question in a seller's own words -> the answer it asks for, not a list of cards.

The route follows what the question names and asks (bot/answers/understand.py):
- a fee category with a price, or asked for its fee -> the `/fees` answer for it;
- a calculator's rule with the numbers it needs -> that calculator;
- what is coming (新规, upcoming) or a year -> the dates in that span, filtered by what it names;
  nothing recorded there -> said plainly, with the latest change on record;
- exempt / when / how much -> that part of the best rule;
- otherwise the best rule cards.
A named platform or marketplace restricts the rules; where it has none, the answer says so and offers the
closest rules elsewhere, marked as such.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.answers.calculators import answer_coupon, answer_inform, answer_lowinv, answer_temuprice
from bot.answers.cards import (
    ChatContext,
    event_line,
    markets_text,
    next_occurrence,
    relative_days,
    rule_card,
    rule_caveats,
    rule_dates,
    rule_exemptions,
    rule_figures,
    rule_heading,
    rule_status,
)
from bot.answers.compare import answer_compare, asks_to_compare
from bot.answers.fba import answer_fba, looks_like_fba_question, parse_fba_request
from bot.answers.fees import (
    DEFAULT_MARKETPLACE,
    answer_fees,
    find_schedule,
    fulfilment_word,
    market_for_currency,
    parse_fee_request,
)
from bot.answers.reply import Button, Chart, Reply
from bot.answers.search import SearchHit, SearchIndex
from bot.answers.understand import Question, Understanding
from bot.catalog import Calculator, Catalog, EventKind, Intent, Occurrence, Rule, cards_of
from bot.errors import UserInputError
from bot.i18n import Html, escape, join, t
from bot.markets import reaches

__all__ = ["Answered", "QuestionAnswers", "button_key", "short_card"]

RESULTS = 3
CANDIDATES = 10
UPCOMING_DAYS = 90
LIST_LIMIT = 25
# A platform's best rule must score this share of the best rule anywhere to count as an answer at all;
# below it, the platform's rules only share a common word with the question.
PLATFORM_SHARE = 0.5
MAX_BUTTONS = 3
# How much more a rule written for the marketplace asked about (or the chat's own) weighs in the ranking.
MARKET_BOOST = 1.25
# How much more a rule about goods from where the seller ships weighs (a Chinese seller asking about US de
# minimis needs the China/Hong Kong end first).
PREFERRED_BOOST = 1.25
# With no platform named, a lawmaker's own rule scoring this share of the best answers before a platform's
# rule about it (欧盟包装法规: the PPWR itself before Amazon's PPWR marking rule, whose title quotes it).
LAWMAKER_SHARE = 0.6
LOW_CONFIDENCE_WEIGHT = 0.9
# Asked about dates or exemptions, a category names what the rule is about, not a fee to work out.
OTHER_THAN_FEE = frozenset({Intent.WHEN, Intent.EXEMPT, Intent.UPCOMING, Intent.CHANGES})

CALCULATORS: dict[Calculator, tuple[Callable[[Catalog, list[str], ChatContext], Html], int]] = {
    # calculator -> (function, how many numbers it reads)
    Calculator.COUPON: (answer_coupon, 3),
    Calculator.LOW_INVENTORY: (answer_lowinv, 2),
    Calculator.INFORM: (answer_inform, 2),
    Calculator.TEMU_PRICE: (answer_temuprice, 3),
}


def button_key(item_id: str) -> str:
    """A short stable key for a rule or schedule id, so a button's data stays within 64 bytes."""
    digest = hashlib.blake2s(item_id.encode(), digest_size=8).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()


@dataclass(frozen=True)
class Answered:
    """The reply, and the rules it is about, best first (what the question set measures)."""

    reply: Reply
    rules: tuple[Rule, ...]
    question: Question


class QuestionAnswers:
    """Answers free-text questions about one catalog."""

    def __init__(self, catalog: Catalog, index: SearchIndex) -> None:
        self.catalog = catalog
        self.index = index
        self.understanding = Understanding(catalog, known_word=index.knows, closest_word=index.closest)
        self._rules = {button_key(rule_id): rule for rule_id, rule in catalog.rules.items()}
        self._schedules = {button_key(s.id): s for s in catalog.fee_schedules.values()}
        # (platform, marketplace) -> the ids of the rules that fit them, worked out on first use.
        self._allowed: dict[tuple[str | None, str | None], frozenset[str]] = {}
        vocabulary = catalog.vocabulary
        # Where sellers ship from -> the rules that name it among their keywords.
        self._rules_from: dict[str, frozenset[str]] = {}
        for rule in catalog.rules.values():
            for origin in {vocabulary.origins.get(keyword) for keyword in rule.keywords} - {None}:
                assert origin is not None
                self._rules_from[origin] = self._rules_from.get(origin, frozenset()) | {rule.id}
        self._authority_rules = frozenset(
            rule.id
            for rule in catalog.rules.values()
            if catalog.rule_platform[rule.id] in vocabulary.authorities
        )

    def answer(self, text: str, ctx: ChatContext) -> Answered:
        question = self.understanding.read(text, ctx.today)
        if question.unlisted_platform is not None:
            if question.platform is None:
                return Answered(Reply(self._unlisted(question.unlisted_platform, ctx)), (), question)
            # "shopify or amazon fees": say what is missing, then answer for the platform on record.
            answered = self._answer(text, question, ctx)
            note = t(ctx.lang, "understand_unlisted_too", platform=question.unlisted_platform)
            reply = replace(answered.reply, html=join([note, Html(""), answered.reply.html]))
            return replace(answered, reply=reply)
        return self._answer(text, question, ctx)

    def _answer(self, text: str, question: Question, ctx: ChatContext) -> Answered:
        if looks_like_fba_question(text):
            return self._fba(text, question, ctx)
        if asks_to_compare(text) and question.category is not None and question.category.score > 0:
            return self._compare(question, ctx)
        intents = question.intents
        named_category = question.category is not None and question.category.score > 0
        # A platform's catch-all category stands in only for a fee asked at a price.
        asks_fee = question.price is not None or (named_category and intents & {Intent.FEE, Intent.AMOUNT})
        fee_for_price = named_category or (question.price is not None and Intent.FEE in intents)
        # "软垫家具 明年涨到多少": a span without a price asks what changes then, not today's fee.
        spans_days = question.period is not None and question.period[0] != question.period[1]
        asks_fee = asks_fee and not (spans_days and question.price is None)
        if question.category is not None and asks_fee and fee_for_price and not intents & OTHER_THAN_FEE:
            return self._fee(question, ctx)
        hits, elsewhere = self._ranked(question)
        markets = (question.marketplace,) if question.marketplace else _home_markets(ctx)
        hits = _successors_first(_prefer_markets(hits, markets, *self._preferred(question, ctx)))
        calculated = self._calculator(question, hits, ctx)
        if calculated is not None:
            return calculated
        # "新规" asks what is new, unless it names what: "优惠券新规" is the coupon rule.
        asks_news = Intent.UPCOMING in intents or (Intent.CHANGES in intents and not question.topic_text)
        if question.period is not None and question.topic_text and not asks_news:
            # "prime day 2026", "amazon fee increase 2025": the rules about it that belong to that span.
            start, end = question.period
            whole_year = question.year if (start, end) == _year_span(question.year or 0) else None
            # Only rules the topic words find count: "amazon prime day 2027" is not about a 2027 rule that
            # shares the word "day".
            topical = self.index.search(question.topic_text, limit=CANDIDATES)
            about = {hit.rule.id for hit in topical if hit.score >= PLATFORM_SHARE * topical[0].score}
            in_span = [
                hit for hit in hits if hit.rule.id in about and _in_span(hit.rule, start, end, whole_year)
            ]
            # A rule titled with the year asked about comes first ("2025年亚马逊涨价吗": the 2025 rule).
            in_span.sort(key=lambda hit: whole_year is None or str(whole_year) not in hit.rule.title.en)
            return (
                self._about_rules(question, in_span, elsewhere, ctx)
                if in_span
                else self._dated(question, ctx)
            )
        if asks_news or question.period is not None:
            return self._dated(question, ctx)
        if not hits:
            if question.platform is not None and not self.index.search(question.search_text, limit=1):
                return self._platform_rules(question, ctx)
            return Answered(Reply(_nothing(text, ctx)), (), question)
        return self._about_rules(question, hits, elsewhere, ctx)

    def press(self, data: str, ctx: ChatContext) -> Reply:
        """The reply to a button under an answer: ask:<x|d|c|f>:<key>."""
        parts = data.split(":")
        if len(parts) != 3 or parts[0] != "ask":
            return Reply(t(ctx.lang, "button_stale"))
        action, key = parts[1], parts[2]
        if action == "f" and key in self._schedules:
            schedule = self._schedules[key]
            platform = self.catalog.rule_platform[self.catalog.schedule_rule[schedule.id].id]
            answer = answer_fees(self.catalog, [schedule.category, platform, schedule.marketplace], ctx)
            chart = Chart(answer.chart_schedule, answer.chart_title) if answer.chart_schedule else None
            return Reply(answer.html, chart=chart)
        rule = self._rules.get(key)
        if rule is None:
            return Reply(t(ctx.lang, "button_stale"))
        if action in ("x", "d"):
            body = self._focus(rule, action, ctx)
            heading = rule_heading(rule, self.catalog, ctx)
            return Reply(join(heading + body), buttons=self._buttons(rule, action, ctx))
        if action == "c":
            return Reply(rule_card(rule, self.catalog, ctx))
        return Reply(t(ctx.lang, "button_stale"))

    # Routes

    def _fee(self, question: Question, ctx: ChatContext) -> Answered:
        assert question.category is not None
        words = [question.category.category]
        if question.price is not None:
            words.append(question.price)
        if question.period is not None and question.period[0] == question.period[1]:
            words.append(question.period[0].isoformat())
        words += [word for word in [fulfilment_word(question.text)] if word and question.price is not None]
        # "连衣裙 20英镑": a price in pounds asks about the store that charges in pounds.
        marketplace = question.marketplace or self._market_of_currency(question, ctx)
        extra = [w for w in (question.platform, marketplace) if w]
        note: list[Html] = []
        try:
            answer = answer_fees(self.catalog, words + extra, ctx)
        except UserInputError as error:
            if not extra or error.key not in {"fees_no_schedule", "fees_unknown_category"}:
                raise
            # Nothing for the named platform or marketplace: say so, then the closest schedule elsewhere.
            where = " ".join(self._place_names(question, ctx))
            note = [
                t(ctx.lang, "ask_no_fee_there", where=where),
                _elsewhere(where, ctx),
                Html(""),
            ]
            extra = []
            answer = answer_fees(self.catalog, words, ctx)
        # The schedule the answer quoted, found the way /fees found it, for the buttons.
        request = parse_fee_request(self.catalog, words + extra)
        schedule = find_schedule(self.catalog, request, ctx.lang, ctx.marketplaces).schedule
        rule = self.catalog.schedule_rule[schedule.id]
        home = _home_markets(ctx)
        if marketplace is None and not note and schedule.marketplace not in home:
            # Nothing named and nothing for the chat's store ("bedding $20" in the US): say so first.
            where = " ".join(home)
            note = [
                t(ctx.lang, "ask_no_fee_there", where=where),
                _elsewhere(where, ctx),
            ]
        if question.currency is not None and question.currency != schedule.currency:
            # "25欧元" on a dollar schedule: the number is read in the schedule's currency, and said so.
            note.append(
                t(
                    ctx.lang,
                    "ask_other_currency",
                    given=question.currency,
                    currency=schedule.currency,
                    market=schedule.marketplace,
                ),
            )
        buttons: list[Button] = []
        if question.price is not None:
            buttons.append(Button(t(ctx.lang, "button_other_price"), f"ask:f:{button_key(schedule.id)}"))
        buttons.append(Button(t(ctx.lang, "button_card"), f"ask:c:{button_key(rule.id)}"))
        chart = Chart(answer.chart_schedule, answer.chart_title) if answer.chart_schedule else None
        reply = Reply(join([*note, answer.html]), chart=chart, buttons=tuple(buttons))
        return Answered(reply, (rule,), question)

    def _compare(self, question: Question, ctx: ChatContext) -> Answered:
        """ "服装 18美元 各平台佣金对比": the /compare answer for the category, price and currency named."""
        assert question.category is not None
        named = question.category.word.casefold()
        words = [named if named in self.catalog.category_index else question.category.category]
        if question.price is not None:
            words.append(question.price)
            if question.currency is not None:
                words.append(question.currency)
        return Answered(Reply(answer_compare(self.catalog, words, ctx)), (), question)

    def _market_of_currency(self, question: Question, ctx: ChatContext) -> str | None:
        """The store a price's currency points to (a subscribed one first; EU for euros), else None."""
        if question.currency is None or question.category is None:
            return None
        category = question.category
        return market_for_currency(
            self.catalog, question.currency, category.platform, category.category, ctx.marketplaces
        )

    def _fba(self, text: str, question: Question, ctx: ChatContext) -> Answered:
        """ "FBA 10x8x1 inch 6 oz $18": the fee from the rate card, about the rule that holds the card."""
        html = answer_fba(self.catalog, text, ctx)
        cards = cards_of(self.catalog, parse_fba_request(self.catalog, text).marketplace)
        # The rule of the newest card first (cards come oldest first).
        rule_ids = dict.fromkeys(rule.id for rule, _ in reversed(cards))
        rules = tuple(self.catalog.rules[rule_id] for rule_id in rule_ids)
        buttons = (Button(t(ctx.lang, "button_card"), f"ask:c:{button_key(rules[0].id)}"),) if rules else ()
        return Answered(Reply(html, buttons=buttons), rules, question)

    def _calculator(self, question: Question, hits: list[SearchHit], ctx: ChatContext) -> Answered | None:
        """The best rule feeds a calculator and the question gives its numbers: calculate."""
        for rule in (hit.rule for hit in hits[:RESULTS]):
            if rule.calculator is None:
                continue
            function, needs = CALCULATORS[rule.calculator]
            numbers = list(question.numbers)
            if rule.calculator is Calculator.LOW_INVENTORY:
                if question.size_tier is None:
                    return None
                numbers = [question.size_tier, *numbers]
                needs += 1
            if len(numbers) < needs:
                return None
            html = function(self.catalog, numbers[:needs], ctx)
            return Answered(Reply(html, buttons=self._buttons(rule, "", ctx)), (rule,), question)
        return None

    def _dated(self, question: Question, ctx: ChatContext) -> Answered:
        """What changes in the span the question names (or the coming days), or plainly that nothing does."""
        start, end = question.period or (ctx.today, ctx.today + dt.timedelta(days=UPCOMING_DAYS))
        # Only the topic words pick rules here: "新规", "2027", "调整" name no rule.
        # A platform named by a topic ("de minimis 2027" names US customs) is also what it is about.
        topic = question.topic_text or (
            question.platform_words if self.index.is_keyword(question.platform_words) else ""
        )
        topical = self.index.search(topic, limit=CANDIDATES) if topic else []
        topical_ids = {hit.rule.id for hit in topical}
        occurrences = [
            o
            for o in self.catalog.occurrences(start, end, question.platform)
            if self._fits(o.rule, question)
            and (not topical or o.rule.id in topical_ids)
            and (topical or Intent.FEE not in question.intents or _fee_rule(o.rule, question))
        ]
        # A named year asks what changes then; dates that come round every year are not changes.
        whole_year = question.year is not None and (start, end) == _year_span(question.year)
        changes = [o for o in occurrences if o.event.recurrence is None or not whole_year]
        yearly = [o for o in occurrences if o not in changes]
        what = self._what(question, ctx)
        span = _span_text(start, end, question, ctx)
        if not changes:
            lines = [t(ctx.lang, "ask_nothing_recorded", what=what, span=span, today=ctx.today.isoformat())]
            latest = self._latest(question, topical, ctx)
            if latest is not None:
                lines.append(
                    t(
                        ctx.lang,
                        "ask_latest_on_record",
                        label=latest.event.label.get(ctx.lang),
                        date=latest.date.isoformat(),
                        title=latest.rule.title.get(ctx.lang),
                    )
                )
            lines.append(t(ctx.lang, "ask_never_invent"))
            if yearly:
                lines += [Html(""), t(ctx.lang, "ask_yearly_in_span", span=span)]
                lines += [event_line(o, self.catalog, ctx) for o in yearly[:RESULTS]]
            buttons = self._buttons(latest.rule, "", ctx) if latest else ()
            return Answered(Reply(join(lines), buttons=buttons), (), question)
        lines = [t(ctx.lang, "ask_dated_title", what=what, span=span, count=len(changes))]
        lines += [event_line(o, self.catalog, ctx) for o in changes[:LIST_LIMIT]]
        if len(changes) > LIST_LIMIT:
            lines.append(t(ctx.lang, "list_more", count=len(changes) - LIST_LIMIT))
        # The rules it is about: the best match first (on the topic words, else on the whole question:
        # "jp referral fee 2026" is about referral fees), then the nearest date's; a cancelled one last.
        ranking = topical or self.index.search(question.search_text, limit=CANDIDATES)
        rank = {hit.rule.id: i for i, hit in enumerate(ranking)}
        ordered = sorted(changes, key=lambda o: (rank.get(o.rule.id, len(rank)), o.rule.withdrawn))
        rule_ids = list(dict.fromkeys(o.rule.id for o in ordered))
        rules = tuple(self.catalog.rules[rule_id] for rule_id in rule_ids)
        return Answered(Reply(join(lines), buttons=self._buttons(rules[0], "", ctx)), rules, question)

    def _latest(self, question: Question, hits: list[SearchHit], ctx: ChatContext) -> Occurrence | None:
        """The latest change on record among the rules the question is about."""
        rules = [hit.rule for hit in hits] or self.catalog.rules_of(question.platform)
        # A cancelled or replaced rule changed nothing: it is no "latest change".
        rules = [rule for rule in rules if self._fits(rule, question) and not rule.withdrawn]
        if Intent.FEE in question.intents:
            rules = [rule for rule in rules if _fee_rule(rule, question)] or rules
        found = [
            Occurrence(rule, self.catalog.rule_platform[rule.id], event, day)
            for rule in rules
            for event in rule.events
            if event.recurrence is None and event.kind is not EventKind.ANNOUNCED
            for day in [event.date]
        ]
        return max(found, key=lambda o: (o.date, o.rule.id), default=None)

    def _platform_rules(self, question: Question, ctx: ChatContext) -> Answered:
        rules = [rule for rule in self.catalog.rules_of(question.platform) if self._fits(rule, question)]
        lines = [t(ctx.lang, "ask_platform_rules", platform=self._platform_name(question.platform, ctx))]
        lines += [Html(""), *(short_card(self.catalog, rule, ctx) for rule in rules[:RESULTS])]
        if len(rules) > RESULTS:
            lines += [Html(""), t(ctx.lang, "ask_more_rules", platform=question.platform or "")]
        return Answered(Reply(join(lines)), tuple(rules), question)

    def _about_rules(
        self, question: Question, hits: list[SearchHit], elsewhere: bool, ctx: ChatContext
    ) -> Answered:
        lines: list[Html] = []
        sells_there = question.platform is not None and bool(
            self.catalog.platforms[question.platform].categories
        )
        if (
            sells_there
            and question.price is not None
            and question.category is None
            and Intent.FEE in question.intents
        ):
            # A fee at a price without a category: say how to get the number, then the rules.
            lines += [t(ctx.lang, "ask_which_category", price=question.price), Html("")]
        if elsewhere:
            where = " ".join(self._place_names(question, ctx))
            lines += [
                t(ctx.lang, "ask_none_there", where=where),
                _elsewhere(where, ctx),
            ]
        top = hits[0].rule
        rest = self._next_to(top, hits, question)
        focus = ""
        if Intent.EXEMPT in question.intents:
            focus = "x"
        elif Intent.WHEN in question.intents:
            focus = "d"
        elif Intent.AMOUNT in question.intents and (top.numbers or top.fee_schedules or top.tables):
            focus = "f"
        if focus:
            lines += rule_heading(top, self.catalog, ctx) + self._focus(top, focus, ctx)
            if rest:
                lines += [Html(""), t(ctx.lang, "ask_also")]
                lines += [Html(f"• {escape(r.title.get(ctx.lang))}") for r in rest]
        else:
            if not elsewhere:
                lines.append(t(ctx.lang, "search_title", query=_echo(question.text)))
            for index, rule in enumerate([top, *rest]):
                lines += [Html("")] if index or not elsewhere else []
                lines.append(short_card(self.catalog, rule, ctx))
        buttons = self._buttons(top, focus, ctx)
        rules = (top, *rest)
        return Answered(Reply(join(lines), buttons=buttons), rules, question)

    def _next_to(self, top: Rule, hits: list[SearchHit], question: Question) -> list[Rule]:
        """The rules shown after the best one: those it names as related (what replaced it, what applies
        instead: "比利时 荷兰 还收2欧元包裹费吗" -> the EU's €3 duty) that fit the question, then the next
        hits."""
        related = [self.catalog.rules[rule_id] for rule_id in top.related if rule_id in self.catalog.rules]
        related = [rule for rule in related if self._fits(rule, question)]
        others = [hit.rule for hit in hits[1:] if hit.rule not in related]
        return [*related, *others][: RESULTS - 1]

    def _focus(self, rule: Rule, focus: str, ctx: ChatContext) -> list[Html]:
        """The part of a rule a question asks for: x exemptions, d dates, f figures and fee tables."""
        if focus == "x":
            return rule_exemptions(rule, ctx) or [t(ctx.lang, "ask_no_exemptions")]
        if focus == "d":
            return rule_dates(rule, self.catalog, ctx) or [t(ctx.lang, "ask_no_dates")]
        return rule_figures(rule, self.catalog, ctx)

    def _unlisted(self, platform: str, ctx: ChatContext) -> Html:
        """A platform the catalog holds nothing for: said plainly, with the platforms it does hold."""
        authorities = self.catalog.vocabulary.authorities
        held = [p.info.name.get(ctx.lang) for p in self.catalog.platforms.values() if p.id not in authorities]
        return t(ctx.lang, "understand_unlisted", platform=platform, platforms=", ".join(held))

    # Ranking and filtering

    def _preferred(self, question: Question, ctx: ChatContext) -> tuple[frozenset[str], frozenset[str]]:
        """The rules that answer first between close matches: those about goods from where the seller
        ships, and, with no platform named, a lawmaker's own rules (the PPWR before Amazon's PPWR rule)."""
        # A question naming China is about goods from China. A date is asked of the seller's own case
        # (美国小额豁免什么时候取消: for a Chinese chat, the China/Hong Kong end); whether something still
        # holds (还有吗) is answered by the rule that holds for everyone.
        origin = question.origin
        if origin is None and Intent.WHEN in question.intents:
            origin = self.catalog.vocabulary.origin_of_lang.get(ctx.lang)
        from_origin = self._rules_from.get(origin or "", frozenset())
        return from_origin, self._authority_rules if question.platform is None else frozenset()

    def _fits(self, rule: Rule, question: Question) -> bool:
        if question.platform is not None and self.catalog.rule_platform[rule.id] != question.platform:
            return False
        # A rule for the EU concerns a seller in Germany; one for Italy concerns a question about the EU.
        return question.marketplace is None or reaches(rule.marketplaces, question.marketplace)

    def _fits_question(self, question: Question) -> frozenset[str]:
        """The ids of the named platform's and marketplace's rules (worked out once per pair)."""
        key = (question.platform, question.marketplace)
        allowed = self._allowed.get(key)
        if allowed is None:
            allowed = frozenset(r.id for r in self.catalog.rules.values() if self._fits(r, question))
            self._allowed[key] = allowed
        return allowed

    def _ranked(self, question: Question) -> tuple[list[SearchHit], bool]:
        """The best rules, those of the named platform and marketplace; (closest elsewhere, True) if none."""
        scores = self.index.scores(question.search_text)
        everywhere = self.index.best(scores, CANDIDATES)
        if question.platform is None and question.marketplace is None:
            return everywhere, False
        if not everywhere:
            return [], False
        keep = self._fits_question(question)
        named = self.index.best(scores, CANDIDATES, keep)
        if not named or not self._platform_has_it(question, everywhere, named, keep):
            return everywhere, True
        if not self.index.is_keyword(question.platform_words):
            return named, False
        # Ranked again with the platform's name when it is a topic too ("de minimis" names US customs).
        ranked = self.index.search(f"{question.search_text} {question.platform_words}", CANDIDATES, keep)
        return ranked, False

    def _platform_has_it(
        self, question: Question, everywhere: list[SearchHit], named: list[SearchHit], keep: frozenset[str]
    ) -> bool:
        """Whether the named platform's best rule is about the topic, not just sharing a question word
        with it ("does temu charge a deposit": Temu's import charges are no deposit)."""
        if not question.topic_text:
            # Nothing but question words ("tiktok us fee history"): the platform's own rules answer it,
            # if it has any about fees where fees are asked ("temu commission": Temu has none on record).
            asks_fees = Intent.FEE in question.intents
            return not asks_fees or any(hit.rule.topic == "fees" or hit.rule.fee_schedules for hit in named)
        scores = self.index.scores(question.topic_text)
        topic = self.index.best(scores, 1)
        # Judge on the topic words when they carry the match (they find the same best rule); when the
        # match is in the question words ("亚马逊的佣金是怎么收的": 佣金), on the whole question.
        if topic and topic[0].rule.id == everywhere[0].rule.id:
            everywhere, named = topic, self.index.best(scores, 1, keep)
        return bool(named) and named[0].score >= PLATFORM_SHARE * everywhere[0].score

    # Pieces

    def _buttons(self, rule: Rule, shown: str, ctx: ChatContext) -> tuple[Button, ...]:
        """Up to three next steps for a rule, leaving out what the answer already shows."""
        key = button_key(rule.id)
        buttons = []
        if rule.exemptions and shown != "x":
            buttons.append(Button(t(ctx.lang, "button_exemptions"), f"ask:x:{key}"))
        if rule.events and shown != "d":
            buttons.append(Button(t(ctx.lang, "button_dates"), f"ask:d:{key}"))
        buttons.append(Button(t(ctx.lang, "button_card"), f"ask:c:{key}"))
        return tuple(buttons[:MAX_BUTTONS])

    def _platform_name(self, platform: str | None, ctx: ChatContext) -> str:
        if platform is None or platform not in self.catalog.platforms:
            return ""
        return self.catalog.platforms[platform].info.name.get(ctx.lang)

    def _place_names(self, question: Question, ctx: ChatContext) -> list[str]:
        return [name for name in (self._platform_name(question.platform, ctx), question.marketplace) if name]

    def _what(self, question: Question, ctx: ChatContext) -> str:
        """ "Amazon US fees" / "亚马逊 费用": what the question is about, in words."""
        parts = self._place_names(question, ctx)
        if Intent.FEE in question.intents:
            parts.append(str(t(ctx.lang, "topic_fees")))
        return " ".join(parts) or str(t(ctx.lang, "ask_the_catalog"))


def _home_markets(ctx: ChatContext) -> tuple[str, ...]:
    """The marketplaces a question that names none is about: the chat's, else US (as /fees does)."""
    return ctx.marketplaces or (DEFAULT_MARKETPLACE,)


def _prefer_markets(
    hits: list[SearchHit],
    markets: tuple[str, ...],
    from_origin: frozenset[str] = frozenset(),
    lawmakers: frozenset[str] = frozenset(),
) -> list[SearchHit]:
    """Rules written for one of `markets` before rules that only reach it (Italy's fee before the EU's;
    Amazon US's referral fees before Mexico's when no marketplace is named), sure ones first, and
    between close matches those about the seller's origin and the lawmakers' own."""

    def weight(hit: SearchHit) -> float:
        own = any(market in hit.rule.marketplaces for market in markets)
        # Between close matches, the better-sourced rule answers first.
        sure = LOW_CONFIDENCE_WEIGHT if hit.rule.low_confidence() else 1.0
        boost = PREFERRED_BOOST if hit.rule.id in from_origin else 1.0
        return hit.score * (MARKET_BOOST if own else 1.0) * sure * boost

    ranked = sorted(hits, key=lambda hit: (-weight(hit), hit.rule.id))
    if not ranked or ranked[0].rule.id in lawmakers:
        return ranked
    best = weight(ranked[0])
    own = next(
        (hit for hit in ranked if hit.rule.id in lawmakers and weight(hit) >= LAWMAKER_SHARE * best), None
    )
    return ranked if own is None else [own, *(hit for hit in ranked if hit is not own)]


def _fee_rule(rule: Rule, question: Question) -> bool:
    """Whether a rule is about the fee asked: any fee, or, asked about the commission (佣金, referral fee),
    a commission schedule (a surcharge is no commission)."""
    return rule.topic == "fees" and (not question.commission or bool(rule.fee_schedules))


def _successors_first(hits: list[SearchHit]) -> list[SearchHit]:
    """A rule replaced by another among the hits gives its place to that one ("italy 2 euro parcel fee
    start date": the postponed fee, not the plan it replaced); the replaced rule follows it."""
    ids = {hit.rule.id for hit in hits}
    ordered: list[SearchHit] = []
    for hit in hits:
        successor = hit.rule.superseded_by
        if successor in ids and all(done.rule.id != successor for done in ordered):
            ordered.append(next(other for other in hits if other.rule.id == successor))
        if hit not in ordered:
            ordered.append(hit)
    return ordered


def _year_span(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _in_span(rule: Rule, start: dt.date, end: dt.date, year: int | None) -> bool:
    """Whether a rule has a date in the span, or names the year asked about in its title (Prime Day 2026)."""
    if year is not None and str(year) in rule.title.en:
        return True
    for event in rule.events:
        day = event.next_date(start) if event.recurrence is not None else event.date
        if day is not None and start <= day <= end:
            return True
    return False


def _span_text(start: dt.date, end: dt.date, question: Question, ctx: ChatContext) -> Html:
    if question.year is not None and (start, end) == (
        dt.date(question.year, 1, 1),
        dt.date(question.year, 12, 31),
    ):
        return t(ctx.lang, "ask_span_year", year=question.year)
    return t(ctx.lang, "ask_span", start=start.isoformat(), end=end.isoformat())


def _elsewhere(where: str, ctx: ChatContext) -> Html:
    return t(ctx.lang, "ask_elsewhere", where_hint=where)


ECHO_LIMIT = 60


def _echo(text: str) -> str:
    """The question as quoted back: a long message is not repeated whole."""
    return text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT] + "…"


def _nothing(text: str, ctx: ChatContext) -> Html:
    return join([t(ctx.lang, "search_nothing", query=_echo(text)), t(ctx.lang, "search_suggest")])


def short_card(catalog: Catalog, rule: Rule, ctx: ChatContext) -> Html:
    """Title, status, summary and next date: enough to tell whether it is the rule you meant."""
    platform = catalog.platform_of(rule).info.name.get(ctx.lang)
    lines = [
        Html(f"<b>{escape(rule.title.get(ctx.lang))}</b>"),
        t(
            ctx.lang,
            "short_card_header",
            platform=platform,
            markets=markets_text(rule.marketplaces, ctx.lang),
            rule_id=rule.id,
        ),
        Html(rule_status(rule, ctx) + rule_caveats(rule, ctx)),
        escape(rule.summary.get(ctx.lang)),
    ]
    upcoming = next_occurrence(rule, catalog, ctx)
    if upcoming is not None:
        lines.append(
            t(
                ctx.lang,
                "short_card_next",
                label=upcoming.event.label.get(ctx.lang),
                date=upcoming.date.isoformat(),
                relative=relative_days(upcoming.date, ctx),
            )
        )
    return join(lines)
