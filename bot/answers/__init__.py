"""Answers: text plus a chat context in, a reply out (cards, fees, calculators, search, charts, console).

No Telegram types and no store. It imports the catalog and the shared base only.

Other packages import only the names in `__all__`, from the package itself (tests/test_layout.py).
"""

from bot.answers.cards import ChatContext, describe_tiers, relative_days, rule_caveats, rule_name
from bot.answers.chart import chart_fonts, fee_chart_caption, fee_chart_png
from bot.answers.console import chat, guess_language, make_context
from bot.answers.core import Answers, Reply
from bot.answers.live import LiveCatalog
from bot.answers.parsing import MAX_COUNT, find_marketplace, find_platform, is_date, parse_count, parse_date
from bot.answers.reply import Button
from bot.answers.search import rules_named

__all__ = [
    "MAX_COUNT",
    "Answers",
    "Button",
    "ChatContext",
    "LiveCatalog",
    "Reply",
    "chart_fonts",
    "chat",
    "describe_tiers",
    "fee_chart_caption",
    "fee_chart_png",
    "find_marketplace",
    "find_platform",
    "guess_language",
    "is_date",
    "make_context",
    "parse_count",
    "parse_date",
    "relative_days",
    "rule_caveats",
    "rule_name",
    "rules_named",
]
