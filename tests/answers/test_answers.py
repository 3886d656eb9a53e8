"""The answers core, as a user meets it: commands and questions in English and Chinese."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import context

from bot.answers.core import COMMANDS, Answers, ChatContext
from bot.i18n import messages


def ask(answers: Answers, text: str, ctx: ChatContext) -> str:
    return answers.reply(text, ctx).plain


def test_fees_apparel_18_gives_the_rate_the_fee_and_the_old_fee(answers: Answers, en: ChatContext) -> None:
    reply = ask(answers, "/fees apparel 18", en)
    assert "Fee on 2026-11-25: $1.80 (10%)" in reply
    assert "since 2024-01-15" in reply
    assert "before it, 17% = $3.06; now $1.80 (-$1.26)" in reply


def test_fees_in_chinese_with_a_chinese_category(answers: Answers, zh: ChatContext) -> None:
    reply = ask(answers, "/fees 服装 18", zh)
    assert "$1.80（10%）" in reply
    assert "此前 17% = $3.06" in reply


def test_fees_on_a_date_before_the_cut(answers: Answers, en: ChatContext) -> None:
    reply = ask(answers, "/fees apparel 18 2024-01-14", en)
    assert "Fee on 2024-01-14: $3.06 (17%)" in reply
    assert "before our records begin" in reply
    assert "Announced: from 2024-01-15, 10% = $1.80 (-$1.26)" in reply


def test_fees_at_the_boundaries(answers: Answers, en: ChatContext) -> None:
    assert "$0.75 (5%)" in ask(answers, "/fees apparel 15.00", en)
    assert "$2.00 (10%)" in ask(answers, "/fees apparel 20.00", en)
    assert "$3.40 (17%)" in ask(answers, "/fees apparel 20.01", en)


def test_fees_unchanged_price_says_so(answers: Answers, en: ChatContext) -> None:
    assert "did not change the fee at this price ($4.25 before too)" in ask(answers, "/fees apparel 25", en)


def test_fees_minimum_and_marginal_are_explained(answers: Answers, en: ChatContext) -> None:
    assert "the minimum fee $0.30 applies; the percentage is $0.05" in ask(answers, "/fees apparel 1", en)
    assert "20% × $250.00 + 5% × $50.00 = $52.50" in ask(answers, "/fees jewelry 300", en)


def test_fees_tiktok_with_fixed_part_and_catch_all(answers: Answers, en: ChatContext) -> None:
    reply = ask(answers, "/fees apparel 20 tiktok 2024-03-01", en)
    assert "no category of its own" in reply
    assert "2% × $20.00 + $0.30 per order = $0.70" in reply
    assert "$1.60 (8%)" in ask(answers, "/fees apparel 20 tiktok", en)
    assert "£0.90 (9%)" in ask(answers, "/fees standard 10 tiktok uk", en)


def test_fees_without_price_shows_the_schedule_history(answers: Answers, en: ChatContext) -> None:
    reply = ask(answers, "/fees apparel", en)
    assert "before our records begin: 17%" in reply
    assert "since 2024-01-15: 5% up to $15.00" in reply


def test_fees_alone_lists_categories(answers: Answers, zh: ChatContext) -> None:
    reply = ask(answers, "/fees", zh)
    assert "apparel — 服装配饰" in reply
    assert "用法：/fees" in reply


@pytest.mark.parametrize(
    ("text", "en_part", "zh_part"),
    [
        ("/fees aparel 18", "Did you mean: apparel", "您是否要找：apparel"),
        ("/fees apparel abc", "is not a number", "不是数字"),
        ("/fees apparel -5", "cannot be negative", "不能为负数"),
        ("/fees apparel 0", "must be more than zero", "必须大于零"),
        ("/fees apparel 99999999", "too large", "过大"),
        ("/fees apparel 18.999", "more than two decimals", "最多两位小数"),
        ("/fees apparel 18 2024-02-30", "is not a date", "不是有效日期"),
        (
            "/fees apparel 18 otto",
            "I don't understand “otto”",
            "看不懂价格后面的“otto”",
        ),  # walmart is a platform (#22)
        ("/fees 18", "Which category?", "请写明类目"),
        ("/fees apparel 18 19", "Only one price", "请只写一个价格"),
        ("/fees apparel 18 ca", "no fee schedule on record", "没有“apparel”"),
    ],
)
def test_fees_bad_input_gets_a_usage_line_in_the_users_language(
    answers: Answers, text: str, en_part: str, zh_part: str
) -> None:
    assert en_part in ask(answers, text, context("en"))
    assert zh_part in ask(answers, text, context("zh"))


def test_upcoming_lists_real_coming_events_nearest_first(answers: Answers, en: ChatContext) -> None:
    reply = ask(answers, "/upcoming 365", en)
    dates = [line.split(" ")[1] for line in reply.splitlines() if line.startswith("• ")]
    assert dates, reply
    assert dates == sorted(dates)
    assert all("2026-11-25" <= d <= "2027-11-25" for d in dates)
    assert "2026-12-31" in dates  # the yearly storage peak ends
    assert "2027-07-01" in reply  # de minimis statutory repeal


def test_upcoming_default_window_and_platform_filter(answers: Answers, en: ChatContext) -> None:
    reply = ask(answers, "/upcoming amazon 400", en)
    assert "Amazon" in reply and "US customs" not in reply
    assert "30 days" in ask(answers, "/upcoming", en)
    assert "Next 30 days" in ask(answers, "/upcoming", context("en", dt.date(2026, 12, 15)))
    assert "must be more than zero" in ask(answers, "/upcoming 0", en)
    assert "too large" in ask(answers, "/upcoming 99999", en)


def test_history_newest_first(answers: Answers, en: ChatContext) -> None:
    reply = ask(answers, "/history amazon", en)
    dates = [line.split(" ")[1] for line in reply.splitlines() if line.startswith("• ")]
    assert dates == sorted(dates, reverse=True)
    assert all(d < "2026-11-25" for d in dates)
    assert "Usage: /history" in ask(answers, "/history nosuchplatform", en)


def test_rules_lists_every_rule_of_a_platform(answers: Answers, en: ChatContext) -> None:
    reply = ask(answers, "/rules tiktok-shop", en)
    assert reply.count("• ") == len(answers.catalog.rules_of("tiktok-shop"))


def test_rule_card_by_code_by_id_and_by_words(answers: Answers, en: ChatContext) -> None:
    card = ask(answers, "/rule A1", en)
    for part in [
        "Apparel referral fee",
        "In force since 2024-01-15",
        "Sources",
        "retaildive.com",
        "As of 2026-11-25",
    ]:
        assert part in card
    assert ask(answers, "/rule amazon-us-apparel-referral-fee-2024", en) == card
    assert "Low" in ask(answers, "/rule low inventory fee", en).splitlines()[0].title()
    assert "No rule matches" in ask(answers, "/rule zzqx", en)


def test_rule_card_status_changes_with_today(answers: Answers) -> None:
    before = ask(answers, "/rule A1", context("en", dt.date(2024, 1, 1)))
    assert "Not yet in force: from 2024-01-15 (in 14 days)" in before


@pytest.mark.parametrize(
    ("question", "rule_ref"),
    [
        ("低库存费什么时候开始收", "A3"),
        ("when does the low inventory fee start", "A3"),
        ("TikTok deposit for full-managed sellers", "T1"),
        ("coupon rules", "A4"),
        ("全托管保证金", "T1"),
        ("de minimis China postal", "U1"),
        ("INFORM consumers act high volume seller", "A5"),
        ("欧盟包装法规", "EU4"),
    ],
)
def test_free_text_questions_find_the_right_rule(
    answers: Answers, en: ChatContext, question: str, rule_ref: str
) -> None:
    hits = answers.index.search(question, limit=3)
    assert rule_ref in {hit.rule.ref for hit in hits}, [h.rule.id for h in hits]
    # The question is answered about that rule (its card, its dates or its exemptions), not about another.
    assert rule_ref in {rule.ref for rule in answers.ask(question, en).rules[:3]}


def test_a_question_that_matches_nothing_says_so(answers: Answers, zh: ChatContext, en: ChatContext) -> None:
    assert "I found no rule about" in ask(answers, "what's the weather like", en)
    assert "/rules" in ask(answers, "what's the weather like", en)
    assert "没有找到" in ask(answers, "今天天气怎么样", zh)


def test_lang_switches_the_reply_language(answers: Answers, en: ChatContext) -> None:
    reply = answers.reply("/lang zh", en)
    assert reply.language == "zh" and "中文" in reply.plain
    assert "Usage: /lang" in ask(answers, "/lang klingon", en)


def test_commands_with_bot_username_and_unknown_commands(answers: Answers, en: ChatContext) -> None:
    assert "$1.80" in ask(answers, "/fees@PolicyBot apparel 18", en)
    assert "I don't know the command /frobnicate" in ask(answers, "/frobnicate", en)


def test_help_lists_every_listed_command_with_an_example(
    answers: Answers, en: ChatContext, zh: ChatContext
) -> None:
    for ctx in (en, zh):
        reply = ask(answers, "/help", ctx)
        for name, command in COMMANDS.items():
            if command.listed:
                assert f"/{name}" in reply


def test_coupon_checks_each_rule_with_numbers(answers: Answers, en: ChatContext) -> None:
    ok = ask(answers, "/coupon 25 22 20", en)
    assert "meets the pricing requirements" in ok
    assert "limit $28.60" in ok and "$20.00" in ok
    bad = ask(answers, "/coupon 30 22 3", en)
    assert "does not meet" in bad
    assert bad.count("❌") == 4  # verdict, price too far above Was, net not low enough, discount below 5%
    assert "Usage: /coupon" in ask(answers, "/coupon 25", en)
    assert "between 0 and 100" in ask(answers, "/coupon 25 22 150", en)


def test_coupon_boundaries(answers: Answers, en: ChatContext) -> None:
    # Current exactly 30% above Was is allowed; net exactly 5% below Was is allowed; 5% and 50% are allowed.
    assert "meets" in ask(answers, "/coupon 26 20 26.93", en)
    assert "meets" in ask(answers, "/coupon 20 20 5", en)
    assert "meets" in ask(answers, "/coupon 20 20 50", en)
    assert "does not meet" in ask(answers, "/coupon 20 20 50.01", en)


def test_lowinv(answers: Answers, en: ChatContext, zh: ChatContext) -> None:
    assert "$0.89 per unit" in ask(answers, "/lowinv small-standard 10 13", en)
    assert "$0.63 per unit" in ask(answers, "/lowinv small-standard 10 14", en)  # greater figure, 14 days
    assert "$0.47 per unit" in ask(answers, "/lowinv large-standard-20lb 27.9 5", en)
    assert "No low-inventory-level fee" in ask(answers, "/lowinv small-standard 28 5", en)
    assert "exemptions" in ask(answers, "/lowinv small-standard 10 13", en)
    assert "每件 $0.89" in ask(answers, "/lowinv 小号标准 10 13", zh)
    assert "I don't know the size tier" in ask(answers, "/lowinv tiny 1 1", en)
    assert "Usage: /lowinv" in ask(answers, "/lowinv", en)


def test_lowinv_knows_the_grace_period(answers: Answers) -> None:
    assert "not charged yet" in ask(answers, "/lowinv small-standard 1 1", context("en", dt.date(2024, 3, 1)))
    assert "credited back" in ask(answers, "/lowinv small-standard 1 1", context("en", dt.date(2024, 5, 14)))
    assert "credited back" not in ask(
        answers, "/lowinv small-standard 1 1", context("en", dt.date(2024, 5, 15))
    )


def test_inform(answers: Answers, en: ChatContext) -> None:
    assert "high-volume third-party seller" in ask(answers, "/inform 200 5000", en)
    assert "not a high-volume seller" in ask(answers, "/inform 199 50000", en)
    assert "not a high-volume seller" in ask(answers, "/inform 5000 4999.99", en)
    assert "disclosed to buyers" in ask(answers, "/inform 300 20000", en)
    assert "no disclosure" in ask(answers, "/inform 300 19999", en)
    assert "not a high-volume seller" in ask(answers, "/inform 0 0", en)
    assert "whole number" in ask(answers, "/inform 2.5 100", en)


def test_temuprice(answers: Answers, en: ChatContext) -> None:
    assert "2.00 above the reference × 300 orders = 600.00" in ask(answers, "/temuprice 12 10 300", en)
    assert "not above the reference price" in ask(answers, "/temuprice 10 10 300", en)
    assert "1 month" in ask(answers, "/temuprice 12 10 300", en)


def test_every_message_key_used_exists_in_both_languages() -> None:
    assert messages("en").keys() == messages("zh").keys()


def test_user_text_is_escaped_in_html(answers: Answers, en: ChatContext) -> None:
    reply = answers.reply("/fees <b>x</b> 18", en)
    assert "&lt;b&gt;x&lt;/b&gt;" in reply.html
    assert "<b>x</b>" in reply.plain


def test_overlong_and_empty_input(answers: Answers, en: ChatContext) -> None:
    assert "too long" in ask(answers, "x" * 5000, en)
    assert "/help" in ask(answers, "   ", en)


def test_rule_status_for_recurring_superseded_and_ended_rules(answers: Answers, en: ChatContext) -> None:
    assert "Recurs every year; next: " in ask(answers, "/rule amazon-us-peak-storage-fee", en)
    assert "2026-12-31 (in 36 days)" in ask(answers, "/rule amazon-us-peak-storage-fee", en)
    holiday = ask(answers, "/rule B8", en)
    assert "Recurred yearly until 2026-01-14; no later period has been announced" in holiday
    first_order = ask(answers, "/rule us-customs-us-china-postal-duty-first-order-2025", en)
    assert "Superseded by a newer rule" in first_order
    assert "us-customs-us-china-postal-duty-raise-2025-04" not in first_order  # a name, not an id (#17)
    prime_day = ask(answers, "/rule amazon-us-prime-day-2025", en)
    assert "Ended on 2025-07-11" in prime_day


def test_rule_card_shows_figures_in_their_units_and_tables(answers: Answers, zh: ChatContext) -> None:
    card = ask(answers, "/rule A3", zh)
    assert "28 天" in card and "70%" in card
    assert "0 至不足 14：$0.89" in card
    assert "$2.40/cu ft" in ask(answers, "/rule B9", zh)


def test_event_times_are_shown_in_the_chats_zone(answers: Answers, zh: ChatContext) -> None:
    card = ask(answers, "/rule us-customs-us-de-minimis-end-china-hk-2025", zh)
    assert "2025-05-02 00:01 美国东部时间（= 2025-05-02 12:01 北京时间）" in card


def test_a_category_alias_starting_with_a_digit_is_not_a_price(answers: Answers, en: ChatContext) -> None:
    assert "$1.80 (6%)" in ask(answers, "/fees 3C数码 30 tiktok", en)
    assert "$1.80 (6%)" in ask(answers, "/fees 3c 30 tiktok", en)
    assert "is not a number" in ask(answers, "/fees apparel 18abc", en)


def test_rule_status_with_only_a_deadline_names_the_key_date(answers: Answers) -> None:
    """A rule whose only date is a deadline (the EU handling fee) says that date, not "no date on record"."""
    before = ask(answers, "/rule eu-handling-fee-2026", context("en", dt.date(2026, 10, 1))).splitlines()[2]
    assert "Key date" in before and "2026-11-01" in before and "in 31 days" in before
    after = ask(answers, "/rule eu-handling-fee-2026", context("zh", dt.date(2026, 12, 1))).splitlines()[2]
    assert "关键日期" in after and "2026-11-01" in after and "30 天前" in after


def test_a_chat_command_in_the_console_says_where_it_works(
    answers: Answers, en: ChatContext, zh: ChatContext
) -> None:
    assert "works in the Telegram bot" in ask(answers, "/skus", en)
    assert "需要在 Telegram 机器人中使用" in ask(answers, "/subscribe amazon", zh)
    assert "I don't know the command /nonsense" in ask(answers, "/nonsense", en)
