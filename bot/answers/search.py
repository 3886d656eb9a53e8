"""Free-text search over the catalog's rules, in Chinese and English.

English is split into words (lower-cased, plural -s dropped, stop words removed); Chinese, which has no
spaces, into overlapping character pairs, so "低库存费什么时候开始收" meets "低库存费" without a
dictionary. Rules are ranked with BM25 over weighted fields (title and keywords count most).
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz, process

from bot.catalog import FUZZY_CUTOFF, FUZZY_MIN_LENGTH, Catalog, PhraseIndex, Rule, tokens_of

__all__ = ["Scores", "SearchHit", "SearchIndex", "rules_named", "tokenize"]

_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*|[\u3400-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

STOP_WORDS = frozenset(
    """a an the of for to in on at by and or is are was were be been it its this that these those what when
    which who how do does did can could will would should my our your i we you me us from with as about
    any there their than then so if not no yes please tell show give get much many rule rules
    like s t about also just need know want policy policies regulation regulations""".split()
)
# Question words in Chinese carry no meaning for matching a rule.
STOP_BIGRAMS = frozenset(
    """什么 时候 怎么 多少 如何 哪些 是否 可以 请问 一下
    现在 我的 我们 需要 的是 么时 是什 有什 有没 没有 政策 规则 规定""".split()
)

# A lone particle or pronoun between spaces or punctuation says nothing about a rule.
STOP_CHARS = frozenset("的了吗呢吧啊是在有和与或我你他她它这那")
PARTICLES = frozenset("的了吗呢吧啊是")

FIELD_WEIGHTS = {"title": 3.0, "keywords": 3.0, "names": 2.0, "summary": 1.5, "detail": 0.5}
K1, B = 1.2, 0.75
PHRASE_BOOST = 1.5
SUPERSEDED_WEIGHT = 0.8


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Words for English and digits, character pairs for Chinese (a lone character stands alone)."""
    tokens: list[str] = []
    for piece in _WORD.findall(text.casefold()):
        if _CJK.match(piece):
            if len(piece) == 1:
                if piece not in STOP_CHARS:
                    tokens.append(piece)
            else:
                pairs = (piece[i : i + 2] for i in range(len(piece) - 1))
                # A pair across a particle ("的佣", "收的") joins two words by accident.
                tokens.extend(p for p in pairs if p not in STOP_BIGRAMS and not PARTICLES.intersection(p))
        elif piece not in STOP_WORDS:
            tokens.append(_stem(piece))
    return tokens


@dataclass(frozen=True)
class SearchHit:
    rule: Rule
    score: float


class SearchIndex:
    """An inverted index of the catalog's rules, built once per catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self._rules: list[Rule] = list(catalog.rules.values())
        weighted_counts: list[dict[str, float]] = []
        lengths: list[float] = []
        for rule in self._rules:
            counts: dict[str, float] = defaultdict(float)
            length = 0.0
            for field_name, text in _fields(catalog, rule):
                for token in tokenize(text):
                    counts[token] += FIELD_WEIGHTS[field_name]
                    # The names of every category a fee rule covers would make a long schedule look
                    # like a long text and bury it: BM25's length counts what the rule says, not names.
                    length += FIELD_WEIGHTS[field_name] if field_name != "names" else 0.0
            weighted_counts.append(counts)
            lengths.append(length)
        total = len(self._rules) or 1
        average = sum(lengths) / total or 1.0
        frequency: Counter[str] = Counter(token for counts in weighted_counts for token in counts)
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc, counts in enumerate(weighted_counts):
            norm = K1 * (1 - B + B * lengths[doc] / average)
            for token, tf in counts.items():
                idf = math.log(1 + (total - frequency[token] + 0.5) / (frequency[token] + 0.5))
                self._postings[token].append((doc, idf * tf * (K1 + 1) / (tf + norm)))
        self._latin_terms = sorted(t for t in self._postings if t.isalpha() and t.isascii() and len(t) >= 4)
        # A rule's own phrase written out in the question ("low inventory fee", "低库存费") says more than
        # its words one by one: such rules get PHRASE_BOOST.
        self._doc_of = {rule.id: doc for doc, rule in enumerate(self._rules)}
        # rule-id sets seen (a platform's, a marketplace's) -> their positions, kept with the set itself
        self._doc_sets: dict[int, tuple[Collection[str], frozenset[int]]] = {}
        self._superseded = {doc for doc, rule in enumerate(self._rules) if rule.superseded_by is not None}
        self._keywords = {
            " ".join(token.text for token in tokens_of(keyword))
            for rule in self._rules
            for keyword in rule.keywords
        }
        self._phrases: PhraseIndex[tuple[int, ...]] = PhraseIndex(
            (phrase, tuple(docs)) for phrase, docs in _keyword_phrases(self._rules).items()
        )

    def closest(self, word: str) -> str | None:
        """For an English word no rule uses, the word of the rules it most likely misspells, if any."""
        folded = word.casefold()
        if len(folded) < FUZZY_MIN_LENGTH or not folded.isalpha() or self.knows(folded):
            return None
        if folded in STOP_WORDS:
            return None
        best = process.extractOne(folded, self._latin_terms, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        # Typos keep the first letter.
        return best[0] if best is not None and best[0][0] == folded[0] else None

    def is_keyword(self, phrase: str) -> bool:
        """Whether some rule lists this phrase among its keywords ("de minimis" is; "tiktok shop" is not)."""
        return " ".join(token.text for token in tokens_of(phrase)) in self._keywords

    def knows(self, word: str) -> bool:
        """Whether some rule uses this word (so it is not a misspelling of something else)."""
        tokens = tokenize(word)
        return len(tokens) == 1 and tokens[0] in self._postings

    def search(self, text: str, limit: int = 5, keep: Collection[str] | None = None) -> list[SearchHit]:
        """The best rules for `text`, best first; `keep` (rule ids) restricts them."""
        return self.best(self.scores(text), limit, keep)

    def scores(self, text: str) -> Scores:
        """Every rule's score for `text`, to pick the best from more than once (everywhere, one platform)."""
        scores: dict[int, float] = {}
        get = scores.get
        # Sorted, so that rules of equal score come out in the same order in every process.
        for token in sorted(set(tokenize(text))):
            for doc, weight in self._postings.get(token, ()):
                scores[doc] = get(doc, 0.0) + weight
        for found in self._phrases.find(tokens_of(text)):
            for doc in found.value:
                if doc in scores:
                    scores[doc] *= PHRASE_BOOST
        # A rule another replaced is rarely the answer; it stays findable when asked for by name.
        for doc in self._superseded.intersection(scores):
            scores[doc] *= SUPERSEDED_WEIGHT
        return Scores(scores)

    def best(self, scores: Scores, limit: int = 5, keep: Collection[str] | None = None) -> list[SearchHit]:
        """The `limit` best of `scores`, best first, among the rules `keep` names (all without it)."""
        found = scores.by_doc
        if keep is not None:
            docs = self._docs_of(keep)
            found = {doc: found[doc] for doc in docs.intersection(found)}
        # Only the few best are wanted: a heap avoids sorting every rule that shares a common word.
        top = heapq.nlargest(limit, found.items(), key=itemgetter(1))
        best = sorted(top, key=lambda item: (-item[1], self._rules[item[0]].id))
        if not best:
            return []
        # Hits far below the best one are noise from a shared common word.
        floor = best[0][1] * 0.25
        return [SearchHit(self._rules[doc], score) for doc, score in best if score >= floor]

    def _docs_of(self, rule_ids: Collection[str]) -> frozenset[int]:
        key = id(rule_ids)
        cached = self._doc_sets.get(key)
        if cached is None or cached[0] is not rule_ids:
            cached = (
                rule_ids,
                frozenset(self._doc_of[rule_id] for rule_id in rule_ids if rule_id in self._doc_of),
            )
            self._doc_sets[key] = cached
        return cached[1]


