"""A draft policy file for a proposed rule update, written for a person to review (issue #21).

The draft is the rule's whole policy file, comments and layout kept (tomlkit), with only that rule
changed: each of its values the page changed (a date, a rate, an amount) replaced by the page's new
value, and the page added to its sources (or, where the rule cites it already, that source's wording
replaced by the page's new lines). A comment at the top says what was changed and what to check. Nothing
reaches subscribers from a draft: a person reviews it, puts it in the policies folder (or the catalog
feed) and reloads; `policybot check` loads it with the strict loader first.

Exceptions:

    DraftError    (also a ValueError) no such rule for this page, or the rule cannot be found in its file
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping, MutableSequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import tomlkit

from bot.catalog import Catalog
from bot.errors import PolicyBotError
from bot.watch.extract import Value
from bot.watch.proposal import Proposal, RuleProposal

__all__ = ["DraftError", "draft_policy", "write_draft"]

# Keys whose values are words, links or ids: never rewritten even when they look like a number or a date.
_TEXT_KEYS = frozenset({"id", "en", "zh", "url", "says", "ref", "category", "marketplace", "currency"})
_MONEY_KEYS = frozenset({"minimum_fee", "fixed_fee", "per_item", "amount", "value"})


class DraftError(PolicyBotError, ValueError):
    """No draft can be written: the rule does not cite the page, or is not in its policy file."""


class _Replacements:
    """The page's old -> new values of one rule, by kind."""

    def __init__(self, rule: RuleProposal) -> None:
        self.dates: dict[str, str] = {}
        self.percents: dict[Decimal, Decimal] = {}
        self.money: dict[tuple[Decimal, str | None], Decimal] = {}
        for held, new in rule.touched:
            if new is None or new.kind != held.kind:
                continue
            if held.kind == "date":
                self.dates[held.value] = new.value
            elif held.kind == "percent":
                self.percents[Decimal(held.value)] = Decimal(new.value)
            elif new.currency == held.currency:
                self.money[(Decimal(held.value), held.currency)] = Decimal(new.value)
        self.done: list[str] = []

    def date(self, value: dt.date) -> dt.date | None:
        new = self.dates.get(value.isoformat())
        if new is None:
            return None
        self.done.append(f"{value.isoformat()} → {new}")
        return dt.date.fromisoformat(new)

    def rate(self, value: Decimal, *, as_percent: bool) -> Decimal | None:
        percent = value if as_percent else value * 100
        new = self.percents.get(percent.normalize())
        if new is None:
            return None
        self.done.append(f"{percent.normalize():f}% → {new.normalize():f}%")
        return new if as_percent else new / 100

    def amount(self, value: Decimal, currency: str | None) -> Decimal | None:
        new = self.money.get((value.normalize(), currency))
        if new is None:
            return None
        self.done.append(f"{value.normalize():f} {currency} → {new.normalize():f} {currency}")
        return new


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _written(old: Any, new: Decimal) -> Any:
    """The new number written as the old one was: a whole number stays a whole number, else a string."""
    if isinstance(old, int) and new == new.to_integral_value():
        return int(new)
    return f"{new.normalize():f}"


def _rewrite(node: Any, swap: _Replacements, currency: str | None, unit: str | None) -> None:
    """Replace, in place, every value of `node` that the page changed."""
    items: list[tuple[Any, Any]]
    if isinstance(node, MutableMapping):
        currency = str(node["currency"]) if "currency" in node else currency
        unit = str(node["unit"]) if "unit" in node else None
        items = list(node.items())
    elif isinstance(node, MutableSequence):
        items = list(enumerate(node))
    else:
        return
    for key, value in items:
        if key in _TEXT_KEYS:
            continue
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            new_date = swap.date(value)
            if new_date is not None:
                node[key] = new_date
            continue
        number = _decimal(value) if isinstance(key, str) else None
        if number is not None:
            replaced: Decimal | None = None
            if key == "rate" or (key == "value" and unit == "rate"):
                replaced = swap.rate(number, as_percent=False)
            elif key == "value" and unit == "percent":
                replaced = swap.rate(number, as_percent=True)
            elif key in _MONEY_KEYS:
                money_unit = unit if unit and len(unit) == 3 and unit.isupper() else currency
                replaced = swap.amount(number, money_unit)
            if replaced is not None:
                node[key] = _written(value, replaced)
            continue
        _rewrite(value, swap, currency, unit)


def _new_lines(values: tuple[Value, ...], proposal: Proposal) -> str:
    lines = dict.fromkeys(value.line.strip() for value in values)
    lines.update(dict.fromkeys(change.new.line.strip() for change in proposal.diff.changed))
    text = " / ".join(line for line in lines if line)
    return text[:500] or "the page changed"


def draft_policy(catalog: Catalog, policies: Path, proposal: Proposal, rule_id: str, today: dt.date) -> str:
    """The rule's policy file with the rule updated from the page; the text of the draft."""
    rule = next((found for found in proposal.rules if found.rule_id == rule_id), None)
    if rule is None:
        tied = ", ".join(found.rule_id for found in proposal.rules) or "none"
        raise DraftError(f"rule {rule_id} is not tied to {proposal.url} (rules tied to it: {tied})")
    policy_file = policies / catalog.platforms[rule.platform].file
    document = tomlkit.parse(policy_file.read_text(encoding="utf-8"))
    table = next((item for item in document.get("rules", []) if item.get("id") == rule_id), None)
    if table is None:
        raise DraftError(f"rule {rule_id} is not in {policy_file}")
    swap = _Replacements(rule)
    _rewrite(table, swap, None, None)
    says = _new_lines(rule.new_values, proposal)
    sources: Any = table["sources"]
    cited: Any = next((source for source in sources if source.get("url") == proposal.url), None)
    if cited is not None:
        cited["says"] = says
    else:
        source = tomlkit.inline_table()
        source.update({"url": proposal.url, "says": says, "confidence": "medium"})
        sources.append(source)
    header = [
        f"DRAFT written by policybot on {today.isoformat()} from a change of {proposal.url}",
        f"Rule {rule_id}: " + ("; ".join(swap.done) if swap.done else "no value replaced (read the page)"),
        "Review every date, figure and text of the rule (titles, summaries and notes are not rewritten),",
        f"set reviewed = {today.isoformat()} on it, then copy this file over {policy_file.name} in the",
        "policies folder and run `policybot check`. Nothing reaches subscribers before that.",
    ]
    comments = tomlkit.document()
    for line in header:
        comments.add(tomlkit.comment(line))
    return tomlkit.dumps(comments) + tomlkit.dumps(document)


def write_draft(
    catalog: Catalog, policies: Path, proposal: Proposal, rule_id: str, drafts: Path, today: dt.date
) -> Path:
    """Write the draft into the drafts folder as `<rule id>.<policy file name>`; return its path."""
    text = draft_policy(catalog, policies, proposal, rule_id, today)
    rule = next(found for found in proposal.rules if found.rule_id == rule_id)
    drafts.mkdir(parents=True, exist_ok=True)
    path = drafts / f"{rule_id}.{catalog.platforms[rule.platform].file}"
    path.write_text(text, encoding="utf-8")
    return path
