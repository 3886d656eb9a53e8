"""Issue 16, the answers side: the marketplace a price's currency selects, one answer per followed store
when nothing is named, and no amount in a currency other than its marketplace's. Real catalog, no mocks."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import POLICIES, context
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answers.core import Answers
from bot.answers.fees import split_currency
from bot.catalog.load import Catalog, CatalogError, load_catalog
from bot.cli import main
from bot.i18n import to_plain_text

TODAY = dt.date(2026, 12, 6)
SIGNS = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "JP¥", "CAD": "C$", "MXN": "MX$"}
# An amount as rendered: a sign before digits ("$18.00", "-£0.90"), or digits and a code ("1.80 RON").
AMOUNT = re.compile(r"(JP¥|C\$|MX\$|US\$|[$£€¥])\s?\d")


def ask(answers: Answers, text: str, lang: str = "en", markets: tuple[str, ...] = ()) -> str:
    ctx = replace(context(lang, TODAY, "Asia/Shanghai" if lang == "zh" else "UTC"), marketplaces=markets)
    return to_plain_text(answers.reply(text, ctx).html)


def signs_in(text: str) -> set[str]:
    return {match.group(1) for match in AMOUNT.finditer(text)}


# --- currency words are data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "number", "currency"),
    [
        ("$18", "18", "USD"),
        ("us$18", "18", "USD"),
        ("18usd", "18", "USD"),
        ("18美元", "18", "USD"),
        ("18刀", "18", "USD"),
        ("£50", "50", "GBP"),
        ("50英镑", "50", "GBP"),
        ("50镑", "50", "GBP"),
        ("GBP50", "50", "GBP"),
        ("€45", "45", "EUR"),
        ("45欧元", "45", "EUR"),
        ("JP¥1500", "1500", "JPY"),
        ("1500円", "1500", "JPY"),
        ("1500日元", "1500", "JPY"),
        ("C$20", "20", "CAD"),
        ("20加元", "20", "CAD"),
        ("MX$300", "300", "MXN"),
        ("300比索", "300", "MXN"),
        ("18", "18", None),
        ("¥18", "¥18", None),  # ¥ alone is the yuan to our readers: no marketplace is chosen by it
        ("uk", "uk", None),
    ],
)
def test_split_currency(catalog: Catalog, word: str, number: str, currency: str | None) -> None:
    assert split_currency(catalog, word) == (number, currency)


def test_every_priced_marketplace_has_its_currency_words(catalog: Catalog) -> None:
    """The currencies of the marketplaces with fee schedules are in the data, with words to name them."""
    for (_, market, _), schedule in catalog.fee_schedules.items():
        if market in catalog.marketplaces and catalog.marketplaces[market].currency is not None:
            assert catalog.marketplaces[market].currency == schedule.currency, market
    named = set(catalog.currency_words.values())
    assert {"USD", "GBP", "EUR", "JPY", "CAD", "MXN"} <= named


def test_a_currency_word_naming_two_currencies_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    path = folder / "marketplaces.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[[currencies]]\ncode = "AUD"\nwords = ["$"]\n')
    with pytest.raises(CatalogError, match=r"'\$' names both USD and AUD"):
        load_catalog(folder)


# --- the currency selects the marketplace ------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dollar_price_answers_for_the_us_although_uk_is_followed_first(answers: Answers, lang: str) -> None:
    for text in ["/fees apparel $18", "/fees apparel 18 usd", "/fees 服装 18美元", "/fees 服装 18刀"]:
        out = ask(answers, text, lang, markets=("UK", "US"))
        assert "US" in out.splitlines()[0], text
        assert "$1.80" in out and "£" not in out, text  # 10% of $18 (US apparel, $15-$20 band)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pound_price_answers_for_the_uk_without_following_it(answers: Answers, lang: str) -> None:
    out = ask(answers, "/fees apparel £18", lang)
    assert "UK" in out.splitlines()[0]
    assert "£1.80" in out and "$" not in out  # 10% of £18 since 2025-12-15


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_euro_price_answers_for_the_eu_schedule(answers: Answers, lang: str) -> None:
    out = ask(answers, "/fees apparel €18", lang, markets=("US",))
    assert "EU" in out.splitlines()[0]
    assert signs_in(out) == {"€"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_free_question_with_dollars_answers_for_the_us(answers: Answers, lang: str) -> None:
    """The issue's case: a US and UK follower asks 亚马逊服装18美元佣金多少; it was priced as £18."""
    out = ask(answers, "亚马逊服装18美元佣金多少", lang, markets=("UK", "US"))
    assert "$1.80" in out
    assert "£" not in out
    assert "GBP" not in out


def test_currency_against_a_named_marketplace_is_refused(answers: Answers) -> None:
    out = ask(answers, "/fees apparel $18 uk")
    assert "$18.00 is not in UK's currency (GBP)" in out
    zh = ask(answers, "/fees 服装 $18 英国", "zh")
    assert "不是 UK 站的币种（GBP）" in zh


