"""From a changed official page to a proposed rule update: which rules cite the page, which of their values
the change touches, and what the page now says (issue #21).

Pure: the catalog and two versions of a page's text in, a `Proposal` out. Nothing reaches subscribers
from here; a person reads the proposal, asks for a draft (`bot.watch.drafts`) and accepts a reviewed file.

A rule is tied to a page when one of its sources cites the page (the same URL once normalised: scheme and
host in lower case, default port, fragment and tracking parameters dropped, no trailing slash), or when
its policy file lists the page to watch (`[[watch]]`) with the rule's `ref`.

A rule's values are the ones the extractor can see on a page: its event dates, its fee schedules' dates
and rates, its surcharges' dates and rates, and its named figures with a currency (a deposit, a threshold).
The diff touches a value when the page dropped or changed one equal to it (same kind, same normalised
value, same currency for money).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.catalog import Catalog, Rule, Text
from bot.i18n import t, to_plain_text
from bot.watch.extract import Value, ValueDiff, ValueKind, diff_values

__all__ = [
    "Proposal",
    "RuleProposal",
    "RuleValue",
    "normalise_url",
    "proposal_lines",
    "propose",
    "rule_values",
    "rules_for_page",
]

_TRACKING = ("utm_", "ref_", "gclid", "fbclid", "spm")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str) -> str:
    """The same page written two ways gives the same string: HTTPS://Example.com:443/a/?utm_x=1#top -> ..."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith(_TRACKING)
        ]
    )
    path = parts.path.rstrip("/") or ""
    return urlunsplit((scheme, netloc, path, query, ""))


@dataclass(frozen=True)
class RuleValue:
    """A value a rule holds, as the extractor would write it, and where in the rule it sits."""

    kind: ValueKind
    value: str  # "2026-04-17"; a plain decimal for a percent ("3.5") or an amount ("1500")
    currency: str | None
    where: str  # e.g. "event effective", "fee clothing-accessories US from 2024-01-15", "surcharge"

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.kind, self.value, self.currency)

    def shown(self) -> str:
        if self.kind == "percent":
            return f"{self.value}%"
        if self.kind == "money":
            return f"{self.value} {self.currency}"
        return self.value


@dataclass(frozen=True)
class RuleProposal:
    """One rule a changed page touches: its values the change dropped or changed, and the new ones."""

    rule_id: str
    platform: str
    title: Text
    touched: tuple[tuple[RuleValue, Value | None], ...]  # the rule's value, and what replaced it (None: gone)
    new_values: tuple[Value, ...]  # values the page added or changed to, not yet in the rule

    @property
    def affected(self) -> bool:
        return bool(self.touched)


@dataclass(frozen=True)
class Proposal:
    url: str
    diff: ValueDiff
    rules: tuple[RuleProposal, ...]

    @property
    def empty(self) -> bool:
        return not (self.diff.added or self.diff.removed or self.diff.changed)


def _percent(rate: Decimal) -> str:
    text = f"{(rate * 100).normalize():f}"
    return text


def _plain(amount: Decimal) -> str:
    normal = amount.normalize()
    return f"{normal:f}"


def rule_values(rule: Rule) -> list[RuleValue]:
    """Every date, rate and amount of the rule the extractor could find on a page, each once."""
    found: dict[tuple[str, str, str | None, str], RuleValue] = {}

    def add(kind: ValueKind, value: str, currency: str | None, where: str) -> None:
        found.setdefault((kind, value, currency, where), RuleValue(kind, value, currency, where))

    for event in rule.events:
        add("date", event.date.isoformat(), None, f"event {event.id}")
    for schedule in rule.fee_schedules:
        for version in schedule.versions:
            since = f" from {version.effective_from}" if version.effective_from else ""
            where = f"fee {schedule.category} {schedule.marketplace}{since}"
            for date in (version.effective_from, version.until):
                if date is not None:
                    add("date", date.isoformat(), None, where)
            for tier in version.tiers:
                add("percent", _percent(tier.rate), None, where)
            for amount in (version.minimum_fee, version.fixed_fee):
                if amount:
                    add("money", _plain(amount), schedule.currency, where)
    for surcharge in rule.surcharges:
        where = f"surcharge {surcharge.id}"
        for date in (surcharge.effective_from, surcharge.until):
            if date is not None:
                add("date", date.isoformat(), None, where)
        add("percent", _percent(surcharge.rate), None, where)
    for number in rule.numbers:
        where = f"figure {number.id}"
        if number.unit == "percent":
            add("percent", _plain(number.value), None, where)
        elif number.unit == "rate":
            add("percent", _percent(number.value), None, where)
        elif len(number.unit) == 3 and number.unit.isalpha() and number.unit.isupper():
            add("money", _plain(number.value), number.unit, where)
    return list(found.values())


