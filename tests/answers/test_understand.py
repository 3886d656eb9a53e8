"""Understanding a seller's question: vocabulary data, what a question names, what it asks, and the answers
the free-text path gives (fees, exemptions, dates, none-there, nothing recorded), with bad input."""

from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import POLICIES, context

from bot.answers.ask import button_key
from bot.answers.core import Answers, ChatContext
from bot.answers.reply import BUTTON_DATA_LIMIT
from bot.catalog.load import Catalog, CatalogError, load_catalog
from bot.catalog.vocabulary import Intent, match_category
from bot.i18n import t

TODAY = dt.date(2026, 12, 1)


def ask(answers: Answers, text: str, lang: str = "en") -> str:
    return answers.reply(text, context(lang, today=TODAY)).plain


# --- vocabulary (policies/words.toml) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("dress", "apparel"), ("Women's Dresses", "apparel"), ("连衣裙", "apparel"), ("T恤", "apparel"),
        ("necklace", "jewelry"), ("耳环", "jewelry"), ("phone case", "electronics-accessories"),
        ("数据线", "electronics-accessories"), ("Apparel", "apparel"), ("aparel", "apparel"),
        ("necklase", "jewelry"), ("coffee maker", "compact-appliances"), ("coffee", "grocery"),
        ("冰箱", "full-size-appliances"), ("sunglasses", "eyewear"),
        ("kindle case", "amazon-device-accessories"), ("游戏手柄", "video-games"),
        ("ps5", "video-game-consoles"),
        ("trainers", "footwear"), ("schuhe", "footwear"), ("dog food", "pet-clothing-food"),
        ("床单", "home-linen"), ("fish oil", "vitamins"), ("油画", "fine-art"),
        ("双肩包", "luggage"), ("lawn mower", "lawn-mowers"), ("garden hose", "lawn-garden"),
    ],
)  # fmt: skip
def test_match_category_exact_product_words_and_misspellings(
    catalog: Catalog, text: str, category: str
) -> None:
    match = match_category(catalog.vocabulary, text)
    assert match is not None and match.category == category, match


def test_match_category_scores_and_refuses_unrelated_text(catalog: Catalog) -> None:
    exact = match_category(catalog.vocabulary, "dress")
    close = match_category(catalog.vocabulary, "jewlery")
    assert exact is not None and exact.score == 100
    assert close is not None and 85 <= close.score < 100
    for text in ["", "quantum physics", "weather", "😀", "12345"]:
        assert match_category(catalog.vocabulary, text) is None, text


def test_match_category_prefers_the_named_platform(catalog: Catalog) -> None:
    # "electronics" is an Amazon alias (consumer electronics) and a TikTok Shop category id.
    amazon = match_category(catalog.vocabulary, "electronics")
    tiktok = match_category(catalog.vocabulary, "electronics", platform="tiktok-shop")
    assert amazon is not None and (amazon.platform, amazon.category) == ("amazon", "consumer-electronics")
    assert tiktok is not None and (tiktok.platform, tiktok.category) == ("tiktok-shop", "electronics")


def _policies_with_words(tmp_path: Path, words: str) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    (folder / "words.toml").write_text(words, encoding="utf-8")
    return folder


def test_an_unknown_category_in_words_is_a_problem_with_file_and_field(tmp_path: Path) -> None:
    folder = _policies_with_words(tmp_path, '[products]\nshoes-and-bags = ["sneakers"]\n')
    with pytest.raises(CatalogError) as caught:
        load_catalog(folder)
    assert "words.toml field products.shoes-and-bags: unknown category 'shoes-and-bags'" in str(caught.value)


def test_a_product_word_that_names_another_category_is_a_problem(tmp_path: Path) -> None:
    folder = _policies_with_words(tmp_path, '[products]\napparel = ["dress", "necklace"]\n')
    with pytest.raises(CatalogError) as caught:
        load_catalog(folder)
    assert "words.toml field products.apparel: 'necklace' is a name of category 'jewelry'" in str(
        caught.value
    )


