"""Reading the words of a command: prices, counts, dates, platforms and marketplaces."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from bot.catalog import Catalog
from bot.errors import UserInputError
from bot.i18n import MessageRef

MAX_PRICE = Decimal("1000000")
MAX_COUNT = 100_000_000
MAX_DAYS = 3660


_PRICE = re.compile(r"^(?:us\$|\$|usd|£|€|¥|￥)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:usd|美元|美金|刀)?$")
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


_NUMBER_LIKE = re.compile(r"^[-+]?(?:us\$|[$£€¥￥])?[-+]?[\d,]*\.?\d+(?:usd|美元|美金|刀|%)?$")


def looks_like_number(word: str) -> bool:
    """A word meant as a number, even a bad one (-5, 1e9 is not; "3c" is a category, not a price)."""
    return bool(_NUMBER_LIKE.match(word.strip().casefold()))


def parse_price(word: str, what: str = MessageRef("what_price"), *, allow_zero: bool = False) -> Decimal:
    """A positive amount of money with at most two decimals: 18, 18.99, $1,500 (0 too, if allowed)."""
    match = _PRICE.match(word.strip().casefold())
    if not match:
        if looks_like_number(word) and word.strip().lstrip("$£€¥￥").startswith("-"):
            raise UserInputError("error_negative", what=what, value=word)
        raise UserInputError("error_not_a_number", what=what, value=word)
    whole, cents = match.group(1).replace(",", ""), match.group(2) or ""
    if len(cents) > 2:
        raise UserInputError("error_too_many_decimals", what=what, value=word)
    try:
        amount = Decimal(f"{whole}.{cents or '0'}")
    except InvalidOperation:
        raise UserInputError("error_not_a_number", what=what, value=word) from None
    if amount < 0 or (amount == 0 and not allow_zero):
        raise UserInputError("error_not_positive", what=what, value=word)
    if amount > MAX_PRICE:
        raise UserInputError("error_too_large", what=what, value=word, limit="1,000,000")
    return amount


def parse_count(word: str, what: str, *, allow_zero: bool = True, limit: int = MAX_COUNT) -> int:
    """A whole number of units, days or orders."""
    text = word.strip().replace(",", "")
    if not re.fullmatch(r"[-+]?\d+", text):
        raise UserInputError("error_not_whole_number", what=what, value=word)
    if text.startswith("-") and text.strip("-0"):
        raise UserInputError("error_negative", what=what, value=word)
    # A number of more than 12 digits is absurd anyway; refuse it before converting it.
    if len(text.lstrip("+-")) > 12 or int(text) > limit:
        raise UserInputError("error_too_large", what=what, value=word, limit=f"{limit:,}")
    value = abs(int(text))
    if value == 0 and not allow_zero:
        raise UserInputError("error_not_positive", what=what, value=word)
    return value


def parse_decimal(word: str, what: str, *, limit: Decimal, over_limit: str = "error_too_large") -> Decimal:
    """A non-negative number, decimals allowed (12.5 days, 20%); past `limit`, the `over_limit` message."""
    text = word.strip().rstrip("%％")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UserInputError("error_not_a_number", what=what, value=word) from None
    if not value.is_finite():
        raise UserInputError("error_not_a_number", what=what, value=word)
    if value < 0:
        raise UserInputError("error_negative", what=what, value=word)
    if value > limit:
        raise UserInputError(over_limit, what=what, value=word, limit=f"{limit:,}")
    return value


def parse_percent(word: str, what: str) -> Decimal:
    """A percentage such as 20 or 20% or 12.5."""
    return parse_decimal(word, what, limit=Decimal(100), over_limit="error_percent_range")


def is_date(word: str) -> bool:
    return bool(_DATE.match(word.strip()))


def parse_date(word: str) -> dt.date:
    try:
        year, month, day = (int(part) for part in word.strip().split("-"))
        value = dt.date(year, month, day)
    except ValueError:
        raise UserInputError("error_bad_date", value=word) from None
    if not 2000 <= value.year <= 2100:
        raise UserInputError("error_bad_date", value=word)
    return value


def find_platform(catalog: Catalog, word: str) -> str | None:
    """The platform id a word names (id, either name, or an alias), case-insensitive."""
    folded = word.strip().casefold()
    if not folded:
        return None
    for platform in catalog.platforms.values():
        names = [platform.id, platform.info.name.en, platform.info.name.zh, *platform.info.aliases]
        if folded in (name.casefold() for name in names):
            return platform.id
    return None


def find_marketplace(catalog: Catalog, word: str) -> str | None:
    """The marketplace code a word names ("uk", "英国站", "amazon.de" -> UK, UK, DE), case-insensitive.

    The words are data (policies/marketplaces.toml); any code the catalog's rules use counts too.
    """
    return catalog.marketplace_words.get(word.strip().casefold())


# Dates as people write them: 2025-06-01, 2025/6/1, 2025年6月1日, June 1 2025, 1 June 2025 (an "on" or 在
# before one is part of it). Month names are full or three letters; "may" stands only as part of a date.
MONTHS = {
    name: number
    for number, full in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december"),
        start=1,
    )
    for name in (full, full[:3], "sept" if number == 9 else full)
}  # fmt: skip
_MONTH_NAME = "|".join(sorted(MONTHS, key=len, reverse=True))
_WRITTEN_DATES = (
    re.compile(r"(?P<y>\d{4})\s?[-/.]\s?(?P<m>\d{1,2})\s?[-/.]\s?(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?P<y>\d{4})\s?年\s?(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号]?"),
    re.compile(rf"\b(?P<mn>{_MONTH_NAME})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b", re.I),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mn>{_MONTH_NAME})\.?,?\s+(?P<y>\d{{4}})\b", re.I),
)
_BEFORE_DATE = re.compile(r"(?:\b(?:on|from|as of)\s+|在|于)$", re.I)


def written_date(text: str) -> tuple[dt.date, tuple[int, int]] | None:
    """The first date written in the text and where it stands (with an "on" before it), if any; a day
    that does not exist (2025-02-30) is no date."""
    found = []
    for pattern in _WRITTEN_DATES:
        for match in pattern.finditer(text):
            month = MONTHS[match["mn"].casefold()] if "mn" in match.groupdict() else int(match["m"])
            try:
                day = dt.date(int(match["y"]), month, int(match["d"]))
            except ValueError:
                continue
            before = _BEFORE_DATE.search(text[: match.start()])
            found.append((before.start() if before else match.start(), match.end(), day))
    if not found:
        return None
    start, end, day = min(found)
    return day, (start, end)


# FBA figures in a seller's words -> the form /fba reads ("12x9x2 in 1.2 lb 25usd 2025-06-01").
_LABELLED_SIDES = re.compile(
    r"长\s*(?P<l>\d+(?:\.\d+)?)\s*(?P<u1>[a-z\u4e00-\u9fff]*)[\s,，、]*"
    r"宽\s*(?P<w>\d+(?:\.\d+)?)\s*(?P<u2>[a-z\u4e00-\u9fff]*)[\s,，、]*"
    r"高\s*(?P<h>\d+(?:\.\d+)?)\s*(?P<u3>[a-z\u4e00-\u9fff]*)",
    re.I,
)
# Words that label the number after them (售价25美元, 重200克): the number says what it is by its unit.
FIGURE_LABELS = ("售价", "价格", "卖价", "卖", "重量", "重", "单价")
_LABEL_BEFORE_NUMBER = re.compile(rf"(?:{'|'.join(FIGURE_LABELS)})\s*(?=[$¥￥]?\d)")
# A dollar word after a number, spaced or not ("25 美元", "25 dollars", "25刀"), is written as /fba reads it.
_SPACED_CURRENCY = re.compile(
    r"(?<![\d.])(\d[\d,]*(?:\.\d+)?)\s*(美元|美金|刀|usd|dollars?|bucks)(?![a-z])", re.I
)
_GLUED_CJK_NUMBER = re.compile(r"(?<=[\u4e00-\u9fff])(?=[$\d])")


def seller_fba_words(text: str) -> str:
    """An FBA question as sellers write it, put in the words /fba reads: Chinese labels and units spaced
    from their numbers, "长30厘米 宽20厘米 高2厘米" as 30x20x2厘米, "25 美元" as 25usd, and a written date
    (2025年6月1日, on June 1 2025) as 2025-06-01."""
    found = written_date(text)
    if found is not None:
        day, (start, end) = found
        text = f"{text[:start]} {day.isoformat()} {text[end:]}"
    sides = _LABELLED_SIDES.search(text)
    if sides is not None:
        unit = sides["u3"] or sides["u2"] or sides["u1"]
        text = f"{text[: sides.start()]} {sides['l']}x{sides['w']}x{sides['h']}{unit} {text[sides.end() :]}"
    text = _LABEL_BEFORE_NUMBER.sub(" ", text)
    text = _SPACED_CURRENCY.sub(r"\1usd", text)
    return _GLUED_CJK_NUMBER.sub(" ", text)
