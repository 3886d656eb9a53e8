"""A seller's SKUs and what each fee change costs them: file import (Fee Preview, CSV, .xlsx), per-chat
storage, the impact computation, its text and chart.

Sits over answers, the catalog and the store; reminders use it for the impact line, tg and cli on top.

Other packages import only the names in `__all__`, from the package itself (tests/test_layout.py).
"""

# Importing the package registers its tables with the store.
from bot.skus import tables as tables
from bot.skus.chart import chart_currencies, impact_chart_caption, impact_chart_png
from bot.skus.impact import FeeModel, impact_of
from bot.skus.limits import DEFAULT_LIMITS, UploadLimits, UploadRefused, check_size, human_bytes
from bot.skus.personal import IMPACT_LINES, coming_lines
from bot.skus.read import MAX_FILE_BYTES, SkuFile, SkuFileError, read_sku_file
from bot.skus.records import SkuRecords, skus_version
from bot.skus.retention import prune_imports
from bot.skus.text import choose_change, impact_detail, impact_overview, import_summary, skus_status

__all__ = [
    "DEFAULT_LIMITS",
    "IMPACT_LINES",
    "MAX_FILE_BYTES",
    "FeeModel",
    "SkuFile",
    "SkuFileError",
    "SkuRecords",
    "UploadLimits",
    "UploadRefused",
    "chart_currencies",
    "check_size",
    "choose_change",
    "coming_lines",
    "human_bytes",
    "impact_chart_caption",
    "impact_chart_png",
    "impact_detail",
    "impact_of",
    "impact_overview",
    "import_summary",
    "prune_imports",
    "read_sku_file",
    "skus_status",
    "skus_version",
]
