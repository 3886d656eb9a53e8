"""Marketplace codes and which of them a rule reaches: "ALL" reaches every one, "EU" every member state.

Amazon and TikTok Shop write the United Kingdom "UK" (not the ISO "GB"); it is not in the EU.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ALL", "EU", "EU_MEMBERS", "reached_markets", "reaches"]

ALL = "ALL"
EU = "EU"

# The 27 member states (ISO 3166 codes), since the United Kingdom left on 2020-01-31. EU-wide rules
# (customs, product safety, consumer law) bind a seller in any of their stores.
EU_MEMBERS = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip


def reached_markets(markets: Iterable[str]) -> frozenset[str]:
    """The subscription marketplaces a rule for `markets` concerns, besides "*" (any) and ALL rules.

    A rule for EU concerns each member state's subscribers; a rule for a member state concerns the
    subscribers to EU as a whole, who asked for every EU store.
    """
    found = set(markets)
    if EU in found:
        found |= EU_MEMBERS
    if found & EU_MEMBERS:
        found.add(EU)
    return frozenset(found)


def reaches(rule_markets: Iterable[str], subscribed: str) -> bool:
    """Whether a rule for `rule_markets` concerns a subscriber to `subscribed` ("*" is any marketplace)."""
    markets = reached_markets(rule_markets)
    return subscribed == "*" or ALL in markets or subscribed in markets
