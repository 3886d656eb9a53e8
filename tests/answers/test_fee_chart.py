"""The /fees chart: a PNG for every shipped schedule in both languages, and curves that show the steps."""

from __future__ import annotations

import datetime as dt
import itertools
import struct
import warnings
from decimal import Decimal

import pytest
from conftest import TODAY

from bot.answers.chart import (
    Role,
    chart_fonts,
    chart_versions,
    fee_chart_caption,
    fee_chart_png,
    fee_series,
)
from bot.catalog.load import Catalog
from bot.catalog.schema import FeeSchedule
from bot.telegram_text import utf16_len, visible_text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
APPAREL = ("amazon", "US", "apparel")
TIKTOK = ("tiktok-shop", "US", "standard")


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always comes first."""
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def draw(schedule: FeeSchedule, lang: str, title: str = "Fees") -> bytes:
    """The chart, failing on any warning (pytest turns warnings into errors too; this says so here)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = fee_chart_png(schedule, lang, today=TODAY, title=title)
    assert [str(w.message) for w in caught] == []
    return png


def series_by_role(schedule: FeeSchedule, today: dt.date = TODAY) -> dict[Role, dict[Decimal, Decimal]]:
    return {
        one.role: dict(zip(one.prices, one.fees, strict=True)) for one in fee_series(schedule, today=today)
    }


def test_every_shipped_schedule_draws_in_both_languages(catalog: Catalog) -> None:
    assert catalog.fee_schedules
    for (platform, market, category), schedule in catalog.fee_schedules.items():
        for lang, title in (
            ("en", f"{platform} {market} · {category}"),
            ("zh", f"{platform} {market} · 服装"),
        ):
            png = draw(schedule, lang, title)
            assert png.startswith(PNG_SIGNATURE), (schedule.id, lang)
            assert png_size(png) == (800, 500)
            assert 5_000 < len(png) < 300_000, (schedule.id, lang, len(png))


def test_same_input_same_bytes(catalog: Catalog) -> None:
    schedule = catalog.fee_schedules[APPAREL]
    assert draw(schedule, "en") == draw(schedule, "en")


@pytest.mark.skipif(chart_fonts().cjk, reason="a CJK font is installed: the chart is drawn in Chinese")
def test_without_a_cjk_font_the_chinese_chart_falls_back_to_english(catalog: Catalog) -> None:
    schedule = catalog.fee_schedules[APPAREL]
    # A title the fonts cannot draw becomes the schedule's ids, the same in both languages.
    assert draw(schedule, "zh", "亚马逊 US · 服装") == draw(schedule, "en", "亚马逊 US · 服装")
    assert draw(schedule, "zh", "亚马逊 US · 服装") != draw(schedule, "en", "Amazon US · Apparel")


def test_the_placeholder_font_does_not_count_as_cjk() -> None:
    fonts = chart_fonts()
    assert fonts.families[0] == "DejaVu Sans"
    assert "Last Resort High-Efficiency" not in fonts.families
    assert fonts.can_draw("since 2024-01-15 $15 £9 €5")
    assert fonts.can_draw("价格") is fonts.cjk


def test_apparel_series_step_at_15_and_20(catalog: Catalog) -> None:
    curves = series_by_role(catalog.fee_schedules[APPAREL])
    assert list(curves) == [Role.PREVIOUS, Role.CURRENT]
    current, previous = curves[Role.CURRENT], curves[Role.PREVIOUS]
    # Whole-price tiers: $15.00 is still 5%, a cent more is 10% of the whole price; likewise at $20.
    assert current[Decimal("15.00")] == Decimal("0.75")
    assert current[Decimal("15.01")] == Decimal("1.50")
    assert current[Decimal("20.00")] == Decimal("2.00")
    assert current[Decimal("20.01")] == Decimal("3.40")
    # Before 2024-01-15 a flat 17%: no step at the same prices.
    assert previous[Decimal("15.01")] - previous[Decimal("15.00")] <= Decimal("0.01")
    assert previous[Decimal("20.01")] - previous[Decimal("20.00")] <= Decimal("0.01")
    # The minimum fee: $0.30 until 5% reaches it at $6.00.
    assert current[Decimal("0.01")] == current[Decimal("6.00")] == Decimal("0.30")
    prices = sorted(current)
    assert prices[-1] == Decimal(50)  # 1.5 x $20 is under the $50 floor
    assert len(prices) >= 400
    steps = [b - a for a, b in itertools.pairwise(prices)]
    assert max(steps) <= Decimal("0.13")  # dense enough to draw a step as a jump, not a slope


