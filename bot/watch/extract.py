"""Values out of a page's text, and which of them a change added, removed or changed (issue #21).

Pure: no I/O, no store. The watcher, `policybot propose` and `check --stale` build on it.

    extract_values(text)          every date, percentage and amount of money in the text, line by line
    diff_values(old, new)         the values on the lines that differ: added, removed, and changed pairs

How a line is read (regexes first, each value normalised piece by piece; dateparser and price-parser fail
on whole sentences, see shared/reference/channels-feed-calendar-extraction.md §4):

1. NFKC, so full-width digits and signs ("１０％", "＄") read as ASCII; then Chinese numerals to digits
   with cn2an ("二〇二六年三月一日" -> "2026年3月1日", "百分之三点五" -> "3.5%").
2. Dates first: 2026-04-15, 2026/4/15, 2026年4月15日, 15.04.2026, April 15, 2026, 15 April 2026,
   15. Januar 2027; then the same without a year ("4月15日", "May 14", "15. Januar"), which take the year
   of the nearest full date in the text, else the caller's `year`, else are dropped (never guessed).
3. Percentages: "3.5%", "3,5 %", "10％", and both ends of "5-10%".
4. Money: an amount with a currency sign or word before or after it ($0.30, US$1,500, CNY 1,000,
   1.500,00 €, 1500美元, 30円, 5万元, 50億円). A bare number is never money.
A span taken by an earlier kind is not read again, so "2026年4月15日" is not also 15 of something, and
phone numbers, article ids, version numbers, "24/7", page counters and a year alone yield nothing.

"¥" is read as the yen on a page with Japanese kana or with no Chinese at all, and as the yuan on a
Chinese page; "JP¥", "CN¥", "RMB" and the currency words settle it either way.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import cn2an

__all__ = ["Value", "ValueChange", "ValueDiff", "ValueKind", "diff_values", "extract_values"]

ValueKind = Literal["date", "percent", "money"]


@dataclass(frozen=True)
class Value:
    """One value as written on a page: its kind, its normalised form and the line it came from."""

    kind: ValueKind
    value: str  # "2026-04-15" for a date; a plain decimal ("3.5", "1500") for a percent or an amount
    currency: str | None  # ISO 4217 code for money, None for the other kinds
    text: str  # the matched text, after NFKC and Chinese numerals
    line: str  # the whole line as on the page
    line_number: int  # 1-based, in the text it was extracted from

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What two values must share to be the same value."""
        return (self.kind, self.value, self.currency)

    def __str__(self) -> str:
        if self.kind == "percent":
            return f"{self.value}%"
        if self.currency:
            return f"{self.value} {self.currency}"
        return self.value


@dataclass(frozen=True)
class ValueChange:
    """A value replaced by another of the same kind on a changed line: 15% -> 17%."""

    old: Value
    new: Value

    def __str__(self) -> str:
        return f"{self.old} → {self.new}"