def test_an_unknown_intent_or_a_bad_words_file_is_reported(tmp_path: Path) -> None:
    folder = _policies_with_words(tmp_path, '[intents]\nweather = ["rain"]\n')
    with pytest.raises(CatalogError) as caught:
        load_catalog(folder)
    assert "words.toml field intents.weather" in str(caught.value)
    (folder / "words.toml").write_text("[products\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"words\.toml: TOML syntax"):
        load_catalog(folder)


def test_adding_a_word_is_a_data_edit(tmp_path: Path) -> None:
    words = (
        (POLICIES / "words.toml").read_text(encoding="utf-8").replace("apparel = [", 'apparel = ["kimono", ')
    )
    catalog = load_catalog(_policies_with_words(tmp_path, words))
    assert match_category(load_catalog(POLICIES).vocabulary, "kimono") is None
    match = match_category(catalog.vocabulary, "kimono")
    assert match is not None and match.category == "apparel"


def test_without_a_words_file_categories_still_match(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    (folder / "words.toml").unlink()
    catalog = load_catalog(folder)
    assert match_category(catalog.vocabulary, "服装") is not None
    assert match_category(catalog.vocabulary, "连衣裙") is None


# --- what a question names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("dress $25 fee", "25"), ("连衣裙25美元佣金", "25"), ("dress 25 dollars fee", "25"),
        ("连衣裙 25刀", "25"),
        ("fee on a 18.99 usd shirt", "18.99"), ("€12 dress fee", "12"), ("amazon 服装 18 佣金", "18"),
        ("dress fee 1e309", "1e309"), ("dress fee -5", "-5"), ("dress fee $$$", None),
        # A share or a law's number is no price.
        ("tiktok 欧洲佣金涨到9%", None), ("section 232 kitchen cabinets", None), ("第122条 家具 关税", None),
        ("dress 9% off $30 fee", "30"),
    ],
)  # fmt: skip
def test_prices_with_or_without_a_currency(answers: Answers, text: str, price: str | None) -> None:
    assert answers.questions.understanding.read(text, TODAY).price == price


@pytest.mark.parametrize(
    ("text", "year", "period"),
    [
        ("amazon fees 2027", 2027, (dt.date(2027, 1, 1), dt.date(2027, 12, 31))),
        ("亚马逊明年新规", 2027, (dt.date(2027, 1, 1), dt.date(2027, 12, 31))),
        ("what is new next month", None, (dt.date(2027, 1, 1), dt.date(2027, 1, 31))),
        ("3月15日有什么变化", 2026, (dt.date(2026, 3, 15), dt.date(2026, 3, 15))),
        ("fees on 2024-01-14", 2024, (dt.date(2024, 1, 14), dt.date(2024, 1, 14))),
        ("99999年 新规", None, None),
        ("2月30日", None, None),
    ],
)
def test_years_and_dates(
    answers: Answers, text: str, year: int | None, period: tuple[dt.date, dt.date] | None
) -> None:
    question = answers.questions.understanding.read(text, TODAY)
    assert (question.year, question.period) == (year, period)


@pytest.mark.parametrize(
    ("text", "platform", "marketplace"),
    [
        ("temu 卖家保证金", "temu", None), ("美国站 小额豁免", None, "US"),
        ("amazon us fees", "amazon", "US"), ("tell us about amazon fees", "amazon", None),
        ("is it true", None, None), ("UK commission", None, "UK"), ("tiktok 英国 佣金", "tiktok-shop", "UK"),
        ("amazn fees", "amazon", None), ("抖音 佣金", "tiktok-shop", None),
        ("amazon 服装 佣金 uk", "amazon", "UK"), ("de minimus rules", None, None),
        ("欧盟 包装法规", None, "EU"), ("eu customs duty 3 euro", None, "EU"),
        ("美亚 连衣裙", None, "US"), ("日区 佣金", None, "JP"), ("欧区 燃油附加费", None, "EU"),
        ("united states de minimis", "us-customs", "US"), ("great britain dress fee", None, "UK"),
        ("tiktok shop viet nam commission", "tiktok-shop", "VN"),
        ("tiktok my platform fee", "tiktok-shop", "MY"),
        # Amazon has no rule written for Malaysia: "my" is the English word there.
        ("amazon my store fees", "amazon", None),
    ],
)  # fmt: skip
def test_platforms_and_marketplaces(
    answers: Answers, text: str, platform: str | None, marketplace: str | None
) -> None:
    question = answers.questions.understanding.read(text, TODAY)
    assert (question.platform, question.marketplace) == (platform, marketplace)


