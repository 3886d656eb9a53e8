"""Reminders: catalog -> plan -> outbox -> dispatch; catalog changes -> alerts; countdowns; calendar.

It imports answers, the catalog, the store and the shared base; never tg, cli or watch.
"""

# Importing the package registers its tables with the store.
from bot.reminders import tables as tables
