"""The page watcher: official pages -> fetch -> visible text -> snapshots and diffs -> the values that
moved (extract.py) -> the rules they touch, proposed to the operators (proposal.py), drafted for review
(drafts.py); and the rules to review first (stale.py).

It imports answers, the catalog, the store and the shared base; never tg, cli or reminders.

Other packages import only the names in `__all__`, from the package itself (tests/test_layout.py).
"""

# Importing the package registers its tables with the store.
from bot.watch import tables as tables
from bot.watch.drafts import DraftError, write_draft
from bot.watch.proposal import Proposal, proposal_lines, propose
from bot.watch.retention import prune_snapshots
from bot.watch.stale import DEFAULT_STALE_DAYS, StaleRule, stale_counts, stale_rules
from bot.watch.watcher import (
    CheckResult,
    InvalidSource,
    Source,
    Watcher,
    WatchSettings,
    page_changes,
    snapshot_texts,
    sources_from,
    watched_pages,
)

__all__ = [
    "DEFAULT_STALE_DAYS",
    "CheckResult",
    "DraftError",
    "InvalidSource",
    "Proposal",
    "Source",
    "StaleRule",
    "WatchSettings",
    "Watcher",
    "page_changes",
    "proposal_lines",
    "propose",
    "prune_snapshots",
    "snapshot_texts",
    "sources_from",
    "stale_counts",
    "stale_rules",
    "watched_pages",
    "write_draft",
]
