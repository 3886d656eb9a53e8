"""Policy-change detection: the catalog is synced into SQLite; what differs from the last sync is a change.

At start and on every reload the loaded catalog is compared with the copy of every rule kept in
`catalog_rules` (with its history in `catalog_rule_versions` and its events in `catalog_events`). Each
difference that matters to a seller becomes a row in `changes` with a summary in both languages:

    added          a rule that was not in the files (or had been withdrawn) is there
    withdrawn      a rule is no longer in the files
    event_moved    an event's date, time, zone or yearly span moved ("extended" for a later end)
    event_added    a rule gained a dated event
    event_removed  a rule lost a dated event
    fees           a fee schedule version or a fee table changed (which schedule, which version)
    changed        anything else about the rule (summary, conditions, figures, sources, ...)

`diff_catalog` computes all of this from the catalog and the synced rows alone (no store), so the diff
can be tested by itself; `sync_catalog` reads the rows, calls it and writes the result in one transaction.

The page watcher of a later issue inserts rows with source "page"; `recent_changes` and
`changes_text` read both. Summaries are plain text (no markup): escape them where they are rendered.

Comparison is by meaning, not by bytes: the stored copy is read back through the current schema, so
"0.3" rewritten as "0.30", or a field the schema gained with a default, records a new version of the
rule but alerts nobody. Edits only to search keywords or cross-links (`related`) are not policy
changes either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError
from sqlite_utils import Database

from bot.answers import describe_tiers
from bot.catalog import Catalog, Event, EventKind, FeeSchedule, FeeVersion, Rule, Table, Topic
from bot.i18n import Html, join, t, to_plain_text
from bot.reminders.outbox import Outbox, Planned
from bot.store import Store

__all__ = [
    "CHANGE_KINDS",
    "CatalogDiff",
    "Change",
    "SyncedRule",
    "catalog_version",
    "changes_text",
    "diff_catalog",
    "get_change",
    "queue_change_alerts",
    "read_synced",
    "recent_changes",
    "record_change",
    "rule_digest",
    "rule_versions",
    "sync_catalog",
]

log = logging.getLogger(__name__)

CHANGE_KINDS = ("added", "withdrawn", "event_moved", "event_added", "event_removed", "fees", "changed")
# A later date for one of these gives the seller more time: the alert says "extended".
END_KINDS = frozenset({EventKind.GRACE_END, EventKind.END, EventKind.DEADLINE})
# Rule fields compared one by one for "changed"; events, fee schedules and tables have their own kinds.
# keywords (search synonyms) and related (cross-links) are left out on purpose: editing them changes how
# the bot finds a rule, not the rule, and must not alert every subscriber of the platform.
_PLAIN_FIELDS = (
    "ref",
    "marketplaces",
    "topic",
    "title",
    "summary",
    "confidence",
    "conditions",
    "exemptions",
    "numbers",
    "notes",
    "sources",
    "calculator",
    "superseded_by",
    "status",
    "status_confirmed_until",
)
# An event's place in time; any other difference in an event (its label, ...) is a plain "changed".
_EVENT_TIMING = ("date", "time", "time_zone", "recurrence", "recurrence_until")
# /changes shows at most this many lines: a Telegram message holds 4,096 characters.
MAX_LINES = 30


@dataclass(frozen=True)
class Change:
    """One policy change, as recorded in the `changes` table (id None until it is recorded)."""

    id: int | None
    at: dt.datetime
    source: str  # "catalog" (a reload found it) or "page" (the watcher saw an official page change)
    platform: str | None
    rule_id: str | None
    kind: str
    topic: str | None
    marketplaces: tuple[str, ...]
    summary_en: str
    summary_zh: str
    detail: dict[str, Any] = field(default_factory=dict)

    def summary(self, lang: str) -> str:
        return self.summary_zh if lang == "zh" else self.summary_en


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(data: Any) -> str:
    return hashlib.sha256(_canonical(data).encode()).hexdigest()


def rule_digest(rule: Rule) -> str:
    """SHA-256 of the rule's canonical JSON: equal digests, nothing in the rule's file changed."""
    return _digest(rule.model_dump(mode="json"))


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("change times must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


# --- summaries -------------------------------------------------------------------------------------


def _plain(lang: str, key: str, **values: Any) -> str:
    """A message as plain text: the change summaries are stored, queued and escaped where shown."""
    return to_plain_text(t(lang, key, **values))


class _Texts:
    """Builds one summary in each language from a message key and per-language values."""

    def __init__(self, catalog: Catalog, platform: str) -> None:
        self.catalog = catalog
        self.platform = platform

    def platform_name(self, lang: str) -> str:
        known = self.catalog.platforms.get(self.platform)
        return known.info.name.get(lang) if known else self.platform

    def both(self, key: str, **values: Any) -> tuple[str, str]:
        """Values may be callables of the language, for parts that are themselves translated."""
        texts = []
        for lang in ("en", "zh"):
            filled = {name: value(lang) if callable(value) else value for name, value in values.items()}
            texts.append(_plain(lang, key, platform=self.platform_name(lang), **filled))
        en, zh = texts
        return en, zh


def _when(event: Event, lang: str) -> str:
    """ "2025-05-02 00:01 America/New_York, every year until 2026-01-14"."""
    text = event.date.isoformat()
    if event.time and event.time_zone:
        text += f" {event.time} {event.time_zone}"
    if event.recurrence is not None:
        if event.recurrence_until is not None:
            text += _plain(lang, "recurs_yearly_until", until=event.recurrence_until.isoformat())
        else:
            text += _plain(lang, "recurs_yearly")
    if event.approximate:
        text += _plain(lang, "approximate")
    return text


def _since(version: FeeVersion, lang: str) -> str:
    if version.effective_from is None:
        return _plain(lang, "since_before_records")
    return _plain(lang, "since_date", date=version.effective_from.isoformat())


# --- comparing two versions of a rule -------------------------------------------------------------


@dataclass(frozen=True)
class _Draft:
    """A change found by comparing, before it gets its rule's place and a row id."""

    kind: str
    summary_en: str
    summary_zh: str
    detail: dict[str, Any]
    marketplaces: tuple[str, ...] | None = None  # None: the rule's


