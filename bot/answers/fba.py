"""`/fba <L>x<W>x<H> <in|cm> <weight> <lb|oz|kg|g> <price> [YYYY-MM-DD]`: the FBA fee, with its working.

Also free text such as "FBA 10x8x1 inch 6 oz $18". The reply shows the size tier and why, the shipping
weight (unit or dimensional, the 2-inch minimum), the fee on the date, the fee before the last rate-card
change and the difference, the fuel surcharge where it applies, and how sure the figures are.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.answers.cards import ChatContext
from bot.answers.parsing import find_marketplace, parse_date, parse_price
from bot.catalog import (
    Catalog,
    FbaFee,
    FbaQuote,
    Package,
    SurchargeBase,
    WeightBasis,
    card_on,
    cards_of,
    quote,
    to_inches,
    to_pounds,
)
from bot.errors import UserInputError
from bot.i18n import Html, join, t
from bot.money import format_money, format_number, format_rate

__all__ = ["FbaRequest", "answer_fba", "looks_like_fba_question", "parse_fba_request"]

DEFAULT_MARKETPLACE = "US"
MAX_SIDE_IN = Decimal(1000)
MAX_WEIGHT_LB = Decimal(10000)

# The words sellers write for units, in both languages.
LENGTH_WORDS = {
    "in": "in", "inch": "in", "inches": "in", '"': "in", "英寸": "in", "寸": "in",
    "cm": "cm", "厘米": "cm", "公分": "cm", "mm": "mm", "毫米": "mm",
}  # fmt: skip
WEIGHT_WORDS = {
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "磅": "lb",
    "oz": "oz", "ounce": "oz", "ounces": "oz", "盎司": "oz",
    "kg": "kg", "kgs": "kg", "公斤": "kg", "千克": "kg",
    "g": "g", "gram": "g", "grams": "g", "克": "g",
}  # fmt: skip

# Words a question may carry around the figures ("FBA fee for 10x8x1 in, 6 oz, price $18?").
FILLER_WORDS = {
    "fee", "fees", "for", "at", "of", "the", "a", "an", "is", "what", "how", "much", "price", "priced",
    "sale", "selling", "weight", "weighs", "size", "item", "product", "费", "费用", "多少", "是", "售价",
    "价格", "重量", "尺寸", "商品", "产品", "的", "费多少", "多少钱", "要多少", "收多少", "是多少",
    "费用多少", "cost", "costs", "fulfillment", "fulfilment", "?", "？",
}  # fmt: skip
_NUMBER = r"(\d+(?:\.\d+)?)"
_DIMS = re.compile(rf"{_NUMBER}\s*[x×*]\s*{_NUMBER}\s*[x×*]\s*{_NUMBER}\s*([a-z\"\u4e00-\u9fff]*)", re.I)
_WEIGHT = re.compile(rf"(?<![\d.]){_NUMBER}\s*([a-z\u4e00-\u9fff]+)", re.I)
_DATE = re.compile(r"\b(\d{4}-\d{1,2}-\d{1,2})\b")
_PRICE = re.compile(r"(?:(?<=\s)|^)((?:us\$|\$|usd)?\d[\d,]*(?:\.\d+)?(?:usd|美元|刀)?)(?=\s|$)", re.I)
# "FBA" or 配送费 anywhere ("10x8x1 in 6 oz $18 fba fee?", "这个 fba 多少"), not inside a word ("fbapro").
_TRIGGER = re.compile(r"(?<![a-z])(?:fba(?![a-z])\s*(?:配送费|运费)?|配送费)", re.I)


@dataclass(frozen=True)
class FbaRequest:
    package: Package
    price: Decimal
    day: dt.date | None
    marketplace: str
    sides_text: str  # as the user wrote them, for the reply
    weight_text: str


def looks_like_fba_question(text: str) -> bool:
    """Free text that asks for an FBA fee: it says "FBA" (or 配送费) and gives three dimensions."""
    return bool(_TRIGGER.search(text)) and bool(_DIMS.search(text))


def parse_fba_request(catalog: Catalog, text: str) -> FbaRequest:
    """Read dimensions, weight, price, an optional date and marketplace from the words, in any order."""
    rest = re.sub(r"^\s*/fba(?:@\w+)?\s*", "", text, flags=re.I)
    rest = _TRIGGER.sub(" ", rest, count=1)
    dims = _DIMS.search(rest)
    if dims is None:
        raise UserInputError("fba_usage")
    length_unit = LENGTH_WORDS.get(dims.group(4).casefold())
    if length_unit is None:
        raise UserInputError("fba_length_unit", value=dims.group(4) or "?")
    sides = (
        to_inches(Decimal(dims.group(1)), length_unit),
        to_inches(Decimal(dims.group(2)), length_unit),
        to_inches(Decimal(dims.group(3)), length_unit),
    )
    if any(side <= 0 for side in sides) or any(side > MAX_SIDE_IN for side in sides):
        raise UserInputError("fba_bad_size", value=dims.group(0).strip())
    rest = rest[: dims.start()] + " " + rest[dims.end() :]
    day = None
    if found := _DATE.search(rest):
        day = parse_date(found.group(1))
        rest = rest[: found.start()] + " " + rest[found.end() :]
    weight = next((m for m in _WEIGHT.finditer(rest) if m.group(2).casefold() in WEIGHT_WORDS), None)
    if weight is None:
        unknown = _WEIGHT.search(rest)
        if unknown and not unknown.group(2).casefold().startswith(("usd", "美元", "刀")):
            raise UserInputError("fba_weight_unit", value=unknown.group(0))
        raise UserInputError("fba_usage")
    weight_lb = to_pounds(Decimal(weight.group(1)), WEIGHT_WORDS[weight.group(2).casefold()])
    if weight_lb <= 0 or weight_lb > MAX_WEIGHT_LB:
        raise UserInputError("fba_bad_weight", value=weight.group(0))
    rest = rest[: weight.start()] + " " + rest[weight.end() :]
    marketplace = DEFAULT_MARKETPLACE
    words = []
    for word in re.split(r"[\s,，:：?？]+", rest):
        market = find_marketplace(catalog, word)
        if market:
            marketplace = market
        elif word and word.casefold().strip("?？.。") not in FILLER_WORDS:
            words.append(word)
    prices = [word for word in words if _PRICE.fullmatch(word)]
    if not prices:
        raise UserInputError("fba_usage")
    if len(words) > 1:
        raise UserInputError("fba_unknown_words", value=" ".join(w for w in words if w != prices[0]))
    price = parse_price(prices[0])
    return FbaRequest(
        Package.of(sides, weight_lb), price, day, marketplace, dims.group(0).strip(), weight.group(0).strip()
    )


def _lb(value: Decimal) -> str:
    """Inches and pounds to three decimals at most: 2 oz is 0.125 lb, not a rounded 0.12."""
    return format_number(value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def _tier_lines(fee: FbaFee, lang: str) -> list[Html]:
    choice = fee.choice
    lines = [t(lang, "fba_tier", tier=choice.tier.label.get(lang))]
    for miss in choice.missed:
        lines.append(
            t(
                lang,
                "fba_tier_missed",
                tier=miss.tier.label.get(lang),
                what=t(lang, f"fba_limit_{miss.what}"),
                value=_lb(miss.value),
                limit=format_number(miss.limit),
            )
        )
    return lines


def _weight_lines(fee: FbaFee, request: FbaRequest, lang: str) -> list[Html]:
    choice, card = fee.choice, fee.card
    package = request.package
    lines = [
        t(
            lang,
            "fba_package",
            sides=" x ".join(_lb(s) for s in (package.longest, package.median, package.shortest)),
            weight=_lb(package.weight_lb),
            oz=_lb(package.weight_lb * 16),
        ),
        t(
            lang,
            "fba_dimensional",
            weight=_lb(choice.dimensional_weight),
            divisor=format_number(card.dim_divisor),
        ),
    ]
    if choice.floor_applied:
        lines.append(t(lang, "fba_floor_applied", minimum=format_number(choice.tier.dim_min_side_in)))
    elif choice.tier.dim_min_side_in == 0:
        lines.append(t(lang, "fba_floor_not_for_tier"))
    key = "fba_uses_dimensional" if choice.used_dimensional else "fba_uses_unit"
    if choice.tier.weight is WeightBasis.UNIT:
        key = "fba_unit_only"
    lines.append(t(lang, key, weight=_lb(choice.shipping_weight)))
    return lines


def _fee_lines(result: FbaQuote, price: Decimal, lang: str) -> list[Html]:
    fee, card = result.fee, result.fee.card
    money = card.currency
    lines = [
        t(
            lang,
            "fba_fee",
            date=result.day.isoformat(),
            fee=format_money(fee.fee, money),
            band=fee.band.label.get(lang),
            card=card.effective_from.isoformat(),
        )
    ]
    if fee.increments:
        assert fee.row.per is not None and fee.row.above is not None
        lines.append(
            t(
                lang,
                "fba_increments",
                base=format_money(fee.row.fees[[b.id for b in card.bands].index(fee.band.id)], money),
                count=fee.increments,
                add=format_money(fee.row.add, money),
                per=_lb(fee.row.per),
                above=_lb(fee.row.above),
            )
        )
    if fee.other_band is not None and fee.other_fee is not None:
        lines.append(
            t(
                lang,
                "fba_boundary",
                price=format_money(price, money),
                band=fee.band.label.get(lang),
                other=fee.other_band.label.get(lang),
                other_fee=format_money(fee.other_fee, money),
            )
        )
    for surcharge in result.surcharges:
        lines.append(
            t(
                lang,
                "fba_surcharge",
                rate=format_rate(surcharge.rate),
                amount=format_money(surcharge.amount, money),
            )
        )
    if result.surcharges:
        lines.append(t(lang, "fba_total", total=format_money(result.total, money)))
    lines.append(
        t(lang, "fba_confidence_checked", check=fee.row.check.get(lang))
        if fee.checked and fee.row.check is not None
        else t(lang, "fba_confidence", confidence=t(lang, f"confidence_{fee.confidence.value}"))
    )
    if fee.row.note is not None:
        lines.append(t(lang, "fba_row_note", note=fee.row.note.get(lang)))
    return lines


def _change_lines(catalog: Catalog, request: FbaRequest, result: FbaQuote, lang: str) -> list[Html]:
    """The fee the day before the current card started, and the difference with today's total."""
    start = result.fee.card.effective_from
    before = quote(catalog, request.marketplace, request.package, request.price, start - dt.timedelta(days=1))
    money = result.fee.card.currency
    if before is None:
        return [t(lang, "fba_no_earlier_card", date=start.isoformat())]
    difference = result.total - before.total
    return [
        t(
            lang,
            "fba_before",
            date=start.isoformat(),
            fee=format_money(before.total, money),
            tier=before.fee.choice.tier.label.get(lang),
            difference=("+" if difference > 0 else "") + format_money(difference, money),
        )
    ]


