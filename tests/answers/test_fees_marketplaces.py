"""Referral fees beyond Amazon US (issue 9): UK, the shared EU schedule, Japan, Canada and Mexico in their
currencies; every US category; marketplace words as data; the chat's subscribed marketplace as default;
fees beside the referral fee. Real catalog files, no mocks."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import POLICIES, context

from bot.answers.chart import chart_top, fee_chart_png, fee_series
from bot.answers.core import Answers
from bot.answers.parsing import find_marketplace
from bot.catalog.fees import compare
from bot.catalog.load import Catalog, CatalogError, load_catalog
from bot.cli import main
from bot.i18n import to_plain_text
from bot.money import format_money

TODAY = dt.date(2026, 12, 1)


def fee(catalog: Catalog, market: str, category: str, price: str, day: dt.date = TODAY) -> Decimal:
    current = compare(catalog.fee_schedules[("amazon", market, category)], Decimal(price), day).current
    assert current is not None
    return current.fee


def ask(answers: Answers, text: str, lang: str = "en", markets: tuple[str, ...] = ()) -> str:
    ctx = replace(context(lang, TODAY), marketplaces=markets)
    return to_plain_text(answers.reply(text, ctx).html)


# --- the numbers, at their boundaries --------------------------------------------------------------


@pytest.mark.parametrize(
    ("market", "price", "expected"),
    [
        ("UK", "15.00", "0.75"),  # exactly £15: still the 5% band
        ("UK", "15.01", "1.50"),  # 10%
        ("UK", "20.00", "2.00"),  # exactly £20: still 10%
        ("UK", "20.01", "3.00"),  # 15% of the whole price
        ("UK", "4.00", "0.25"),  # 5% = £0.20, below the £0.25 minimum
        ("DE", "20.00", "2.00"),
        ("EU", "4.00", "0.30"),  # the €0.30 minimum
    ],
)
def test_uk_and_eu_apparel_bands_from_2025_12_15(
    catalog: Catalog, market: str, price: str, expected: str
) -> None:
    assert fee(catalog, market, "apparel", price) == Decimal(expected)


def test_uk_apparel_before_the_cut_was_8_and_15_percent(catalog: Catalog) -> None:
    before = dt.date(2025, 12, 14)
    assert fee(catalog, "UK", "apparel", "15.00", before) == Decimal("1.20")
    assert fee(catalog, "UK", "apparel", "18.00", before) == Decimal("2.70")


@pytest.mark.parametrize(
    ("category", "price", "day", "expected"),
    [
        ("grocery", "10.00", dt.date(2026, 1, 31), "0.80"),  # 8% the day before the cut
        ("grocery", "10.00", dt.date(2026, 2, 1), "0.50"),  # 5% from 2026-02-01
        ("grocery", "10.01", dt.date(2026, 2, 1), "1.50"),  # 15% above €10
        ("grocery", "1.00", TODAY, "0.05"),  # no minimum for grocery
        ("home-products", "20.00", TODAY, "1.60"),
        ("home-products", "20.01", TODAY, "3.00"),
        ("pet-clothing-food", "10.00", dt.date(2026, 1, 31), "1.50"),  # flat 15% before
        ("pet-clothing-food", "10.00", TODAY, "0.50"),
        ("vitamins", "10.00", TODAY, "0.50"),
        ("furniture", "300.00", TODAY, "40.00"),  # 15% of €200 + 10% of €100
        ("automotive", "100.00", TODAY, "12.00"),  # 15% of €50 + 9% of €50
    ],
)
def test_eu_schedule_dated_changes(
    catalog: Catalog, category: str, price: str, day: dt.date, expected: str
) -> None:
    for market in ("EU", "DE", "FR", "IT", "ES"):
        assert fee(catalog, market, category, price, day) == Decimal(expected)


def test_uk_thresholds_differ_from_the_eu_ones(catalog: Catalog) -> None:
    # Furniture £175 (UK) vs €200 (EU); automotive £45 vs €50.
    assert fee(catalog, "UK", "furniture", "200.00") == Decimal("28.75")  # 26.25 + 2.50
    assert fee(catalog, "UK", "automotive", "100.00") == Decimal("11.70")  # 6.75 + 4.95


def test_the_eu_schedule_reaches_only_the_stores_a_source_names(catalog: Catalog) -> None:
    schedule = catalog.fee_schedules[("amazon", "DE", "apparel")]
    assert schedule is catalog.fee_schedules[("amazon", "EU", "apparel")]
    assert ("amazon", "NL", "apparel") not in catalog.fee_schedules


@pytest.mark.parametrize(
    ("category", "price", "day", "expected"),
    [
        ("consumer-electronics", "750", TODAY, "38"),  # ¥750 or less: 5% (37.5, half-up to whole yen)
        ("consumer-electronics", "751", TODAY, "63"),  # 8.4% of ¥751 = 63.084
        ("consumer-electronics", "751", dt.date(2026, 3, 31), "60"),  # 8% before the 2026-04-01 rise
        ("consumer-electronics", "500", TODAY, "30"),  # 5% = ¥25, below the ¥30 minimum
        ("beauty", "1500", TODAY, "126"),  # 8.4%
        ("beauty", "1501", TODAY, "156"),  # 10.4% of the whole price
        ("beauty", "1501", dt.date(2026, 1, 5), "150"),  # 10% after the 2025-10-31 merge
        ("footwear", "7500", TODAY, "930"),  # 12.4% of the whole price
        ("footwear", "10000", TODAY, "1090"),  # 12.4% of ¥7,500 + 6.4% of ¥2,500
        ("apparel", "2500", TODAY, "210"),  # 8.4%
        ("apparel", "3000", TODAY, "372"),  # 12.4%
        ("apparel", "4000", TODAY, "456"),  # 12.4% of ¥3,000 + 8.4% of ¥1,000
        ("media", "1000", TODAY, "154"),  # 15.4% at every price (no ¥750 band)
    ],
)
def test_japan_in_yen(catalog: Catalog, category: str, price: str, day: dt.date, expected: str) -> None:
    assert fee(catalog, "JP", category, price, day) == Decimal(expected)


def test_japan_has_no_version_before_the_beauty_merge(catalog: Catalog) -> None:
    schedule = catalog.fee_schedules[("amazon", "JP", "beauty")]
    assert compare(schedule, Decimal(1000), dt.date(2025, 10, 30)).current is None


@pytest.mark.parametrize(
    ("market", "category", "price", "expected"),
    [
        ("CA", "furniture", "300.00", "42.50"),  # 15% of C$250 + 10% of C$50
        ("CA", "beauty", "15.00", "1.20"),
        ("CA", "beauty", "2.00", "0.40"),  # the C$0.40 minimum
        ("MX", "toys-games", "300.00", "24.00"),
        ("MX", "toys-games", "300.01", "45.00"),
        ("MX", "beauty", "12.00", "8.00"),  # the MXN 8 minimum
    ],
)
def test_canada_and_mexico_as_far_as_sources_go(
    catalog: Catalog, market: str, category: str, price: str, expected: str
) -> None:
    assert fee(catalog, market, category, price) == Decimal(expected)


def test_us_grocery_has_no_minimum_and_lawn_mowers_are_whole_price(catalog: Catalog) -> None:
    assert fee(catalog, "US", "grocery", "1.00") == Decimal("0.08")
    assert fee(catalog, "US", "lawn-mowers", "500.00") == Decimal("75.00")
    assert fee(catalog, "US", "lawn-mowers", "500.01") == Decimal("40.00")
    assert fee(catalog, "US", "fine-art", "200.00") == Decimal("35.00")  # 20% of $100 + 15% of $100


def test_every_us_category_of_the_reference_has_a_schedule(catalog: Catalog) -> None:
    us = {c for (p, m, c) in catalog.fee_schedules if p == "amazon" and m == "US"}
    expected = {
        "amazon-device-accessories", "automotive", "baby", "luggage", "base-power-tools", "beauty",
        "business-industrial", "apparel", "collectible-coins", "compact-appliances", "computers",
        "consumer-electronics", "electronics-accessories", "everything-else", "eyewear", "fine-art",
        "footwear", "full-size-appliances", "furniture", "gift-cards", "grocery", "home-kitchen", "jewelry",
        "lawn-garden", "lawn-mowers", "mattresses", "media", "merchant-fulfilled-services",
        "musical-instruments", "office-products", "pet-products", "sports-outdoors", "tires",
        "tools-home-improvement", "toys-games", "video-game-consoles", "video-games", "watches", "handmade",
    }  # fmt: skip
    assert expected <= us


# --- fees beside the referral fee ------------------------------------------------------------------


def test_media_closing_fee_is_added_to_the_total(catalog: Catalog) -> None:
    current = compare(catalog.fee_schedules[("amazon", "US", "media")], Decimal("10.00"), TODAY).current
    assert current is not None
    assert (current.fee, current.total) == (Decimal("1.50"), Decimal("3.30"))


def test_uk_digital_services_fee_is_shown_but_not_added(catalog: Catalog) -> None:
    current = compare(catalog.fee_schedules[("amazon", "UK", "apparel")], Decimal("18.00"), TODAY).current
    assert current is not None
    (dsf,) = current.extras
    assert dsf.amount == Decimal("0.04") and dsf.extra.condition is not None
    assert current.total == current.fee


def test_answers_show_fees_beside_the_referral_fee(answers: Answers) -> None:
    media = ask(answers, "/fees books 10")
    assert "Closing fee $1.80" in media and "$3.30" in media
    uk = ask(answers, "/fees apparel 18 uk")
    assert "UK digital services fee £0.04 (2% × £1.80), only for sellers established in the UK" in uk
    zh = ask(answers, "/fees 图书 10 uk", "zh")
    assert "交易手续费（closing fee） £0.50" in zh and "英国数字服务费" in zh


# --- asking in words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("us", "US"), ("美国站", "US"), ("UK", "UK"), ("英国", "UK"), ("gb", "UK"), ("de", "DE"),
        ("德国", "DE"), ("amazon.de", "DE"), ("fr", "FR"), ("法国", "FR"), ("it", "IT"), ("意大利", "IT"),
        ("es", "ES"), ("西班牙", "ES"), ("jp", "JP"), ("日本", "JP"), ("ca", "CA"), ("加拿大", "CA"),
        ("mx", "MX"), ("墨西哥", "MX"), ("eu", "EU"), ("欧洲", "EU"), (" Japan ", "JP"),
        ("巴西", "BR"), ("brazil", "BR"), ("mars", None), ("", None), ("apparel", None),
    ],
)  # fmt: skip
def test_find_marketplace_reads_the_words_from_data(catalog: Catalog, word: str, code: str | None) -> None:
    assert find_marketplace(catalog, word) == code


def test_fees_in_the_marketplace_named(answers: Answers) -> None:
    uk = ask(answers, "/fees apparel 18 uk")
    assert "Amazon UK · Clothing & Accessories" in uk and "£1.80 (10%)" in uk
    de = ask(answers, "/fees 服装 18 德国", "zh")
    assert "亚马逊 DE (EU) · 服装配饰" in de and "€1.80（10%）" in de
    jp = ask(answers, "/fees shoes 10000 日本站")
    assert "JP¥1,090" in jp and "12.4% × JP¥7,500 + 6.4% × JP¥2,500" in jp


def test_a_marketplace_without_the_category_is_said_with_the_ones_that_have_it(answers: Answers) -> None:
    text = ask(answers, "/fees apparel 18 nl")
    assert "no fee schedule on record" in text and "EU" in text and "UK" in text and "US" in text
    brazil = ask(answers, "/fees 服装 18 巴西", "zh")  # a marketplace with nothing on record at all
    assert "没有“服装” BR 的费率记录" in brazil and "US" in brazil


def test_the_chats_subscribed_marketplace_is_the_default_then_us(answers: Answers) -> None:
    subscribed = ask(answers, "/fees apparel 18", markets=("UK",))
    assert "£1.80" in subscribed and "the one your chat subscribes to" in subscribed
    # Canada has no apparel schedule: the default falls back to US.
    fallback = ask(answers, "/fees apparel 18", markets=("CA",))
    assert "Amazon US" in fallback and "$1.80" in fallback
    assert "Amazon US" in ask(answers, "/fees apparel 18")
    # A marketplace in the question wins over the subscription.
    assert "Amazon JP" in ask(answers, "/fees apparel 3000 jp", markets=("UK",))


def test_every_schedule_answers_in_both_languages(catalog: Catalog, answers: Answers) -> None:
    """Each category in each marketplace gets an answer in its currency, not an error."""
    for (platform, market, category), schedule in catalog.fee_schedules.items():
        if platform != "amazon":
            continue
        for lang in ("en", "zh"):
            text = ask(answers, f"/fees {category} 5000 {market.lower()} amazon", lang)
            assert format_money(Decimal(5000), schedule.currency) in text, (market, category, lang)


# --- charts in other currencies -------------------------------------------------------------------


def test_yen_chart_samples_whole_yen_over_a_yen_sized_axis(catalog: Catalog) -> None:
    schedule = catalog.fee_schedules[("amazon", "JP", "media")]
    assert chart_top(schedule, [0, 1, 2]) == Decimal(5000)
    series = fee_series(schedule, today=TODAY)
    assert all(price == price.to_integral_value() for one in series for price in one.prices)
    png = fee_chart_png(schedule, "en", today=TODAY, title="Amazon JP media")
    assert png.startswith(b"\x89PNG")


def test_euro_chart_keeps_the_steps_at_the_bands(catalog: Catalog) -> None:
    schedule = catalog.fee_schedules[("amazon", "EU", "apparel")]
    (previous, current) = fee_series(schedule, today=TODAY)
    fees = dict(zip(current.prices, current.fees, strict=True))
    assert fees[Decimal("20.00")] == Decimal("2.00") and fees[Decimal("20.01")] == Decimal("3.00")
    assert previous.until == dt.date(2025, 12, 15)


# --- the marketplaces file -----------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    return folder


def test_a_word_for_two_marketplaces_is_a_problem_naming_file_and_entry(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "marketplaces.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"德国站"', '"德国站", "美国"'), encoding="utf-8"
    )
    with pytest.raises(CatalogError) as raised:
        load_catalog(folder)
    assert "marketplaces.toml field marketplaces[2]: '美国' names both US and DE" in str(raised.value)


def test_without_the_marketplaces_file_codes_still_work(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "marketplaces.toml").unlink()
    catalog = load_catalog(folder)
    assert find_marketplace(catalog, "uk") == "UK"
    assert find_marketplace(catalog, "英国") is None


def test_a_shared_schedule_may_not_clash_with_a_marketplaces_own(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "amazon.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        'applies_to = ["DE", "FR", "IT", "ES"]', 'applies_to = ["DE", "FR", "IT", "ES", "UK"]', 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(folder)
    assert "a second schedule for amazon-device-accessories in UK" in str(raised.value)


# --- the schema of the new fields ------------------------------------------------------------------


def _schedule_rule(version: str, extra_lines: str = "") -> str:
    return (
        'platform = "demo"\nname = { en = "Demo", zh = "演示" }\ntime_zone = "UTC"\n\n'
        '[[categories]]\nid = "widgets"\nname = { en = "Widgets", zh = "小部件" }\n\n'
        '[[rules]]\nid = "demo-fee"\nmarketplaces = ["JP"]\ntopic = "fees"\n'
        'title = { en = "T", zh = "T" }\nsummary = { en = "S", zh = "S" }\nconfidence = "low"\n'
        f"{extra_lines}"
        '[[rules.fee_schedules]]\nid = "demo-jp-widgets"\ncategory = "widgets"\nmarketplace = "JP"\n'
        'currency = "JPY"\nbasis = { en = "price", zh = "价格" }\n\n'
        f"[[rules.fee_schedules.versions]]\n{version}\n"
    )


SOURCE = '[[rules.sources]]\nurl = "https://example.com/fees"\nsays = "a fee"\nconfidence = "low"\n\n'
PAIRED = "marginal_from goes with style whole_then_marginal"
MIXED_TIERS = 'tiers = [{ above = 0, up_to = "750", rate = "0.05" }, { above = "750", rate = "0.10" }]'


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (
            f'style = "whole_then_marginal"\n{MIXED_TIERS}',
            "marginal_from goes with style whole_then_marginal",
        ),
        (f'marginal_from = "750"\n{MIXED_TIERS}', PAIRED),
        (
            f'style = "whole_then_marginal"\nmarginal_from = "700"\n{MIXED_TIERS}',
            "marginal_from must be the up_to of one of the tiers",
        ),
        (
            'tiers = [{ above = 0, rate = "0.15" }]\n'
            'extra_fees = [{ label = { en = "x", zh = "x" }, per_item = "140", share_of_fee = "0.02" }]',
            "give exactly one of per_item and share_of_fee",
        ),
    ],
)
def test_bad_fee_fields_are_reported_with_file_rule_and_field(
    tmp_path: Path, version: str, message: str
) -> None:
    (tmp_path / "demo.toml").write_text(_schedule_rule(version, SOURCE), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(tmp_path)
    text = str(raised.value)
    assert "demo.toml rule demo-fee field fee_schedules[0].versions[0]" in text and message in text


def test_a_rule_without_a_source_is_refused(tmp_path: Path) -> None:
    version = 'tiers = [{ above = 0, rate = "0.15" }]'
    (tmp_path / "demo.toml").write_text(_schedule_rule(version), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(tmp_path)
    assert "demo.toml rule demo-fee field sources: missing required field" in str(raised.value)


def test_every_shipped_referral_schedule_is_traced_to_its_rules_sources(catalog: Catalog) -> None:
    """Every schedule belongs to a rule with sources, and each marketplace's rule cites its own pages."""
    for schedule_id, rule in catalog.schedule_rule.items():
        assert rule.sources, schedule_id
    for rule_id in ("amazon-uk-referral-fees", "amazon-eu-referral-fees", "amazon-jp-referral-fees"):
        rule = catalog.rules[rule_id]
        assert any(source.confidence == "high" for source in rule.sources), rule_id


def test_check_prints_fee_schedules_per_marketplace(capsys: pytest.CaptureFixture[str]) -> None:

    assert main(["check", str(POLICIES)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in lines if line.startswith("amazon ")}
    assert rows[("amazon", "EU")][2:] == ["EUR", "DE", "ES", "FR", "IT"]
    assert rows[("amazon", "JP")][2] == "JPY" and rows[("amazon", "UK")][2] == "GBP"
    assert int(rows[("amazon", "US")][0]) >= 39  # every US category of the reference, and Handmade