def _is_later(new: Event, old: Event) -> bool:
    """The event now ends later: a later date, or the same date and a longer (or endless) yearly span."""
    if new.date != old.date:
        return new.date > old.date
    old_last, new_last = old.last_date(), new.last_date()
    if old_last == new_last:
        return False
    return new_last is None or (old_last is not None and new_last > old_last)


def _event_markets(*versions: Event) -> tuple[str, ...] | None:
    """The marketplaces a date change concerns: the event's own (before and after), or None: the rule's."""
    if any(event.marketplace is None for event in versions):
        return None
    return tuple(dict.fromkeys(event.marketplace for event in versions if event.marketplace))


def _event_drafts(old: Rule, new: Rule, texts: _Texts) -> tuple[list[_Draft], list[str]]:
    """Moved, added and removed events, and the ids of events changed in other ways (labels...)."""
    title = new.title.get
    drafts: list[_Draft] = []
    other: list[str] = []
    before = {event.id: event for event in old.events}
    after = {event.id: event for event in new.events}
    for event_id, event in after.items():
        previous = before.get(event_id)
        if previous is None:
            en, zh = texts.both(
                "change_event_added",
                title=title,
                label=event.label.get,
                when=lambda lang, e=event: _when(e, lang),
            )
            detail = {"event_id": event_id, "event_kind": str(event.kind), "date": event.date.isoformat()}
            drafts.append(_Draft("event_added", en, zh, detail, _event_markets(event)))
            continue
        timing = [name for name in _EVENT_TIMING if getattr(previous, name) != getattr(event, name)]
        if timing:
            extended = event.kind in END_KINDS and _is_later(event, previous)
            en, zh = texts.both(
                "change_extended" if extended else "change_moved",
                title=title,
                label=event.label.get,
                old=lambda lang, e=previous: _when(e, lang),
                new=lambda lang, e=event: _when(e, lang),
            )
            moved: dict[str, Any] = {
                "event_id": event_id,
                "event_kind": str(event.kind),
                "old_date": previous.date.isoformat(),
                "new_date": event.date.isoformat(),
                "fields": timing,
                "extended": extended,
                "old": previous.model_dump(mode="json"),
                "new": event.model_dump(mode="json"),
            }
            drafts.append(_Draft("event_moved", en, zh, moved, _event_markets(event, previous)))
        rest = {name for name in Event.model_fields if name not in _EVENT_TIMING}
        if any(getattr(previous, name) != getattr(event, name) for name in rest):
            other.append(event_id)
    for event_id, event in before.items():
        if event_id not in after:
            en, zh = texts.both(
                "change_event_removed",
                title=old.title.get,
                label=event.label.get,
                when=lambda lang, e=event: _when(e, lang),
            )
            detail = {"event_id": event_id, "event_kind": str(event.kind), "date": event.date.isoformat()}
            drafts.append(_Draft("event_removed", en, zh, detail, _event_markets(event)))
    return drafts, other


