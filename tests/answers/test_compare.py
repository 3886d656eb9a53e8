"""`/compare` (issue 22) through the real `Answers` on the shipped catalog and through the CLI: one category
across the platforms and marketplaces on record, each fee in its own currency, never converted."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from conftest import ROOT, context

from bot.answers.core import Answers
from bot.i18n import to_plain_text

DEC_6 = dt.date(2026, 12, 6)


def plain(answers: Answers, text: str, lang: str = "en", markets: tuple[str, ...] = ()) -> str:
    ctx = replace(context(lang, DEC_6), marketplaces=markets)
    return to_plain_text(answers.reply(text, ctx).html)


def rows(reply: str) -> dict[str, str]:
    """ "Amazon US" -> the rest of its row."""
    found = {}
    for line in reply.splitlines():
        if line.startswith("• "):
            name, _, rest = line[2:].partition(": ") if ": " in line else line[2:].partition("：")
            found[name] = rest
    return found


def test_a_dollar_price_is_compared_where_dollars_are_used(answers: Answers) -> None:
    reply = plain(answers, "/compare apparel $18")
    found = rows(reply)
    assert found["Amazon US"].startswith("$1.80 (10%)") and "medium confidence" in found["Amazon US"]
    assert found["Walmart Marketplace US"].startswith("$1.80 (10%)")
    assert found["TikTok Shop US"].startswith("$1.44 (8%)")
    assert found["eBay US"].startswith("$0.40 (fixed fee only)")  # the per-order fee over $10, not "0%"
    assert "$1.17" in found["Etsy US"] and "$1.96" in found["Etsy US"]  # with payment processing
    assert "All categories rate" in found["Etsy US"]  # its catch-all, said so
    assert all(name.endswith("US") for name in found), found  # no pound, euro or yen row
    left_out = next(line for line in reply.splitlines() if line.startswith("Left out"))
    for market in ("Amazon UK (GBP)", "Amazon EU (EUR)", "Amazon JP (JPY)", "Mercado Libre BR (BRL)"):
        assert market in left_out
    assert "Not on record for this category: Lazada." in reply


def test_a_euro_price_keeps_only_euro_rows_and_names_the_rest(answers: Answers) -> None:
    reply = plain(answers, "/compare apparel 18 eur")
    found = rows(reply)
    assert set(found) == {
        "Amazon EU, DE, FR, IT, ES",
        "eBay FR, AT, BE, IT, IE, NL, ES",
        "TikTok Shop DE, ES, FR, IT, IE",
    }
    assert found["Amazon EU, DE, FR, IT, ES"].startswith("€1.80 (10%)")
    assert "Amazon US (USD)" in reply


def test_a_bare_number_is_read_in_the_chats_own_currency_and_said_so(answers: Answers) -> None:
    reply = plain(answers, "/compare apparel 18")
    assert "read in USD (US" in reply and "Amazon US" in rows(reply)
    followed_uk = plain(answers, "/compare apparel 18", markets=("UK",))
    assert "read in GBP (UK" in followed_uk
    assert rows(followed_uk)["Amazon UK"].startswith("£1.80")
    assert "Amazon US" not in rows(followed_uk)


def test_chinese_with_a_currency_word(answers: Answers) -> None:
    reply = plain(answers, "/compare 服装 18美元", "zh")
    found = rows(reply)
    assert found["沃尔玛 US"].startswith("$1.80（10%）") and "高可信度" in found["沃尔玛 US"]
    assert "以其他币种计价、未列出的站点" in reply and "亚马逊 UK (GBP)" in reply
    assert "该类目没有记录：来赞达。" in reply


def test_reais_compare_mercado_livre_fixed_fee(answers: Answers) -> None:
    found = rows(plain(answers, "/compare apparel R$30"))
    assert set(found) == {"Mercado Libre BR"}
    assert found["Mercado Libre BR"].startswith("6.50 BRL") and "low confidence" in found["Mercado Libre BR"]


def test_without_a_price_the_rates_side_by_side(answers: Answers) -> None:
    found = rows(plain(answers, "/compare jewelry"))
    assert found["Walmart Marketplace US"].startswith("20% on the part up to $250.00; 5% on the part above")
    assert "fixed fee by price: $0.30 up to $10.00; $0.40 above $10.00" in found["eBay US"]


def test_a_currency_no_marketplace_uses(answers: Answers) -> None:
    reply = plain(answers, "/compare apparel 18 cad")
    assert "No marketplace on record charges apparel fees in CAD." in reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/compare", "Usage: /compare"),
        ("/compare 18", "Usage: /compare"),
        ("/compare wigdets 18", "I don't know the category “wigdets”"),
        ("/compare apparel 18 19", "Only one price, please"),
    ],
)
def test_bad_input_gets_a_usage_line(answers: Answers, text: str, expected: str) -> None:
    assert expected in plain(answers, text)


@pytest.mark.parametrize(
    ("text", "lang", "row", "start"),
    [
        ("服装 18美元 各平台佣金对比", "zh", "沃尔玛 US", "$1.80"),
        ("compare apparel fee across platforms", "en", "Walmart Marketplace US", "5% up to $15.00"),
        ("apparel 18 euros compare", "en", "Amazon EU, DE, FR, IT, ES", "€1.80"),
    ],
)
def test_free_text_asks_for_the_comparison(
    answers: Answers, text: str, lang: str, row: str, start: str
) -> None:
    assert rows(plain(answers, text, lang))[row].startswith(start)


def test_one_platform_still_answers_as_fees(answers: Answers) -> None:
    reply = plain(answers, "服装 18美元 沃尔玛 佣金", "zh")
    assert "沃尔玛 US · 服装配饰" in reply and "•" not in reply  # /fees, not a comparison


def test_help_and_the_cli_know_compare() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--lang", "en", "--today", "2026-12-06", "/compare apparel 18"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "• Amazon US: $1.80 (10%)" in result.stdout and "<b>" not in result.stdout


def test_help_lists_compare(answers: Answers) -> None:
    assert "/compare apparel 18" in plain(answers, "/help")
    assert "/compare 服装 18" in plain(answers, "/help", "zh")


def test_a_sellers_product_word_names_the_category_as_in_fees(answers: Answers) -> None:
    """鞋靴 (Amazon's own Chinese word for Shoes) is a product word /fees takes; /compare takes it too."""
    text = plain(answers, "/compare 鞋靴 18美元", "zh")
    assert text.splitlines()[0].startswith("鞋靴")
    assert "亚马逊 US：$2.70（15%）" in text  # Amazon US shoes: 15% of $18.00
