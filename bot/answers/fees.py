"""`/fees <category> <price> [YYYY-MM-DD] [platform or marketplace]`: the referral fee, and how it changed."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.answers.cards import ChatContext, band_text, describe_tiers, schedule_versions
from bot.answers.parsing import (
    find_marketplace,
    find_platform,
    is_date,
    looks_like_number,
    parse_date,
    parse_price,
)
from bot.catalog import (
    Catalog,
    Category,
    FeeCharge,
    FeeSchedule,
    TierStyle,
    charge,
    prime_applies,
    referral_fee,
)
from bot.errors import UserInputError
from bot.i18n import Html, MessageRef, escape, join, t
from bot.markets import reached_markets
from bot.money import Money, format_money, format_rate

DEFAULT_PLATFORM = "amazon"
DEFAULT_MARKETPLACE = "US"


@dataclass(frozen=True)
class FeeRequest:
    category_words: str
    price: Decimal | None
    day: dt.date | None
    platform: str | None
    marketplace: str | None
    # The currency the price was written in ("$18", "18英镑", "18 usd"): it picks the marketplace.
    currency: str | None = None
    # True: the seller said FBA or Prime; False: said they fulfil it themselves (FBM); None: not said.
    prime: bool | None = None


# How a seller says who fulfils the order: Amazon or Seller Fulfilled Prime, or themselves.
PRIME_WORDS = {"fba", "prime", "sfp", "亚马逊物流", "亚马逊配送", "prime会员"}
MERCHANT_WORDS = {"fbm", "自发货", "卖家自发货", "self-fulfilled"}


_PRIME_IN_TEXT = re.compile(r"(?<![a-z])(?:fba|sfp|prime)(?![a-z])|亚马逊物流|亚马逊配送", re.I)
_MERCHANT_IN_TEXT = re.compile(r"(?<![a-z])fbm(?![a-z])|自发货", re.I)


def fulfilment_word(text: str) -> str | None:
    """ "fba" or "fbm" where a free question says who fulfils the order, for the words of /fees."""
    if _MERCHANT_IN_TEXT.search(text):
        return "fbm"
    return "fba" if _PRIME_IN_TEXT.search(text) else None


def _fulfilment(word: str) -> bool | None:
    folded = word.casefold()
    return True if folded in PRIME_WORDS else False if folded in MERCHANT_WORDS else None


def split_currency(catalog: Catalog, word: str) -> tuple[str, str | None]:
    """ "$18" -> ("18", "USD"), "50英镑" -> ("50", "GBP"), "18" -> ("18", None): the currency words
    are data (policies/marketplaces.toml), the longest that fits before or after the number wins."""
    folded = word.strip().casefold()
    if not folded or (folded[0].isdigit() and folded[-1].isdigit()):
        return word, None  # a bare number, the common case: no currency word to look for
    for currency_word in _longest_first(catalog.currency_words):
        if folded.startswith(currency_word) and looks_like_number(folded[len(currency_word) :]):
            return folded[len(currency_word) :], catalog.currency_words[currency_word]
        if folded.endswith(currency_word) and looks_like_number(folded[: -len(currency_word)]):
            return folded[: -len(currency_word)], catalog.currency_words[currency_word]
    return word, None


# The currency words of a catalog, longest first ("us$" before "$"), sorted once per catalog.
_SORTED_WORDS: dict[int, tuple[dict[str, str], tuple[str, ...]]] = {}


def _longest_first(words: dict[str, str]) -> tuple[str, ...]:
    cached = _SORTED_WORDS.get(id(words))
    if cached is None or cached[0] is not words:  # keeping the dict in the value keeps its id unique
        _SORTED_WORDS.clear()  # one catalog at a time: a reload replaces the last one's entry
        cached = _SORTED_WORDS[id(words)] = (words, tuple(sorted(words, key=len, reverse=True)))
    return cached[1]


def _is_price_word(catalog: Catalog, word: str) -> bool:
    return not is_date(word) and looks_like_number(split_currency(catalog, word)[0])


def parse_fee_request(catalog: Catalog, words: list[str]) -> FeeRequest:
    """Split the words into category, price, date, platform and marketplace (any order after the price)."""
    price_at = next((i for i, word in enumerate(words) if _is_price_word(catalog, word)), None)
    category_end = price_at if price_at is not None else len(words)
    day = platform = marketplace = None
    # Options may follow the category even without a price: /fees apparel amazon.
    category_words: list[str] = []
    prime: bool | None = None
    for word in words[:category_end]:
        # A marketplace first, as after a price: "eu" is the EU store here, not the EU's own rules.
        found_market = find_marketplace(catalog, word)
        if is_date(word):
            day = parse_date(word)
        elif found_market and category_words:
            marketplace = found_market
        elif find_platform(catalog, word) and category_words:
            platform = find_platform(catalog, word)
        elif _fulfilment(word) is not None and category_words:
            prime = _fulfilment(word)
        else:
            category_words.append(word)
    price = currency = None
    if price_at is not None:
        number, currency = split_currency(catalog, words[price_at])
        price = parse_price(number)
    after = _join_platform_names(catalog, words[category_end + 1 :]) if price_at is not None else []
    for word in after:
        if is_date(word):
            day = parse_date(word)
        elif word.casefold() in catalog.currency_words and currency is None:
            currency = catalog.currency_words[word.casefold()]  # "18 usd", "18 美元"
        elif _fulfilment(word) is not None:
            prime = _fulfilment(word)
        elif find_marketplace(catalog, word):
            marketplace = find_marketplace(catalog, word)
        elif find_platform(catalog, word):
            platform = find_platform(catalog, word)
        elif looks_like_number(word):
            raise UserInputError("fees_two_prices", value=word)
        else:
            raise UserInputError("fees_unknown_option", value=word, platforms=_platform_names(catalog))
    return FeeRequest(" ".join(category_words), price, day, platform, marketplace, currency, prime)


def _join_platform_names(catalog: Catalog, words: list[str]) -> list[str]:
    """ "mercado", "libre" -> "mercado libre": a platform name of two words after the price is one option."""
    joined: list[str] = []
    index = 0
    while index < len(words):
        pair = " ".join(words[index : index + 2])
        if (
            index + 1 < len(words)
            and find_platform(catalog, pair)
            and not find_platform(catalog, words[index + 1])
        ):
            joined.append(pair)
            index += 2
        else:
            joined.append(words[index])
            index += 1
    return joined


def _platform_names(catalog: Catalog) -> str:
    return ", ".join(sorted(p for p, platform in catalog.platforms.items() if platform.categories))


def _category_names(category: Category) -> list[str]:
    return [category.id, category.name.en, category.name.zh, *category.aliases]


@dataclass(frozen=True)
class FoundSchedule:
    schedule: FeeSchedule
    category: Category
    market: str  # the marketplace asked about (DE), which may share a schedule (EU)
    note: Html | None  # set when a catch-all category stood in for the one asked about


def find_schedule(
    catalog: Catalog, request: FeeRequest, lang: str, subscribed: tuple[str, ...] = ()
) -> FoundSchedule:
    """The schedule the request means: its marketplace, else a subscribed one, else US, else any."""
    wanted = request.category_words.casefold().strip()
    platforms = [request.platform] if request.platform else _platform_order(catalog)
    # platform id -> category id; a seller's product word (鞋靴, 连衣裙) names its category too.
    named = dict(catalog.category_index.get(wanted) or catalog.vocabulary.categories.get(wanted) or ())
    for platform_id in platforms:
        if platform_id not in named:
            continue
        match = next(c for c in catalog.platforms[platform_id].categories if c.id == named[platform_id])
        found = _schedule_for(catalog, platform_id, match, request.marketplace, subscribed)
        if found is not None:
            return FoundSchedule(found[0], match, found[1], None)
    if request.platform:
        catch_all = next((c for c in catalog.platforms[request.platform].categories if c.catch_all), None)
        known_elsewhere = _known_anywhere(catalog, wanted)
        if catch_all is not None and known_elsewhere:
            found = _schedule_for(catalog, request.platform, catch_all, request.marketplace, subscribed)
            if found is not None:
                note = t(
                    lang, "fees_catch_all", wanted=request.category_words, category=catch_all.name.get(lang)
                )
                return FoundSchedule(found[0], catch_all, found[1], note)
    if _known_anywhere(catalog, wanted):
        raise UserInputError(
            "fees_no_schedule",
            category=request.category_words,
            where=" ".join(filter(None, [request.platform, request.marketplace])),
            markets=", ".join(_markets_of(catalog, wanted)) or "—",
        )
    raise UserInputError(
        "fees_unknown_category", category=request.category_words, suggestions=_suggest(catalog, wanted, lang)
    )


def _markets_of(catalog: Catalog, wanted: str) -> list[str]:
    """The marketplaces with a schedule for any category named `wanted`, for a helpful refusal."""
    found = catalog.category_index.get(wanted, ())
    return sorted({market for key in found for market in catalog.category_markets.get(key, ())})


def _refuse_word_after_category(catalog: Catalog, words: list[str]) -> None:
    """ "/fees apparel abc": a known category followed by a word that should have been the price."""
    if _known_anywhere(catalog, " ".join(words).casefold()):
        return
    for end in range(len(words) - 1, 0, -1):
        if _known_anywhere(catalog, " ".join(words[:end]).casefold()):
            raise UserInputError("error_not_a_number", what=MessageRef("what_price"), value=words[end])


def _platform_order(catalog: Catalog) -> list[str]:
    others = sorted(p for p in catalog.platforms if p != DEFAULT_PLATFORM)
    return [DEFAULT_PLATFORM, *others] if DEFAULT_PLATFORM in catalog.platforms else others


def _known_anywhere(catalog: Catalog, wanted: str) -> bool:
    return wanted in catalog.category_index


def _schedule_for(
    catalog: Catalog, platform: str, category: Category, marketplace: str | None, subscribed: tuple[str, ...]
) -> tuple[FeeSchedule, str] | None:
    """The category's schedule in `marketplace`; without one, the chat's marketplaces, the platform's home
    marketplace, US, the first."""
    if marketplace:
        named = catalog.fee_schedules.get((platform, marketplace, category.id))
        return (named, marketplace) if named is not None else None
    for market in (*subscribed, *home_markets(catalog, platform)):
        found = catalog.fee_schedules.get((platform, market, category.id))
        if found is not None:
            return found, market
    markets = catalog.category_markets.get((platform, category.id), ())
    return (catalog.fee_schedules[(platform, markets[0], category.id)], markets[0]) if markets else None


def home_markets(catalog: Catalog, platform: str) -> tuple[str, ...]:
    """The platform's home marketplace (policies/<platform>.toml `home`), then US."""
    home = catalog.platforms[platform].info.home
    return (home, DEFAULT_MARKETPLACE) if home else (DEFAULT_MARKETPLACE,)


