"""A PNG chart of a fee schedule: the fee (y) against the price (x) for the versions around a date.

The chart shows the version in force, the one before it (the latest change) and the next announced
one, so a seller sees at a glance what changed and at which prices. Tier boundaries of whole-price
tiers are steps (Amazon US apparel jumps at $15 and at $20), so the prices are sampled densely and
also exactly at every boundary and one cent above it: the step then shows as a jump, not a slope.

Drawing uses `matplotlib.figure.Figure` with the Agg canvas directly, never pyplot: no global figure
state and nothing to close, so a worker thread may draw (the Telegram adapter does, via asyncio.to_thread).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache

from bot.answers.cards import describe_tiers
from bot.catalog import FeeSchedule, charge, version_span
from bot.i18n import Html, escape, join, t, to_plain_text
from bot.money import format_money, minor_unit

__all__ = [
    "ChartFonts",
    "FeeSeries",
    "Role",
    "chart_fonts",
    "chart_top",
    "chart_versions",
    "fee_chart_caption",
    "fee_chart_png",
    "fee_series",
    "sample_prices",
]

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8, 5, 100  # 800 x 500 px: readable on a phone, small to send
SAMPLES = 400  # evenly spaced prices; boundaries and minimum-fee kinks are added exactly
# The x axis reaches at least this far (about $50 in each currency: a display choice, not a fee) ...
MIN_TOP = {"JPY": Decimal(5000), "MXN": Decimal(1000)}
MIN_TOP_DEFAULT = Decimal(50)
TOP_FACTOR = Decimal("1.5")  # ... and half as far again as the last tier boundary
LATIN_FAMILY = "DejaVu Sans"  # ships with matplotlib, so every machine draws the same glyphs
# Families that draw Simplified Chinese well, tried first when installed (any CJK font is used otherwise).
PREFERRED_CJK = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)
CJK_PROBE = "价格费用起之前已公布现行（）"  # every CJK character the chart's own labels use
# A noncharacter no real font maps: a font that does is a placeholder font that draws boxes for
# everything (matplotlib ships one, "Last Resort High-Efficiency"), which must not count as CJK support.
NONCHARACTER = 0xFDD0


class Role(StrEnum):
    PREVIOUS = "previous"  # the version before the one in force (or the last one, when none is)
    CURRENT = "current"  # in force on the chart's date
    UPCOMING = "upcoming"  # announced, starting after the chart's date


# (colour, line style, width): the version in force stands out, the others recede.
STYLES: dict[Role, tuple[str, str, float]] = {
    Role.PREVIOUS: ("#7f7f7f", "--", 1.6),
    Role.CURRENT: ("#1f77b4", "-", 2.4),
    Role.UPCOMING: ("#ff7f0e", ":", 2.2),
}


@dataclass(frozen=True)
class FeeSeries:
    """One version's fee curve: the prices sampled and the fee `bot.fees.charge` gives at each."""

    role: Role
    index: int  # into schedule.versions
    since: dt.date | None
    until: dt.date | None  # exclusive
    prices: tuple[Decimal, ...]
    fees: tuple[Decimal, ...]


@dataclass(frozen=True)
class ChartFonts:
    """The font families every text of the chart is drawn with, and the characters they cover."""

    families: tuple[str, ...]
    covered: frozenset[int]
    cjk: bool

    def can_draw(self, text: str) -> bool:
        return all(ord(char) in self.covered or char.isspace() for char in text)


def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):  # an unreadable font file is simply not a candidate
        return frozenset()


@cache
def chart_fonts() -> ChartFonts:
    """DejaVu Sans, plus a CJK family when one is installed (checked by its glyphs, not its name).

    Without a CJK font, matplotlib draws Chinese as empty boxes and warns "Glyph ... missing from
    font"; the chart then says everything in English instead (see `fee_chart_png`). Scanning the
    fonts takes about half a second, once per process.
    """
    from matplotlib import font_manager  # here, not at the top: importing matplotlib takes half a second

    latin_path = font_manager.findfont(font_manager.FontProperties(family=LATIN_FAMILY))
    covered = _charmap(latin_path)
    candidates: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.name in candidates or entry.name == LATIN_FAMILY:
            continue
        charmap = _charmap(entry.fname)
        if NONCHARACTER not in charmap and all(ord(char) in charmap for char in CJK_PROBE):
            candidates[entry.name] = entry.fname
    if not candidates:
        return ChartFonts((LATIN_FAMILY,), covered, cjk=False)
    preferred = [name for name in PREFERRED_CJK if name in candidates]
    family = preferred[0] if preferred else sorted(candidates)[0]
    # Latin first: its digits and "$" look the same as in English charts; CJK fills in the rest.
    return ChartFonts((LATIN_FAMILY, family), covered | _charmap(candidates[family]), cjk=True)


