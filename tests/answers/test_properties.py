"""Property-based tests: arbitrary text at every command never raises and always gets a reply."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from conftest import context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answers.core import COMMANDS, Answers
from bot.catalog.fees import compare
from bot.catalog.load import Catalog
from bot.i18n import t

WORDS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["apparel", "服装", "18", "-1", "0", "1e9", "NaN", "inf", "2024-02-30", "2024-01-15", "$18", "18.999",
         "amazon", "tiktok", "us", "uk", "<b>", "&amp;", "%", "50%", "1,500", "9" * 40, "small-standard",
         "A1"]
    ),
)  # fmt: skip
ARGUMENTS = st.lists(WORDS, max_size=6).map(" ".join)
ALLOWED_TAGS = {"b", "i", "code", "a"}
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(
    command=st.sampled_from(sorted(COMMANDS)), arguments=ARGUMENTS, lang=st.sampled_from(["en", "zh", "fr"])
)
def test_every_command_answers_any_arguments(
    answers: Answers, command: str, arguments: str, lang: str
) -> None:
    reply = answers.reply(f"/{command} {arguments}", context(lang))
    assert reply.plain.strip()
    assert reply.html != t(lang, "internal_error")


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_free_text_gets_a_reply(answers: Answers, text: str) -> None:
    reply = answers.reply(text, context("zh"))
    assert reply.plain.strip()
    assert reply.html != t("zh", "internal_error")


@SETTINGS
@given(text=st.text(max_size=80), command=st.sampled_from(["/fees", "/rule", "/search", "/lowinv", ""]))
def test_user_text_never_adds_markup(answers: Answers, text: str, command: str) -> None:
    """Whatever a user types, the reply's tags are only the bot's own, and each one is closed."""
    html = answers.reply(f"{command} {text} 18", context("en")).html
    tags = re.findall(r"<(/?)([a-z]+)[^>]*>", html)
    assert {name for _, name in tags} <= ALLOWED_TAGS
    for name in ALLOWED_TAGS:
        assert tags.count(("", name)) == tags.count(("/", name))


@SETTINGS
@given(
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2),
    day=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)),
)
def test_fees_are_never_negative_and_grow_with_price(catalog: Catalog, price: Decimal, day: dt.date) -> None:
    for schedule in catalog.fee_schedules.values():
        result = compare(schedule, price, day)
        if result.current is None:
            continue
        assert result.current.fee >= 0
        assert result.current.fee == result.current.fee.quantize(Decimal("0.01"))
        higher = compare(schedule, price + 1, day).current
        assert higher is not None
        # A higher price never costs less, except across a whole-price band whose rate falls (Amazon US
        # lawn mowers: 15% up to $500, 8% of the whole price above): then the higher band's rate is lower.
        if higher.fee < result.current.fee:
            assert higher.slices[0].tier.rate < result.current.slices[0].tier.rate, schedule.id


SELLER_WORDS = st.sampled_from(
    ["amazon", "亚马逊", "temu", "tiktok", "抖音", "shein", "速卖通", "us", "US", "美国站", "英国", "德国",
     "dress", "连衣裙", "T恤", "necklace", "耳环", "phone case", "数据线", "aparel", "jewlery", "fee", "佣金",
     "多少", "how much", "when", "什么时候", "exempt", "免收", "豁免", "小额豁免", "新规", "upcoming", "2027",
     "明年", "next month", "3月15日", "2月30日", "$25", "25美元", "25刀", "25 dollars", "1e309", "-5", "$$$",
     "99999", "99999年", "0", "$0", "1,000,000.01", "coupon", "low inventory", "小号标准", "10 days", "😀",
     "<b>", "&amp;"]
)  # fmt: skip
QUESTIONS = st.lists(st.one_of(SELLER_WORDS, st.text(max_size=8)), min_size=1, max_size=8).map(" ".join)


@SETTINGS
@given(text=QUESTIONS, lang=st.sampled_from(["en", "zh"]))
def test_seller_questions_get_answers_and_valid_buttons(answers: Answers, text: str, lang: str) -> None:
    """Questions built from sellers' words, good and bad, never fail and never carry an oversized button."""
    reply = answers.reply(text, context(lang))
    assert reply.plain.strip()
    assert reply.html != t(lang, "internal_error")
    assert len(reply.buttons) <= 3
    for button in reply.buttons:
        assert len(button.data.encode()) <= 64
        pressed = answers.press(button.data, context(lang))
        assert pressed.plain.strip() and pressed.html != t(lang, "internal_error")


@SETTINGS
@given(data=st.text(max_size=70))
def test_any_button_data_gets_a_reply(answers: Answers, data: str) -> None:
    assert answers.press(data, context("zh")).plain.strip()
