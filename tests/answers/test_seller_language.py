"""Issue #17, a seller's language: names and dates, never ids or research notes; Chinese in a Chinese chat."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from support.seller_text import english_sentences, seller_problems

from bot.answers import Answers, ChatContext
from bot.catalog import Catalog
from bot.zones import local_time, zone_label

ZH = ChatContext("zh", ZoneInfo("Asia/Shanghai"), dt.date(2026, 11, 25))
EN = ChatContext("en", ZoneInfo("UTC"), dt.date(2026, 11, 25))

# Every command the console answers, and questions of every kind, as a Chinese seller types them.
ZH_MESSAGES = [
    "/start", "/help", "/lang zh", "/fees", "/fees 服装", "/fees 服装 18", "/fees 服装 18 uk",
    "/fees 鞋靴 50 德国", "/fees electronics 30 tiktok", "/fba 10x8x1 in 6 oz 18",
    "/fba 10x8x1 in 6 oz 18 de",
    "/rules", "/rules temu", "/upcoming 90", "/history amazon", "/search 保证金", "/coupon 25 22 20",
    "/lowinv small-standard 10 40", "/inform 250 8000", "/temuprice 12 10 300",
    "低库存费什么时候开始收", "哪些情况免收低库存费", "temu 卖家保证金", "亚马逊服装18美元佣金多少",
    "最近有什么新规", "fba配送费 25x20x5cm 400g 20刀", "邮政包裹关税现在多少", "欧盟包装法规什么时候生效",
]  # fmt: skip
# A program's English name quoted beside its Chinese one is a proper name.
PROPER_NAMES = {"Buy now refund later"}


@pytest.mark.parametrize("text", ZH_MESSAGES)
def test_every_command_in_chinese_has_no_ids_and_no_english_sentences(
    answers: Answers, catalog: Catalog, text: str
) -> None:
    reply = answers.reply(text, ZH)
    assert seller_problems(reply.plain, catalog.rules, "zh") == []
    for button in reply.buttons:
        assert seller_problems(button.label, catalog.rules, "zh") == []


def _without_notes(card: str) -> str:
    """The card up to its notes: the notes are the maintainers' words (policies' `notes`, not ours to edit
    here); the sources and everything above them are checked."""
    lines, skipping = [], False
    for line in card.split("\n"):
        if line in {"备注", "Notes"}:
            skipping = True
        elif skipping and not line.startswith("•"):
            skipping = False
        if not skipping:
            lines.append(line)
    return "\n".join(lines)


def test_every_rule_card_in_chinese_names_rules_and_publishers(answers: Answers, catalog: Catalog) -> None:
    found = {}
    for rule_id in catalog.rules:
        card = answers.reply(f"/rule {rule_id}", ZH).plain
        # No rule id and no research reference anywhere, notes included: a rule a text cites by id is named
        # by its title; the notes describe sources, not our research files.
        problems = [
            p
            for p in seller_problems(card, catalog.rules, "zh")
            if p.startswith(("rule id", "research reference"))
        ]
        problems += seller_problems(_without_notes(card), (), "zh")
        problems = [p for p in problems if not any(name in p for name in PROPER_NAMES)]
        if problems:
            found[rule_id] = problems
    assert found == {}


def test_the_card_still_finds_a_rule_by_id_or_reference_and_says_which(answers: Answers) -> None:
    by_id = answers.reply("/rule amazon-us-fuel-surcharge-2026", ZH)
    assert by_id.rules == ("amazon-us-fuel-surcharge-2026",)
    assert "amazon-us-fuel-surcharge-2026" not in by_id.plain
    by_ref = answers.reply("/rule R-A1", EN)
    assert by_ref.rules and by_ref.rules[0] == "amazon-us-fuel-surcharge-2026"


def test_sources_show_the_publisher_and_link_and_in_chinese_no_english_note(answers: Answers) -> None:
    card_en = answers.reply("/rule amazon-uk-referral-fees", EN)
    assert "referral-fees.md" not in card_en.plain and "G-G" not in card_en.plain
    assert "Seller-tool copies of Amazon's Rate Card — Europe 2026" in card_en.plain
    assert "seller-tool copies of Amazon's fee pages, compared in December 2026" in card_en.plain
    card_zh = answers.reply("/rule amazon-uk-referral-fees", ZH).plain
    assert "Seller-tool copies" not in card_zh
    assert "多家卖家工具对亚马逊费用页面的转载" in card_zh
    linked = answers.reply("/rule amazon-us-fuel-surcharge-2026", ZH).html
    assert '<a href="https://' in linked


def test_fba_names_the_surcharge_without_ids(answers: Answers) -> None:
    for ctx in (ZH, EN):
        reply = answers.reply("/fba 10x8x1 in 6 oz 18", ctx)
        assert "R-A1" not in reply.plain and "amazon-us-fuel-surcharge-2026" not in reply.plain
        assert "3.5%" in reply.plain
    europe = answers.reply("/fba 10x8x1 in 6 oz 18 de", ZH).plain
    assert "R-A2" not in europe and "1.5%" in europe


def test_the_fees_hint_repeats_the_sellers_own_word(answers: Answers) -> None:
    reply = answers.reply("/fees 服装", ZH).plain
    # The example names the platform and one of the other marketplaces on record (#22).
    assert "/fees 服装 18 amazon eu" in reply and "/fees 服装 18" in reply
    assert "apparel" not in reply
    assert "/fees clothing 18 amazon eu" in answers.reply("/fees clothing", EN).plain


def test_zones_read_by_their_common_name_and_iana_otherwise() -> None:
    assert zone_label("Asia/Shanghai", "zh") == "北京时间"
    assert zone_label(ZoneInfo("America/New_York"), "zh") == "美国东部时间"
    assert zone_label("Asia/Kolkata", "zh") == "Asia/Kolkata"  # no common Chinese name on file: IANA
    assert zone_label("Asia/Shanghai", "en") == "Beijing time"
    moment = dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.UTC)
    assert local_time(moment, "Asia/Shanghai", "zh") == "2026-12-06 17:30 北京时间"
    assert (
        local_time(moment.replace(tzinfo=None), "America/New_York", "en")
        == "2026-12-06 04:30 US Eastern time"
    )


def test_a_card_gives_its_dates_zone_by_name(answers: Answers) -> None:
    card = answers.reply("/rule us-customs-us-de-minimis-end-china-hk-2025", ZH).plain
    assert "时区：美国东部时间" in card and "America/New_York" not in card


def test_a_european_rule_takes_its_marketplaces_zone_not_the_platforms(catalog: Catalog) -> None:
    rule = catalog.rules["amazon-eu-fuel-surcharge-2026"]
    assert set(rule.marketplaces) >= {"UK", "DE", "FR"}
    assert catalog.rule_zones(rule) == ["Europe/London"]
    # Marketplaces an ocean apart keep the platform's zone: there is no one right answer.
    mixed = catalog.rules["amazon-coupon-pricing-requirements-2024"]
    assert "Europe/Berlin" in catalog.rule_zones(mixed)  # its events name their own marketplaces


def test_replies_list_the_rules_they_rest_on_in_order(answers: Answers) -> None:
    upcoming = answers.reply("/upcoming 90", EN)
    assert upcoming.rules and len(set(upcoming.rules)) == len(upcoming.rules)
    coming = answers.catalog.occurrences(EN.today, EN.today + dt.timedelta(days=90))
    assert upcoming.rules == tuple(dict.fromkeys(o.rule.id for o in coming[:40]))
    assert answers.reply("/fees apparel 18", EN).rules == ("amazon-us-apparel-referral-fee-2024",)
    assert answers.reply("/inform 250 8000", EN).rules == ("amazon-us-inform-consumers-act",)
    assert answers.reply("temu 卖家保证金", ZH).rules[:1] == ("tiktok-shop-us-deposit-1500-2025",)
    assert answers.reply("/fees", EN).rules == ()
    fba = answers.reply("/fba 10x8x1 in 6 oz 18", EN)  # on 2026-11-25: the 2026 card and R-A1's 3.5%
    assert fba.rules == ("amazon-us-fba-fulfillment-fees", "amazon-us-fuel-surcharge-2026")
    before_surcharge = answers.reply("/fba 10x8x1 in 6 oz 18 2026-03-01", EN)
    assert before_surcharge.rules == ("amazon-us-fba-fulfillment-fees",)


def test_the_sentence_detector_can_fail() -> None:
    assert english_sentences("也可以问：when does the low inventory fee start") != []
    assert english_sentences("亚马逊 · US/DE/FR/IT · Prime Big Deal Days · sellercentral.amazon.com") == []
    assert seller_problems("见 R-A1 与 referral-fees.md", (), "en") == [
        "research reference 'R-A1'",
        "research reference 'referral-fees.md'",
    ]
