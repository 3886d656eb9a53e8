"""Sellers' words (policies/words.toml): product words -> fee categories, intent words, topic phrases.

Pure data plus pure matching functions. Text is cut into tokens the same way for phrases and questions
(English words and digits as words, each Chinese character on its own), so "T恤", "3c配件" and
"phone case" are all found by looking up runs of tokens. Misspelt English gets a close match from
rapidfuzz. The SKU/impact work reuses `match_category` for spreadsheet categories and Amazon
`product-group` values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import Field
from rapidfuzz import fuzz, process

from bot.catalog.fields import Identifier, Strict
from bot.catalog.schema import PolicyFile

__all__ = [
    "VOCABULARY_FILE",
    "CategoryMatch",
    "Found",
    "Intent",
    "Origin",
    "PhraseIndex",
    "Token",
    "Vocabulary",
    "WordsFile",
    "build_vocabulary",
    "find_categories",
    "match_category",
    "tokens_of",
]

VOCABULARY_FILE = "words.toml"
# A close match must score this (rapidfuzz ratio, 0-100), start with the same letter and be long enough
# to be more than a coincidence.
FUZZY_CUTOFF = 86.0
FUZZY_MIN_LENGTH = 5

_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u9fff\uf900-\ufaff]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class Intent(StrEnum):
    """What a question asks for."""

    FEE = "fee"
    AMOUNT = "amount"
    WHEN = "when"
    EXEMPT = "exempt"
    UPCOMING = "upcoming"
    # "新规", "changes": what is new, unless the question names a topic ("优惠券新规" is the coupon rule).
    CHANGES = "changes"


class Origin(Strict):
    """Where a seller ships from: the words that name it, and the chat language that implies it."""

    words: list[str]
    lang: str | None = None


class WordsFile(Strict):
    """The shape of policies/words.toml."""

    products: dict[Identifier, list[str]] = Field(default_factory=dict)
    intents: dict[Intent, list[str]] = Field(default_factory=dict)
    topics: dict[str, list[str]] = Field(default_factory=dict)
    # Platforms sellers name that the catalog holds nothing for: name -> the words that name it.
    unlisted_platforms: dict[str, list[str]] = Field(default_factory=dict)
    # The policy files of lawmakers and customs (platform ids), whose own rule comes first.
    authorities: list[Identifier] = Field(default_factory=list)
    # Where sellers ship from: a code -> the words that name it and the chat language taken to mean it.
    origins: dict[str, Origin] = Field(default_factory=dict)
    # Words that say who asks ("sellers", "卖家"), not what about.
    askers: list[str] = Field(default_factory=list)
    # Fee words that name the commission (a percentage of the price), not any fee.
    commission_words: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Token:
    """A word (or one Chinese character) of a text, folded, with where it stood in the original."""

    text: str
    original: str
    start: int
    end: int

    @property
    def is_cjk(self) -> bool:
        return bool(_CJK.match(self.text))


def tokens_of(text: str) -> list[Token]:
    """English words and digits as words, each Chinese character alone; punctuation and spaces dropped."""
    folded = text.casefold()
    # casefold keeps positions for everything a seller types except a few letters (ß -> ss): fall back then.
    original = text if len(folded) == len(text) else folded
    return [
        Token(m.group(), original[m.start() : m.end()], m.start(), m.end()) for m in _TOKEN.finditer(folded)
    ]


def _key(tokens: Sequence[str]) -> str:
    return " ".join(tokens)


T = TypeVar("T")


@dataclass(frozen=True)
class Found(Generic[T]):
    value: T
    start: int  # token index
    end: int  # token index, exclusive
    phrase: str  # as written in the data
    score: float = 100.0


class PhraseIndex(Generic[T]):
    """Phrases -> values; finds the longest phrases in a token list, left to right, without overlap."""

    def __init__(self, phrases: Iterable[tuple[str, T]]) -> None:
        self._exact: dict[str, tuple[str, T]] = {}
        self._longest = 1
        for phrase, value in phrases:
            words = [token.text for token in tokens_of(phrase)]
            if not words:
                continue
            # The first listing wins: data is ordered (a platform's own names before shared product words).
            self._exact.setdefault(_key(words), (phrase, value))
            self._longest = max(self._longest, len(words))
        # Only English phrases are matched fuzzily: Chinese words are too short for edit distance to help.
        self._latin = [key for key in self._exact if not _CJK.search(key) and len(key) >= FUZZY_MIN_LENGTH]

    def __len__(self) -> int:
        return len(self._exact)

    def phrases(self) -> list[str]:
        return [phrase for phrase, _ in self._exact.values()]

    def get(self, phrase: str) -> T | None:
        found = self._exact.get(_key([token.text for token in tokens_of(phrase)]))
        return found[1] if found else None

    def find(
        self,
        tokens: Sequence[Token],
        *,
        fuzzy: bool = False,
        skip: Callable[[str], bool] | None = None,
    ) -> list[Found[T]]:
        """Every phrase in `tokens`; `fuzzy` also takes close misspellings of English words not in `skip`."""
        found = self._scan(tokens, 0, len(tokens), self._match_at)
        if fuzzy:
            # Close matches only where no exact phrase stood: "women's dresses" is "dresses", not "s dresses".
            gaps, start = [], 0
            for hit in found:
                gaps.append((start, hit.start))
                start = hit.end
            gaps.append((start, len(tokens)))
            for gap_start, gap_end in gaps:
                found += self._scan(tokens, gap_start, gap_end, self._fuzzy_matcher(gap_end, skip))
            found.sort(key=lambda hit: hit.start)
        return found

    @staticmethod
    def _scan(
        tokens: Sequence[Token],
        start: int,
        end: int,
        match_at: Callable[[Sequence[Token], int], Found[T] | None],
    ) -> list[Found[T]]:
        found: list[Found[T]] = []
        index = start
        while index < end:
            hit = match_at(tokens, index)
            if hit is None or hit.end > end:
                index += 1
                continue
            found.append(hit)
            index = hit.end
        return found

    def _match_at(self, tokens: Sequence[Token], start: int) -> Found[T] | None:
        for length in range(min(self._longest, len(tokens) - start), 0, -1):
            entry = self._exact.get(_key([token.text for token in tokens[start : start + length]]))
            if entry is not None:
                return Found(entry[1], start, start + length, entry[0])
        return None

    def _fuzzy_matcher(
        self, end: int, skip: Callable[[str], bool] | None
    ) -> Callable[[Sequence[Token], int], Found[T] | None]:
        def match_at(tokens: Sequence[Token], start: int) -> Found[T] | None:
            return self._fuzzy_at(tokens[:end], start, skip)

        return match_at

    def _fuzzy_at(
        self, tokens: Sequence[Token], start: int, skip: Callable[[str], bool] | None
    ) -> Found[T] | None:
        if not self._latin or tokens[start].is_cjk:
            return None
        for length in (2, 1):
            window = tokens[start : start + length]
            if len(window) < length or any(
                token.is_cjk or token.text.isdigit() or len(token.text) < 3 for token in window
            ):
                continue
            text = _key([token.text for token in window])
            if len(text) < FUZZY_MIN_LENGTH or (skip is not None and any(skip(t.text) for t in window)):
                continue
            best = process.extractOne(text, self._latin, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            # Typos keep the first letter; "weather" is not a misspelt "sweater".
            if best is not None and best[0][0] == text[0]:
                phrase, value = self._exact[best[0]]
                return Found(value, start, start + length, phrase, float(best[1]))
        return None


@dataclass(frozen=True)
class CategoryMatch:
    """A fee category a text names: the platform's category id, the words that named it, how closely."""

    platform: str
    category: str
    word: str
    score: float  # 100: exactly a name, alias or product word; less: a close misspelling