def _suggest(catalog: Catalog, wanted: str, lang: str) -> str:
    """Close category names, in the words the seller typed them: ids for a Latin word ("aparel":
    apparel), the category's own name in the chat's language for a Chinese one (鞋履: 鞋类, which /fees
    takes as well as "footwear")."""
    in_latin = lang == "en" or wanted.isascii()
    names: dict[str, str] = {}
    for platform in catalog.platforms.values():
        for category in platform.categories:
            shown = category.id if in_latin else category.name.get(lang)
            for name in _category_names(category):
                names.setdefault(name.casefold(), shown)
    close = difflib.get_close_matches(wanted, list(names), n=6, cutoff=0.5)
    if not close:
        # Chinese names are short: a shared character is a better hint than edit distance.
        close = [name for name in names if wanted and (wanted in name or name in wanted)][:6]
    picked = list(dict.fromkeys(names[name] for name in close))[:4]
    if not picked:  # nothing close: offer the first categories, /fees lists them all
        picked = list(dict.fromkeys(names.values()))[:4]
    return ", ".join(picked)


def category_list(catalog: Catalog, ctx: ChatContext) -> Html:
    lines = [t(ctx.lang, "fees_categories_title")]
    for platform_id in _platform_order(catalog):
        platform = catalog.platforms[platform_id]
        if not platform.categories:
            continue
        markets = sorted({m for (p, m, _) in catalog.fee_schedules if p == platform_id})
        lines.append(Html(""))
        lines.append(
            t(
                ctx.lang,
                "fees_platform_heading",
                platform=platform.info.name.get(ctx.lang),
                markets=", ".join(markets),
            )
        )
        for category in platform.categories:
            lines.append(
                t(ctx.lang, "fees_category_line", category_id=category.id, name=category.name.get(ctx.lang))
            )
    lines += [Html(""), t(ctx.lang, "fees_usage")]
    return join(lines)