def test_currency_no_store_charges_in_is_refused(answers: Answers) -> None:
    out = ask(answers, "/fees apparel C$18")  # Amazon CA has no apparel schedule on record
    assert "does not convert currencies" in out or "CAD" in out
    assert "£" not in out


# --- several followed stores, nothing named ----------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_several_followed_stores_get_one_answer_each(answers: Answers, lang: str) -> None:
    out = ask(answers, "/fees apparel 18", lang, markets=("UK", "US"))
    assert ("UK, US" in out) if lang == "en" else ("（UK, US）" in out)
    assert "$1.80" in out and "£1.80" in out  # each in its own currency: 10% of 18 in both
    assert "£18.00" in out and "$18.00" in out


def test_stores_sharing_one_schedule_count_once(answers: Answers) -> None:
    out = ask(answers, "/fees apparel 18", markets=("DE", "FR"))
    assert "several marketplaces" not in out
    assert signs_in(out) == {"€"}


def test_one_followed_store_gets_one_answer(answers: Answers) -> None:
    out = ask(answers, "/fees apparel 18", markets=("UK",))
    assert "several marketplaces" not in out
    assert signs_in(out) == {"£"}


def test_help_no_longer_promises_dollars(answers: Answers) -> None:
    assert "$18 item" not in ask(answers, "/help")
    assert "售价18美元" not in ask(answers, "/help", "zh")


