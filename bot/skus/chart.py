"""The chart of a change's impact: the change of the known per-unit fees, one bar per SKU (PNG).

Drawn like the /fees chart: matplotlib's Figure with the Agg canvas, never pyplot; Chinese only when a
CJK font is installed (the fonts of bot/answers/chart.py), English otherwise.
"""

from __future__ import annotations

import io

from bot.answers import chart_fonts
from bot.i18n import t, to_plain_text
from bot.skus.impact import ChangeImpact

__all__ = ["CHART_SKUS", "chart_currencies", "impact_chart_caption", "impact_chart_png"]

CHART_SKUS = 30  # the most affected SKUs; more bars would not be readable on a phone
WIDTH_INCHES, HEIGHT_INCHES, DPI = 8, 5, 100


def _text(lang: str, key: str, **values: object) -> str:
    text = to_plain_text(t(lang, key, **values))
    fonts = chart_fonts()
    if lang != "en" and not fonts.can_draw(text):
        text = to_plain_text(t("en", key, **values))
    return text.replace("$", r"\$")  # two "$" would make matplotlib typeset math


def chart_currencies(result: ChangeImpact) -> list[str]:
    """The currencies of the affected SKUs: one chart each, so an axis never mixes pounds and dollars."""
    return sorted({item.sku.currency for item in result.affected})


def impact_chart_png(result: ChangeImpact, lang: str, currency: str | None = None) -> bytes:
    """One bar per affected SKU in `currency` (default: the first of `chart_currencies`), the most affected
    first; up: the fees rise. The same input gives the same bytes."""
    currency = currency or next(iter(chart_currencies(result)), "USD")
    items = [item for item in result.affected if item.sku.currency == currency][:CHART_SKUS]
    family = list(chart_fonts().families)
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported when drawn (see answers/chart.py)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    values = [float(item.per_unit.amount) for item in items]
    colors = ["#d62728" if value > 0 else "#2ca02c" for value in values]
    axes.bar(range(len(items)), values, color=colors)
    axes.axhline(0, color="#444444", linewidth=0.8)
    axes.set_xticks(range(len(items)))
    axes.set_xticklabels(
        [item.sku.sku[:14].replace("$", r"\$") for item in items], rotation=60, ha="right", fontsize=7
    )
    axes.set_ylabel(_text(lang, "impact_chart_axis", currency=currency), family=family)
    axes.set_title(_text(lang, "impact_chart_title", date=result.change.day.isoformat()), family=family)
    axes.grid(axis="y", color="#eeeeee")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def impact_chart_caption(result: ChangeImpact, lang: str, currency: str | None = None) -> str:
    currency = currency or next(iter(chart_currencies(result)), "USD")
    count = min(sum(1 for item in result.affected if item.sku.currency == currency), CHART_SKUS)
    date = result.change.day.isoformat()
    return to_plain_text(t(lang, "impact16_chart_caption", date=date, count=count, currency=currency))