def _charge_text(charge: FeeCharge, currency: str, lang: str) -> Html:
    """ "10% × $18.00 = $1.80", with marginal slices, fixed and minimum parts spelled out."""
    version = charge.version
    pieces = [
        t(lang, "fee_slice", rate=format_rate(part.tier.rate), amount=format_money(part.amount, currency))
        for part in charge.slices
        # A schedule of a fixed fee alone (eBay US's per-order fee) has a 0% tier: no "0% × $18.00".
        if part.tier.rate or not charge.fixed_part
    ]
    if charge.fixed_band is not None:
        pieces.append(_fixed_band_text(charge, currency, lang))
    elif charge.fixed_part:
        pieces.append(t(lang, "fee_fixed_part", amount=format_money(charge.fixed_part, currency)))
    text = join(pieces, " + ")
    result = t(lang, "fee_equals", text=text, fee=format_money(charge.fee, currency))
    if charge.minimum_applied:
        result = Html(
            result
            + t(
                lang,
                "fee_minimum_applied",
                minimum=format_money(version.minimum_fee, currency),
                percentage=format_money(charge.percentage_fee, currency),
            )
        )
    return result


def _fixed_band_text(charge: FeeCharge, currency: str, lang: str) -> Html:
    """ "fixed fee $0.40 (price band above $10.00)", or "50% × R$12.00 (fixed fee, ...)"."""
    band = charge.fixed_band
    assert band is not None
    where = band_text(band.above, band.up_to, currency, lang)
    if band.share_of_price is not None:
        amount = t(
            lang,
            "fee_slice",
            rate=format_rate(band.share_of_price),
            amount=format_money(charge.price, currency),
        )
        return t(lang, "fees22_fixed_band_share", amount=amount, band=where)
    return t(lang, "fees22_fixed_band", amount=format_money(charge.fixed_part, currency), band=where)


