"""The page watcher: official pages -> fetch -> visible text -> snapshots and diffs.

It imports answers, the catalog, the store and the shared base; never tg, cli or reminders.
"""

# Importing the package registers its tables with the store.
from bot.watch import tables as tables
