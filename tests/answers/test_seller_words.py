"""Issue #17, understanding: a seller's own words for FBA figures, dates, categories, platforms we hold
nothing for, what is coming, and which rule answers first."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import context

from bot.answers.core import Answers
from bot.answers.fba import parse_fba_request
from bot.answers.parsing import written_date
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