def _rate_of(charge: FeeCharge, lang: str) -> str:
    if charge.fixed_band is not None and not any(part.tier.rate for part in charge.slices):
        # A schedule of a fixed fee alone (its percentage not on record): "0%" would read as no fee.
        return str(t(lang, "fees22_rate_fixed_only"))
    if len(charge.slices) == 1 and charge.version.style is TierStyle.WHOLE_PRICE:
        return format_rate(charge.slices[0].tier.rate)
    return "/".join(format_rate(part.tier.rate) for part in charge.slices)


@dataclass(frozen=True)
class FeeAnswer:
    html: Html
    # Set when the question named a category without a price: a chart of fee against price fits best.
    chart_schedule: FeeSchedule | None = None
    chart_title: str = ""
    # The rule the answer rests on (for `policybot ask --json`).
    rules: tuple[str, ...] = ()


def market_for_currency(
    catalog: Catalog, currency: str, platform: str, category_id: str, subscribed: tuple[str, ...] = ()
) -> str | None:
    """The marketplace a price in `currency` means, for this category: a subscribed one that prices in
    it, else the one whose schedule covers most stores (EU for euros), else None (no store prices in it).

    Which marketplace prices in which currency is data (policies/marketplaces.toml `currency`).
    """
    uses = {code for code, market in catalog.marketplaces.items() if market.currency == currency}
    markets = [
        market
        for market in catalog.category_markets.get((platform, category_id), ())
        if market in uses and catalog.fee_schedules[(platform, market, category_id)].currency == currency
    ]
    own = [
        market
        for market in subscribed
        if market in uses and (platform, market, category_id) in catalog.fee_schedules
    ]
    if own:
        return own[0]
    if not markets:
        return None
    # A region's schedule (EU) speaks for its member stores; otherwise the first in order.
    return max(markets, key=lambda market: (len(reached_markets([market])), -markets.index(market)))