def _surcharges_not_applied(catalog: Catalog, marketplace: str, day: dt.date, lang: str) -> list[Html]:
    """Surcharges on the FBA fee in force on `day` or later in a marketplace we hold no card for (R-A2 in
    Europe): named, and said not to be applied, since the fee they are a share of is unknown."""
    return [
        t(
            lang,
            "fba_surcharge_not_applied",
            label=surcharge.label.get(lang),
            rate=format_rate(surcharge.rate),
            date=surcharge.effective_from.isoformat(),
            confidence=t(lang, f"confidence_{rule.confidence.value}"),
        )
        for rule in catalog.rules.values()
        for surcharge in rule.surcharges
        if surcharge.applies_to is SurchargeBase.FBA_FULFILLMENT
        and marketplace in surcharge.marketplaces
        and (surcharge.until is None or day < surcharge.until)
    ]


def answer_fba(catalog: Catalog, text: str, ctx: ChatContext) -> Html:
    """The reply to /fba ... or to free text asking for an FBA fee."""
    request = parse_fba_request(catalog, text)
    lang = ctx.lang
    day = request.day or ctx.today
    cards = cards_of(catalog, request.marketplace)
    if not cards:
        return join(
            [
                t(lang, "fba_no_marketplace", marketplace=request.marketplace),
                *_surcharges_not_applied(catalog, request.marketplace, day, lang),
            ]
        )
    result = quote(catalog, request.marketplace, request.package, request.price, day)
    if result is None or card_on(catalog, request.marketplace, day) is None:
        first = cards[0][1].effective_from
        return t(lang, "fba_no_card_then", date=day.isoformat(), first=first.isoformat())
    card = result.fee.card
    lines = [
        t(
            lang,
            "fba_title",
            marketplace=request.marketplace,
            price=format_money(request.price, card.currency),
            sides=request.sides_text,
            weight=request.weight_text,
        ),
        *_tier_lines(result.fee, lang),
        *_weight_lines(result.fee, request, lang),
        Html(""),
        *_fee_lines(result, request.price, lang),
        *_change_lines(catalog, request, result, lang),
        Html(""),
        t(lang, "fba_scope", scope=card.scope.get(lang), rule_id=cards[0][0].id),
    ]
    return join(lines)
