"""Issue 22's /fees fixes through the real `Answers`: the marketplace picked when none is named (the chat's,
then the platform's home marketplace, said so), the hint that names a listed marketplace and the seller's
own words, the new marketplaces' currency words and the platform names sellers type."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from conftest import context

from bot.answers.core import Answers
from bot.catalog.load import Catalog
from bot.i18n import to_plain_text

DEC_6 = dt.date(2026, 12, 6)


def plain(answers: Answers, text: str, lang: str = "en", markets: tuple[str, ...] = ()) -> str:
    ctx = replace(context(lang, DEC_6), marketplaces=markets)
    return to_plain_text(answers.reply(text, ctx).html)


def test_the_hint_names_a_listed_marketplace_and_the_sellers_words(answers: Answers) -> None:
    reply = plain(answers, "/fees electronics 100 shopee")
    assert reply.startswith("Shopee SG")  # Shopee's home marketplace
    assert "Also on record for MY, TH: add one, e.g. /fees electronics 100 shopee my" in reply
    assert "everything-else" not in reply and " uk" not in reply


def test_the_hint_in_chinese_keeps_the_chinese_word(answers: Answers) -> None:
    reply = plain(answers, "/fees 电子 100 虾皮", "zh")
    assert "例如 /fees 电子 100 shopee my" in reply


def test_ebay_without_a_marketplace_is_its_home_us_and_says_so(answers: Answers) -> None:
    reply = plain(answers, "/fees apparel 18 ebay")
    assert reply.startswith("eBay US")
    assert "Marketplace US: eBay's home marketplace" in reply
    assert "e.g. /fees apparel 18 ebay fr" in reply
    assert "fixed fee $0.40 (price above $10.00) = $0.40" in reply


def test_a_chat_that_follows_uk_gets_ebay_uk(answers: Answers) -> None:
    reply = plain(answers, "/fees apparel 18 ebay", markets=("UK",))
    assert reply.startswith("eBay UK") and "the one your chat subscribes to" in reply
    assert "£0.06" in reply


def test_a_named_marketplace_needs_no_hint(answers: Answers) -> None:
    reply = plain(answers, "/fees apparel 10 ebay us")
    assert "home marketplace" not in reply and "Also on record" not in reply
    assert "fixed fee $0.30 (price up to $10.00) = $0.30" in reply


def test_every_platform_with_fees_has_a_home_marketplace_with_schedules(catalog: Catalog) -> None:
    for platform_id, platform in catalog.platforms.items():
        markets = {market for (p, market, _) in catalog.fee_schedules if p == platform_id}
        if markets:
            assert platform.info.home in markets, (platform_id, platform.info.home, markets)


def test_mercado_livre_fixed_fee_in_fees(answers: Answers) -> None:
    reply = plain(answers, "/fees apparel 12.50 mercado libre")  # a name of two words after the price
    assert reply.startswith("Mercado Libre BR")
    assert "fixed fee 50% × 12.50 BRL (price up to 12.50 BRL) = 6.25 BRL" in reply
    assert "category commission is not on record" in reply
    assert "6.75 BRL above 50.00 BRL up to 78.99 BRL" in reply  # the schedule line lists the bands


@pytest.mark.parametrize(
    ("word", "currency"),
    [
        ("r$30", "BRL"),
        ("30雷亚尔", "BRL"),
        ("30reais", "BRL"),
        ("30brl", "BRL"),
        ("rm30", "MYR"),
        ("30令吉", "MYR"),
        ("30myr", "MYR"),
        ("s$30", "SGD"),
        ("30新元", "SGD"),
        ("30新加坡元", "SGD"),
        ("30sgd", "SGD"),
        ("30泰铢", "THB"),
        ("30thb", "THB"),
        ("30阿根廷比索", "ARS"),
        ("30ars", "ARS"),
        ("30越南盾", "VND"),
        ("30比索", "MXN"),  # the bare word stays the Mexican peso
    ],
)
def test_currency_words_are_data(catalog: Catalog, word: str, currency: str) -> None:
    from bot.answers.fees import split_currency

    assert split_currency(catalog, word) == ("30", currency)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("/fees electronics rm100 shopee", "Shopee MY"),
        ("/fees electronics 40泰铢 虾皮", "虾皮 TH"),
        ("/fees 服装 18新元 虾皮", "虾皮 SG"),
        ("/fees apparel 30 雷亚尔 美客多", "美客多 BR"),
        ("/fees audio 200 令吉 来赞达", "来赞达 MY"),
    ],
)
def test_a_currency_picks_the_new_marketplaces(answers: Answers, text: str, start: str) -> None:
    lang = "zh" if any("\u4e00" <= char <= "\u9fff" for char in text) else "en"
    assert plain(answers, text, lang).startswith(start)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/fees 服装 18 沃尔玛", "沃尔玛 US · 服装配饰"),
        ("/fees 服装 18 易贝", "易贝 US"),
        ("/fees 服装 18 速卖通", "没有“服装” aliexpress 的费率记录"),  # reached; no schedule on record
        ("虾皮 佣金", "虾皮"),
        ("沃尔玛 服装 18美元 佣金", "沃尔玛 US · 服装配饰"),
    ],
)
def test_platform_names_sellers_type(answers: Answers, text: str, expected: str) -> None:
    assert expected in plain(answers, text, "zh")