def _category_name(texts: _Texts, schedule: FeeSchedule, lang: str) -> str:
    platform = texts.catalog.platforms.get(texts.platform)
    categories = platform.info.categories if platform else []
    found = next((c for c in categories if c.id == schedule.category), None)
    return found.name.get(lang) if found else schedule.category


def _version_key(version: FeeVersion) -> str:
    return version.effective_from.isoformat() if version.effective_from else ""


def _schedule_drafts(
    old: FeeSchedule | None, new: FeeSchedule | None, title: Any, texts: _Texts
) -> list[_Draft]:
    """One "fees" change per version added, changed or removed, and one if the schedule itself changed."""
    current = new or old
    assert current is not None
    where = {
        "title": title,
        "category": lambda lang: _category_name(texts, current, lang),
        "market": current.marketplace,
    }
    base: dict[str, Any] = {
        "schedule_id": current.id,
        "category": current.category,
        "marketplace": current.marketplace,
    }
    markets = (current.marketplace,)
    drafts: list[_Draft] = []
    header = {"category", "marketplace", "currency", "basis"}
    if old is not None and new is not None and any(getattr(old, n) != getattr(new, n) for n in header):
        en, zh = texts.both("change_fees_schedule", **where)
        detail = {**base, "version": None, "change": "schedule"}
        drafts.append(_Draft("fees", en, zh, detail, (old.marketplace, new.marketplace)))
    before = {_version_key(v): v for v in (old.versions if old else [])}
    after = {_version_key(v): v for v in (new.versions if new else [])}
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        change = "added" if was is None else "removed" if now is None else "changed"
        detail = {
            **base,
            "version": key or None,
            "change": change,
            "old": was.model_dump(mode="json") if was else None,
            "new": now.model_dump(mode="json") if now else None,
        }
        if now is None:
            assert was is not None
            en, zh = texts.both("change_fees_removed", since=lambda lang, v=was: _since(v, lang), **where)
        else:
            currency = current.currency
            en, zh = texts.both(
                "change_fees",
                since=lambda lang, v=now: _since(v, lang),
                tiers=lambda lang, v=now, c=currency: to_plain_text(describe_tiers(v, c, lang)),
                **where,
            )
        drafts.append(_Draft("fees", en, zh, detail, markets))
    return drafts


def _table_drafts(old: Table | None, new: Table | None, title: Any, texts: _Texts) -> list[_Draft]:
    current = new or old
    assert current is not None
    before = {row.key: row for row in (old.rows if old else [])}
    after = {row.key: row for row in (new.rows if new else [])}
    keys = [
        key for key in [*after, *(k for k in before if k not in after)] if before.get(key) != after.get(key)
    ]
    same_frame = (
        old is not None
        and new is not None
        and (old.currency, old.band_label) == (new.currency, new.band_label)
    )
    if not keys and same_frame:
        return []
    labels = {key: (after.get(key) or before[key]).label for key in keys}

    def rows(lang: str) -> str:
        names = [labels[key].get(lang) for key in keys] or [current.row_label.get(lang)]
        return _plain(lang, "list_separator").join(names)

    en, zh = texts.both("change_fee_table", title=title, rows=rows)
    change = "added" if old is None else "removed" if new is None else "changed"
    return [_Draft("fees", en, zh, {"table_id": current.id, "change": change, "rows": keys})]


