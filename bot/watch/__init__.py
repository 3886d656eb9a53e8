"""The page watcher: official pages -> fetch -> visible text -> snapshots and diffs.

It imports answers, the catalog, the store and the shared base; never tg, cli or reminders.
"""