@dataclass(frozen=True)
class ValueDiff:
    """The values that a change of page text added, removed or changed."""

    added: tuple[Value, ...]
    removed: tuple[Value, ...]
    changed: tuple[ValueChange, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


# Two lines of a changed block are "the same line, edited" when they are at least this alike
# (difflib's ratio); below it, one line went and another came, and their values do not pair.
SAME_LINE_RATIO = 0.5

_EARLIEST_YEAR, _LATEST_YEAR = 1990, 2100

_MONTHS = {
    "jan": 1, "january": 1, "januar": 1, "jänner": 1,
    "feb": 2, "february": 2, "februar": 2,
    "mar": 3, "march": 3, "märz": 3, "maerz": 3,
    "apr": 4, "april": 4,
    "may": 5, "mai": 5,
    "jun": 6, "june": 6, "juni": 6,
    "jul": 7, "july": 7, "juli": 7,
    "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "okt": 10, "oktober": 10,
    "nov": 11, "november": 11,
    "dec": 12, "december": 12, "dez": 12, "dezember": 12,
}  # fmt: skip
# Capitalised only: "may" and "march" are also verbs.
_MONTH = "(?P<month>" + "|".join(sorted((m.capitalize() for m in _MONTHS), key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_NOT_ASCII_BEFORE = r"(?<![A-Za-z0-9.,/\-])"  # not inside a word, a number or an id
_NOT_DIGIT_AFTER = r"(?![0-9])"

# (pattern, has a year, characters one of which the line must hold for the pattern to be tried: a cheap
# test that spares most lines most regexes). Full dates first, so that a yearless pattern never takes
# part of one.
_CAPITALS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_US_DATE = re.compile(_NOT_ASCII_BEFORE + r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})(?![0-9/])")
_DATE_PATTERNS: list[tuple[re.Pattern[str], bool, str]] = [
    (
        re.compile(_NOT_ASCII_BEFORE + r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?![0-9\-])"),
        True,
        "-",
    ),
    (
        re.compile(_NOT_ASCII_BEFORE + r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})(?![0-9/])"),
        True,
        "/",
    ),
    (
        re.compile(r"(?<![0-9])(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]"),
        True,
        "年",
    ),
    (
        re.compile(
            _NOT_ASCII_BEFORE + r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})(?![0-9]|\.[0-9])"
        ),
        True,
        ".",
    ),
    (
        re.compile(
            _NOT_ASCII_BEFORE + r"(?P<year>\d{4})\.(?P<month>\d{1,2})\.(?P<day>\d{1,2})(?![0-9]|\.[0-9])"
        ),
        True,
        ".",
    ),
    # Month first, as in the US, unless the first number cannot be a month ("15/4/2026").
    (_US_DATE, True, "/"),
    (
        re.compile(
            r"(?P<era>令和|平成)\s*(?P<year>\d{1,2}|元)\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日"
        ),
        True,
        "和成",
    ),
    (
        re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r",?\s+(?P<year>\d{4})" + _NOT_DIGIT_AFTER),
        True,
        _CAPITALS,
    ),
    (
        re.compile(r"(?<![0-9.])" + _DAY + r"\.?\s+" + _MONTH + r",?\s+(?P<year>\d{4})" + _NOT_DIGIT_AFTER),
        True,
        _CAPITALS,
    ),
    (re.compile(r"(?<![0-9年])(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]"), False, "月"),
    (re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r"(?![0-9])(?!\s*,?\s*\d{4})"), False, _CAPITALS),
    (
        re.compile(r"(?<![0-9.,])" + _DAY + r"\.?\s+" + _MONTH + r"(?![A-Za-z])(?!\s*,?\s*\d{4})"),
        False,
        _CAPITALS,
    ),
]

_ERAS = {"令和": 2018, "平成": 1988}  # the year before each Japanese era's first year

_NUMBER = r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_PERCENT_SIGN = r"(?:%|percent\b|per cent\b|Prozent\b|パーセント)"
_PERCENT_RANGE = re.compile(
    r"(?<![0-9.,])(?P<low>"
    + _NUMBER
    + r")\s*%?\s*(?:-|–|—|~|〜|至|到|bis)\s*(?P<high>"
    + _NUMBER
    + r")\s*"
    + _PERCENT_SIGN
)
_PERCENT = re.compile(r"(?<![0-9.,])(?P<number>" + _NUMBER + r")\s*" + _PERCENT_SIGN)

# Currency marks, longest first within each alternative so that "US$" wins over "$".
_PREFIXES = {
    "US$": "USD", "USD": "USD", "$": "USD", "C$": "CAD", "CAD": "CAD", "MX$": "MXN", "MXN": "MXN",
    "R$": "BRL", "BRL": "BRL", "€": "EUR", "EUR": "EUR", "£": "GBP", "GBP": "GBP",
    "JP¥": "JPY", "JPY": "JPY", "CN¥": "CNY", "RMB": "CNY", "CNY": "CNY", "人民币": "CNY", "¥": "",
}  # fmt: skip
_SUFFIXES = {
    "美元": "USD", "美金": "USD", "USD": "USD", "US-Dollar": "USD", "dollars": "USD", "dollar": "USD",
    "ドル": "USD", "$": "USD", "欧元": "EUR", "EUR": "EUR", "Euro": "EUR", "euros": "EUR", "euro": "EUR",
    "ユーロ": "EUR", "€": "EUR", "英镑": "GBP", "GBP": "GBP", "Pfund": "GBP", "ポンド": "GBP", "£": "GBP",
    "日元": "JPY", "円": "JPY", "JPY": "JPY", "yen": "JPY", "人民币": "CNY", "元": "CNY", "CNY": "CNY",
    "RMB": "CNY", "加元": "CAD", "CAD": "CAD", "比索": "MXN", "MXN": "MXN",
}  # fmt: skip
_MULTIPLIERS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}