def test_cli_ask_follows_the_markets_given(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["ask", "--lang", "zh", "--today", "2026-12-06", "--market", "UK", "--market", "US"]
    assert main([*args, "亚马逊服装18美元佣金多少"]) == 0
    out = capsys.readouterr().out
    assert "$1.80" in out and "£" not in out
    assert main([*args, "/fees", "服装", "18"]) == 0
    out = capsys.readouterr().out
    assert "$1.80" in out and "£1.80" in out


# --- the property ------------------------------------------------------------------------------------

PRICED = [("US", "USD"), ("UK", "GBP"), ("DE", "EUR"), ("EU", "EUR"), ("JP", "JPY"), ("MX", "MXN")]


@settings(max_examples=60, deadline=None)
@given(
    market=st.sampled_from(PRICED),
    category=st.sampled_from(["apparel", "electronics", "furniture", "jewelry", "shoes", "books"]),
    cents=st.integers(min_value=1, max_value=2_000_000),
    lang=st.sampled_from(["en", "zh"]),
    written=st.sampled_from(["marketplace", "currency"]),
)
def test_no_amount_in_another_currency(
    answers: Answers, market: tuple[str, str], category: str, cents: int, lang: str, written: str
) -> None:
    """Whatever the store, category and price, every amount in the fee answer is in the store's currency."""
    code, currency = market
    price = f"{cents // 100}.{cents % 100:02d}" if currency != "JPY" else str(cents // 100 or 1)
    sign = SIGNS[currency]
    where = f"{price} {code}" if written == "marketplace" else f"{sign}{price}"
    text = f"/fees {category} {where}"
    out = ask(answers, text, lang, markets=("US", "UK"))
    if "not on record" in out or "没有" in out or "No marketplace" in out:
        return  # the category has no schedule there: refused, with no amount to check
    assert signs_in(out) <= {sign}, out


# --- item 8: the Prime clothing rule -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fee"),
    [
        ("/fees apparel £50 fba", "£6.70"),  # 15% × £40 + 7% × £10 (referral-fees.md, UK clothing)
        ("/fees apparel £50 prime", "£6.70"),
        ("/fees apparel €50 fba", "€7.10"),  # 15% × €45 + 7% × €5 (EU clothing)
        ("/fees 服装 60欧元 fba", "€7.80"),  # 15% × €45 = €6.75, + 7% × €15 = €1.05
    ],
)
def test_prime_rule_applied_when_the_question_says_fba(answers: Answers, text: str, fee: str) -> None:
    for lang in ("en", "zh"):
        out = ask(answers, text, lang)
        assert f"{fee} (15%/7%)" in out or f"{fee}（15%/7%）" in out, out
        assert "15% ×" in out and "7% ×" in out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_prime_rule_shown_beside_the_standard_fee_when_not_said(answers: Answers, lang: str) -> None:
    out = ask(answers, "/fees apparel £50", lang)
    assert "£7.50" in out  # the standard 15% of the whole price
    assert "£6.70" in out  # and the FBA / Seller Fulfilled Prime fee beside it
    assert ("If fulfilled by Amazon" in out) if lang == "en" else ("如为亚马逊物流" in out)


def test_prime_rule_left_out_for_fbm_and_at_or_below_the_threshold(answers: Answers) -> None:
    fbm = ask(answers, "/fees apparel £50 fbm")
    assert "£7.50" in fbm and "£6.70" not in fbm and "Not priced as" in fbm
    at = ask(answers, "/fees apparel £40 fba")  # at £40 exactly: not above, the standard 15% = £6.00
    assert "£6.00 (15%)" in at and " 7% ×" not in at
    above = ask(answers, "/fees apparel £40.01 fba")  # 15% × £40 + 7% × £0.01 = £6.0007 -> £6.00
    assert "7% × £0.01" in above


def test_prime_rule_is_not_on_us_apparel(answers: Answers) -> None:
    out = ask(answers, "/fees apparel $50 fba")
    assert "$8.50 (17%)" in out  # US apparel: 17% above $20, no Prime rule on record
    assert " 7% ×" not in out and "(15%/7%)" not in out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_free_question_with_fba_applies_the_prime_rule(answers: Answers, lang: str) -> None:
    """The issue's case: 亚马逊英国 服装 50英镑 FBA 佣金多少 gave 15% = £7.50."""
    out = ask(answers, "亚马逊英国 服装 50英镑 FBA 佣金多少", lang)
    assert "£6.70" in out
    assert "£7.50" not in out


def test_cli_ask_applies_the_prime_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--lang", "zh", "--today", "2026-12-06", "亚马逊英国 服装 50英镑 FBA 佣金多少"]) == 0
    assert "£6.70" in capsys.readouterr().out


# --- items 4, 5, 7: /fba -----------------------------------------------------------------------------

FBA = "/fba 10x8x1 in 6 oz 18"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fba_card_change_and_surcharge_each_on_its_own_date(answers: Answers, lang: str) -> None:
    out = ask(answers, FBA, lang)
    # The card moved $4.15 -> $4.20 on 2026-01-15 (fba-rate-cards.md §2.1, §4.1); the 3.5% surcharge
    # ($0.15 of $4.20) started 2026-04-17: two lines, two dates, never "+$0.20" as one change.
    assert "+$0.05" in out and "2026-01-15" in out
    assert "+$0.15" in out and "2026-04-17" in out
    assert "+$0.20" not in out
    assert "$4.35" in out  # the total with the surcharge
    assert "before the fuel and logistics surcharge" not in out and "不含燃油及物流附加费" not in out


def test_fba_before_the_surcharge_shows_no_surcharge(answers: Answers) -> None:
    out = ask(answers, f"{FBA} 2026-03-01")
    assert "+$0.05" in out and "Surcharge from" not in out and "$4.20" in out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fba_inside_the_usual_peak_window_says_so(answers: Answers, lang: str) -> None:
    out = ask(answers, FBA, lang)  # 2026-12-06: inside 10-15 .. 01-14, the 2026-27 peak not announced
    window = "usual holiday peak window (10-15 to 01-14)" if lang == "en" else "10-15 至 01-14"
    assert window in out
    assert ("not on record" in out) if lang == "en" else ("尚无记录" in out)
    # What the last announced peak (2025-10-15 to 2026-01-14) added, from Amazon's 2025 table (rule B8).
    assert "$3.15 → $3.34" in out and "$4.67 → $5.00" in out and "$12.27 → $13.31" in out


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        ("2026-10-14", False),
        ("2026-10-15", True),
        ("2026-12-31", True),
        ("2027-01-14", True),
        ("2027-01-15", False),
        ("2026-07-01", False),
    ],
)
def test_fba_peak_window_boundaries(answers: Answers, day: str, inside: bool) -> None:
    out = ask(answers, f"{FBA} {day}")
    assert ("Holiday peak" in out) is inside, day


def test_fba_inside_the_announced_peak_says_it_was_announced(answers: Answers) -> None:
    out = ask(answers, f"{FBA} 2025-12-01")
    assert "inside the peak announced for 2025-10-15 to 2026-01-14" in out


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("text", ["/fba 10x8x1 in 6 oz 18 apparel", "服装 FBA 10x8x1 inch 6 oz $18"])
def test_fba_apparel_fee_is_said_not_computed(answers: Answers, lang: str, text: str) -> None:
    out = ask(answers, text, lang)
    assert ("is not computed" in out) if lang == "en" else ("未计算" in out)
    assert "$4.20" not in out and "$4.35" not in out  # the non-apparel card's fee is not passed off


def test_fba_price_currency_picks_the_marketplace(answers: Answers) -> None:
    assert "no FBA rate card on record for UK" in ask(answers, "/fba 10x8x1 in 6 oz £18")
    assert "$4.35" in ask(answers, "/fba 10x8x1 in 6 oz 18美元")
    assert "not in UK's currency" in ask(answers, "/fba 10x8x1 in 6 oz $18 uk")


def test_cli_ask_fba(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--lang", "en", "--today", "2026-12-06", FBA]) == 0
    out = capsys.readouterr().out
    assert "Rate card change on 2026-01-15" in out and "Holiday peak" in out
