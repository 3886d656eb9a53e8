"""A seller's SKUs and what each fee change costs them: file import (Fee Preview, CSV, .xlsx), per-chat
storage, the impact computation, its text and chart.

Sits over answers, the catalog and the store; reminders use it for the impact line, tg and cli on top.
"""

# Importing the package registers its tables with the store.
from bot.skus import tables as tables
