"""Understanding a seller's question: what it names (platform, marketplace, category, price, year, size
tier, numbers) and what it asks (intents). No answers here: `bot/answers/ask.py` routes on the result.

Words come from data: platform names and aliases from the policy files, marketplaces through
`find_marketplace`, categories, product words, intent words and topic phrases from the catalog's
vocabulary (policies/words.toml), size tiers from the rules' tables.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.answers.parsing import find_marketplace, written_date
from bot.answers.search import STOP_WORDS, tokenize
from bot.catalog import Catalog, CategoryMatch, Found, Intent, PhraseIndex, Token, find_categories, tokens_of
from bot.markets import reached_markets, reaches

__all__ = ["Question", "Understanding"]

_NUMBER = r"-?[0-9][0-9,]*(?:\.[0-9]+)?"
# A price is a number with a currency sign before it or a currency word (or sign: "30$", "25€") after it.
_PRICE_BEFORE = re.compile(rf"(?P<unit>us\$|\$|usd|£|€|¥|￥)\s?(?P<n>{_NUMBER})(?![0-9a-z])")
_PRICE_AFTER = re.compile(
    rf"(?<![0-9a-z.$£€¥￥])(?P<n>{_NUMBER})\s?"
    r"(?P<unit>美元|美金|刀|块钱|块|日元|円|人民币|元|欧元|欧|英镑|镑|加元|比索|usd|eur|gbp|jpy|cad|mxn|rmb|cny|yen|"
    r"dollars?|bucks|euros?|pounds?|quid|pesos?|\$|€|£)(?![a-z])"
)
# Any other number; a year, a date or a number glued to letters ("1e309", "3c") is not one.
_BARE_NUMBER = re.compile(rf"(?<![0-9a-z.$£€¥￥\-])(?P<n>{_NUMBER})(?![0-9a-z.]|\s?[年月日号])")
_YEAR = re.compile(r"(?<![0-9])(20[0-9]{2})(?![0-9])\s?年?")
_ISO_DATE = re.compile(r"(?<![0-9])(20[0-9]{2})-([0-9]{1,2})-([0-9]{1,2})(?![0-9])")
_MONTH_DAY = re.compile(r"(?<![0-9])([0-9]{1,2})\s?月\s?([0-9]{1,2})\s?[日号]")
# The currency a price names, where it says one (¥ and 块 may be yen or yuan: none).
CURRENCIES = {
    "us$": "USD", "$": "USD", "usd": "USD", "美元": "USD", "美金": "USD", "刀": "USD", "dollar": "USD",
    "dollars": "USD", "bucks": "USD", "£": "GBP", "gbp": "GBP", "英镑": "GBP", "镑": "GBP", "pound": "GBP",
    "pounds": "GBP", "quid": "GBP", "€": "EUR", "eur": "EUR", "欧元": "EUR", "欧": "EUR", "euro": "EUR",
    "euros": "EUR",
    "日元": "JPY", "円": "JPY", "jpy": "JPY", "yen": "JPY", "人民币": "CNY", "元": "CNY", "rmb": "CNY",
    "cny": "CNY", "加元": "CAD", "cad": "CAD", "比索": "MXN", "mxn": "MXN", "peso": "MXN", "pesos": "MXN",
}  # fmt: skip
_CJK_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")
# A number that names a law ("section 232", "第122条", "§ 321") or a share ("9%") is no price.
_SECTION = re.compile(
    r"(?:section|sec\.|§|第)\s?(?P<n>[0-9]+)|(?<![0-9.])(?P<law>[0-9]{3})\s?(?:关税|条款|tariffs?|duties|duty)"
)
_PERCENT = re.compile(rf"(?P<n>{_NUMBER})\s?[%％]")
# A number in scientific notation ("1e309") is meant as a price but is none: it is passed on as written,
# so the seller hears why it cannot be used.
_SCIENTIFIC = re.compile(r"(?<![0-9a-z.])(?P<n>-?[0-9]+(?:\.[0-9]+)?e[+-]?[0-9]+)(?![0-9a-z])")
# A platform with at most this many fee categories charges its catch-all as its general rate.
GENERAL_RATE_CATEGORIES = 5
# Marketplace codes that are words too: "tell us", "is it", "de minimis".
AMBIGUOUS_CODES = STOP_WORDS | {"de"}
# A month alone ("1月", "in january", "sept"): its next occurrence, this month included.
_MONTH_ONLY = re.compile(r"(?<![0-9])(1[0-2]|[1-9])\s?月(?!\s?[0-9])|\b([a-z]+)\b")
# "may" and "mar" are words too: May is asked as 5月 or with a date, March by its full name.
MONTH_WORDS = (
    ("january", "jan"), ("february", "feb"), ("march",), ("april", "apr"), (), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
    ("november", "nov"), ("december", "dec"),
)  # fmt: skip
MONTH_NAMES = {name: number for number, names in enumerate(MONTH_WORDS, start=1) for name in names}
# Relative years: a word -> years from today.
RELATIVE_YEARS = {"明年": 1, "next year": 1, "今年": 0, "this year": 0, "去年": -1, "last year": -1}
RELATIVE_MONTHS = {"下个月": 1, "下月": 1, "next month": 1, "这个月": 0, "本月": 0, "this month": 0}


@dataclass(frozen=True)
class Question:
    """What a question names and asks; every field is None or empty when the question does not say."""

    text: str
    platform: str | None
    marketplace: str | None
    category: CategoryMatch | None
    # The price as the seller wrote its number ("25", "-5"), for the same parser /fees uses.
    price: str | None
    # The currency the price was given in, where the question says ("25欧元": EUR; "25", "¥25": None).
    currency: str | None
    # Every number in order (prices included, years and dates not), for calculators.
    numbers: tuple[str, ...]
    year: int | None
    # A span of days the question is about (a year, a month, a day), inclusive.
    period: tuple[dt.date, dt.date] | None
    intents: frozenset[Intent]
    size_tier: str | None
    # The words left to search rules with: platform and marketplace names out, topic terms in.
    search_text: str
    # The same without the question's intent words, numbers and dates: what it is about ("" when nothing).
    topic_text: str = ""
    # The words that named the platform ("de minimis" names US customs and is also what it is about).
    platform_words: str = ""
    # A platform the catalog holds nothing for ("Shopify"), as the words file names it.
    unlisted_platform: str | None = None
    # Where the question says the goods come from ("中国", "china": CN), if it says.
    origin: str | None = None
    # Whether the fee asked is the commission (佣金, referral fee), not any fee.
    commission: bool = False


class Understanding:
    """Reads questions against one catalog (build it again when the catalog is reloaded)."""

    def __init__(
        self,
        catalog: Catalog,
        known_word: Callable[[str], bool] | None = None,
        closest_word: Callable[[str], str | None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.vocabulary = catalog.vocabulary
        self._platforms = PhraseIndex(
            (name, platform.id)
            for platform in catalog.platforms.values()
            for name in (platform.id, platform.info.name.en, platform.info.name.zh, *platform.info.aliases)
        )
        self._size_tiers = PhraseIndex(
            (name, row.key)
            for rule in catalog.rules.values()
            for table in rule.tables
            for row in table.rows
            for name in (row.key, row.label.en, *row.aliases)
        )
        self._intent_words = {token.text for token in tokens_of(" ".join(self.vocabulary.intents.phrases()))}
        # A word the catalog itself uses is not a misspelling of a product word ("charges" is not "charger").
        self._markets = {
            market for rule in catalog.rules.values() for market in reached_markets(rule.marketplaces)
        }
        self._markets |= {market for (_, market, _) in catalog.fee_schedules}
        self._known_word = known_word
        self._closest_word = closest_word

    def read(self, text: str, today: dt.date) -> Question:
        folded = text.casefold()
        tokens = tokens_of(text)
        platform_hits = self._platforms.find(tokens, fuzzy=True, skip=self._not_a_name)
        # A word that names a marketplace as well as an authority ("欧盟", "EU") asks about that market:
        # Amazon's and Temu's EU rules as much as the EU's own.
        platform_hits = [hit for hit in platform_hits if find_marketplace(self.catalog, hit.phrase) is None]
        platform = platform_hits[0].value if platform_hits else None
        taken = {i for hit in platform_hits for i in range(hit.start, hit.end)}
        marketplace, market_spans = self._marketplace(tokens, taken, platform_hits)
        if platform is not None and marketplace is not None and not self._reaches(platform, marketplace):
            # "eu customs duty": US customs has no rule for the EU, so "customs" named no platform here.
            platform_hits, platform = [], None
        taken |= market_spans
        topics = self.vocabulary.topics.find(tokens)
        topic_spans = {i for hit in topics for i in range(hit.start, hit.end)}
        intent_hits = [
            hit
            for hit in self.vocabulary.intents.find(tokens)
            if not topic_spans & set(range(hit.start, hit.end))
        ]
        intents = frozenset(hit.value for hit in intent_hits)
        free = [token for i, token in enumerate(tokens) if i not in taken]
        categories = find_categories(self.vocabulary, free, platform, skip=self._not_a_name)
        categories = [
            pair for pair in categories if not self._inside_a_word(free[pair[0].start : pair[0].end], text)
        ]
        category = categories[0][1] if categories else None
        if category is None and platform is not None and self._general_rate(platform):
            # "tiktok uk commission £10": no category named, the platform's general rate applies.
            category = CategoryMatch(platform, self.vocabulary.catch_all[platform], "", 0.0)
        size_tiers = self._size_tiers.find(free)
        year, period = _when(folded, today)
        price, currency, numbers = _numbers(folded)
        # A bare number is the price when the question is about a category's fee ("amazon 服装 18 佣金").
        bare_price = Intent.FEE in intents or len(numbers) == 1
        shares = {match.group("n") for match in _PERCENT.finditer(folded)}
        amounts = [number for number in numbers if number not in shares]
        if price is None and category is not None and amounts and bare_price:
            price = amounts[0]
        # Small numbers are prices and counts, not words of a rule ("coupon 25 22 20"); a year, a bigger
        # figure or a percentage may name one ("EUR 150 duty exemption", "2027", "8%").
        taken |= {i for i, token in enumerate(tokens) if _small_number(token, text)}
        topic_terms = [hit.value for hit in topics]
        named = {i for hit in intent_hits for i in range(hit.start, hit.end)} | topic_spans
        # (categories were found among the free tokens: their spans index those)
        named_at = {token.start for found, _ in categories for token in free[found.start : found.end]}
        unnamed = [t for i, t in enumerate(tokens) if i not in taken | named and t.start not in named_at]
        topic_terms += self._spelling_fixes(unnamed)
        search_text = " ".join([_blank(text, tokens, taken), *topic_terms])
        asked = {i for hit in intent_hits for i in range(hit.start, hit.end)} - topic_spans
        # "amazon sellers": who asks is not what about.
        askers = {i for hit in self.vocabulary.askers.find(tokens) for i in range(hit.start, hit.end)}
        topic_text = " ".join([_blank(text, tokens, taken | asked | askers), *topic_terms])
        origins = self.vocabulary.origins.find(tokens)
        return Question(
            text=text,
            platform=platform,
            marketplace=marketplace,
            category=category,
            price=price,
            currency=currency if price is not None else None,
            numbers=tuple(numbers),
            year=year,
            period=period,
            intents=intents,
            size_tier=size_tiers[0].value if size_tiers else None,
            search_text=search_text,
            topic_text=_topic(topic_text, folded),
            platform_words=" ".join(hit.phrase for hit in platform_hits),
            unlisted_platform=self._unlisted_platform(tokens),
            origin=origins[0].value if origins else None,
            commission=bool(self.vocabulary.commission_words.find(tokens)),
        )

    def _unlisted_platform(self, tokens: Sequence[Token]) -> str | None:
        """The first platform named that the catalog holds nothing for; a name written with capitals in
        the words file ("Wish") counts only where the question does not write it all in lower case."""
        for hit in self.vocabulary.unlisted_platforms.find(tokens):
            written = " ".join(token.original for token in tokens[hit.start : hit.end])
            if hit.phrase.islower() or not written.islower():
                return hit.value
        return None

    def _inside_a_word(self, span: Sequence[Token], text: str) -> bool:
        """A one-character Chinese name that is part of a word the rules use names nothing: 书 in 证书
        (a certificate is no book), 鞋 in 鞋子 is found as 鞋子 already."""
        if (
            len(span) != 1
            or not span[0].is_cjk
            or span[0].end - span[0].start != 1
            or self._known_word is None
        ):
            return False
        start, end = span[0].start, span[0].end
        pairs = (text[max(start - 1, 0) : end], text[start : end + 1])
        return any(len(pair) == 2 and _CJK_PAIR.fullmatch(pair) and self._known_word(pair) for pair in pairs)

    def _spelling_fixes(self, tokens: Sequence[Token]) -> list[str]:
        """A misspelt word of the rules ("invetory") searches as the word it was meant to be."""
        if self._closest_word is None:
            return []
        fixes = (self._closest_word(token.text) for token in tokens if not token.is_cjk)
        return [fix for fix in fixes if fix is not None]

    def _general_rate(self, platform: str) -> bool:
        """Whether the platform's catch-all category is its general rate with a few exceptions (TikTok
        Shop), not one category among many (Amazon's "Everything Else")."""
        categories = self.catalog.platforms[platform].categories
        return platform in self.vocabulary.catch_all and len(categories) <= GENERAL_RATE_CATEGORIES

    def _reaches(self, platform: str, marketplace: str) -> bool:
        """Whether some rule of the platform concerns the marketplace."""
        return any(reaches(rule.marketplaces, marketplace) for rule in self.catalog.rules_of(platform))

    def _names_market(self, platform: str, marketplace: str) -> bool:
        """Whether some rule of the platform is written for the marketplace (rules for ALL do not count)."""
        rules = self.catalog.rules_of(platform)
        return any(marketplace in reached_markets(rule.marketplaces) for rule in rules)

    def _not_a_name(self, word: str) -> bool:
        """Words never read as a misspelt name: intent words and words the catalog uses as they are."""
        return word in self._intent_words or (self._known_word is not None and self._known_word(word))

    def _marketplace(
        self, tokens: Sequence[Token], taken: set[int], platform_hits: Sequence[Found[str]]
    ) -> tuple[str | None, set[int]]:
        """The first marketplace named, so "tell us" or "is it" name none."""
        after_platform = {hit.end: hit.value for hit in platform_hits}
        index = 0
        while index < len(tokens):
            if index in taken:
                index += 1
                continue
            for length in range(min(4, len(tokens) - index), 0, -1):
                span = tokens[index : index + length]
                if length > 1 and any(token.is_cjk for token in span) != all(token.is_cjk for token in span):
                    continue
                # Chinese words are written together ("英国站"), English ones apart ("united states").
                joiner = "" if span[0].is_cjk else " "
                found = find_marketplace(self.catalog, joiner.join(token.text for token in span))
                # A marketplace no rule concerns names where goods come from ("de minimis china"), not a
                # store to filter by.
                if found is None or found not in self._markets:
                    continue
                word = span[0]
                # "us" and "it" are English words first: in lower case they name a marketplace only
                # right after a platform ("amazon us"); "uk", "jp" or "US" always do.
                ambiguous = length == 1 and word.text in AMBIGUOUS_CODES and not word.original.isupper()
                # ("amazon my store": Amazon sells in no "MY", so "my" is the word there.)
                owner = after_platform.get(index)
                if ambiguous and (owner is None or not self._names_market(owner, found)):
                    continue
                return found, set(range(index, index + length))
            index += 1
        return None, set()


def _small_number(token: Token, text: str) -> bool:
    return token.text.isdigit() and len(token.text) < 3 and text[token.end : token.end + 1] not in ("%", "％")


def _without_dates(text: str, folded: str) -> str:
    """`text` (the question with words blanked, positions kept) without the words that name a year, a
    month or a day: 明年, 2027年, 3月15日, next month, january (found in the whole question, `folded`)."""
    chars = list(text.casefold()) if len(text.casefold()) == len(folded) else list(folded)
    spans = [m.span() for pattern in (_ISO_DATE, _MONTH_DAY, _YEAR) for m in pattern.finditer(folded)]
    spans += [m.span() for m in _MONTH_ONLY.finditer(folded) if m.group(1) or m.group(2) in MONTH_NAMES]
    for word in (*RELATIVE_YEARS, *RELATIVE_MONTHS):
        start = folded.find(word)
        if start >= 0:
            spans.append((start, start + len(word)))
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _topic(text: str, folded: str) -> str:
    """What the question is about, without the words that say when ("prime day 2027": prime day)."""
    # `text` is the question blanked (as long as `folded`) and then the topic terms: blank dates in the first.
    undated = _without_dates(text[: len(folded)], folded) + text[len(folded) :]
    return undated if _says_something(undated) else ""


def _says_something(text: str) -> bool:
    """Whether the text has a search word left (not a number, a lone character or a question word)."""
    return any(len(token) > 1 and not token.isdigit() for token in tokenize(text))


def _blank(text: str, tokens: Sequence[Token], taken: set[int]) -> str:
    """The text with the taken tokens replaced by spaces."""
    chars = list(text.casefold()) if len(text.casefold()) == len(text) else list(text)
    for index in taken:
        token = tokens[index]
        chars[token.start : token.end] = " " * (token.end - token.start)
    return "".join(chars)


def _when(folded: str, today: dt.date) -> tuple[int | None, tuple[dt.date, dt.date] | None]:
    """The year and the span of days the question is about, if it names one."""
    written = written_date(folded)  # 2025-06-01, 2025年6月1日, June 1 2025
    if written is not None:
        return written[0].year, (written[0], written[0])
    prices = [m.span("n") for pattern in (_PRICE_BEFORE, _PRICE_AFTER) for m in pattern.finditer(folded)]
    # "2000日元" is a price, not the year 2000.
    year_match = next(
        (m for m in _YEAR.finditer(folded) if not any(s <= m.start(1) < e for s, e in prices)), None
    )
    year = int(year_match.group(1)) if year_match else None
    if year is None:
        year = next((today.year + delta for word, delta in RELATIVE_YEARS.items() if word in folded), None)
    month_day = _MONTH_DAY.search(folded)
    if month_day:
        try:
            day = dt.date(year or today.year, int(month_day.group(1)), int(month_day.group(2)))
            return day.year, (day, day)
        except ValueError:
            pass
    for word, delta in RELATIVE_MONTHS.items():
        if word in folded:
            month_index = today.year * 12 + today.month - 1 + delta
            first = dt.date(month_index // 12, month_index % 12 + 1, 1)
            after = dt.date((month_index + 1) // 12, (month_index + 1) % 12 + 1, 1)
            return None, (first, after - dt.timedelta(days=1))
    month = _month(folded)
    if month is not None:
        first = dt.date(year or today.year, month, 1)
        if year is None and month < today.month:
            first = first.replace(year=today.year + 1)
        after = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first.year, (first, after - dt.timedelta(days=1))
    if year is not None:
        return year, (dt.date(year, 1, 1), dt.date(year, 12, 31))
    return None, None


def _month(folded: str) -> int | None:
    """The month a question names alone: "3月", "march", "in sept"."""
    for match in _MONTH_ONLY.finditer(folded):
        if match.group(1):
            return int(match.group(1))
        if match.group(2) in MONTH_NAMES:
            return MONTH_NAMES[match.group(2)]
    return None


def _numbers(folded: str) -> tuple[str | None, str | None, list[str]]:
    """The first price with a currency (and that currency, where it says one), and every number in order
    (years and dates left out)."""
    found: list[tuple[int, str, str | None]] = []  # (where, number, its currency word; None: no price)
    covered: list[tuple[int, int]] = []
    patterns = ((_SCIENTIFIC, True), (_PRICE_BEFORE, True), (_PRICE_AFTER, True), (_BARE_NUMBER, False))
    for pattern, is_price in patterns:
        for match in pattern.finditer(folded):
            start, end = match.span("n")
            if any(s <= start < e for s, e in covered):
                continue
            covered.append((start, end))
            unit = match.groupdict().get("unit") or "" if is_price else None
            found.append((start, match.group("n"), unit))
    dates = [m.span() for m in (*_ISO_DATE.finditer(folded), *_MONTH_DAY.finditer(folded))]
    written = written_date(folded)
    dates += [written[1]] if written is not None else []
    # (law numbers are left out the same way: "section 232", "232关税")
    dates += [m.span("n") if m.group("n") else m.span("law") for m in _SECTION.finditer(folded)]
    years = [m.span(1) for m in _YEAR.finditer(folded)]
    kept = [
        (start, number, unit)
        for start, number, unit in sorted(found)
        if not any(s <= start < e for s, e in dates)
        and (unit is not None or not any(s == start for s, _ in years))
    ]
    price, unit = next(((number, unit) for _, number, unit in kept if unit is not None), (None, None))
    return price, CURRENCIES.get(unit or ""), [number for _, number, _ in kept]
