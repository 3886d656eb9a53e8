"""The one line of impact a reminder or a policy-change alert carries for a chat that has SKUs.

"For your SKUs: +$312.00/month, 14 SKUs affected; /impact 2026-01-15". A line is about one rule in its
marketplaces, not about its date: on 2026-04-17 the EU 1.5% surcharge's line counts the European SKUs
and the US 3.5% one the American and Canadian SKUs. A chat without SKUs, a rule that changes no fee we
compute, or a change that touches none of the chat's SKUs: no line, today's text.

Computing a line takes about a second for a chat with 50,000 SKUs, and the dispatcher renders reminders
one after another, so `ImpactLineCache` keeps each chat's lines per change until the chat's SKUs (an
import or an erase) or the catalog (a reload) change. A render that hits the cache reads one row of
SQLite, not the chat's SKUs.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.catalog import Catalog
from bot.i18n import Html
from bot.skus.impact import ChangeImpact, FeeChange, FeeModel, fee_changes, impact_of
from bot.skus.read import SkuRow
from bot.skus.records import SkuRecords, skus_version
from bot.skus.text import impact_line
from bot.store import Store

__all__ = ["IMPACT_LINES", "ImpactLineCache", "ImpactLines", "change_for", "coming_lines"]

# What reminders and alerts call: (rule id, event day or None for a changed rule) -> the line, or None.
LineSource = Callable[[str, dt.date | None], Html | None]


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

    def __init__(self, catalog: Catalog, rows: list[SkuRow], lang: str, today: dt.date) -> None:
        self._catalog, self._rows, self._lang, self._today = catalog, rows, lang, today
        self._changes = fee_changes(catalog) if rows else []
        self._model = FeeModel(catalog) if rows else None
        self._done: dict[tuple[dt.date, str], ChangeImpact] = {}

    def __call__(self, rule_id: str, day: dt.date | None) -> Html | None:
        if self._model is None:
            return None
        change = change_for(self._changes, rule_id, day, self._today)
        if change is None:
            return None
        key = (change.day, rule_id)
        if key not in self._done:
            self._done[key] = impact_of(self._model, change.of_rule(rule_id), self._rows)
        return impact_line(self._done[key], self._lang)


@dataclass
class _ChatLines:
    """One chat's lines under one version of its SKUs and one catalog (kept, so its id is not reused)."""

    version: tuple[object, ...]
    catalog: Catalog
    lines: dict[tuple[dt.date, str, str], Html | None] = field(default_factory=dict)  # (day, rule, lang)


class ImpactLineCache:
    """Per chat and fee change, the impact line in each language; the least recently used chats go first.

    Only the lines are kept (a few hundred bytes a chat), never the SKUs or the per-SKU results.
    """

    def __init__(self, max_chats: int = 10_000) -> None:
        self._max_chats = max_chats
        self._chats: OrderedDict[int, _ChatLines] = OrderedDict()
        self._changes: tuple[Catalog, list[FeeChange]] | None = None
        self.computed = 0  # impact computations done, for tests and metrics

    def lines_for(
        self,
        store: Store,
        catalog: Catalog,
        chat_id: int,
        lang: str,
        today: dt.date,
    ) -> LineSource | None:
        """The line source of a chat with SKUs, None for a chat without."""
        version = skus_version(store, chat_id)
        if version is None:
            self._chats.pop(chat_id, None)
            return None
        chat = self._chats.get(chat_id)
        if chat is None or chat.version != version or chat.catalog is not catalog:
            chat = _ChatLines(version, catalog)
        self._keep(chat_id, chat)
        changes = self._changes_of(catalog)
        # Loaded on the first line this render misses, then shared by its other lines.
        computing: list[ImpactLines] = []

        def line(rule_id: str, day: dt.date | None) -> Html | None:
            change = change_for(changes, rule_id, day, today)
            if change is None:
                return None
            key = (change.day, rule_id, lang)
            if key not in chat.lines:
                if not computing:
                    rows = SkuRecords(store).rows(chat_id)
                    computing.append(ImpactLines(catalog, rows, lang, today))
                self.computed += 1
                chat.lines[key] = computing[0](rule_id, change.day)
            return chat.lines[key]

        return line

    def put(
        self,
        store: Store,
        catalog: Catalog,
        chat_id: int,
        version: tuple[object, ...] | None,
        lines: dict[tuple[dt.date, str, str], Html | None],
    ) -> None:
        """Lines computed ahead (`coming_lines`, right after an import) for the SKUs of `version`
        (`skus_version` when they were stored); dropped if another import or an erase came since."""
        if version is not None and skus_version(store, chat_id) == version:
            self._keep(chat_id, _ChatLines(version, catalog, dict(lines)))

    def holds_current(self, store: Store, chat_id: int) -> bool:
        """Whether lines of the chat's SKUs as stored now are kept (an import's lines are computed after
        its reply)."""
        chat = self._chats.get(chat_id)
        return chat is not None and bool(chat.lines) and chat.version == skus_version(store, chat_id)

    def _keep(self, chat_id: int, chat: _ChatLines) -> None:
        self._chats[chat_id] = chat
        self._chats.move_to_end(chat_id)
        while len(self._chats) > self._max_chats:
            self._chats.popitem(last=False)

    def _changes_of(self, catalog: Catalog) -> list[FeeChange]:
        if self._changes is None or self._changes[0] is not catalog:
            self._changes = (catalog, fee_changes(catalog))
        return self._changes[1]


def coming_lines(
    catalog: Catalog, rows: list[SkuRow], lang: str, today: dt.date
) -> dict[tuple[dt.date, str, str], Html | None]:
    """The line of every rule of every fee change from today on, for `ImpactLineCache.put`: pure, for a
    worker thread, so the reminders after an import do not compute them in the event loop."""
    lines = ImpactLines(catalog, rows, lang, today)
    return {
        (change.day, rule.id, lang): lines(rule.id, change.day)
        for change in fee_changes(catalog)
        if change.day >= today
        for rule in change.rules
    }


# The bot's one cache (reminders and alerts are rendered in its event loop, one at a time).
IMPACT_LINES = ImpactLineCache()
