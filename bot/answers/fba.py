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
from bot.answers.fees import split_currency
from bot.answers.parsing import find_marketplace, looks_like_number, parse_date, parse_price, seller_fba_words
from bot.catalog import (
    Catalog,
    FbaFee,
    FbaQuote,
    Package,
    SurchargeBase,
    WeightBasis,
    card_on,
    cards_of,
    peak_window,
    quote_price,
    to_inches,
    to_pounds,
)
from bot.errors import UserInputError
from bot.i18n import Html, join, t
from bot.money import Money, format_money, format_number, format_rate

__all__ = ["FbaRequest", "answer_fba", "looks_like_fba_question", "parse_fba_request"]

DEFAULT_MARKETPLACE = "US"
PLATFORM = "amazon"  # FBA is Amazon's: category words are read as Amazon's categories
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
    "on", "amazon", "亚马逊", "配送费", "配送费多少", "运费", "运费多少",
}  # fmt: skip
_NUMBER = r"(\d+(?:\.\d+)?)"
_DIMS = re.compile(rf"{_NUMBER}\s*[x×*]\s*{_NUMBER}\s*[x×*]\s*{_NUMBER}\s*([a-z\"\u4e00-\u9fff]*)", re.I)
_WEIGHT = re.compile(rf"(?<![\d.]){_NUMBER}\s*([a-z\u4e00-\u9fff]+)", re.I)
_DATE = re.compile(r"\b(\d{4}-\d{1,2}-\d{1,2})\b")
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
    # The category the question names ("服装 FBA ..."): a card may not price it (apparel).
    category: str | None = None
    currency: str | None = None  # the price's, where written ("$18"); else the marketplace's card's

    def price_in(self, currency: str) -> Money:
        """The price with its currency: as written, else `currency` (the card's)."""
        return Money(self.price, self.currency or currency)


def looks_like_fba_question(text: str) -> bool:
    """Free text that asks for an FBA fee: it says "FBA" (or 配送费) and gives three dimensions."""
    return bool(_TRIGGER.search(text)) and bool(_DIMS.search(seller_fba_words(text)))


def parse_fba_request(catalog: Catalog, text: str) -> FbaRequest:
    """Read dimensions, weight, price, an optional date and marketplace from the words, in any order."""
    rest = re.sub(r"^\s*/fba(?:@\w+)?\s*", "", text, flags=re.I)
    rest = _TRIGGER.sub(" ", seller_fba_words(rest), count=1)
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
    named_market: str | None = None
    category: str | None = None
    words = []
    for word in re.split(r"[\s,，:：?？]+", rest):
        # A filler word is never a marketplace code ("selling at $15" is not Austria).
        if not word or word.casefold().strip("?？.。") in FILLER_WORDS:
            continue
        market = find_marketplace(catalog, word)
        amazon_category = dict(catalog.category_index.get(word.casefold(), ())).get(PLATFORM)
        if market:
            named_market = market
        elif amazon_category is not None and category is None:
            category = amazon_category
        else:
            words.append(word)
    prices = [word for word in words if looks_like_number(split_currency(catalog, word)[0])]
    if not prices:
        raise UserInputError("fba_usage")
    if len(words) > 1:
        raise UserInputError("fba_unknown_words", value=" ".join(w for w in words if w != prices[0]))
    number, currency = split_currency(catalog, prices[0])
    price = parse_price(number)
    marketplace = _marketplace(catalog, named_market, currency, price)
    return FbaRequest(
        Package.of(sides, weight_lb),
        price,
        day,
        marketplace,
        dims.group(0).strip(),
        weight.group(0).strip(),
        category,
        currency,
    )


def _marketplace(catalog: Catalog, named: str | None, currency: str | None, price: Decimal) -> str:
    """The marketplace named, else the one a price's currency selects ("£18": UK), else US."""
    if currency is None:
        return named or DEFAULT_MARKETPLACE
    pricing = [code for code, market in catalog.marketplaces.items() if market.currency == currency]
    if named is not None:
        if named in pricing or named not in catalog.marketplaces or not catalog.marketplaces[named].currency:
            return named
        raise UserInputError(
            "fees_currency_mismatch",
            price=format_money(price, currency),
            market=named,
            currency=catalog.marketplaces[named].currency,
        )
    with_cards = [code for code in pricing if cards_of(catalog, code)]
    return (with_cards or pricing or [DEFAULT_MARKETPLACE])[0]


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