@dataclass(frozen=True)
class Vocabulary:
    """The catalog's words: category names and product words, intent words and topic phrases."""

    # Every name of every category, catch-alls left out ("other", "standard" are not a product).
    categories: PhraseIndex[tuple[tuple[str, str], ...]] = field(default_factory=lambda: PhraseIndex([]))
    intents: PhraseIndex[Intent] = field(default_factory=lambda: PhraseIndex([]))
    # phrase -> the words the rules use for that topic (小额豁免 -> de minimis)
    topics: PhraseIndex[str] = field(default_factory=lambda: PhraseIndex([]))
    # The catch-all category of each platform that has one.
    catch_all: dict[str, str] = field(default_factory=dict)
    product_words: int = 0
    # words -> the name of a platform the catalog holds nothing for ("shopify" -> "Shopify")
    unlisted_platforms: PhraseIndex[str] = field(default_factory=lambda: PhraseIndex([]))
    authorities: frozenset[str] = frozenset()
    # words -> where a seller ships from ("中国" -> "CN"), and a chat language -> the same
    origins: PhraseIndex[str] = field(default_factory=lambda: PhraseIndex([]))
    origin_of_lang: dict[str, str] = field(default_factory=dict)
    askers: PhraseIndex[str] = field(default_factory=lambda: PhraseIndex([]))
    commission_words: PhraseIndex[str] = field(default_factory=lambda: PhraseIndex([]))