def rules_for_page(catalog: Catalog, url: str) -> list[Rule]:
    """The rules that cite the page, or whose policy file watches it for their `ref`; by id."""
    page = normalise_url(url)
    found: dict[str, Rule] = {}
    for rule in catalog.rules.values():
        if any(normalise_url(source.url) == page for source in rule.sources if source.url.startswith("http")):
            found[rule.id] = rule
    for _, listed in catalog.watch_pages():
        if listed.ref and normalise_url(listed.url) == page:
            for rule in catalog.by_ref(listed.ref):
                found[rule.id] = rule
    return [found[rule_id] for rule_id in sorted(found)]


def _gone_or_changed(diff: ValueDiff) -> Iterator[tuple[Value, Value | None]]:
    for change in diff.changed:
        yield change.old, change.new
    for value in diff.removed:
        yield value, None


def _new(diff: ValueDiff) -> list[Value]:
    return [*(change.new for change in diff.changed), *diff.added]


def propose(catalog: Catalog, url: str, old_text: str, new_text: str, *, year: int | None = None) -> Proposal:
    """What changed on the page, and for each rule tied to it, which of its values the change touches."""
    diff = diff_values(old_text, new_text, year=year)
    proposals = []
    for rule in rules_for_page(catalog, url):
        values = rule_values(rule)
        held = {value.key for value in values}
        touched: list[tuple[RuleValue, Value | None]] = []
        for old, new in _gone_or_changed(diff):
            touched += [(value, new) for value in values if value.key == old.key]
        new_values = tuple(value for value in _new(diff) if value.key not in held)
        proposals.append(
            RuleProposal(
                rule_id=rule.id,
                platform=catalog.rule_platform[rule.id],
                title=rule.title,
                touched=tuple(touched),
                new_values=new_values,
            )
        )
    return Proposal(url=url, diff=diff, rules=tuple(proposals))


def _shown(value: Value) -> str:
    if value.kind == "percent":
        return f"{value.value}%"
    if value.kind == "money":
        return f"{value.value} {value.currency}"
    return value.value


def _change_lines(diff: ValueDiff) -> Iterable[str]:
    for change in diff.changed:
        yield f"  {_shown(change.old)} → {_shown(change.new)}"
    for value in diff.added:
        yield f"  + {_shown(value)}"
    for value in diff.removed:
        yield f"  - {_shown(value)}"


def proposal_lines(proposal: Proposal, lang: str) -> list[str]:
    """The proposal as plain lines for operators: the values that moved, then each rule and what to edit."""

    def say(key: str, **values: str) -> str:
        return to_plain_text(t(lang, key, **values))

    lines = [say("watch_proposal_values")]
    lines += list(_change_lines(proposal.diff)) or ["  " + say("watch_proposal_no_values")]
    if not proposal.rules:
        return [*lines, say("watch_proposal_no_rule")]
    for rule in proposal.rules:
        lines.append(say("watch_proposal_rule", rule=rule.rule_id, title=rule.title.get(lang)))
        for value, new in rule.touched:
            now = _shown(new) if new is not None else say("watch_proposal_gone")
            lines.append(
                "  "
                + say(
                    "watch_proposal_touch", rule=rule.rule_id, old=value.shown(), where=value.where, new=now
                )
            )
        if rule.new_values:
            listed = ", ".join(_shown(value) for value in rule.new_values)
            lines.append("  " + say("watch_proposal_new", values=listed))
        if not rule.touched:
            lines.append("  " + say("watch_proposal_untouched"))
    return lines
