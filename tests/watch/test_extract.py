"""The value extractor (#21): each form of date, percent and money, distractors, diffs, the labelled set."""

from __future__ import annotations

import pytest
from extract_labels import Score, diff_items, load_cases
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.watch.extract import Value, diff_values, extract_values


def values(text: str, year: int | None = None) -> list[str]:
    return [str(v) for v in extract_values(text, year=year)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("生效日期：2026-04-15", "2026-04-15"),
        ("自2026年4月15日起", "2026-04-15"),
        ("自 2026 年 4 月 15 日起", "2026-04-15"),
        ("自二〇二六年三月一日起", "2026-03-01"),
        ("自二〇二六年三月三十一日起发货", "2026-03-31"),
        ("effective April 15, 2026", "2026-04-15"),
        ("effective Apr. 15th, 2026", "2026-04-15"),
        ("from 15 April 2026", "2026-04-15"),
        ("gültig ab 15.04.2026.", "2026-04-15"),
        ("执行日期 2026/4/15", "2026-04-15"),
        ("ab dem 15. Januar 2027", "2027-01-15"),
        ("ab 1. März 2026", "2026-03-01"),
        ("2027年1月15日より", "2027-01-15"),
        ("２０２６年４月１５日", "2026-04-15"),
        ("自2026.3.12起", "2026-03-12"),
        ("takes effect on 3/4/2026", "2026-03-04"),
        ("gilt ab 15/4/2026", "2026-04-15"),
        ("令和8年4月1日より", "2026-04-01"),
        ("平成31年4月30日まで", "2019-04-30"),
        ("since 2026-04-17T00:00:00Z", "2026-04-17"),
    ],
)
def test_each_date_form(text: str, expected: str) -> None:
    assert values(text) == [expected]


def test_a_date_without_year_takes_the_nearest_full_dates_year() -> None:
    text = "2025年12月1日公告\n说明\n4月15日起收费\n\n\n\n2027-01-01 另行通知"
    assert values(text) == ["2025-12-01", "2025-04-15", "2027-01-01"]


def test_a_date_without_year_takes_the_page_context_year_or_is_dropped() -> None:
    assert values("4月15日起收费", year=2026) == ["2026-04-15"]
    assert values("from April 1 to May 14", year=2024) == ["2024-04-01", "2024-05-14"]
    assert values("4月15日起收费") == []  # no year anywhere: not guessed


def test_impossible_dates_are_not_dates() -> None:
    assert values("2026-02-30, 31.04.2026, 2026年13月1日, 2月30日, 2026/13/4, 13/13/2026", year=2026) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("附加费 3.5%", ["3.5%"]),
        ("按配送费的百分之三点五收取", ["3.5%"]),
        ("Zuschlag von 3,5 % auf", ["3.5%"]),
        ("販売手数料率：10％", ["10%"]),
        ("commission 10.8–11.78%", ["10.8%", "11.78%"]),
        ("between 5% and 50%", ["5%", "50%"]),
        ("a surcharge of 15 percent", ["15%"]),
        ("ein Zuschlag von 1,5 Prozent", ["1.5%"]),
    ],
)
def test_each_percent_form(text: str, expected: list[str]) -> None:
    assert values(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("minimum $0.30 per item", "0.3 USD"),
        ("deposit US$1,500", "1500 USD"),
        ("保证金1500美元", "1500 USD"),
        ("a flat duty of €3 per item", "3 EUR"),
        ("固定关税3 欧元", "3 EUR"),
        ("minimum fee £0.25", "0.25 GBP"),
        ("保证金为¥30", "30 CNY"),
        ("最低販売手数料30円", "30 JPY"),
        ("minimum fee ¥30 on amazon.co.jp", "30 JPY"),
        ("最高5万元保证金", "50000 CNY"),
        ("流通総額が50億円を超える", "5000000000 JPY"),
        ("保证金：CNY 1,000", "1000 CNY"),
        ("保证金一千元", "1000 CNY"),
        ("Kaution 1.500,00 €", "1500 EUR"),
        ("Mindestgebühr 0,30 €", "0.3 EUR"),
        ("Kaution: 500,00 US-Dollar", "500 USD"),
        ("an annual fee of USD 1,400", "1400 USD"),
        ("人民币5000元", "5000 CNY"),
    ],
)
def test_each_money_form(text: str, expected: str) -> None:
    assert values(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "客服热线：400-820-8820",
        "Call 1-866-216-1072, available 24/7",
        "お問い合わせ：0120-999-373",
        "Article ID: 202124090",
        "Version 2.3.1, API version v2026-01-01",
        "Regulation (EU) 2026/382, 19 CFR 10.151, HTSUS 9903.03.01",
        "页面更新于2026年, Updated 2026, 2024年の手数料改定",
        "Page 1 of 3, Seite 2/4, 第1页/共2页",
        "7×24小时在线, 过去7天售出少于20件, 3至20磅",
        "October 2028, in May the fee",
    ],
)
def test_distractors_are_not_values(text: str) -> None:
    assert values(text) == []