def _alternation(marks: Iterable[str]) -> str:
    return "|".join(re.escape(m) for m in sorted(marks, key=len, reverse=True))


_MONEY = re.compile(
    r"(?:(?<![A-Za-z])(?P<prefix>" + _alternation(_PREFIXES) + r")\s?)?"
    r"(?<![0-9.,])(?P<amount>" + _NUMBER + r")(?![0-9])"
    r"\s*(?P<multiplier>[万萬亿億])?"
    r"(?:\s*(?P<suffix>" + _alternation(_SUFFIXES) + r")(?![A-Za-z]))?"
)
_CHINESE_NUMERALS = re.compile("[〇零一二三四五六七八九十百千万亿两]")
_DIGIT = re.compile("[0-9]")
_KANA = re.compile("[\u3040-\u30ff]")
_HAN = re.compile("[\u4e00-\u9fff]")


def extract_values(text: str, *, year: int | None = None) -> list[Value]:
    """Every date, percentage and amount of money in `text`, in reading order.

    A date written without a year takes the year of the nearest full date in the text (by line), else
    `year` (the page's context), else it is left out.
    """
    page = _Page(text, year)
    return [value for number in range(1, len(page.lines) + 1) for value in page.values(number)]


def diff_values(old_text: str, new_text: str, *, year: int | None = None) -> ValueDiff:
    """The values on the lines that differ between two versions of a page.

    Lines are compared with difflib after NFKC. In each changed block, a value found on both sides is
    unchanged; the rest pair by kind and position on lines that are the same line edited, and what does
    not pair is added or removed. Only the changed lines are read (and, for a date without a year, the
    lines around it up to the nearest full date), so the time grows with the change, not the page.
    """
    old_page, new_page = _Page(old_text, year), _Page(new_text, year)
    old_lines = [_comparable(line) for line in old_page.lines]
    new_lines = [_comparable(line) for line in new_page.lines]
    added: list[Value] = []
    removed: list[Value] = []
    changed: list[ValueChange] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_block = {n: old_page.values(n) for n in range(i1 + 1, i2 + 1)}
        new_block = {n: new_page.values(n) for n in range(j1 + 1, j2 + 1)}
        block_added, block_removed, block_changed = _compare_block(old_block, new_block, old_lines, new_lines)
        added += block_added
        removed += block_removed
        changed += block_changed
    return ValueDiff(tuple(added), tuple(removed), tuple(changed))


class _Page:
    """A page's lines, each read once and only when asked for."""

    def __init__(self, text: str, context_year: int | None) -> None:
        self.lines = text.splitlines()
        self.context_year = context_year
        self.yen = "JPY" if _KANA.search(text) or not _HAN.search(text) else "CNY"
        self._read: dict[int, list[Value | _YearlessDate]] = {}

    def values(self, number: int) -> list[Value]:
        """The values of line `number` (1-based), dates without a year dated or dropped."""
        values: list[Value] = []
        for item in self._items(number):
            if isinstance(item, _YearlessDate):
                dated = item.with_year(self._year_near(number))
                if dated is not None:
                    values.append(dated)
            else:
                values.append(item)
        return values

    def _items(self, number: int) -> list[Value | _YearlessDate]:
        if number not in self._read:
            line = self.lines[number - 1]
            readable = _readable(line)
            # Most lines of a page hold no digit, so no value: skip the regexes.
            found = _line_values(readable, line, number, self.yen) if _DIGIT.search(readable) else []
            self._read[number] = [item for _, item in sorted(found, key=lambda entry: entry[0])]
        return self._read[number]

    def _year_near(self, number: int) -> int | None:
        """The year of the nearest full date, by line; on a tie, the one above."""
        for distance in range(len(self.lines)):
            for near in (number - distance, number + distance):
                if 1 <= near <= len(self.lines):
                    for item in self._items(near):
                        if isinstance(item, Value) and item.kind == "date":
                            return int(item.value[:4])
        return self.context_year