def _fee_drafts(old: Rule, new: Rule, texts: _Texts) -> list[_Draft]:
    title = new.title.get
    drafts: list[_Draft] = []
    before = {schedule.id: schedule for schedule in old.fee_schedules}
    after = {schedule.id: schedule for schedule in new.fee_schedules}
    for schedule_id in [*after, *(s for s in before if s not in after)]:
        if before.get(schedule_id) != after.get(schedule_id):
            drafts += _schedule_drafts(before.get(schedule_id), after.get(schedule_id), title, texts)
    old_tables = {table.id: table for table in old.tables}
    new_tables = {table.id: table for table in new.tables}
    for table_id in [*new_tables, *(i for i in old_tables if i not in new_tables)]:
        if old_tables.get(table_id) != new_tables.get(table_id):
            drafts += _table_drafts(old_tables.get(table_id), new_tables.get(table_id), title, texts)
    return drafts


def _plain_drafts(old: Rule, new: Rule, changed_events: list[str], texts: _Texts) -> list[_Draft]:
    fields = [name for name in _PLAIN_FIELDS if getattr(old, name) != getattr(new, name)]
    if changed_events:
        fields.append("events")
    if not fields:
        return []
    numbers: list[dict[str, Any]] = []
    if "numbers" in fields:
        old_numbers = {number.id: number for number in old.numbers}
        for number in new.numbers:
            previous = old_numbers.get(number.id)
            if previous is not None and previous.value != number.value:
                numbers.append({"id": number.id, "old": str(previous.value), "new": str(number.value)})
    new_numbers = {number.id: number for number in new.numbers}

    def described(lang: str) -> str:
        parts = []
        for name in fields:
            text = _plain(lang, f"change_field_{name}")
            if name == "numbers" and numbers:
                values = [
                    _plain(
                        lang,
                        "change_number",
                        label=new_numbers[n["id"]].label.get(lang),
                        old=n["old"],
                        new=n["new"],
                    )
                    for n in numbers
                ]
                text = _plain(
                    lang,
                    "change_field_values",
                    field=text,
                    values=_plain(lang, "list_separator").join(values),
                )
            parts.append(text)
        return _plain(lang, "list_separator").join(parts)

    en, zh = texts.both("change_changed", title=new.title.get, fields=described)
    detail: dict[str, Any] = {"fields": fields}
    if numbers:
        detail["numbers"] = numbers
    if changed_events:
        detail["events"] = changed_events
    return [_Draft("changed", en, zh, detail)]


def _rule_drafts(old: Rule, new: Rule, texts: _Texts) -> list[_Draft]:
    """What changed in a rule, by meaning: every draft names one thing a seller would act on."""
    event_drafts, changed_events = _event_drafts(old, new, texts)
    return [*event_drafts, *_fee_drafts(old, new, texts), *_plain_drafts(old, new, changed_events, texts)]


# --- syncing ---------------------------------------------------------------------------------------


def _markets_of(old: Sequence[str], new: Sequence[str]) -> tuple[str, ...]:
    """Both audiences hear of a rule that changed its marketplaces: those it left and those it joined."""
    return tuple(dict.fromkeys([*new, *old]))


def _old_rule(rule_id: str, data: Mapping[str, Any]) -> Rule | None:
    try:
        return Rule.model_validate(data, by_name=True)
    except ValidationError as error:
        # Written by a release whose schema this one cannot read: the difference cannot be told by
        # meaning, and alerting everyone about every rule would be worse than alerting no one.
        log.warning(
            "rule %s: the synced copy no longer fits the schema (%s); no change recorded", rule_id, error
        )
        return None


@dataclass(frozen=True)
class SyncedRule:
    """A rule as the last sync left it in `catalog_rules` (its data as canonical JSON text)."""

    rule_id: str
    platform: str
    digest: str
    version: int
    data: str
    withdrawn_at: str | None  # ISO 8601 UTC, or None while the rule is in the files


@dataclass(frozen=True)
class RuleWrite:
    """A rule row to write: a new one (version 1), or one seen again (a new version if its digest moved)."""

    rule_id: str
    platform: str
    digest: str
    version: int
    data: str  # canonical JSON
    new_version: bool  # a row for catalog_rule_versions too


@dataclass(frozen=True)
class EventRow:
    """One event of the current catalog, as `catalog_events` holds it."""

    key: str  # "<rule id>/<event id>"
    rule_id: str
    kind: str
    date: str  # ISO date
    data: str  # canonical JSON


