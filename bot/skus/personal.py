"""The one line of impact a reminder or a policy-change alert carries for a chat that has SKUs.

"For your SKUs: +$312/month, 14 SKUs affected; /impact 2026-01-15". A chat without SKUs, a rule that
changes no fee we compute, or a change that touches none of the chat's SKUs: no line, today's text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.catalog.load import Catalog
from bot.i18n import Html
from bot.skus.impact import ChangeImpact, FeeChange, FeeModel, fee_changes, impact_of
from bot.skus.read import SkuRow
from bot.skus.text import impact_line

__all__ = ["ImpactLines", "change_for"]


def change_for(
    changes: list[FeeChange], rule_id: str, day: dt.date | None, today: dt.date
) -> FeeChange | None:
    """The fee change a rule's event (on `day`) or a changed rule (no day: its next change) is about."""
    mine = [change for change in changes if rule_id in {rule.id for rule in change.rules}]
    if day is not None:
        return next((change for change in mine if change.day == day), None)
    coming = [change for change in mine if change.day >= today]
    return coming[0] if coming else None


class ImpactLines:
    """Impact lines for one chat's SKUs, each change computed once per message."""

    def __init__(
        self, catalog: Catalog, rows: list[SkuRow], lang: str, today: dt.date, policies: Path | None = None
    ) -> None:
        self._catalog, self._rows, self._lang, self._today = catalog, rows, lang, today
        self._changes = fee_changes(catalog) if rows else []
        self._model = FeeModel(catalog, policies) if rows else None
        self._done: dict[dt.date, ChangeImpact] = {}

    def __call__(self, rule_id: str, day: dt.date | None) -> Html | None:
        if self._model is None:
            return None
        change = change_for(self._changes, rule_id, day, self._today)
        if change is None:
            return None
        if change.day not in self._done:
            self._done[change.day] = impact_of(self._model, change, self._rows)
        return impact_line(self._done[change.day], self._lang)