def chart_versions(schedule: FeeSchedule, today: dt.date) -> list[tuple[Role, int]]:
    """Which versions to draw: the one in force on `today`, the one before it, the next one announced.

    On a day no version covers (before the records begin, or after the last one ended), the last
    ended version stands in as "previous" and the first later one as "upcoming".
    """
    spans = [version_span(schedule, index) for index in range(len(schedule.versions))]
    current = next(
        (
            index
            for index, (since, until) in enumerate(spans)
            if (since is None or since <= today) and (until is None or today < until)
        ),
        None,
    )
    if current is not None:
        picked = [(Role.PREVIOUS, current - 1)] if current > 0 else []
        picked.append((Role.CURRENT, current))
        if current + 1 < len(spans):
            picked.append((Role.UPCOMING, current + 1))
        return picked
    ended = [index for index, (_, until) in enumerate(spans) if until is not None and until <= today]
    later = [index for index, (since, _) in enumerate(spans) if since is not None and since > today]
    return [(Role.PREVIOUS, i) for i in ended[-1:]] + [(Role.UPCOMING, i) for i in later[:1]]


def _boundaries(schedule: FeeSchedule, indices: Iterable[int]) -> list[Decimal]:
    return sorted(
        {tier.up_to for index in indices for tier in schedule.versions[index].tiers if tier.up_to is not None}
    )


def chart_top(schedule: FeeSchedule, indices: Iterable[int], max_price: Decimal | None = None) -> Decimal:
    """The right end of the price axis: `max_price`, or 1.5x the last tier boundary but at least
    about $50 in the schedule's currency (50 dollars, pounds or euros; 5,000 yen)."""
    if max_price is not None:
        if max_price <= 0:
            raise ValueError(f"max_price must be positive, got {max_price}")
        return max_price
    last = max(_boundaries(schedule, indices), default=Decimal(0))
    unit = minor_unit(schedule.currency)
    least = MIN_TOP.get(schedule.currency, MIN_TOP_DEFAULT)
    return max(least, (last * TOP_FACTOR).quantize(unit, rounding=ROUND_HALF_UP))


def sample_prices(schedule: FeeSchedule, indices: Sequence[int], top: Decimal) -> tuple[Decimal, ...]:
    """Prices in the currency's smallest unit (cents; whole yen) from one unit to `top`: an even grid,
    each tier boundary and the unit above it, and the price where a minimum fee stops applying, so
    steps and kinks are drawn where they are."""
    unit = minor_unit(schedule.currency)
    prices = {unit, top}
    prices.update((top * step / SAMPLES).quantize(unit, rounding=ROUND_HALF_UP) for step in range(1, SAMPLES))
    for boundary in _boundaries(schedule, indices):
        prices.update({boundary, boundary + unit})
    for index in indices:
        version = schedule.versions[index]
        for tier in version.tiers:
            if version.minimum_fee and tier.rate:
                prices.add((version.minimum_fee / tier.rate).quantize(unit, rounding=ROUND_HALF_UP))
    return tuple(sorted(price for price in prices if unit <= price <= top))


def fee_series(schedule: FeeSchedule, *, today: dt.date, max_price: Decimal | None = None) -> list[FeeSeries]:
    """The curves the chart draws, oldest version first; `fees[i]` is the fee on `prices[i]`."""
    picked = chart_versions(schedule, today)
    indices = [index for _, index in picked]
    prices = sample_prices(schedule, indices, chart_top(schedule, indices, max_price))
    series = []
    for role, index in picked:
        since, until = version_span(schedule, index)
        fees = tuple(charge(schedule, index, price).fee for price in prices)
        series.append(FeeSeries(role, index, since, until, prices, fees))
    return series


def _label(role: Role, since: dt.date | None, until: dt.date | None, lang: str) -> Html:
    """ "since 2024-01-15", "before 2024-01-15", "from 2024-07-01 (announced)"."""
    if role is Role.UPCOMING and since is not None:
        return t(lang, "fee_chart_from", date=since.isoformat())
    if role is Role.PREVIOUS and until is not None:
        return t(lang, "fee_chart_before", date=until.isoformat())
    if since is not None:
        return t(lang, "fee_chart_since", date=since.isoformat())
    return t(lang, "fee_chart_in_force")


@dataclass(frozen=True)
class _Texts:
    title: str
    price_axis: str
    fee_axis: str
    labels: tuple[str, ...]

    def all(self) -> tuple[str, ...]:
        return (self.price_axis, self.fee_axis, *self.labels)


