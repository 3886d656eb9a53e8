"""Load `policies/*.toml` into an immutable, searchable Catalog, or report every problem found.

A problem names the file, the rule id and the field, so an operator can fix a broken file without
reading a traceback. Loading never returns a half-valid catalog: the caller keeps its last good one.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.catalog.product_groups import MAPPINGS_DIR, ProductGroupsFile, fold_product_group
from bot.catalog.schema import (
    Category,
    Event,
    FeeSchedule,
    Marketplace,
    MarketplacesFile,
    PolicyFile,
    Recurrence,
    Rule,
    WatchPage,
)
from bot.catalog.vocabulary import VOCABULARY_FILE, Vocabulary, WordsFile, build_vocabulary
from bot.errors import PolicyBotError

__all__ = [
    "MARKETPLACES_FILE",
    "Catalog",
    "CatalogError",
    "Occurrence",
    "Platform",
    "PolicyProblem",
    "default_policies_dir",
    "load_catalog",
]


# The words for each marketplace (optional).
MARKETPLACES_FILE = "marketplaces.toml"
# The policy files that are not a platform: marketplace words and sellers' words (both optional).
NOT_PLATFORMS = frozenset({MARKETPLACES_FILE, VOCABULARY_FILE})


def default_policies_dir() -> Path:
    """The policies/ folder beside the package (a source checkout or an editable install)."""
    return Path(__file__).resolve().parents[2] / "policies"


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong in a policy file."""

    file: str
    rule_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.rule_id:
            where += f" rule {self.rule_id}"
        if self.field:
            where += f" field {self.field}"
        return f"{where}: {self.message}"


class CatalogError(PolicyBotError):
    """The policy files could not be loaded; `problems` lists every problem found."""

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the policy files:\n{lines}")


@dataclass(frozen=True)
class Platform:
    id: str
    file: str
    info: PolicyFile

    @property
    def categories(self) -> list[Category]:
        return self.info.categories


@dataclass(frozen=True)
class Occurrence:
    """An event on one concrete date (a yearly event has one occurrence a year)."""

    rule: Rule
    platform: str
    event: Event
    date: dt.date

    @property
    def key(self) -> str:
        """Stable identity of this occurrence, e.g. for reminders: rule/event/date."""
        return f"{self.rule.id}/{self.event.id}/{self.date.isoformat()}"