@pytest.mark.parametrize(
    ("text", "intents"),
    [
        ("低库存费什么时候开始收", {Intent.WHEN}),
        ("哪些情况免收低库存费", {Intent.EXEMPT}),
        ("美国小额豁免还有吗", set()),  # 小额豁免 is de minimis, a topic, not a question about exemptions
        ("最近有什么新规", {Intent.UPCOMING, Intent.CHANGES}),
        ("how much is the coupon fee", {Intent.AMOUNT, Intent.FEE}),
    ],
)
def test_intents_come_from_words_and_topics_mask_them(
    answers: Answers, text: str, intents: set[Intent]
) -> None:
    assert answers.questions.understanding.read(text, TODAY).intents == intents


# --- the answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fee for a $15.00 dress", "$0.75 (5%)"), ("fee for a $15.01 dress", "$1.50 (10%)"),
        ("fee for a $20.00 dress", "$2.00 (10%)"), ("fee for a $20.01 dress", "$3.40 (17%)"),
        ("fee for a $1 dress", "the minimum fee $0.30 applies"),
    ],
)  # fmt: skip
def test_a_fee_question_gives_the_fees_answer_at_the_boundaries(
    answers: Answers, text: str, expected: str
) -> None:
    assert expected in ask(answers, text)


def test_a_fee_question_in_another_platform_uses_its_catch_all_and_a_missing_one_says_so(
    answers: Answers,
) -> None:
    assert "£0.90 (9%)" in ask(answers, "tiktok uk commission £10")
    reply = ask(answers, "temu dress fee $20")
    assert reply.startswith("No fee schedule for this category is on record for Temu.")
    assert "The closest rules elsewhere (not Temu)" in reply and "$2.00 (10%)" in reply


def test_a_named_platform_restricts_the_rules_or_says_it_has_none(answers: Answers) -> None:
    assert "tiktok-shop" not in ask(answers, "temu semi-managed").split("\n")[1]
    reply = ask(answers, "temu 卖家保证金", "zh")
    assert reply.startswith("Temu 没有记录与此相关的规则。")
    assert "全托管商家保证金" in reply and "tiktok-shop-full-managed-deposit-2024" not in reply


def test_nothing_recorded_for_a_year_says_so_with_the_latest_change(answers: Answers) -> None:
    reply = ask(answers, "amazon fee changes 2028")  # 2027 has the MCF waiver's end on record (#22)
    assert "Nothing is recorded for Amazon fees in 2028 (catalog as of 2026-12-01)." in reply
    assert "The latest on record:" in reply and "Nothing later is recorded" in reply
    # A year with changes on record lists them instead, nearest first.
    listed = ask(answers, "de minimis 2027")
    assert "2027-07-01" in listed and "Nothing is recorded" not in listed


def test_exemptions_dates_and_figures_are_what_was_asked(answers: Answers) -> None:
    exempt = ask(answers, "哪些情况免收低库存费", "zh")
    assert "\n豁免\n" in exempt and "365" in exempt and "180" in exempt
    dates = ask(answers, "when does the low inventory fee start")
    assert "Dates" in dates and "2024-04-01" in dates
    figures = ask(answers, "how much is the coupon fee")
    assert "Figures" in figures and "2.5%" in figures


def test_buttons_fit_telegrams_limit_and_answer_in_the_chats_language(answers: Answers) -> None:
    zh = context("zh", today=TODAY)
    for rule_id in answers.catalog.rules:
        for action in "xdc":
            data = f"ask:{action}:{button_key(rule_id)}"
            assert len(data.encode()) <= BUTTON_DATA_LIMIT
            assert answers.press(data, zh).plain.strip()
    reply = answers.reply("哪些情况免收低库存费", zh)
    assert 1 <= len(reply.buttons) <= 3
    assert [b.label for b in reply.buttons] == ["日期", "完整规则"]
    assert "来源" in answers.press(reply.buttons[-1].data, zh).plain


@pytest.mark.parametrize("data", ["ask:c:nope", "ask:q:x", "ask", "ask:c:" + "x" * 60, "other:c:abc"])
def test_an_old_or_forged_button_gets_a_note(answers: Answers, data: str) -> None:
    assert answers.press(data, context("en")).plain == t("en", "button_stale")


