"""The labelled page diffs of extract_cases.toml, and how the extractor is scored against them.

Shared by tests/watch/test_extract.py (the quality bar) and bench/extract.py (the figures).

An item is one thing a person writes down about a diff: ("added", "percent", "3.5", None),
("changed", "date", "2026-03-01 -> 2026-03-31", None). An extracted item counts as right when the same item
is labelled; items that repeat (the same amount twice on a page) count as many times as they repeat.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.watch.extract import Value, ValueDiff

CASES_FILE = Path(__file__).with_name("extract_cases.toml")
KINDS = ("date", "percent", "money")

Item = tuple[str, str, str, str | None]  # (how, kind, value or "old -> new", currency)


@dataclass(frozen=True)
class Case:
    id: str
    lang: str
    old: str
    new: str
    year: int | None
    items: Counter[Item]


@dataclass
class Score:
    """Right, extracted and labelled counts, overall and per kind."""

    right: Counter[str]
    extracted: Counter[str]
    labelled: Counter[str]

    @classmethod
    def empty(cls) -> Score:
        return cls(Counter(), Counter(), Counter())

    def add(self, expected: Counter[Item], got: Counter[Item]) -> None:
        for kind in (*KINDS, "all"):
            exp = _of_kind(expected, kind)
            out = _of_kind(got, kind)
            self.right[kind] += sum((exp & out).values())
            self.extracted[kind] += sum(out.values())
            self.labelled[kind] += sum(exp.values())

    def precision(self, kind: str = "all") -> float:
        return self.right[kind] / self.extracted[kind] if self.extracted[kind] else 1.0

    def recall(self, kind: str = "all") -> float:
        return self.right[kind] / self.labelled[kind] if self.labelled[kind] else 1.0


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [_case(raw) for raw in data["case"]]


def diff_items(diff: ValueDiff) -> Counter[Item]:
    """The extractor's answer as labelled items."""
    items: Counter[Item] = Counter()
    for value in diff.added:
        items[("added", value.kind, value.value, value.currency)] += 1
    for value in diff.removed:
        items[("removed", value.kind, value.value, value.currency)] += 1
    for change in diff.changed:
        items[_changed_item(change.old, change.new)] += 1
    return items


def _case(raw: dict[str, Any]) -> Case:
    items: Counter[Item] = Counter()
    for how in ("added", "removed"):
        for label in raw.get(how, []):
            kind, value, currency = _label(label)
            items[(how, kind, value, currency)] += 1
    for old_label, new_label in raw.get("changed", []):
        old_kind, old_value, currency = _label(old_label)
        _, new_value, _ = _label(new_label)
        items[("changed", old_kind, f"{old_value} -> {new_value}", currency)] += 1
    return Case(raw["id"], raw["lang"], raw["old"], raw["new"], raw.get("year"), items)


def _label(label: str) -> tuple[str, str, str | None]:
    """ "money 15.00 USD" -> ("money", "15", "USD"), the value normalised as the extractor does."""
    kind, value, *currency = label.split()
    if kind not in KINDS:
        raise ValueError(f"unknown kind in label {label!r}")
    if kind != "date":
        value = format(Decimal(value).normalize(), "f")
    return kind, value, currency[0] if currency else None


def _changed_item(old: Value, new: Value) -> Item:
    return ("changed", old.kind, f"{old.value} -> {new.value}", old.currency)


def _of_kind(items: Counter[Item], kind: str) -> Counter[Item]:
    return Counter({item: n for item, n in items.items() if kind in ("all", item[1])})