@dataclass(frozen=True)
class CatalogDiff:
    """What a sync writes: rule rows, the rules withdrawn, the events table and the changes to record."""

    at: dt.datetime  # UTC, to the second
    inserted: tuple[RuleWrite, ...]  # rules not synced before
    # Rules synced before and in the files now: last_seen moves, withdrawn_at clears.
    seen: tuple[RuleWrite, ...]
    withdrawn: tuple[str, ...]  # rule ids that left the files since the last sync
    events: tuple[EventRow, ...]  # catalog_events becomes exactly these
    changes: tuple[Change, ...]  # in the order they are recorded, ids None

    @property
    def is_empty(self) -> bool:
        """Nothing for a seller and no new rule version: only last_seen would move."""
        return not (self.inserted or self.withdrawn or self.changes) and not any(
            write.new_version for write in self.seen
        )


def _change(
    now: dt.datetime, platform: str, rule_id: str, topic: str | None, markets: Sequence[str], draft: _Draft
) -> Change:
    return Change(
        id=None,
        at=now,
        source="catalog",
        platform=platform,
        rule_id=rule_id,
        kind=draft.kind,
        topic=topic,
        marketplaces=tuple(draft.marketplaces if draft.marketplaces is not None else markets),
        summary_en=draft.summary_en,
        summary_zh=draft.summary_zh,
        detail=draft.detail,
    )


def diff_catalog(catalog: Catalog, synced: Mapping[str, SyncedRule], now: dt.datetime) -> CatalogDiff:
    """What syncing `catalog` over the rules `synced` before changes: pure, it reads and writes nothing.

    With nothing synced before (the baseline) every rule is inserted and no change is returned: installing
    the bot must not alert everyone about every rule. `now` is truncated to the second, as stored.
    """
    now = now.astimezone(dt.UTC).replace(microsecond=0)
    baseline = not synced
    inserted: list[RuleWrite] = []
    seen: list[RuleWrite] = []
    found: list[Change] = []
    for rule_id in sorted(catalog.rules):
        rule = catalog.rules[rule_id]
        platform = catalog.rule_platform[rule_id]
        texts = _Texts(catalog, platform)
        data = rule.model_dump(mode="json")
        digest = _digest(data)
        text = _canonical(data)
        old = synced.get(rule_id)
        if old is None:
            inserted.append(RuleWrite(rule_id, platform, digest, 1, text, new_version=True))
            if not baseline:
                en, zh = texts.both("change_added", title=rule.title.get)
                found.append(
                    _change(
                        now,
                        platform,
                        rule_id,
                        str(rule.topic),
                        rule.marketplaces,
                        _Draft("added", en, zh, {}),
                    )
                )
            continue
        moved = old.digest != digest
        seen.append(
            RuleWrite(
                rule_id, platform, digest, old.version + 1 if moved else old.version, text, new_version=moved
            )
        )
        if old.withdrawn_at is not None:
            en, zh = texts.both("change_reinstated", title=rule.title.get)
            draft = _Draft("added", en, zh, {"reinstated": True, "withdrawn_at": old.withdrawn_at})
            found.append(_change(now, platform, rule_id, str(rule.topic), rule.marketplaces, draft))
            continue
        if not moved:
            continue
        old_rule = _old_rule(rule_id, json.loads(old.data))
        if old_rule is None:
            continue
        markets = _markets_of(old_rule.marketplaces, rule.marketplaces)
        for draft in _rule_drafts(old_rule, rule, texts):
            found.append(_change(now, platform, rule_id, str(rule.topic), markets, draft))

    withdrawn: list[str] = []
    for rule_id, old in sorted(synced.items()):
        if rule_id in catalog.rules or old.withdrawn_at is not None:
            continue
        withdrawn.append(rule_id)
        old_data = json.loads(old.data)
        titles = old_data.get("title") or {}
        en, zh = _Texts(catalog, old.platform).both(
            "change_withdrawn",
            title=lambda lang, titles=titles, rule_id=rule_id: titles.get(lang, rule_id),
        )
        markets = tuple(old_data.get("marketplaces") or ())
        draft = _Draft("withdrawn", en, zh, {})
        found.append(_change(now, old.platform, rule_id, old_data.get("topic"), markets, draft))

    return CatalogDiff(
        now, tuple(inserted), tuple(seen), tuple(withdrawn), _event_rows(catalog), tuple(found)
    )