def _each_subscribed(catalog: Catalog, found: FoundSchedule, subscribed: tuple[str, ...]) -> list[str]:
    """The subscribed marketplaces with a schedule of their own for the category (one per schedule)."""
    platform_id = catalog.rule_platform[catalog.schedule_rule[found.schedule.id].id]
    markets: dict[str, str] = {}  # schedule id -> the first subscribed marketplace it serves
    for market in subscribed:
        schedule = catalog.fee_schedules.get((platform_id, market, found.category.id))
        if schedule is not None:
            markets.setdefault(schedule.id, market)
    return list(markets.values())


def answer_fees(catalog: Catalog, words: list[str], ctx: ChatContext) -> FeeAnswer:
    if not words:
        return FeeAnswer(category_list(catalog, ctx))
    request = parse_fee_request(catalog, words)
    if not request.category_words:
        raise UserInputError("fees_missing_category")
    if request.price is None:
        _refuse_word_after_category(catalog, request.category_words.split())
    found = find_schedule(catalog, request, ctx.lang, ctx.marketplaces)
    if request.currency is not None:
        found = _schedule_in_currency(catalog, request, found, ctx)
    elif request.marketplace is None:
        each = _each_subscribed(catalog, found, ctx.marketplaces)
        if len(each) > 1:
            # Several stores followed and none named: one answer per store, never one price read in
            # another store's currency.
            parts = [t(ctx.lang, "fees_each_market", markets=", ".join(each))]
            platform_id = catalog.rule_platform[catalog.schedule_rule[found.schedule.id].id]
            parts += [answer_fees(catalog, [*words, market, platform_id], ctx).html for market in each]
            return FeeAnswer(join(parts, "\n\n"))
    schedule, category = found.schedule, found.category
    rule = catalog.schedule_rule[schedule.id]
    platform = catalog.platform_of(rule).info
    lang, currency = ctx.lang, schedule.currency
    day = request.day or ctx.today
    market = _market_label(found.market, schedule)
    heading = t(
        lang,
        "fees_heading",
        platform=platform.name.get(lang),
        market=market,
        category=category.name.get(lang),
    )
    lines: list[Html] = [heading]
    if found.note:
        lines.append(found.note)
    if request.currency is not None and request.marketplace is None:
        lines.append(t(lang, "fees_market_by_currency", currency=request.currency, market=found.market))
    elif request.marketplace is None:
        lines += _market_hint(catalog, found, request, ctx)
    if request.price is None:
        lines += schedule_versions(schedule, lang, "• ")
        lines += [Html(""), t(lang, "fees_add_price", category=_as_typed(request, category.id))]
        title = f"{platform.name.get(lang)} {market} · {category.name.get(lang)}"
        return FeeAnswer(
            join(lines + _rule_footer(rule.id, rule.confidence, lang)), schedule, title, (rule.id,)
        )
    # The price with its currency from here on: the one it was written in, else its marketplace's.
    price = Money(request.price, request.currency or currency)
    comparison = referral_fee(schedule, price, day, prime=request.prime is True)
    lines.append(t(lang, "fees_price", price=price.format(), basis=schedule.basis.get(lang)))
    current = comparison.current
    if current is None:
        lines.append(t(lang, "fees_no_version", date=day.isoformat()))
        if comparison.upcoming is not None:
            lines.append(_upcoming_line(comparison.upcoming, currency, None, ctx))
        return FeeAnswer(join(lines + _rule_footer(rule.id, rule.confidence, lang)), rules=(rule.id,))
    lines.append(
        t(
            lang,
            "fees_result",
            date=day.isoformat(),
            fee=format_money(current.fee, currency),
            rate=_rate_of(current, lang),
        )
    )
    lines.append(Html("  " + _charge_text(current, currency, lang)))
    lines += _extra_lines(current, currency, lang)
    lines += _prime_lines(schedule, current, request.prime, currency, lang)
    since = (
        t(lang, "since_date", date=current.since.isoformat())
        if current.since
        else t(lang, "since_before_records")
    )
    lines.append(
        t(lang, "fees_schedule_in_force", since=since, tiers=describe_tiers(current.version, currency, lang))
    )
    previous = comparison.previous
    if previous is not None and current.since is not None:
        if previous.fee != current.fee:
            lines.append(
                t(
                    lang,
                    "fees_changed",
                    date=current.since.isoformat(),
                    old_rate=_rate_of(previous, lang),
                    old_fee=format_money(previous.fee, currency),
                    new_fee=format_money(current.fee, currency),
                    difference=_signed(current.fee - previous.fee, currency),
                )
            )
        else:
            lines.append(
                t(
                    lang,
                    "fees_unchanged",
                    date=current.since.isoformat(),
                    fee=format_money(previous.fee, currency),
                )
            )
    if comparison.upcoming is not None:
        lines.append(_upcoming_line(comparison.upcoming, currency, current, ctx))
    if current.version.note:
        lines.append(escape(current.version.note.get(lang)))
    return FeeAnswer(join(lines + _rule_footer(rule.id, rule.confidence, lang)), rules=(rule.id,))


