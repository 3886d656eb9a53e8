"""Properties of diff_catalog, the pure core of the catalog sync, over random versions of the catalog.

A version of the catalog is drawn from a pool of shipped rules: each rule left out, as shipped, or edited
in one way a seller would (or would not) be told about. The synced state is what the previous diffs left.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalog.load import Catalog
from bot.catalog.schema import Rule
from bot.clock import Clock
from bot.reminders.changes import CatalogDiff, SyncedRule, diff_catalog, read_synced, sync_catalog
from bot.store import Store

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NOW = dt.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)
POOL_SIZE = 12
# An edit, and the kinds of change it is recorded as: the keywords are search words, not policy.
EDIT_KINDS: dict[str, frozenset[str]] = {
    "summary": frozenset({"changed"}),
    "date": frozenset({"event_moved"}),
    "keywords": frozenset(),
}
Version = Mapping[str, str]  # rule id -> "shipped" or an edit; a rule left out is absent


def _edited(rule: Rule, edit: str) -> Rule:
    if edit == "summary":
        summary = rule.summary.model_copy(update={"en": rule.summary.en + " (edited)"})
        return rule.model_copy(update={"summary": summary})
    if edit == "date":
        first = rule.events[0]
        moved = first.model_copy(update={"date": first.date + dt.timedelta(days=3)})
        return rule.model_copy(update={"events": [moved, *rule.events[1:]]})
    return rule.model_copy(update={"keywords": [*rule.keywords, "edited-keyword"]})


@pytest.fixture(scope="module")
def pool(catalog: Catalog) -> dict[str, dict[str, Rule]]:
    """Rule id -> its forms ("shipped" and each edit that still passes the schema, as a reload would)."""
    forms: dict[str, dict[str, Rule]] = {}
    # Rules with events first, so the pool has dates to move; spread over the platforms by id.
    ids = sorted(catalog.rules, key=lambda rule_id: (not catalog.rules[rule_id].events, rule_id))
    for rule_id in ids[:: max(1, len(ids) // POOL_SIZE)][:POOL_SIZE]:
        rule = catalog.rules[rule_id]
        forms[rule_id] = {"shipped": rule}
        for edit in EDIT_KINDS:
            if edit == "date" and not rule.events:
                continue
            edited = _edited(rule, edit)
            try:
                Rule.model_validate(edited.model_dump(mode="json"), by_name=True)
            except ValueError:
                continue
            forms[rule_id][edit] = edited
    return forms


def versions(pool: Mapping[str, Mapping[str, Rule]]) -> st.SearchStrategy[dict[str, str]]:
    form = {rule_id: st.sampled_from([None, "shipped", "shipped", *forms]) for rule_id, forms in pool.items()}
    return st.fixed_dictionaries(form).map(
        lambda drawn: {rule_id: name for rule_id, name in drawn.items() if name is not None}
    )


def _catalog(catalog: Catalog, pool: Mapping[str, Mapping[str, Rule]], version: Version) -> Catalog:
    rules = {rule_id: pool[rule_id][name] for rule_id, name in version.items()}
    platforms = {rule_id: catalog.rule_platform[rule_id] for rule_id in rules}
    return dataclasses.replace(catalog, rules=rules, rule_platform=platforms)


def _applied(synced: Mapping[str, SyncedRule], diff: CatalogDiff) -> dict[str, SyncedRule]:
    """The synced rules after the diff is written (read_synced's view of what sync_catalog writes)."""
    after = dict(synced)
    for write in (*diff.inserted, *diff.seen):
        after[write.rule_id] = SyncedRule(
            write.rule_id, write.platform, write.digest, write.version, write.data, None
        )
    stamp = diff.at.isoformat(timespec="seconds")
    for rule_id in diff.withdrawn:
        after[rule_id] = dataclasses.replace(after[rule_id], withdrawn_at=stamp)
    return after


def _kinds(diff: CatalogDiff, rule_id: str) -> Counter[str]:
    return Counter(change.kind for change in diff.changes if change.rule_id == rule_id)


@SETTINGS
@given(data=st.data())
def test_a_catalog_diffed_against_its_own_sync_gives_nothing(
    catalog: Catalog, pool: dict[str, dict[str, Rule]], data: st.DataObject
) -> None:
    current = _catalog(catalog, pool, data.draw(versions(pool)))
    baseline = diff_catalog(current, {}, NOW)
    # The first sync records every rule and alerts no one.
    assert baseline.changes == ()
    assert sorted(write.rule_id for write in baseline.inserted) == sorted(current.rules)
    assert baseline.at == NOW.replace(microsecond=0)
    again = diff_catalog(current, _applied({}, baseline), LATER)
    assert again.is_empty
    assert again.changes == () and again.inserted == () and again.withdrawn == ()
    assert sorted(write.rule_id for write in again.seen) == sorted(current.rules)


@SETTINGS
@given(data=st.data())
def test_applying_a_diff_and_diffing_again_gives_nothing(
    catalog: Catalog, pool: dict[str, dict[str, Rule]], data: st.DataObject
) -> None:
    synced: dict[str, SyncedRule] = {}
    for _ in range(data.draw(st.integers(1, 4))):
        current = _catalog(catalog, pool, data.draw(versions(pool)))
        synced = _applied(synced, diff_catalog(current, synced, NOW))
        assert diff_catalog(current, synced, LATER).is_empty
        assert {rule_id for rule_id, row in synced.items() if row.withdrawn_at is None} == set(current.rules)


@SETTINGS
@given(data=st.data())
def test_every_rule_added_withdrawn_or_changed_shows_up_exactly_once(
    catalog: Catalog, pool: dict[str, dict[str, Rule]], data: st.DataObject
) -> None:
    old = data.draw(versions(pool).filter(bool))  # not the baseline: that one alerts no one
    new = data.draw(versions(pool))
    synced = _applied({}, diff_catalog(_catalog(catalog, pool, old), {}, NOW))
    diff = diff_catalog(_catalog(catalog, pool, new), synced, LATER)
    assert sorted(write.rule_id for write in diff.inserted) == sorted(new.keys() - old.keys())
    assert sorted(diff.withdrawn) == sorted(old.keys() - new.keys())
    versions_written = {write.rule_id: write for write in (*diff.inserted, *diff.seen)}
    assert len(versions_written) == len(diff.inserted) + len(diff.seen)
    for rule_id in new.keys() - old.keys():
        assert _kinds(diff, rule_id) == Counter({"added": 1})
    for rule_id in old.keys() - new.keys():
        assert _kinds(diff, rule_id) == Counter({"withdrawn": 1})
    for rule_id in old.keys() & new.keys():
        before, after = old[rule_id], new[rule_id]
        write = versions_written[rule_id]
        assert write.new_version == (before != after)
        assert write.version == synced[rule_id].version + (before != after)
        expected = set() if before == after else EDIT_KINDS.get(before, set()) | EDIT_KINDS.get(after, set())
        assert _kinds(diff, rule_id) == Counter(dict.fromkeys(expected, 1))
    assert all(change.id is None and change.at == LATER.replace(microsecond=0) for change in diff.changes)


@SETTINGS
@given(data=st.data())
def test_a_withdrawn_rule_that_comes_back_is_added_once_as_reinstated(
    catalog: Catalog, pool: dict[str, dict[str, Rule]], data: st.DataObject
) -> None:
    first = data.draw(versions(pool).filter(bool))
    gone = data.draw(st.sets(st.sampled_from(sorted(first)), min_size=1))
    synced = _applied({}, diff_catalog(_catalog(catalog, pool, first), {}, NOW))
    without = {rule_id: form for rule_id, form in first.items() if rule_id not in gone}
    synced = _applied(synced, diff_catalog(_catalog(catalog, pool, without), synced, NOW))
    # It may come back edited: still one "added", not also what changed while it was away.
    back = {
        **first,
        **{rule_id: data.draw(st.sampled_from(sorted(pool[rule_id]))) for rule_id in sorted(gone)},
    }
    diff = diff_catalog(_catalog(catalog, pool, back), synced, LATER)
    for rule_id in gone:
        assert _kinds(diff, rule_id) == Counter({"added": 1})
        (change,) = [change for change in diff.changes if change.rule_id == rule_id]
        assert change.detail == {"reinstated": True, "withdrawn_at": "2026-12-01T09:30:15+00:00"}
    assert {change.rule_id for change in diff.changes} == gone


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sync_catalog_writes_exactly_the_diff(
    catalog: Catalog, pool: dict[str, dict[str, Rule]], data: st.DataObject
) -> None:
    # The thin part against a real SQLite file: what it returns and leaves is what diff_catalog says.
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bot.db", clock=Clock(NOW))
        for _ in range(data.draw(st.integers(1, 3))):
            current = _catalog(catalog, pool, data.draw(versions(pool)))
            before = read_synced(store)
            recorded = sync_catalog(store, current)
            expected = diff_catalog(current, before, recorded[0].at if recorded else store.clock.now())
            assert [dataclasses.replace(change, id=None) for change in recorded] == list(expected.changes)
            assert [change.id for change in recorded] == sorted({change.id for change in recorded})
            after = read_synced(store)
            assert {
                rule_id: dataclasses.replace(row, withdrawn_at=None) for rule_id, row in after.items()
            } == {
                rule_id: dataclasses.replace(row, withdrawn_at=None)
                for rule_id, row in _applied(before, expected).items()
            }
            assert {rule_id for rule_id, row in after.items() if row.withdrawn_at is None} == set(
                current.rules
            )
        store.close()