def test_a_value_remembers_its_line() -> None:
    [value] = extract_values("Fees\n\n  The surcharge is 3.5% of the fee.  ")
    assert value == Value("percent", "3.5", None, "3.5%", "The surcharge is 3.5% of the fee.", 3)


def test_diff_pairs_old_and_new_values_on_a_changed_line() -> None:
    old = "Surcharge\nThe surcharge is 15% of the fulfillment fee from April 17, 2026.\nPage 1 of 3"
    new = "Surcharge\nThe surcharge is 17% of the fulfillment fee from 15 January 2027.\nPage 1 of 3"
    diff = diff_values(old, new)
    assert [str(c) for c in diff.changed] == ["2026-04-17 → 2027-01-15", "15% → 17%"]
    assert diff.added == () and diff.removed == ()
    assert diff.changed[0].new.line == "The surcharge is 17% of the fulfillment fee from 15 January 2027."


def test_diff_reports_new_and_vanished_lines_and_ignores_unchanged_values() -> None:
    old = "Fees\nMinimum: $0.30\nDe minimis: $800\nEnd"
    new = "Fees\nMinimum: $0.30\nEffective 2026-02-24 all shipments pay duty.\nEnd"
    diff = diff_values(old, new)
    assert [str(v) for v in diff.added] == ["2026-02-24"]
    assert [str(v) for v in diff.removed] == ["800 USD"]
    assert diff.changed == ()


def test_a_value_that_stays_on_an_edited_line_is_not_a_change() -> None:
    diff = diff_values("Rate: 15 %", "Rate: 5 % up to 10,00 €, above it 15 %")
    assert [str(v) for v in diff.added] == ["5%", "10 EUR"]
    assert not diff.changed and not diff.removed


def test_amounts_in_different_currencies_do_not_pair() -> None:
    diff = diff_values("Deposit: $500", "Deposit: ¥500 on amazon.co.jp")
    assert [str(v) for v in diff.removed] == ["500 USD"]
    assert [str(v) for v in diff.added] == ["500 JPY"]


def test_identical_or_whitespace_only_changes_yield_nothing() -> None:
    text = "Rate: 15% from 2026-04-17\nMinimum $0.30"
    assert not diff_values(text, text)
    assert not diff_values(text, "Rate:  15%   from 2026-04-17\nMinimum $0.30\n")
    assert not diff_values("", "")


def test_chinese_numeral_change_is_read_as_digits() -> None:
    diff = diff_values("自二〇二六年三月一日起发货的库存", "自二〇二六年三月三十一日起发货的库存")
    assert [str(c) for c in diff.changed] == ["2026-03-01 → 2026-03-31"]


def test_labelled_set_meets_the_quality_bar() -> None:
    cases = load_cases()
    assert len(cases) >= 36
    assert {case.lang for case in cases} == {"zh", "en", "de", "ja"}
    score = Score.empty()
    for case in cases:
        score.add(case.items, diff_items(diff_values(case.old, case.new, year=case.year)))
    assert score.precision() >= 0.9, score
    assert score.recall() >= 0.8, score


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_extract_values_never_raises(text: str) -> None:
    for value in extract_values(text, year=2026):
        assert value.kind in ("date", "percent", "money")
        assert value.value


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "2026年4月15日",
                "4月15日",
                "百分之三点五",
                "3,5 %",
                "$1,500",
                "5万元",
                "１０％",
                "〇",
                "万一",
                "年",
                "月",
                "日",
            ]
        )
        | st.text(max_size=8),
        max_size=12,
    ).map("".join),
    st.text(max_size=40),
)
def test_diff_values_never_raises(old: str, new: str) -> None:
    diff = diff_values(old, new)
    for change in diff.changed:
        assert change.old.kind == change.new.kind