@pytest.mark.parametrize(
    ("text", "en_part", "zh_part"),
    [
        ("asdkjh qwe zzz", "I found no rule about", "没有找到"),
        ("😀😀😀", "I found no rule about", "没有找到"),
        ("dress fee 1e309", "is not a number", "不是数字"),
        ("连衣裙佣金 -5美元", "cannot be negative", "不能为负数"),
        ("服装 佣金 99999999美元", "too large", "过大"),
        ("99999年 新规", "nearest first", "由近及远"),
        ("$$$", "I found no rule about", "没有找到"),
    ],
)
def test_bad_input_gets_a_useful_reply_in_the_users_language(
    answers: Answers, text: str, en_part: str, zh_part: str
) -> None:
    assert en_part in ask(answers, text, "en")
    assert zh_part in ask(answers, text, "zh")


def test_a_thousand_characters_of_noise_get_a_short_reply(answers: Answers, en: ChatContext) -> None:
    noise = ("xq7 的 $ 😀 zz 9 " * 80)[:1000]
    reply = answers.reply(noise, en).plain
    assert "I found no rule about" in reply and len(reply) < 400
    assert "more than 1000 characters" in answers.reply(noise + "x", en).plain


def test_a_misspelt_word_of_the_rules_searches_as_the_word_meant(answers: Answers) -> None:
    assert answers.index.closest("invetory") == "inventory"
    assert answers.index.closest("inventory") is None  # a word the rules use is no misspelling
    assert answers.index.closest("weather") is None
    reply = ask(answers, "when does the low invetory fee start")
    assert "Low-inventory-level fee" in reply.split("\n")[0]


def test_a_fee_at_a_price_without_a_category_says_how_to_ask(answers: Answers) -> None:
    assert "name the product or category too" in ask(answers, "amazon fee $25")
    assert "请同时说明商品或类目" in ask(answers, "亚马逊佣金 25美元", "zh")


def test_platform_names_rank_only_when_they_are_a_topic_and_superseded_rules_weigh_less(
    answers: Answers,
) -> None:
    assert answers.index.is_keyword("de minimis") and not answers.index.is_keyword("tiktok shop")
    top = answers.index.search("what is the postal duty per item now", limit=3)
    assert top[0].rule.superseded_by is None
    # Still found when asked for by what it was.
    first = answers.index.search("first order postal duty $25 per item", limit=3)
    assert "us-customs-us-china-postal-duty-first-order-2025" in [hit.rule.id for hit in first]


def test_a_price_in_another_currency_is_read_in_the_schedules_and_said_so(answers: Answers) -> None:
    reply = ask(answers, "dress 25 euro fee amazon us")
    assert "You gave the price in EUR; the US schedule is in USD" in reply and "$4.25 (17%)" in reply
    assert "⚠️" not in ask(answers, "亚马逊德国站 连衣裙 20欧元 佣金", "zh")
    question = answers.questions.understanding.read("日本站 T恤 2000日元 佣金", TODAY)
    assert (question.price, question.currency, question.year) == ("2000", "JPY", None)
    assert answers.questions.understanding.read("¥25 dress fee", TODAY).currency is None  # yen or yuan


def test_no_product_word_names_two_categories() -> None:
    products = tomllib.loads((POLICIES / "words.toml").read_text(encoding="utf-8"))["products"]
    owners: dict[str, list[str]] = {}
    for category, words in products.items():
        for word in words:
            owners.setdefault(word.casefold(), []).append(category)
    assert not {word: cats for word, cats in owners.items() if len(cats) > 1}


@pytest.mark.parametrize(
    ("text", "lang", "facts"),
    [
        # No store named: the price's currency picks the store that charges in it.
        ("连衣裙 20英镑 佣金", "zh", ["亚马逊 UK", "£2.00（10%）"]),
        ("dress 25 euros fee", "en", ["Amazon EU", "€3.75 (15%)"]),
        ("鞋子 5000日元 佣金", "zh", ["亚马逊 JP", "JP¥620（12.4%）"]),
        ("office supplies 20 cad fee", "en", ["Amazon CA", "15%"]),
        ("hoodie 25 quid fee", "en", ["Amazon UK", "£3.75 (15%)"]),
        ("dress 25€ fee", "en", ["Amazon EU", "€3.75 (15%)"]),
        ("鞋子30$佣金", "zh", ["亚马逊 US", "$4.50（15%）"]),
        # Dollars stay in the US (not Canada or Mexico).
        ("dress $25 fee", "en", ["Amazon US", "$4.25 (17%)"]),
    ],
)  # fmt: skip
def test_a_prices_currency_picks_the_store_when_none_is_named(
    answers: Answers, text: str, lang: str, facts: list[str]
) -> None:
    reply = ask(answers, text, lang)
    assert all(fact in reply for fact in facts), reply
    assert "⚠️" not in reply


