"""The page watcher: official pages -> fetch -> visible text -> snapshots and diffs.

It imports answers, the catalog, the store and the shared base; never tg, cli or reminders.

Other packages import only the names in `__all__`, from the package itself (tests/test_layout.py).
"""

# Importing the package registers its tables with the store.
from bot.watch import tables as tables
from bot.watch.retention import prune_snapshots
from bot.watch.watcher import CheckResult, InvalidSource, Source, Watcher, WatchSettings, sources_from

__all__ = [
    "CheckResult",
    "InvalidSource",
    "Source",
    "WatchSettings",
    "Watcher",
    "prune_snapshots",
    "sources_from",
]