def read_synced(store: Store) -> dict[str, SyncedRule]:
    """The rules as the last sync left them, by id."""
    cursor = store.db.execute(
        "SELECT rule_id, platform, digest, version, data, withdrawn_at FROM catalog_rules"
    )
    return {row[0]: SyncedRule(*row) for row in cursor.fetchall()}


def sync_catalog(store: Store, catalog: Catalog) -> list[Change]:
    """Record the catalog as synced and return what changed since the last sync, with row ids.

    Reads the synced rules, diffs them with `diff_catalog` and writes the diff, in one write transaction.
    The first sync (no rule synced yet) records the baseline and returns no changes.
    """
    with store.transaction():
        diff = diff_catalog(catalog, read_synced(store), store.clock.now())
        return _write_diff(store.db, diff)


def _write_diff(db: Database, diff: CatalogDiff) -> list[Change]:
    stamp = _iso(diff.at)
    for write in diff.inserted:
        db.execute(
            "INSERT INTO catalog_rules (rule_id, platform, digest, version, data, first_seen, last_seen)"
            " VALUES (?, ?, ?, 1, ?, ?, ?)",
            [write.rule_id, write.platform, write.digest, write.data, stamp, stamp],
        )
    for write in diff.seen:
        db.execute(
            "UPDATE catalog_rules SET platform = ?, digest = ?, version = ?, data = ?, last_seen = ?,"
            " withdrawn_at = NULL WHERE rule_id = ?",
            [write.platform, write.digest, write.version, write.data, stamp, write.rule_id],
        )
    db.conn.executemany(
        "INSERT INTO catalog_rule_versions (rule_id, version, digest, data, at) VALUES (?, ?, ?, ?, ?)",
        [
            (write.rule_id, write.version, write.digest, write.data, stamp)
            for write in (*diff.inserted, *diff.seen)
            if write.new_version
        ],
    )
    for rule_id in diff.withdrawn:
        db.execute("UPDATE catalog_rules SET withdrawn_at = ? WHERE rule_id = ?", [stamp, rule_id])
    _write_events(db, diff.events)
    return [_insert_change(db, change) for change in diff.changes]


def _event_rows(catalog: Catalog) -> tuple[EventRow, ...]:
    return tuple(
        EventRow(
            f"{rule.id}/{event.id}",
            rule.id,
            str(event.kind),
            event.date.isoformat(),
            _canonical(event.model_dump(mode="json")),
        )
        for rule in catalog.rules.values()
        for event in rule.events
    )


def _write_events(db: Database, rows: Sequence[EventRow]) -> None:
    """catalog_events holds exactly the current catalog's events (a withdrawn rule's go with it)."""
    db.execute(
        "DELETE FROM catalog_events WHERE key NOT IN (SELECT value FROM json_each(?))",
        [json.dumps([row.key for row in rows])],
    )
    db.conn.executemany(
        "INSERT INTO catalog_events (key, rule_id, kind, date, data) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET rule_id = excluded.rule_id, kind = excluded.kind,"
        " date = excluded.date, data = excluded.data",
        [(row.key, row.rule_id, row.kind, row.date, row.data) for row in rows],
    )


def _insert_change(db: Database, change: Change) -> Change:
    cursor = db.execute(
        "INSERT INTO changes (at, source, platform, rule_id, kind, topic, marketplaces, summary_en,"
        " summary_zh, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            _iso(change.at),
            change.source,
            change.platform,
            change.rule_id,
            change.kind,
            change.topic,
            json.dumps(list(change.marketplaces)),
            change.summary_en,
            change.summary_zh,
            _canonical(change.detail),
        ],
    )
    row_id = cursor.lastrowid
    assert row_id is not None  # an INSERT without OR IGNORE always makes a row
    return replace(change, id=row_id)


def record_change(store: Store, change: Change) -> Change:
    """Record one change from outside the catalog (the page watcher); returns it with its id."""
    with store.transaction():
        return _insert_change(store.db, change)


def get_change(store: Store, change_id: int) -> Change | None:
    cursor = store.db.execute("SELECT * FROM changes WHERE id = ?", [change_id])
    values = cursor.fetchone()
    if values is None:
        return None
    columns = [column[0] for column in cursor.description]
    return _change_from_row(dict(zip(columns, values, strict=True)))