def _schedule_in_currency(
    catalog: Catalog, request: FeeRequest, found: FoundSchedule, ctx: ChatContext
) -> FoundSchedule:
    """The schedule of the marketplace the price's currency selects ("$18": US, "£50": UK)."""
    currency = request.currency
    assert currency is not None
    if found.schedule.currency == currency:
        return found
    price = format_money(request.price or Decimal(0), currency)
    if request.marketplace is not None:
        raise UserInputError(
            "fees_currency_mismatch",
            price=price,
            market=request.marketplace,
            currency=found.schedule.currency,
        )
    platform_id = catalog.rule_platform[catalog.schedule_rule[found.schedule.id].id]
    market = market_for_currency(catalog, currency, platform_id, found.category.id, ctx.marketplaces)
    if market is None:
        raise UserInputError(
            "fees_no_market_in_currency", price=price, category=found.category.id, currency=currency
        )
    in_market = replace(request, marketplace=market, platform=platform_id)
    return find_schedule(catalog, in_market, ctx.lang, ctx.marketplaces)


def _market_label(market: str, schedule: FeeSchedule) -> str:
    """ "DE (EU)" when a marketplace uses a shared schedule, else the code alone."""
    return market if market == schedule.marketplace else f"{market} ({schedule.marketplace})"


def _as_typed(request: FeeRequest, category_id: str) -> str:
    """The category as the seller wrote it ("服装"), for the example commands we suggest; the category's
    id when they wrote several words, which would not fit in one command argument."""
    words = request.category_words.split()
    return words[0] if len(words) == 1 else category_id