@dataclass(frozen=True)
class Scores:
    """Rules' scores for one text, by position in the index."""

    by_doc: dict[int, float]


def _keyword_phrases(rules: list[Rule]) -> dict[str, list[int]]:
    """Keyword and table-row phrases of two words or Chinese characters or more -> their rules."""
    phrases: dict[str, list[int]] = defaultdict(list)
    for doc, rule in enumerate(rules):
        rows = [name for table in rule.tables for row in table.rows for name in (row.label.en, *row.aliases)]
        for keyword in [*rule.keywords, *rows]:
            tokens = tokens_of(keyword)
            if len(tokens) >= 2:
                key = " ".join(token.text for token in tokens)
                if doc not in phrases[key]:
                    phrases[key].append(doc)
    return phrases


def _fields(catalog: Catalog, rule: Rule) -> list[tuple[str, str]]:
    platform = catalog.platform_of(rule).info
    names = [
        platform.platform,
        platform.name.en,
        platform.name.zh,
        *platform.aliases,
        rule.id,
        rule.ref or "",
    ]
    categories = {c.id: c for c in platform.categories}
    for schedule in rule.fee_schedules:
        category = categories.get(schedule.category)
        if category:
            names += [category.name.en, category.name.zh, *category.aliases]
    detail = [item.en + " " + item.zh for item in (*rule.conditions, *rule.exemptions, *rule.notes)]
    detail += [event.label.en + " " + event.label.zh for event in rule.events]
    detail += [number.label.en + " " + number.label.zh for number in rule.numbers]
    detail += [
        " ".join([row.label.en, row.label.zh, *row.aliases]) for table in rule.tables for row in table.rows
    ]
    return [
        ("title", rule.title.en + " " + rule.title.zh),
        ("keywords", " ".join(rule.keywords)),
        ("names", " ".join(names)),
        ("summary", rule.summary.en + " " + rule.summary.zh),
        ("detail", " ".join(detail)),
    ]


# The index of the catalog `rules_named` last searched (a catalog is immutable; a reload makes a new one).
_LAST_INDEX: list[tuple[Catalog, SearchIndex]] = []


def rules_named(catalog: Catalog, text: str, among: Collection[str]) -> list[Rule]:
    """The rules among `among` (ids) that a seller's words name, best first: "燃油附加费" or "fuel
    surcharge" names the fuel surcharge rules, as their titles and keywords say (the words file's topic
    phrases count: 燃油费 is the fuel surcharge). Rules far below the best rule anywhere are left out: words
    that name another rule best ("inbound placement") name none of these."""
    if not _LAST_INDEX or _LAST_INDEX[0][0] is not catalog:
        _LAST_INDEX[:] = [(catalog, SearchIndex(catalog))]
    index = _LAST_INDEX[0][1]
    topics = [found.value for found in catalog.vocabulary.topics.find(tokens_of(text))]
    scores = index.scores(" ".join([text, *topics]))
    best = index.best(scores, limit=1)
    hits = index.best(scores, limit=10, keep=among)
    return [hit.rule for hit in hits if hit.score >= 0.5 * best[0].score]