# --- alerts and /changes ---------------------------------------------------------------------------


def queue_change_alerts(store: Store, changes: Sequence[Change]) -> int:
    """Queue one alert per change for each chat subscribed to its platform, marketplaces and topic.

    Returns how many were queued; queuing the same changes again queues nothing (the outbox key is
    change:<id>). A change without a platform reaches no one; one without a topic or marketplaces
    (a page change) reaches every subscriber of its platform.
    """
    now = store.clock.now()
    planned: list[Planned] = []
    for change in changes:
        if change.id is None:
            raise ValueError("only recorded changes (with an id) can be alerted")
        if change.platform is None:
            continue
        markets = change.marketplaces or ("ALL",)
        topics = [change.topic] if change.topic else [str(topic) for topic in Topic]
        chats = sorted(
            {chat for topic in topics for chat in store.subscribers(change.platform, markets, topic)}
        )
        payload = {
            "change_id": change.id,
            "rule_id": change.rule_id,
            "summary_en": change.summary_en,
            "summary_zh": change.summary_zh,
        }
        planned += [Planned(chat, "alert", f"change:{change.id}", 0, now, None, payload) for chat in chats]
    return Outbox(store).enqueue(planned) if planned else 0


def _change_from_row(row: Mapping[str, Any]) -> Change:
    return Change(
        id=int(row["id"]),
        at=dt.datetime.fromisoformat(row["at"]),
        source=str(row["source"]),
        platform=row["platform"],
        rule_id=row["rule_id"],
        kind=str(row["kind"]),
        topic=row["topic"],
        marketplaces=tuple(json.loads(row["marketplaces"] or "[]")),
        summary_en=str(row["summary_en"]),
        summary_zh=str(row["summary_zh"]),
        detail=json.loads(row["detail"] or "{}"),
    )


def recent_changes(store: Store, days: int, now: dt.datetime) -> list[Change]:
    """Changes recorded in the `days` days up to `now` (from the catalog or the page watcher), newest first.

    `at` is compared as text: every writer stores it as ISO 8601 UTC to the second, which sorts in time.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    since = _iso(now - dt.timedelta(days=days))
    cursor = store.db.execute(
        "SELECT * FROM changes WHERE at >= ? AND at <= ? ORDER BY at DESC, id DESC", [since, _iso(now)]
    )
    columns = [column[0] for column in cursor.description]
    return [_change_from_row(dict(zip(columns, values, strict=True))) for values in cursor.fetchall()]


def changes_text(changes: Sequence[Change], lang: str, days: int, catalog: Catalog | None = None) -> Html:
    """The reply to `/changes [days]`: a heading and one line per change, newest first as given.

    With a catalog, platforms are shown by name; without one (or for a platform no longer in it), by id.
    """
    if not changes:
        return t(lang, "changes_none", days=days)
    lines = [t(lang, "changes_title", days=days, count=len(changes))]
    for change in changes[:MAX_LINES]:
        platform = change.platform or ""
        if catalog is not None and platform in catalog.platforms:
            platform = catalog.platforms[platform].info.name.get(lang)
        line = t(
            lang,
            "changes_line",
            date=change.at.astimezone(dt.UTC).date().isoformat(),
            platform=platform or "—",
            summary=change.summary(lang),
        )
        if change.source == "page":
            line = Html(line + t(lang, "changes_from_page"))
        if change.rule_id:
            line = Html(line + t(lang, "changes_rule_ref", rule_id=change.rule_id))
        lines.append(line)
    if len(changes) > MAX_LINES:
        lines.append(t(lang, "list_more", count=len(changes) - MAX_LINES))
    return join(lines)


def rule_versions(store: Store) -> dict[str, int]:
    """Each synced rule's version number (1 for a rule never changed since it was first recorded)."""
    rows = store.db.execute("SELECT rule_id, version FROM catalog_rules").fetchall()
    return {str(rule_id): int(version) for rule_id, version in rows}


def catalog_version(store: Store) -> int:
    """Rule versions recorded from the policy files: the sum moves whenever the catalog changes."""
    return int(store.db.execute("SELECT coalesce(sum(version), 0) FROM catalog_rules").fetchone()[0])