def _fee_lines(result: FbaQuote, price: Money, lang: str) -> list[Html]:
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
                price=price.format(),
                band=fee.band.label.get(lang),
                other=fee.other_band.label.get(lang),
                other_fee=format_money(fee.other_fee, money),
            )
        )
    for surcharge in result.surcharges:
        lines.append(
            t(
                lang,
                "fba_surcharge_since",
                date=surcharge.since.isoformat() if surcharge.since else "—",
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
    """Each change on its own date: the rate card's (the fee alone, the day before the card against the
    card), then each surcharge from the day it started. Never one sum of both."""
    start = result.fee.card.effective_from
    price = request.price_in(result.fee.card.currency)
    before = quote_price(catalog, request.marketplace, request.package, price, start - dt.timedelta(days=1))
    money = result.fee.card.currency
    lines = []
    if before is None:
        lines.append(t(lang, "fba_no_earlier_card", date=start.isoformat()))
    else:
        difference = result.fee.fee - before.fee.fee
        lines.append(
            t(
                lang,
                "fba_card_change",
                date=start.isoformat(),
                old=format_money(before.fee.fee, money),
                tier=before.fee.choice.tier.label.get(lang),
                new=format_money(result.fee.fee, money),
                difference=("+" if difference > 0 else "") + format_money(difference, money),
            )
        )
    for surcharge in result.surcharges:
        lines.append(
            t(
                lang,
                "fba_surcharge_change",
                date=surcharge.since.isoformat() if surcharge.since else "—",
                amount=format_money(surcharge.amount, money),
                rate=format_rate(surcharge.rate),
                fee=format_money(result.fee.fee, money),
            )
        )
    return lines


def _peak_lines(catalog: Catalog, marketplace: str, day: dt.date, lang: str) -> list[Html]:
    """Inside the usual holiday peak window: that peak fees normally apply, that this season's are not on
    record, and what the last announced peak added. Outside it: nothing."""
    found = peak_window(catalog, marketplace)
    if found is None or not found[1].contains(day):
        return []
    rule, window = found
    start, end = (f"{month:02d}-{day_:02d}" for month, day_ in (window.start, window.end))
    last = {"last_from": window.last_from.isoformat(), "last_until": window.last_until.isoformat()}
    if window.announced(day):
        lines = [t(lang, "fba_peak_announced", date=day.isoformat(), **last)]
    else:
        lines = [t(lang, "fba_peak_usual", date=day.isoformat(), start=start, end=end)]
    examples = [
        t(
            lang,
            "fba_peak_example",
            label=example.label.get(lang),
            non_peak=format_money(example.non_peak, window.currency),
            peak=format_money(example.peak, window.currency),
            added=format_money(example.peak - example.non_peak, window.currency),
        )
        for example in window.examples
    ]
    if examples:
        separator = "；" if lang == "zh" else "; "
        lines.append(t(lang, "fba_peak_last", examples=join(examples, separator), rule_id=rule.id, **last))
    return lines


def _category_not_computed(
    catalog: Catalog, request: FbaRequest, ctx: ChatContext, day: dt.date
) -> Html | None:
    """The card in force does not price the category asked about (apparel): say so, quote nothing."""
    card = card_on(catalog, request.marketplace, day)
    if request.category is None or card is None or request.category not in card.excludes:
        return None
    category = next((c for c in catalog.platforms[PLATFORM].categories if c.id == request.category), None)
    name = category.name.get(ctx.lang) if category is not None else request.category
    return t(
        ctx.lang,
        "fba_category_not_computed",
        category=name,
        card=card.effective_from.isoformat(),
        scope=card.scope.get(ctx.lang),
    )


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
    card_then = card_on(catalog, request.marketplace, day)
    price = request.price_in(card_then.currency if card_then else cards[0][1].currency)
    result = quote_price(catalog, request.marketplace, request.package, price, day)
    if result is None:
        first = cards[0][1].effective_from
        return t(lang, "fba_no_card_then", date=day.isoformat(), first=first.isoformat())
    card = result.fee.card
    not_computed = _category_not_computed(catalog, request, ctx, day)
    if not_computed is not None:
        title = t(
            lang,
            "fba_title",
            marketplace=request.marketplace,
            price=price.format(),
            sides=request.sides_text,
            weight=request.weight_text,
        )
        rule_line = t(lang, "fba_scope", scope=card.scope.get(lang), rule_id=cards[0][0].id)
        return join([title, not_computed, Html(""), rule_line])
    lines = [
        t(
            lang,
            "fba_title",
            marketplace=request.marketplace,
            price=price.format(),
            sides=request.sides_text,
            weight=request.weight_text,
        ),
        *_tier_lines(result.fee, lang),
        *_weight_lines(result.fee, request, lang),
        Html(""),
        *_fee_lines(result, price, lang),
        *_change_lines(catalog, request, result, lang),
        *_peak_lines(catalog, request.marketplace, day, lang),
        Html(""),
        t(lang, "fba_scope", scope=card.scope.get(lang), rule_id=cards[0][0].id),
    ]
    return join(lines)