def _texts(schedule: FeeSchedule, series: Sequence[FeeSeries], lang: str, title: str) -> _Texts:
    return _Texts(
        title,
        to_plain_text(t(lang, "fee_chart_price_axis", currency=schedule.currency)),
        to_plain_text(t(lang, "fee_chart_fee_axis", currency=schedule.currency)),
        tuple(to_plain_text(_label(one.role, one.since, one.until, lang)) for one in series),
    )


def _drawable_texts(
    schedule: FeeSchedule, series: Sequence[FeeSeries], lang: str, title: str, fonts: ChartFonts
) -> _Texts:
    """The chart's texts in `lang` if the installed fonts can draw them, otherwise in English.

    Silencing the "Glyph missing" warning instead would send a Chinese reader a chart of empty
    boxes: English they can read is the honest fallback (the caption, drawn by Telegram, stays in
    their language). A title the fonts cannot draw becomes the schedule's ASCII ids.
    """
    texts = _texts(schedule, series, lang, title)
    if not all(fonts.can_draw(text) for text in texts.all()):
        texts = _texts(schedule, series, "en", title)
    if not fonts.can_draw(texts.title):
        texts = replace(texts, title=f"{schedule.marketplace} · {schedule.category}")
    return texts


def _literal(text: str) -> str:
    """Two "$" in one string would make matplotlib typeset the text between them as math."""
    return text.replace("$", r"\$")


def _axis_money(value: float, currency: str) -> str:
    """Tick labels: "$15", "$2.50", "12 RON"; whole amounts without cents to keep the axis quiet."""
    text = format_money(Decimal(f"{float(value):.4f}"), currency)
    return _literal(re.sub(r"\.00\b", "", text))


def fee_chart_png(
    schedule: FeeSchedule,
    lang: str,
    *,
    today: dt.date,
    title: str,
    max_price: Decimal | None = None,
) -> bytes:
    """The chart as PNG bytes, 800 x 500 px; the same input gives the same bytes (no timestamp)."""
    series = fee_series(schedule, today=today, max_price=max_price)
    fonts = chart_fonts()
    texts = _drawable_texts(schedule, series, lang, title, fonts)
    family = list(fonts.families)
    currency = schedule.currency

    # matplotlib is imported when a chart is drawn: a CLI question that draws none starts without it.
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    top = float(series[0].prices[-1])
    highest = max(float(max(one.fees)) for one in series)
    for boundary in _boundaries(schedule, [one.index for one in series]):
        axes.axvline(float(boundary), color="#bbbbbb", linestyle=":", linewidth=1, zorder=1)
        axes.text(
            float(boundary),
            0.99,
            " " + _axis_money(float(boundary), currency),
            transform=axes.get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize=8,
            color="#777777",
            family=family,
        )
    for one, label in zip(series, texts.labels, strict=True):
        color, linestyle, linewidth = STYLES[one.role]
        axes.plot(
            [float(price) for price in one.prices],
            [float(fee) for fee in one.fees],
            label=_literal(label),
            color=color,
            linestyle=linestyle,
            linewidth=linewidth,
            zorder=3 if one.role is Role.CURRENT else 2,
        )
    axes.set_xlim(0, top)
    # Head room above the highest fee keeps the curves clear of the boundary labels at the top.
    axes.set_ylim(0, max(highest * 1.15, 0.01))
    axes.set_title(_literal(texts.title), family=family, fontsize=13)
    axes.set_xlabel(_literal(texts.price_axis), family=family)
    axes.set_ylabel(_literal(texts.fee_axis), family=family)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _axis_money(value, currency)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _axis_money(value, currency)))
    axes.grid(True, color="#eeeeee", zorder=0)
    axes.legend(loc="upper left", prop=font_manager.FontProperties(family=family))

    buffer = io.BytesIO()
    # "Software" names the matplotlib version; without it the bytes depend only on the input.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def fee_chart_caption(schedule: FeeSchedule, lang: str, *, today: dt.date, title: str) -> Html:
    """A photo caption in the reader's language: the title and each drawn version's tiers in words.

    It carries in text what the chart shows, so it still reads well when the chart had to fall back
    to English labels; it stays far below Telegram's 1,024-character caption limit.
    """
    lines = [Html(f"<b>{escape(title)}</b>")]
    for role, index in chart_versions(schedule, today):
        since, until = version_span(schedule, index)
        tiers = describe_tiers(schedule.versions[index], schedule.currency, lang)
        lines.append(t(lang, "fee_chart_caption_line", label=_label(role, since, until, lang), tiers=tiers))
    if lang != "en" and not chart_fonts().cjk:
        lines.append(t(lang, "fee_chart_english_labels"))
    return join(lines)