@dataclass(frozen=True)
class _YearlessDate:
    month: int
    day: int
    text: str
    line: str
    line_number: int

    def with_year(self, year: int | None) -> Value | None:
        date = _date(year, self.month, self.day) if year is not None else None
        if date is None:
            return None
        return Value("date", date.isoformat(), None, self.text, self.line, self.line_number)


def _readable(line: str) -> str:
    """The line as the regexes read it: NFKC, then Chinese numerals as digits."""
    readable = unicodedata.normalize("NFKC", line)
    if _CHINESE_NUMERALS.search(readable):
        try:
            with warnings.catch_warnings():
                # cn2an warns on every fragment it leaves alone ("万一"), which is most of them.
                warnings.simplefilter("ignore")
                readable = cn2an.transform(readable, "cn2an")
        except Exception:  # cn2an raises plain exceptions on some odd text; keep the line as it is
            pass
    return readable


def _comparable(line: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", line).split())


def _line_values(readable: str, line: str, number: int, yen: str) -> list[tuple[int, Value | _YearlessDate]]:
    found: list[tuple[int, Value | _YearlessDate]] = []
    taken: list[tuple[int, int]] = []  # spans read already: a later kind does not read them again
    original = line.strip()
    for pattern, has_year, hint in _DATE_PATTERNS:
        if not any(char in readable for char in hint):
            continue
        for match in pattern.finditer(readable):
            if _overlaps(match.span(), taken):
                continue
            month = _month_number(match.group("month"))
            day = int(match.group("day"))
            if has_year:
                if pattern is _US_DATE and month > 12 >= day:
                    month, day = day, month  # "15/4/2026" can only be day first
                date = _date(_year_number(match), month, day)
                if date is None:
                    continue
                item: Value | _YearlessDate = Value(
                    "date", date.isoformat(), None, match.group(), original, number
                )
            else:
                if _date(2000, month, day) is None:  # a leap year, so that 2月29日 passes here
                    continue
                item = _YearlessDate(month, day, match.group(), original, number)
            taken.append(match.span())
            found.append((match.start(), item))
    for match in _PERCENT_RANGE.finditer(readable):
        if _overlaps(match.span(), taken):
            continue
        taken.append(match.span())
        for group in ("low", "high"):
            found.append(
                (match.start(group), _value("percent", match.group(group), None, match, line, number))
            )
    for match in _PERCENT.finditer(readable):
        if _overlaps(match.span(), taken):
            continue
        taken.append(match.span())
        found.append((match.start(), _value("percent", match.group("number"), None, match, line, number)))
    for match in _MONEY.finditer(readable):
        prefix, suffix = match.group("prefix"), match.group("suffix")
        if not (prefix or suffix) or _overlaps(match.span("amount"), taken):
            continue
        # The mark after the amount is the more specific one ("¥30元"); "¥" alone depends on the page.
        currency = _SUFFIXES[suffix] if suffix else (_PREFIXES[prefix] or yen)
        multiplier = _MULTIPLIERS.get(match.group("multiplier") or "", 1)
        taken.append(match.span())
        found.append(
            (match.start(), _value("money", match.group("amount"), currency, match, line, number, multiplier))
        )
    return [(start, item) for start, item in found if not (isinstance(item, Value) and item.value == "")]


def _value(
    kind: ValueKind,
    number: str,
    currency: str | None,
    match: re.Match[str],
    line: str,
    line_number: int,
    multiplier: int = 1,
) -> Value:
    amount = _decimal(number)
    value = "" if amount is None else _plain(amount * multiplier)
    return Value(kind, value, currency, match.group().strip(), line.strip(), line_number)


def _decimal(number: str) -> Decimal | None:
    """A number as written in any of our languages: 1,500.00, 1.500,00, 3,5, 0.30, 1500."""
    if "," in number and "." in number:
        decimal_mark = "," if number.rfind(",") > number.rfind(".") else "."
    elif "," in number:
        # "1,500" and "1,500,000" group thousands; "3,5" and "0,30" are German decimals.
        decimal_mark = "." if re.fullmatch(r"\d{1,3}(?:,\d{3})+", number) else ","
    elif number.count(".") == 1:
        # "1.500" is a German thousand, "0.170" and "3.5" are decimals.
        decimal_mark = "," if re.fullmatch(r"[1-9]\d{0,2}\.\d{3}", number) else "."
    else:
        decimal_mark = "," if "." in number else "."
    thousands = "." if decimal_mark == "," else ","
    digits = number.replace(thousands, "").replace(decimal_mark, ".")
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def _plain(amount: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 15.00 -> "15", 0.30 -> "0.3", 1E+3 -> "1000"."""
    return format(amount.normalize(), "f")


def _year_number(match: re.Match[str]) -> int:
    year = match.group("year")
    if "era" not in match.re.groupindex:
        return int(year)
    return _ERAS[match.group("era")] + (1 if year == "元" else int(year))


def _month_number(month: str) -> int:
    return int(month) if month.isdigit() else _MONTHS[month.lower()]


def _date(year: int, month: int, day: int) -> dt.date | None:
    if not _EARLIEST_YEAR <= year <= _LATEST_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _overlaps(span: tuple[int, int], taken: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _compare_block(
    old_block: dict[int, list[Value]],
    new_block: dict[int, list[Value]],
    old_lines: Sequence[str],
    new_lines: Sequence[str],
) -> tuple[list[Value], list[Value], list[ValueChange]]:
    # 1. A value on both sides of the block is unchanged, wherever it moved within the block.
    old_left = {n: list(values) for n, values in old_block.items()}
    new_left = {n: list(values) for n, values in new_block.items()}
    for values in old_left.values():
        for value in list(values):
            for candidates in new_left.values():
                twin = next((c for c in candidates if c.key == value.key), None)
                if twin is not None:
                    values.remove(value)
                    candidates.remove(twin)
                    break
    # 2. The rest pair by kind and position on lines that are the same line edited.
    changed: list[ValueChange] = []
    for n_old, n_new in _paired_lines(
        [n for n, v in old_left.items() if v], [n for n, v in new_left.items() if v], old_lines, new_lines
    ):
        olds, news = old_left[n_old], new_left[n_new]
        for kind in ("date", "percent", "money"):
            old_of_kind = [v for v in olds if v.kind == kind]
            new_of_kind = [v for v in news if v.kind == kind]
            for old, new in zip(old_of_kind, new_of_kind, strict=False):
                if kind == "money" and old.currency != new.currency:
                    continue
                changed.append(ValueChange(old, new))
                olds.remove(old)
                news.remove(new)
    removed = [v for values in old_left.values() for v in values]
    added = [v for values in new_left.values() for v in values]
    return added, removed, changed


def _paired_lines(
    old_numbers: Sequence[int], new_numbers: Sequence[int], old_lines: Sequence[str], new_lines: Sequence[str]
) -> list[tuple[int, int]]:
    """Old and new lines of a block that are the same line edited, each paired with its most alike.

    One line replaced by one line is that line edited, however much of it was rewritten.
    """
    if len(old_numbers) == 1 and len(new_numbers) == 1:
        return [(old_numbers[0], new_numbers[0])]
    candidates = []
    for n_old in old_numbers:
        for n_new in new_numbers:
            ratio = difflib.SequenceMatcher(None, old_lines[n_old - 1], new_lines[n_new - 1]).ratio()
            if ratio >= SAME_LINE_RATIO:
                candidates.append((ratio, n_old, n_new))
    pairs: list[tuple[int, int]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    for _, n_old, n_new in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if n_old not in used_old and n_new not in used_new:
            pairs.append((n_old, n_new))
            used_old.add(n_old)
            used_new.add(n_new)
    return sorted(pairs)