def test_x_range_follows_the_last_boundary_or_max_price(catalog: Catalog) -> None:
    watches = catalog.fee_schedules[("amazon", "US", "watches")]
    (only,) = fee_series(watches, today=TODAY)
    assert only.prices[-1] == Decimal("2250.00")
    assert Decimal("1500.00") in only.prices and Decimal("1500.01") in only.prices
    (capped,) = fee_series(watches, today=TODAY, max_price=Decimal(80))
    assert capped.prices[0] == Decimal("0.01") and capped.prices[-1] == Decimal(80)
    with pytest.raises(ValueError, match="positive"):
        fee_series(watches, today=TODAY, max_price=Decimal(0))


def test_versions_around_the_date(catalog: Catalog) -> None:
    tiktok = catalog.fee_schedules[TIKTOK]
    assert chart_versions(tiktok, dt.date(2024, 5, 1)) == [
        (Role.PREVIOUS, 0),
        (Role.CURRENT, 1),
        (Role.UPCOMING, 2),
    ]
    assert chart_versions(tiktok, TODAY) == [(Role.PREVIOUS, 1), (Role.CURRENT, 2)]
    assert chart_versions(tiktok, dt.date(2024, 3, 31)) == [(Role.CURRENT, 0), (Role.UPCOMING, 1)]
    uk = catalog.fee_schedules[("tiktok-shop", "UK", "standard")]  # records begin 2024-09-02
    assert chart_versions(uk, dt.date(2024, 1, 1)) == [(Role.UPCOMING, 0)]
    assert draw(uk, "en").startswith(PNG_SIGNATURE)
    upcoming = series_by_role(tiktok, dt.date(2024, 5, 1))[Role.UPCOMING]
    assert upcoming[Decimal("10.00")] == Decimal("0.80")  # 8% from 2024-07-01


def test_caption_names_the_versions_in_the_readers_language(catalog: Catalog) -> None:
    tiktok = catalog.fee_schedules[TIKTOK]
    en = fee_chart_caption(tiktok, "en", today=dt.date(2024, 5, 1), title="TikTok <US>")
    assert en.startswith("<b>TikTok &lt;US&gt;</b>")
    for label in ("before 2024-04-01", "since 2024-04-01", "from 2024-07-01 (announced)"):
        assert label in en
    zh = fee_chart_caption(catalog.fee_schedules[APPAREL], "zh", today=TODAY, title="亚马逊 服装")
    assert "2024-01-15 起" in zh and "2024-01-15 之前" in zh
    assert ("没有中文字体" in zh) is not chart_fonts().cjk
    for schedule in catalog.fee_schedules.values():
        for lang in ("en", "zh"):
            caption = fee_chart_caption(schedule, lang, today=TODAY, title="x" * 60)
            assert utf16_len(visible_text(caption)) <= 1024  # Telegram's photo caption limit


def test_dollar_signs_are_drawn_as_text_not_math(catalog: Catalog) -> None:
    # Unescaped, matplotlib would typeset "$^$" as math and fail to parse it.
    assert draw(catalog.fee_schedules[APPAREL], "en", "From $15 to $20, then $^$").startswith(PNG_SIGNATURE)