def test_a_chats_store_without_the_category_is_said_before_the_fee_elsewhere(answers: Answers) -> None:
    reply = ask(answers, "bed sheets $20 fee")
    assert reply.index("No fee schedule for this category is on record for US.") < reply.index("€3.00")
    assert "The closest rules elsewhere (not US):" in reply
    zh = ask(answers, "床单 25刀 亚马逊佣金", "zh")
    assert "US 没有记录这个类目的费率表" in zh
    # A chat that sells in the UK hears the UK fee, with nothing to excuse.
    uk = answers.reply("bed sheets £20 fee", context("en", today=TODAY)).plain
    assert "£3.00" in uk and "No fee schedule" not in uk


@pytest.mark.parametrize(
    "text",
    ["FBA 10x8x1 inch 6 oz $18", "10x8x1 inch 6 oz $18 fba fee?",
     "how much is the fba fee for 10x8x1 in 6 oz $18", "fba配送费 10x8x1 inch 6 oz 18刀"],
)  # fmt: skip
def test_an_fba_fee_question_is_answered_from_the_rate_card_wherever_fba_stands(
    answers: Answers, text: str
) -> None:
    lang = "zh" if "配送费" in text else "en"
    answered = answers.ask(text, context(lang, today=TODAY))
    assert answered.rules[0].id == "amazon-us-fba-fulfillment-fees"
    assert "$4.20" in answered.reply.plain
    assert [button.data for button in answered.reply.buttons] == ["ask:c:" + button_key(answered.rules[0].id)]


def test_fba_inside_a_word_or_without_dimensions_is_no_fba_fee_question(answers: Answers) -> None:
    for text in ["fbapro 10x8x1 inch 6 oz $18", "fba fee increase 2026"]:
        answered = answers.ask(text, context("en", today=TODAY))
        assert "FBA fulfillment fee, US:" not in answered.reply.plain, text


def test_a_fee_asked_of_a_platform_with_no_fee_rule_says_so_before_other_platforms(answers: Answers) -> None:
    answered = answers.ask("temu commission rate", context("en", today=TODAY))
    assert answered.reply.plain.startswith("Nothing about this is on record for Temu.")
    assert answered.rules and all(answers.catalog.rule_platform[rule.id] != "temu" for rule in answered.rules)
    # A platform with fee rules answers with them.
    tiktok = answers.ask("tiktok commission rate", context("en", today=TODAY))
    assert answers.catalog.rule_platform[tiktok.rules[0].id] == "tiktok-shop"


def test_a_topic_with_a_year_is_matched_on_the_topic_not_on_the_year(answers: Answers) -> None:
    # Rules of 2027 that only share the year (CPSC, Orders API) are not about Prime Day.
    prime = answers.ask("amazon prime day 2027", context("en", today=TODAY))
    assert prime.rules == () and "Nothing is recorded for Amazon in 2027" in prime.reply.plain
    assert "The latest on record: Prime Day 2026 ends" in prime.reply.plain
    # A platform named by its topic ("de minimis" names US customs) keeps that topic.
    minimis = answers.ask("de minimis 2027", context("en", today=TODAY))
    assert [rule.id for rule in minimis.rules] == ["us-customs-us-de-minimis-statutory-repeal-2027"]


def test_a_one_character_name_inside_a_word_of_the_rules_names_no_category(answers: Answers) -> None:
    understanding = answers.questions.understanding
    assert understanding.read("CPSC证书 费用多少", TODAY).category is None  # 书 in 证书 is no book
    book = understanding.read("书 20刀 佣金", TODAY).category
    shoes = understanding.read("卖鞋 30刀 佣金", TODAY).category
    assert book is not None and book.category == "media"
    assert shoes is not None and shoes.category == "footwear"
    certificate = answers.ask("CPSC证书 费用多少", context("zh", today=TODAY))
    assert certificate.rules[0].id == "amazon-us-cpsc-efiling-2026"


def test_the_topic_keeps_its_topic_words_and_drops_only_the_dates(answers: Answers) -> None:
    understanding = answers.questions.understanding
    assert understanding.read("prime day 2027", TODAY).topic_text.split() == ["prime", "day"]
    paid = understanding.read("is amazon paying me later now", TODAY).topic_text.split()
    assert "amazon" not in paid and paid[-3:] == ["settlement", "payout", "回款"]