@dataclass(frozen=True)
class Catalog:
    platforms: dict[str, Platform]
    rules: dict[str, Rule]
    rule_platform: dict[str, str]
    files: tuple[str, ...] = ()
    fee_schedules: dict[tuple[str, str, str], FeeSchedule] = field(default_factory=dict)
    schedule_rule: dict[str, Rule] = field(default_factory=dict)
    marketplaces: dict[str, Marketplace] = field(default_factory=dict)
    marketplace_words: dict[str, str] = field(default_factory=dict)  # casefolded word -> code
    # "$", "美元", "英镑" -> USD, USD, GBP (policies/marketplaces.toml): a price's currency picks its store.
    currency_words: dict[str, str] = field(default_factory=dict)
    # Sellers' words (policies/words.toml with the categories' names): for understanding questions.
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    # Amazon product-group values (folded) -> category ids, per platform (policies/mappings/).
    product_groups: dict[str, dict[str, str]] = field(default_factory=dict)
    # Built from the fields above (see __post_init__) so that /fees looks names up instead of scanning.
    category_index: dict[str, tuple[tuple[str, str], ...]] = field(init=False, repr=False, compare=False)
    category_markets: dict[tuple[str, str], tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: dict[str, dict[tuple[str, str], None]] = {}
        for platform in self.platforms.values():
            for category in platform.categories:
                for name in [category.id, category.name.en, category.name.zh, *category.aliases]:
                    names.setdefault(name.casefold(), {})[(platform.id, category.id)] = None
        markets: dict[tuple[str, str], set[str]] = {}
        for (platform_id, _, category_id), schedule in self.fee_schedules.items():
            markets.setdefault((platform_id, category_id), set()).add(schedule.marketplace)
        # A frozen dataclass sets derived fields once, here, through object.__setattr__.
        object.__setattr__(self, "category_index", {name: tuple(found) for name, found in names.items()})
        object.__setattr__(self, "category_markets", {key: tuple(sorted(m)) for key, m in markets.items()})

    def platform_of(self, rule: Rule) -> Platform:
        return self.platforms[self.rule_platform[rule.id]]

    def rules_of(self, platform: str | None = None) -> list[Rule]:
        return [rule for rule in self.rules.values() if platform in (None, self.rule_platform[rule.id])]

    def by_ref(self, ref: str) -> list[Rule]:
        return [rule for rule in self.rules.values() if rule.ref == ref.upper()]

    def occurrences(self, start: dt.date, end: dt.date, platform: str | None = None) -> list[Occurrence]:
        """Every event occurrence with start <= date <= end, in date order."""
        found = [
            occurrence
            for rule in self.rules_of(platform)
            for event in rule.events
            for occurrence in _expand(rule, self.rule_platform[rule.id], event, start, end)
        ]
        found.sort(key=lambda o: (o.date, o.event.time or "", o.rule.id, o.event.id))
        return found

    def event_zone(self, rule: Rule, event: Event) -> str:
        """The zone an event's date is meant in: its own; its marketplace's (the event's, else the rule's
        only one) as the platform file gives it; else the platform's."""
        if event.time_zone:
            return event.time_zone
        platform = self.platform_of(rule).info
        market = event.marketplace or (rule.marketplaces[0] if len(rule.marketplaces) == 1 else None)
        if market is not None and market in platform.marketplace_zones:
            return platform.marketplace_zones[market]
        # Several marketplaces of one region (UK, DE, FR ...): the first one's zone, not the platform's
        # home zone an ocean away (#17).
        zones = [zone for m in rule.marketplaces if (zone := platform.marketplace_zones.get(m))]
        if zones and len({zone.split("/")[0] for zone in zones}) == 1:
            return zones[0]
        return platform.time_zone

    def rule_zones(self, rule: Rule) -> list[str]:
        """The distinct zones of a rule's dates, in the order its events first use them."""
        return list(dict.fromkeys(self.event_zone(rule, event) for event in rule.events))

    def watch_pages(self) -> list[tuple[str, WatchPage]]:
        """(platform, page) for every page the policy files list to watch beside their rules' sources."""
        return [(pid, page) for pid in sorted(self.platforms) for page in self.platforms[pid].info.watch]

    def market_summary(self) -> list[tuple[str, str, int]]:
        """(platform, marketplace, rules) for each marketplace a platform's rules name."""
        counts: dict[tuple[str, str], int] = {}
        for rule in self.rules.values():
            for market in rule.marketplaces:
                key = (self.rule_platform[rule.id], market)
                counts[key] = counts.get(key, 0) + 1
        return [(platform, market, count) for (platform, market), count in sorted(counts.items())]

    def schedules_by_marketplace(self) -> list[tuple[str, str, int, int, str, tuple[str, ...]]]:
        """(platform, marketplace, schedules, versions, currency, marketplaces sharing them), sorted."""
        groups: dict[tuple[str, str], dict[str, FeeSchedule]] = {}
        for (platform, _, _), schedule in self.fee_schedules.items():
            groups.setdefault((platform, schedule.marketplace), {})[schedule.id] = schedule
        rows = []
        for (platform, market), found in sorted(groups.items()):
            schedules = list(found.values())
            currencies = "/".join(sorted({s.currency for s in schedules}))
            shared = tuple(sorted({m for s in schedules for m in s.applies_to}))
            versions = sum(len(s.versions) for s in schedules)
            rows.append((platform, market, len(schedules), versions, currencies, shared))
        return rows

    def summary(self) -> list[tuple[str, int, int, int]]:
        """(platform, rules, events, fee schedules) for each platform."""
        rows = []
        for platform_id in sorted(self.platforms):
            rules = self.rules_of(platform_id)
            rows.append(
                (
                    platform_id,
                    len(rules),
                    sum(len(rule.events) for rule in rules),
                    sum(len(rule.fee_schedules) for rule in rules),
                )
            )
        return rows


def _expand(rule: Rule, platform: str, event: Event, start: dt.date, end: dt.date) -> Iterator[Occurrence]:
    if event.recurrence is None:
        if start <= event.date <= end:
            yield Occurrence(rule, platform, event, event.date)
        return
    assert event.recurrence is Recurrence.YEARLY
    last = end if event.recurrence_until is None else min(end, event.recurrence_until)
    for year in range(max(start.year, event.date.year), last.year + 1):
        day = event.date.replace(year=year)
        if start <= day <= last and day >= event.date:
            yield Occurrence(rule, platform, event, day)


def load_catalog(directory: Path | str | None = None) -> Catalog:
    """Load and validate every `*.toml` in `directory`; raise CatalogError listing all problems."""
    folder = Path(directory) if directory is not None else default_policies_dir()
    problems: list[PolicyProblem] = []
    if not folder.is_dir():
        raise CatalogError([PolicyProblem(str(folder), None, "", "no such directory")])
    paths = sorted(path for path in folder.glob("*.toml") if path.name not in NOT_PLATFORMS)
    if not paths:
        raise CatalogError([PolicyProblem(str(folder), None, "", "no *.toml policy files found")])
    parsed: list[tuple[str, PolicyFile]] = []
    for path in paths:
        policy = _load_file(path, problems)
        if policy is not None:
            parsed.append((path.name, policy))
    catalog = _assemble(parsed, problems)
    markets, currency_words = _load_marketplaces(folder / MARKETPLACES_FILE, problems)
    # With a platform file unreadable its categories are unknown: do not blame the words file or the
    # product-group tables for that.
    complete = catalog if len(parsed) == len(paths) else None
    sellers_words = _load_words(folder / VOCABULARY_FILE, complete, problems)
    catalog = replace(
        catalog,
        vocabulary=build_vocabulary(sellers_words, [policy for _, policy in parsed]),
        product_groups=_load_product_groups(folder / MAPPINGS_DIR, complete, problems),
    )
    if problems:
        raise CatalogError(problems)
    # Every code the rules and schedules use is understood, even one the marketplaces file lacks.
    used = {m for rule in catalog.rules.values() for m in rule.marketplaces} | {
        market for (_, market, _) in catalog.fee_schedules
    }
    words = {code.casefold(): code for code in used - {"ALL"}}
    words.update((word.casefold(), m.code) for m in markets for word in [m.code, *m.words])
    return replace(
        catalog,
        marketplaces={m.code: m for m in markets},
        marketplace_words=words,
        currency_words=currency_words,
    )


def _read_toml(path: Path, problems: list[PolicyProblem]) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        problems.append(PolicyProblem(path.name, None, "", f"TOML syntax: {error}"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(PolicyProblem(path.name, None, "", f"cannot read: {error}"))
    return None


def _load_marketplaces(path: Path, problems: list[PolicyProblem]) -> tuple[list[Marketplace], dict[str, str]]:
    """The marketplace words and the currency words (casefolded word -> ISO code); none when the file
    is absent (codes are still understood)."""
    if not path.exists():
        return [], {}
    data = _read_toml(path, problems)
    if data is None:
        return [], {}
    try:
        parsed = MarketplacesFile.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            problems.append(PolicyProblem(path.name, None, _locate(data, detail["loc"])[1], _message(detail)))
        return [], {}
    markets = parsed.marketplaces
    currency_words: dict[str, str] = {}
    for index, currency in enumerate(parsed.currencies):
        for word in [currency.code, *currency.words]:
            other = currency_words.setdefault(word.casefold(), currency.code)
            if other != currency.code:
                where = f"currencies[{index}]"
                problems.append(
                    PolicyProblem(path.name, None, where, f"{word!r} names both {other} and {currency.code}")
                )
    seen: dict[str, str] = {}
    for index, market in enumerate(markets):
        for word in [market.code, *market.words]:
            other = seen.setdefault(word.casefold(), market.code)
            if other != market.code:
                problems.append(
                    PolicyProblem(
                        path.name,
                        None,
                        f"marketplaces[{index}]",
                        f"{word!r} names both {other} and {market.code}",
                    )
                )
    return markets, currency_words


def _load_words(path: Path, catalog: Catalog | None, problems: list[PolicyProblem]) -> WordsFile | None:
    """policies/words.toml (optional): product words must name a category some platform has."""
    if not path.exists():
        return None
    data = _read_toml(path, problems)
    if data is None:
        return None
    try:
        words = WordsFile.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            field_path = ".".join(str(part) for part in detail["loc"])
            problems.append(PolicyProblem(path.name, None, field_path, _message(detail)))
        return None
    if catalog is None:
        return words
    # A category's own names say which category they are: a product word may not point elsewhere.
    names: dict[str, str] = {}
    for platform in catalog.platforms.values():
        for category in platform.categories:
            for name in (category.id, category.name.en, category.name.zh, *category.aliases):
                names.setdefault(name.casefold(), category.id)
    known = set(names.values())
    for category_id, product_words in words.products.items():
        where = f"products.{category_id}"
        if category_id not in known:
            problems.append(PolicyProblem(path.name, None, where, f"unknown category {category_id!r}"))
            continue
        for word in product_words:
            owner = names.get(word.casefold())
            if owner is not None and owner != category_id:
                problems.append(
                    PolicyProblem(path.name, None, where, f"{word!r} is a name of category {owner!r}")
                )
    # (#17) Lawmakers are policy files of this catalog; a platform "we hold nothing for" is none of them.
    for platform_id in words.authorities:
        if platform_id not in catalog.platforms:
            problems.append(
                PolicyProblem(path.name, None, "authorities", f"unknown platform {platform_id!r}")
            )
    held = {
        name.casefold(): platform.id
        for platform in catalog.platforms.values()
        for name in (platform.id, platform.info.name.en, platform.info.name.zh, *platform.info.aliases)
    }
    for name, platform_words in words.unlisted_platforms.items():
        for word in (name, *platform_words):
            if word.casefold() in held:
                where = f"unlisted_platforms.{name}"
                message = f"{word!r} names {held[word.casefold()]!r}, which the catalog holds"
                problems.append(PolicyProblem(path.name, None, where, message))
    return words


def _load_product_groups(
    folder: Path, catalog: Catalog | None, problems: list[PolicyProblem]
) -> dict[str, dict[str, str]]:
    """policies/mappings/*.toml (optional): each maps a platform's product groups to its categories
    (checked against `catalog`; None: a platform file failed, so the tables are not checked or used)."""
    tables: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        name = f"{MAPPINGS_DIR}/{path.name}"
        data = _read_toml(path, problems)
        if data is None:
            continue
        try:
            mapping = ProductGroupsFile.model_validate(data)
        except ValidationError as error:
            for detail in error.errors():
                field_path = ".".join(str(part) for part in detail["loc"])
                problems.append(PolicyProblem(name, None, field_path, _message(detail)))
            continue
        if catalog is None:
            continue
        platform = catalog.platforms.get(mapping.platform)
        if platform is None:
            problems.append(PolicyProblem(name, None, "platform", f"unknown platform {mapping.platform!r}"))
            continue
        known = {category.id for category in platform.categories}
        table = tables.setdefault(mapping.platform, {})
        for group, category_id in mapping.groups.items():
            if category_id not in known:
                problems.append(
                    PolicyProblem(name, None, f"groups.{group}", f"unknown category {category_id!r}")
                )
            table[fold_product_group(group)] = category_id
    return tables


def _load_file(path: Path, problems: list[PolicyProblem]) -> PolicyFile | None:
    name = path.name
    data = _read_toml(path, problems)
    if data is None:
        return None
    try:
        policy = PolicyFile.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            rule_id, field_path = _locate(data, detail["loc"])
            problems.append(PolicyProblem(name, rule_id, field_path, _message(detail)))
        return None
    expected = path.stem
    if policy.platform != expected:
        problems.append(
            PolicyProblem(
                name, None, "platform", f"is {policy.platform!r} but the file is named {expected!r}"
            )
        )
    return policy


def _message(detail: Any) -> str:
    message = str(detail["msg"])
    if detail["type"] == "extra_forbidden":
        return "unknown key"
    if detail["type"] == "missing":
        return "missing required field"
    return message.removeprefix("Value error, ")


def _locate(data: Any, loc: Iterable[int | str]) -> tuple[str | None, str]:
    """Turn a pydantic error location into (rule id, dotted field path) for the message."""
    parts = list(loc)
    rule_id: str | None = None
    if len(parts) >= 2 and parts[0] == "rules" and isinstance(parts[1], int):
        rules = data.get("rules") if isinstance(data, dict) else None
        index = parts[1]
        if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
            raw_id = rules[index].get("id")
            rule_id = str(raw_id) if raw_id is not None else f"#{index + 1} (no id)"
        parts = parts[2:]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return rule_id, path


def _assemble(parsed: list[tuple[str, PolicyFile]], problems: list[PolicyProblem]) -> Catalog:
    platforms: dict[str, Platform] = {}
    rules: dict[str, Rule] = {}
    rule_platform: dict[str, str] = {}
    rule_file: dict[str, str] = {}
    schedules: dict[tuple[str, str, str], FeeSchedule] = {}
    schedule_rule: dict[str, Rule] = {}
    for file_name, policy in parsed:
        if policy.platform in platforms:
            problems.append(
                PolicyProblem(file_name, None, "platform", f"duplicate platform {policy.platform!r}")
            )
            continue
        platforms[policy.platform] = Platform(policy.platform, file_name, policy)
        _check_categories(file_name, policy, problems)
        category_ids = {category.id for category in policy.categories}
        for rule in policy.rules:
            if rule.id in rules:
                problems.append(
                    PolicyProblem(
                        file_name, rule.id, "id", f"duplicate rule id (also in {rule_file[rule.id]})"
                    )
                )
                continue
            rules[rule.id] = rule
            rule_platform[rule.id] = policy.platform
            rule_file[rule.id] = file_name
            for index, schedule in enumerate(rule.fee_schedules):
                where = f"fee_schedules[{index}]"
                if schedule.category not in category_ids:
                    problems.append(
                        PolicyProblem(
                            file_name, rule.id, f"{where}.category", f"unknown category {schedule.category!r}"
                        )
                    )
                if schedule.id in schedule_rule:
                    problems.append(
                        PolicyProblem(
                            file_name, rule.id, f"{where}.id", f"duplicate schedule id {schedule.id!r}"
                        )
                    )
                for market in [schedule.marketplace, *schedule.applies_to]:
                    key = (policy.platform, market, schedule.category)
                    if key in schedules:
                        problems.append(
                            PolicyProblem(
                                file_name,
                                rule.id,
                                where,
                                f"a second schedule for {schedule.category} in {market} "
                                f"(first: {schedules[key].id}); add a version to it instead",
                            )
                        )
                    schedules[key] = schedule
                schedule_rule[schedule.id] = rule
    for rule_id, rule in rules.items():
        if rule.superseded_by is not None and rule.superseded_by not in rules:
            problems.append(
                PolicyProblem(
                    rule_file[rule_id], rule_id, "superseded_by", f"unknown rule id {rule.superseded_by!r}"
                )
            )
        for index, related in enumerate(rule.related):
            if related not in rules:
                problems.append(
                    PolicyProblem(
                        rule_file[rule_id], rule_id, f"related[{index}]", f"unknown rule id {related!r}"
                    )
                )
    return Catalog(
        platforms=platforms,
        rules=rules,
        rule_platform=rule_platform,
        files=tuple(name for name, _ in parsed),
        fee_schedules=schedules,
        schedule_rule=schedule_rule,
    )


def _check_categories(file_name: str, policy: PolicyFile, problems: list[PolicyProblem]) -> None:
    seen: dict[str, str] = {}
    for index, category in enumerate(policy.categories):
        for name in [category.id, category.name.en, category.name.zh, *category.aliases]:
            folded = name.casefold()
            if folded in seen and seen[folded] != category.id:
                problems.append(
                    PolicyProblem(
                        file_name,
                        None,
                        f"categories[{index}]",
                        f"name {name!r} is used by both {seen[folded]} and {category.id}",
                    )
                )
            seen[folded] = category.id
        if category.id in [c.id for c in policy.categories[:index]]:
            problems.append(
                PolicyProblem(file_name, None, f"categories[{index}].id", "duplicate category id")
            )
    if sum(category.catch_all for category in policy.categories) > 1:
        problems.append(PolicyProblem(file_name, None, "categories", "more than one catch_all category"))
