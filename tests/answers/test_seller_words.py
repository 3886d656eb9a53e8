"""Issue #17, understanding: a seller's own words for FBA figures, dates, categories, platforms we hold
nothing for, what is coming, and which rule answers first."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import POLICIES, context

from bot.answers.core import Answers
from bot.answers.fba import parse_fba_request
from bot.answers.parsing import written_date
from bot.catalog.load import CatalogError, load_catalog
from bot.errors import UserInputError

TODAY = dt.date(2026, 12, 1)


# --- FBA in a seller's words ---------------------------------------------------------------------------
# 10x8x1 in, 6 oz, $18: large standard, 0.576 lb dimensional weight, $4.20 on the 2026-01-15 card and
# $4.15 on the 2024-04-15 card (policies/amazon.toml). 25.4 x 20.32 x 2.54 cm is exactly 10 x 8 x 1 in.


@pytest.mark.parametrize(
    "text",
    [
        "FBA费用 10x8x1英寸 6盎司 售价18美元",
        "fba 10x8x1 inch 6 oz 18 美元",
        "亚马逊FBA 10x8x1英寸 6盎司 卖18美元 配送费多少",
        "FBA配送费 长10英寸 宽8英寸 高1英寸 重6盎司 售价18美元",
        "FBA 长25.4厘米，宽20.32厘米，高2.54厘米 170克 18刀",
        "FBA 25.4x20.32x2.54厘米 0.17公斤 18美元",
        "FBA 25.4x20.32x2.54 cm 0.17千克 18 dollars",
        "fba fee for a 10x8x1 inch, 6 oz item selling at $18",
    ],
)
def test_fba_figures_in_a_sellers_words_give_the_rate_card_fee(answers: Answers, text: str) -> None:
    answered = answers.ask(text, context("zh" if "美元" in text else "en", today=TODAY))
    assert answered.rules[0].id == "amazon-us-fba-fulfillment-fees"
    assert "$4.20" in answered.reply.plain


@pytest.mark.parametrize(
    "text",
    [
        "FBA 10x8x1英寸 6盎司 18美元 2025年6月1日",
        "fba fee 10x8x1 inch 6 oz $18 on 2025-06-01",
        "fba 10x8x1 in 6 oz $18 on June 1, 2025",
        "fba 10x8x1 in 6 oz $18 1 June 2025",
        "FBA 10x8x1 in 6 oz 18usd 2025/6/1",
    ],
)
def test_a_date_as_people_write_it_picks_that_days_rate_card(answers: Answers, text: str) -> None:
    reply = answers.ask(text, context("en", today=TODAY)).reply.plain
    assert "Fee on 2025-06-01: $4.15" in reply


def test_selling_at_is_no_marketplace_and_the_fba_request_stays_in_the_us(answers: Answers) -> None:
    request = parse_fba_request(answers.catalog, "fba fee for a 9x6x1 inch, 10 oz item selling at $15")
    assert request.marketplace == "US"
    assert request.price == 15


def test_a_day_that_does_not_exist_is_refused_not_read_as_another_day(answers: Answers) -> None:
    with pytest.raises(UserInputError) as raised:
        parse_fba_request(answers.catalog, "FBA 10x8x1英寸 6盎司 18美元 2025年2月30日")
    assert raised.value.key == "fba_unknown_words"


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("on 2025-06-01", dt.date(2025, 6, 1)),
        ("2025年6月1日", dt.date(2025, 6, 1)),
        ("2025年12月31号之前", dt.date(2025, 12, 31)),
        ("June 1 2025", dt.date(2025, 6, 1)),
        ("Sept 30th, 2026", dt.date(2026, 9, 30)),
        ("1 may 2025", dt.date(2025, 5, 1)),
        ("2025/6/1", dt.date(2025, 6, 1)),
        ("2025-02-29", None),
        ("may 2025", None),
        ("6 oz $18", None),
    ],
)
def test_written_dates(text: str, day: dt.date | None) -> None:
    found = written_date(text)
    assert (found[0] if found else None) == day


# --- a named platform is never ignored -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "name"),
    [
        ("shopify fees", "en", "Shopify"),
        ("Wish commission for a dress $20", "en", "Wish"),
        ("ozon commission apparel $20", "en", "Ozon"),
        ("allegro 佣金多少", "zh", "Allegro"),
        ("coupang 手续费", "zh", "Coupang"),
        ("乐天 服装 佣金 18美元", "zh", "Rakuten"),
    ],
)
def test_a_platform_we_hold_nothing_for_is_named_and_nothing_else_is_quoted_as_its_own(
    answers: Answers, text: str, lang: str, name: str
) -> None:
    answered = answers.ask(text, context(lang, today=TODAY))
    reply = answered.reply.plain
    first = reply.splitlines()[0]
    assert name in first
    assert (
        ("Nothing is on record for" in first)
        if lang == "en"
        else ("没有" in first and "任何规则记录" in first)
    )
    # No rule, no fee and no price from another platform passes as this one's.
    assert answered.rules == ()
    assert "$" not in reply and "%" not in reply


def test_wish_in_lower_case_is_the_english_verb(answers: Answers) -> None:
    answered = answers.ask("I wish to know the coupon fee", context("en", today=TODAY))
    assert answered.question.unlisted_platform is None
    assert "Nothing is on record for Wish" not in answered.reply.plain


def test_a_platform_on_record_named_beside_one_we_lack_answers_for_the_one_on_record(
    answers: Answers,
) -> None:
    answered = answers.ask("shopify or amazon apparel fee $18", context("en", today=TODAY))
    reply = answered.reply.plain
    assert reply.startswith("Nothing is on record for Shopify;")
    assert "$1.80 (10%)" in reply
    assert answered.rules[0].id == "amazon-us-apparel-referral-fee-2024"


def test_the_unlisted_platforms_are_none_the_catalog_holds(answers: Answers) -> None:
    held = {name.casefold() for p in answers.catalog.platforms.values() for name in (p.id, p.info.name.en)}
    words = answers.catalog.vocabulary.unlisted_platforms
    assert len(words) >= 20
    assert not {phrase.casefold() for phrase in words.phrases()} & held


# --- categories in a seller's words ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fee"), [("/fees 鞋靴 30", "$4.50"), ("/fees 女鞋 30", "$4.50")])
def test_shoes_in_chinese_are_footwear_in_fees(answers: Answers, text: str, fee: str) -> None:
    # Amazon US Footwear: 15% (policies/amazon.toml): $30 -> $4.50.
    reply = answers.reply(text, context("zh", today=TODAY)).plain
    assert reply.startswith("亚马逊 US · 鞋类") and fee in reply


def test_fees_suggests_categories_in_the_words_the_seller_typed(answers: Answers) -> None:
    zh = answers.reply("/fees 鞋履", context("zh", today=TODAY)).plain
    assert "您是否要找：鞋类" in zh and "footwear" not in zh
    en = answers.reply("/fees footwar", context("en", today=TODAY)).plain
    assert "Did you mean: footwear" in en


def test_a_free_question_with_shoe_words_gets_the_footwear_fee(answers: Answers) -> None:
    answered = answers.ask("女鞋 30美元 佣金", context("zh", today=TODAY))
    assert answered.rules[0].id == "amazon-us-referral-fees" and "$4.50" in answered.reply.plain


# --- what is coming, and which rule answers first --------------------------------------------------------


def _dated_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("• 20")]


def test_whats_coming_up_for_amazon_sellers_lists_what_upcoming_90_lists(answers: Answers) -> None:
    ctx = context("en", today=TODAY)
    upcoming = _dated_lines(answers.reply("/upcoming 90 amazon", ctx).plain)
    asked = _dated_lines(answers.reply("what's coming up for amazon sellers", ctx).plain)
    assert upcoming and asked == upcoming
    zh = answers.reply("亚马逊卖家最近有什么新规", context("zh", today=TODAY)).plain
    assert _dated_lines(zh) == _dated_lines(
        answers.reply("/upcoming 90 amazon", context("zh", today=TODAY)).plain
    )


def test_when_de_minimis_ended_a_chinese_seller_hears_the_china_end_first(answers: Answers) -> None:
    china = "us-customs-us-de-minimis-end-china-hk-2025"
    zh = answers.ask("美国小额豁免什么时候取消", context("zh", today=dt.date(2026, 3, 1)))
    assert zh.rules[0].id == china and "2025-05-02" in zh.reply.plain
    named = answers.ask("when did de minimis end for goods from china", context("en", today=TODAY))
    assert named.rules[0].id == china
    # Whether it still holds is the same for everyone: the all-country suspension answers that.
    still = answers.ask("美国800美元免税还有吗", context("zh", today=TODAY))
    assert still.rules[0].id == "us-customs-us-de-minimis-suspended-all-countries-2025"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("欧盟包装法规什么时候生效", "zh"),
        ("欧盟包装法 啥时候开始执行", "zh"),
        ("when does the eu packaging law apply", "en"),
    ],
)
def test_with_no_platform_named_the_regulation_itself_answers_first(
    answers: Answers, text: str, lang: str
) -> None:
    answered = answers.ask(text, context(lang, today=TODAY))
    assert answered.rules[0].id == "eu-eu-ppwr-2026"
    assert "2026-08-12" in answered.reply.plain


def test_a_named_platform_keeps_its_own_rule_first(answers: Answers) -> None:
    answered = answers.ask("亚马逊 欧盟包装法规 什么时候生效", context("zh", today=TODAY))
    assert answered.rules[0].id == "amazon-eu-ppwr-marking-2026"


def test_a_replaced_rule_gives_its_place_to_its_successor(answers: Answers) -> None:
    answered = answers.ask("italy 2 euro parcel fee start date", context("en", today=TODAY))
    assert [rule.id for rule in answered.rules[:2]] == [
        "eu-it-parcel-fee-postponed-2026",
        "eu-it-parcel-fee-2026",
    ]


def test_a_law_number_is_no_price_and_next_year_asks_what_changes(answers: Answers) -> None:
    answered = answers.ask("美国 软垫家具 232关税 明年涨到多少", context("zh", today=TODAY))
    assert answered.question.price is None
    assert answered.rules[0].id == "us-customs-section-232-wood-2027"
    assert "2027-01-01" in answered.reply.plain and "30%" in answered.reply.plain


def test_commission_asks_about_commission_schedules_not_any_fee(answers: Answers) -> None:
    commission = answers.reply("亚马逊明年佣金调整", context("zh", today=TODAY)).plain
    assert "2027年 没有记录" in commission
    fees = answers.reply("amazon fee changes 2027", context("en", today=TODAY)).plain
    assert "Amazon fees, 2027: 1 date(s)" in fees and "2027-01-14" in fees


def test_fuel_surcharge_in_a_sellers_words_finds_the_marketplaces_rule(answers: Answers) -> None:
    eu = answers.ask("欧洲站 燃油费 多少", context("zh", today=TODAY))
    assert eu.rules[0].id == "amazon-eu-fuel-surcharge-2026" and "1.5%" in eu.reply.plain
    us = answers.ask("美国站 燃油费 多少", context("zh", today=TODAY))
    assert us.rules[0].id == "amazon-us-fuel-surcharge-2026" and "3.5%" in us.reply.plain


def test_a_date_written_out_in_a_fee_question_is_that_days_fee(answers: Answers) -> None:
    # Amazon US apparel: 17% before 2024-01-15 ($3.06 at $18), 10% from it ($1.80).
    before = answers.reply("amazon apparel $18 fee on June 1 2023", context("en", today=TODAY)).plain
    assert "Fee on 2023-06-01: $3.06 (17%)" in before
    after = answers.reply("服装 18美元 佣金 2025年6月1日", context("zh", today=TODAY)).plain
    assert "2025-06-01 的佣金：$1.80（10%）" in after


# --- the words file's new parts are checked when the catalog loads ---------------------------------------


def _policies_with_words(tmp_path: Path, words: str) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    (folder / "words.toml").write_text(words, encoding="utf-8")
    return folder


def test_an_unlisted_platform_the_catalog_holds_is_a_problem(tmp_path: Path) -> None:
    folder = _policies_with_words(
        tmp_path, '[unlisted_platforms]\nShopify = ["shopify"]\nWalmart = ["沃尔玛"]\n'
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(folder)
    message = str(caught.value)
    assert "unlisted_platforms.Walmart: 'Walmart' names 'walmart', which the catalog holds" in message
    assert "Shopify" not in message


def test_an_unknown_authority_is_a_problem(tmp_path: Path) -> None:
    folder = _policies_with_words(tmp_path, 'authorities = ["eu", "wto"]\n')
    with pytest.raises(CatalogError) as caught:
        load_catalog(folder)
    assert "words.toml field authorities: unknown platform 'wto'" in str(caught.value)


def test_a_catalog_without_the_new_word_lists_still_answers(tmp_path: Path) -> None:
    catalog = load_catalog(_policies_with_words(tmp_path, "[products]\n"))
    answered = Answers(catalog).ask("shopify fees", context("en", today=TODAY))
    assert answered.question.unlisted_platform is None


def test_the_rules_a_rule_names_as_related_follow_it(answers: Answers) -> None:
    # Belgium and the Netherlands dropped their €2 fees: the EU's €3 duty from 2026-07-01 applies instead,
    # and the rule says so in `related`; Italy's and France's own fees, also related, concern other stores.
    answered = answers.ask("比利时 荷兰 还收2欧元包裹费吗", context("zh", today=TODAY))
    ids = [rule.id for rule in answered.rules]
    assert ids[:2] == ["eu-be-nl-national-parcel-fees-dropped-2026", "eu-eu-low-value-parcel-flat-duty-2026"]
    assert "eu-fr-small-parcel-tax-2026" not in ids
    reply = answered.reply.plain
    assert "2026-07-01" in reply and "燃油" not in reply