def build_vocabulary(words: WordsFile | None, platforms: Sequence[PolicyFile]) -> Vocabulary:
    """The vocabulary of these platforms (in order of preference) and the words file."""
    owners: dict[str, list[tuple[str, str]]] = {}
    names: list[tuple[str, str]] = []
    catch_all: dict[str, str] = {}
    for policy in platforms:
        for category in policy.categories:
            if category.catch_all:
                catch_all[policy.platform] = category.id
                continue
            owners.setdefault(category.id, []).append((policy.platform, category.id))
            names += [(name, category.id) for name in (category.id, category.name.en, category.name.zh)]
            names += [(alias, category.id) for alias in category.aliases]
    product_words = 0
    if words is not None:
        for category_id, product_list in words.products.items():
            names += [(word, category_id) for word in product_list]
            product_words += len(product_list)
    by_name: dict[str, list[tuple[str, str]]] = {}
    for name, category_id in names:
        key = _key([token.text for token in tokens_of(name)])
        for owner in owners.get(category_id, []):
            if owner not in by_name.setdefault(key, []):
                by_name[key].append(owner)
    intents = [(word, intent) for intent, items in (words.intents if words else {}).items() for word in items]
    topics = [(phrase, topic) for topic, items in (words.topics if words else {}).items() for phrase in items]
    if words is None:
        words = WordsFile()
    return Vocabulary(
        categories=PhraseIndex((key, tuple(owner)) for key, owner in by_name.items()),
        intents=PhraseIndex(intents),
        topics=PhraseIndex(topics),
        catch_all=catch_all,
        product_words=product_words,
        unlisted_platforms=PhraseIndex(
            (word, name) for name, items in words.unlisted_platforms.items() for word in [*items, name]
        ),
        authorities=frozenset(words.authorities),
        origins=PhraseIndex((word, code) for code, origin in words.origins.items() for word in origin.words),
        origin_of_lang={origin.lang: code for code, origin in words.origins.items() if origin.lang},
        askers=PhraseIndex((word, word) for word in words.askers),
        commission_words=PhraseIndex((word, word) for word in words.commission_words),
    )


def _pick(owners: tuple[tuple[str, str], ...], platform: str | None) -> tuple[str, str]:
    """The owner on the wanted platform, else the first (the preferred platform)."""
    return next((owner for owner in owners if owner[0] == platform), owners[0])


def find_categories(
    vocabulary: Vocabulary,
    tokens: Sequence[Token],
    platform: str | None = None,
    *,
    skip: Callable[[str], bool] | None = None,
) -> list[tuple[Found[tuple[tuple[str, str], ...]], CategoryMatch]]:
    """The categories a longer text (a question) mentions, in order, with where each stood."""
    found = vocabulary.categories.find(tokens, fuzzy=True, skip=skip)
    results = []
    for hit in found:
        owner_platform, category = _pick(hit.value, platform)
        results.append((hit, CategoryMatch(owner_platform, category, hit.phrase, hit.score)))
    return results


def match_category(vocabulary: Vocabulary, text: str, platform: str | None = None) -> CategoryMatch | None:
    """The category a short text names as a whole ("Women's Dresses", "Apparel", "手机壳"), or None.

    Exact names win, then the longest name found inside the text, then a close misspelling. With
    `platform`, that platform's category of the name is preferred.
    """
    tokens = tokens_of(text)
    if not tokens:
        return None
    whole = vocabulary.categories.get(text)
    if whole is not None:
        owner = _pick(whole, platform)
        return CategoryMatch(owner[0], owner[1], text.strip(), 100.0)
    found = find_categories(vocabulary, tokens, platform)
    if not found:
        return None
    # The longest (most specific) name wins: "phone case" over "case"; exact before fuzzy.
    best = max(found, key=lambda pair: (pair[1].score >= 100, pair[0].end - pair[0].start))
    return best[1]