def _market_hint(catalog: Catalog, found: FoundSchedule, request: FeeRequest, ctx: ChatContext) -> list[Html]:
    """Say which marketplace was assumed and why, and which others have this category: the example
    names one of those, with the seller's own category word and price."""
    platform_id = catalog.rule_platform[catalog.schedule_rule[found.schedule.id].id]
    # Shared schedules count once, by their own marketplace (EU, not DE, FR, IT and ES).
    markets = catalog.category_markets.get((platform_id, found.category.id), ())
    others = [market for market in markets if market != found.schedule.marketplace]
    lines = []
    if found.market in ctx.marketplaces:
        lines.append(t(ctx.lang, "fees_market_subscribed", market=found.market))
    elif others:
        platform = catalog.platforms[platform_id].info
        lines.append(
            t(ctx.lang, "fees22_market_home", market=found.market, platform=platform.name.get(ctx.lang))
            if found.market in home_markets(catalog, platform_id)
            else t(ctx.lang, "fees22_market_first", market=found.market)
        )
    if others:
        price = f"{request.price.normalize():f}" if request.price is not None else "18"
        example = f"{_as_typed(request, found.category.id)} {price} {platform_id} {others[0].lower()}"
        lines.append(t(ctx.lang, "fees_other_markets", markets=", ".join(others), example=example))
    return lines


def _extra_lines(current: FeeCharge, currency: str, lang: str) -> list[Html]:
    """Fees beside the referral fee: a closing fee per item, a digital services fee on the fee."""
    lines = []
    for extra in current.extras:
        fee = extra.extra
        if fee.share_of_fee is not None:
            how = t(
                lang,
                "fee_extra_share",
                rate=format_rate(fee.share_of_fee),
                fee=format_money(current.fee, currency),
            )
        elif fee.share_of_price is not None:
            how = t(
                lang,
                "fee_slice",
                rate=format_rate(fee.share_of_price),
                amount=format_money(current.price, currency),
            )
            if fee.per_item:
                how = Html(how + " + " + format_money(fee.per_item, currency))
        else:
            how = t(lang, "fee_extra_per_item")
        line = t(
            lang,
            "fees_extra",
            label=fee.label.get(lang),
            amount=format_money(extra.amount, currency),
            how=how,
        )
        if fee.condition is not None:
            line = Html(line + t(lang, "fees_extra_condition", condition=fee.condition.get(lang)))
        lines.append(line)
    if any(extra.extra.condition is None for extra in current.extras):
        lines.append(t(lang, "fees_total", total=format_money(current.total, currency)))
    return lines


def _prime_lines(
    schedule: FeeSchedule, current: FeeCharge, prime: bool | None, currency: str, lang: str
) -> list[Html]:
    """The FBA / Seller Fulfilled Prime rate (UK/EU clothing above £40/€45): applied when the question
    says FBA or Prime, shown beside the standard fee when it says nothing, left out for FBM."""
    rule = current.version.prime
    if rule is None or not prime_applies(current.version, current.price):
        return []
    if current.prime_applied:
        return [t(lang, "fees_prime_applied", label=rule.label.get(lang))]
    if prime is False:
        return [t(lang, "fees_prime_not_applied", label=rule.label.get(lang))]
    index = schedule.versions.index(current.version)
    as_prime = charge(schedule, index, current.price, prime=True)
    return [
        t(
            lang,
            "fees_prime_alternative",
            label=rule.label.get(lang),
            fee=format_money(as_prime.fee, currency),
            working=_charge_text(as_prime, currency, lang),
        )
    ]


def _signed(amount: Decimal, currency: str) -> str:
    return ("+" if amount > 0 else "") + format_money(amount, currency)


def _upcoming_line(upcoming: FeeCharge, currency: str, current: FeeCharge | None, ctx: ChatContext) -> Html:
    assert upcoming.since is not None
    difference = _signed(upcoming.fee - current.fee, currency) if current else "—"
    return t(
        ctx.lang,
        "fees_upcoming",
        date=upcoming.since.isoformat(),
        rate=_rate_of(upcoming, ctx.lang),
        fee=format_money(upcoming.fee, currency),
        difference=difference,
    )


def _rule_footer(rule_id: str, confidence: str, lang: str) -> list[Html]:
    return [Html(""), t(lang, "fees_footer", rule_id=rule_id, confidence=t(lang, f"confidence_{confidence}"))]
