"""Strict loading: the shipped catalog loads, and every kind of bad file is reported precisely."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import POLICIES, SHARED_REFERENCE

from bot.catalog.load import Catalog, CatalogError, load_catalog

REFERENCE = SHARED_REFERENCE

GOOD_RULE = """
[[rules]]
id = "demo-us-fee"
marketplaces = ["US"]
topic = "fees"
title = { en = "Demo fee", zh = "示例费用" }
summary = { en = "A demo.", zh = "示例。" }
confidence = "high"

[[rules.events]]
id = "effective"
kind = "effective"
date = 2024-01-15
label = { en = "Demo takes effect", zh = "示例生效" }

[[rules.sources]]
url = "https://example.com/demo"
says = "demo"
confidence = "high"
"""

HEADER = """
platform = "demo"
name = { en = "Demo", zh = "示例" }
time_zone = "America/New_York"

[[categories]]
id = "widgets"
name = { en = "Widgets", zh = "小部件" }
"""

SCHEDULE = """
[[rules.fee_schedules]]
id = "demo-us-widgets"
category = "widgets"
marketplace = "US"
currency = "USD"
basis = { en = "price", zh = "价格" }

[[rules.fee_schedules.versions]]
tiers = [{ above = 0, rate = "0.17" }]

[[rules.fee_schedules.versions]]
effective_from = 2024-01-15
style = "whole_price"
tiers = [{ above = 0, up_to = "15", rate = "0.05" }, { above = "15", rate = "0.10" }]
"""


def write(tmp_path: Path, text: str, name: str = "demo.toml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(tmp_path: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    return [str(problem) for problem in caught.value.problems]


def test_a_good_file_loads(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, HEADER + GOOD_RULE + SCHEDULE))
    assert list(catalog.rules) == ["demo-us-fee"]
    assert ("demo", "US", "widgets") in catalog.fee_schedules


def test_every_shipped_file_loads(catalog: Catalog) -> None:
    assert {"amazon", "tiktok-shop", "temu", "aliexpress"} <= set(catalog.platforms)
    for rule in catalog.rules.values():
        assert rule.sources, rule.id


def _reference_codes(name: str) -> set[str]:
    text = (REFERENCE / name).read_text(encoding="utf-8")
    return set(re.findall(r"^(?:###\s+|-\s+)([A-Z]{1,2}\d{1,2})\.", text, flags=re.M))


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference is not beside the checkout")
@pytest.mark.parametrize("name", ["policy-facts.md", "policy-facts-2025-2026.md"])
def test_every_reference_rule_is_encoded_with_sources(catalog: Catalog, name: str) -> None:
    codes = _reference_codes(name)
    assert len(codes) > 10, "the reference file's items were not found: has its format changed?"
    encoded = {rule.ref for rule in catalog.rules.values()}
    assert sorted(codes - encoded) == []


def test_reference_codes_from_the_issue_are_all_encoded(catalog: Catalog) -> None:
    # The list the issue names, so the check holds even where shared/ is absent.
    wanted = {f"A{i}" for i in range(1, 6)} | {f"T{i}" for i in range(1, 8)} | {f"M{i}" for i in range(1, 9)}
    wanted |= {"E1", "S1"} | {f"B{i}" for i in range(1, 12)} | {f"U{i}" for i in range(1, 7)}
    wanted |= {f"EU{i}" for i in range(1, 6)}
    assert sorted(wanted - {rule.ref for rule in catalog.rules.values()}) == []


def test_holiday_peak_is_recurring_only_for_announced_years(catalog: Catalog) -> None:
    peak = [o for o in catalog.occurrences(dt.date(2024, 1, 1), dt.date(2030, 12, 31)) if o.rule.ref == "B8"]
    years = sorted({o.date.year for o in peak if o.event.kind == "start"})
    assert years == [2024, 2025]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEADER + GOOD_RULE.replace('topic = "fees"', 'topic = "fees"\ncolour = "red"'),
            "rule demo-us-fee field colour: unknown key",
        ),
        (
            HEADER + GOOD_RULE.replace('confidence = "high"\n\n[[rules.events]]', "\n[[rules.events]]"),
            "rule demo-us-fee field confidence: missing required field",
        ),
        (
            HEADER + GOOD_RULE.replace("date = 2024-01-15", 'date = "2024-13-01"'),
            "rule demo-us-fee field events[0].date",
        ),
        (
            HEADER
            + GOOD_RULE.replace(
                'kind = "effective"', 'kind = "effective"\ntime = "09:00"\ntime_zone = "Mars/Olympus"'
            ),
            "field events[0].time_zone: 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            HEADER + GOOD_RULE.replace('kind = "effective"', 'kind = "effective"\ntime = "9am"'),
            "field events[0].time",
        ),
        (
            HEADER + GOOD_RULE.replace('kind = "effective"', 'kind = "effective"\ntime = "09:00"'),
            "a time needs a time_zone",
        ),
        (HEADER + GOOD_RULE.replace('kind = "effective"', 'kind = "someday"'), "field events[0].kind"),
        (HEADER + GOOD_RULE.replace('marketplaces = ["US"]', 'marketplaces = ["usa"]'), "marketplaces"),
        (
            HEADER + GOOD_RULE.replace('url = "https://example.com/demo"', 'url = "ftp://x"'),
            "field sources[0].url",
        ),
        (HEADER + GOOD_RULE + SCHEDULE.replace('rate = "0.17"', "rate = 0.17"), "not a float"),
        (
            HEADER + GOOD_RULE + SCHEDULE.replace('rate = "0.17"', 'rate = "seventeen"'),
            "'seventeen' is not a number",
        ),
        (
            HEADER + GOOD_RULE + SCHEDULE.replace('rate = "0.17"', 'rate = "1.7"'),
            "fee_schedules[0].versions[0].tiers[0].rate",
        ),
        (
            HEADER + GOOD_RULE + SCHEDULE.replace('{ above = "15", rate', '{ above = "16", rate'),
            "gap between 15 and 16",
        ),
        (
            HEADER + GOOD_RULE + SCHEDULE.replace('{ above = "15", rate', '{ above = "14", rate'),
            "unsorted or overlap",
        ),
        (
            HEADER
            + GOOD_RULE
            + SCHEDULE.replace(
                'up_to = "15", rate = "0.05" }, { above = "15", rate = "0.10" }',
                'rate = "0.05" }, { above = "15", rate = "0.10" }',
            ),
            "only the last tier may be open-ended",
        ),
        (
            HEADER + GOOD_RULE + SCHEDULE.replace("effective_from = 2024-01-15\n", ""),
            "only the first version may omit effective_from",
        ),
        (
            HEADER
            + GOOD_RULE
            + SCHEDULE.replace(
                'tiers = [{ above = 0, rate = "0.17" }]',
                'effective_from = 2024-02-01\ntiers = [{ above = 0, rate = "0.17" }]',
            ),
            "versions overlap or are not in date order",
        ),
        (
            HEADER
            + GOOD_RULE
            + SCHEDULE.replace(
                'tiers = [{ above = 0, rate = "0.17" }]',
                'effective_from = 2023-01-01\nuntil = 2024-03-01\ntiers = [{ above = 0, rate = "0.17" }]',
            ),
            "overlaps the previous version",
        ),
        (
            HEADER + GOOD_RULE + SCHEDULE.replace('category = "widgets"', 'category = "gadgets"'),
            "unknown category 'gadgets'",
        ),
        (HEADER + GOOD_RULE + GOOD_RULE, "demo.toml rule demo-us-fee field id: duplicate rule id"),
        (
            HEADER
            + GOOD_RULE.replace(
                'confidence = "high"\n\n[[rules.events]]',
                'confidence = "high"\ncalculator = "coupon"\n\n[[rules.events]]',
            ),
            "calculator coupon: missing max-current-above-was-percent",
        ),
        (
            HEADER.replace('platform = "demo"', 'platform = "other"') + GOOD_RULE,
            "field platform: is 'other' but the file is named 'demo'",
        ),
        (
            HEADER + GOOD_RULE.replace("[[rules.events]]", 'related = ["nope"]\n\n[[rules.events]]'),
            "field related[0]: unknown rule id 'nope'",
        ),
        ("platform = [broken", "demo.toml: TOML syntax"),
    ],
)
def test_bad_files_are_reported_with_file_rule_and_field(tmp_path: Path, text: str, expected: str) -> None:
    found = problems(write(tmp_path, text))
    assert any(expected in problem for problem in found), found
    assert all(problem.startswith("demo.toml") for problem in found)


def test_duplicate_rule_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, HEADER + GOOD_RULE)
    write(tmp_path, HEADER.replace('platform = "demo"', 'platform = "other"') + GOOD_RULE, "other.toml")
    assert "other.toml rule demo-us-fee field id: duplicate rule id (also in demo.toml)" in problems(tmp_path)


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    write(
        tmp_path,
        HEADER
        + GOOD_RULE.replace('kind = "effective"', 'kind = "x"').replace('topic = "fees"', 'topic = "y"'),
    )
    write(tmp_path, "broken = [", "broken.toml")
    found = problems(tmp_path)
    assert any("broken.toml" in p for p in found)
    assert any("field topic" in p for p in found)
    assert any("events[0].kind" in p for p in found)


def test_a_missing_or_empty_folder_is_a_problem_too(tmp_path: Path) -> None:
    assert "no *.toml policy files found" in problems(tmp_path)[0]
    with pytest.raises(CatalogError, match="no such directory"):
        load_catalog(tmp_path / "absent")


def test_recurrence_expands_yearly_and_stops_at_until(tmp_path: Path) -> None:
    rule = GOOD_RULE.replace(
        'kind = "effective"', 'kind = "start"\nrecurrence = "yearly"\nrecurrence_until = 2026-01-15'
    )
    catalog = load_catalog(write(tmp_path, HEADER + rule))
    dates = [o.date for o in catalog.occurrences(dt.date(2020, 1, 1), dt.date(2030, 1, 1))]
    assert dates == [dt.date(2024, 1, 15), dt.date(2025, 1, 15), dt.date(2026, 1, 15)]


def test_policies_folder_is_the_default() -> None:
    assert load_catalog().rules.keys() == load_catalog(POLICIES).rules.keys()
