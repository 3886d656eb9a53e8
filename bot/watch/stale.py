"""Which rules to look at first: those whose cited pages changed after their review, and those nobody has
reviewed for long (issue #21). Pure: the catalog and the pages' change times in, a list out.

A rule's `reviewed = YYYY-MM-DD` is the last day a maintainer checked it against its sources. A rule
without one has never been reviewed: any change of its pages counts, and it is overdue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from bot.catalog import Catalog, Rule
from bot.watch.proposal import normalise_url

__all__ = ["DEFAULT_STALE_DAYS", "StaleRule", "stale_counts", "stale_rules"]

DEFAULT_STALE_DAYS = 180


@dataclass(frozen=True)
class StaleRule:
    rule_id: str
    platform: str
    reviewed: dt.date | None
    changed_pages: tuple[tuple[str, dt.datetime], ...]  # cited pages that changed after the review
    overdue: bool  # not reviewed within the days asked (or never)


def _pages_of(catalog: Catalog, rule: Rule) -> set[str]:
    pages = {normalise_url(source.url) for source in rule.sources if source.url.startswith("http")}
    pages |= {
        normalise_url(listed.url)
        for _, listed in catalog.watch_pages()
        if listed.ref is not None and listed.ref == rule.ref
    }
    return pages


def stale_rules(
    catalog: Catalog, page_changes: Mapping[str, dt.datetime], today: dt.date, days: int = DEFAULT_STALE_DAYS
) -> list[StaleRule]:
    """Rules with a cited page changed after their review (newest change first), then the overdue ones
    (never reviewed first, then the oldest review); a rule in neither list is left out."""
    changes = {normalise_url(url): moment for url, moment in page_changes.items()}
    found = []
    for rule_id in sorted(catalog.rules):
        rule = catalog.rules[rule_id]
        changed = tuple(
            sorted(
                (
                    (url, changes[url])
                    for url in _pages_of(catalog, rule)
                    if url in changes and (rule.reviewed is None or changes[url].date() > rule.reviewed)
                ),
                key=lambda page: page[1],
                reverse=True,
            )
        )
        overdue = rule.reviewed is None or (today - rule.reviewed).days > days
        if changed or overdue:
            found.append(StaleRule(rule_id, catalog.rule_platform[rule_id], rule.reviewed, changed, overdue))

    def order(item: StaleRule) -> tuple[int, float, str]:
        if item.changed_pages:
            return (0, -item.changed_pages[0][1].timestamp(), item.rule_id)
        reviewed = item.reviewed.toordinal() if item.reviewed else 0
        return (1, reviewed, item.rule_id)

    return sorted(found, key=order)


def stale_counts(stale: list[StaleRule]) -> tuple[int, int]:
    """(rules whose pages changed after their review, rules overdue for review)."""
    return sum(1 for item in stale if item.changed_pages), sum(1 for item in stale if item.overdue)
