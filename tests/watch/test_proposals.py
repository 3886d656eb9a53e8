"""From a changed page to a proposed rule update (issue #21): which rules a page ties to, which of their
values a change touches, the draft a person reviews, and the rules to review first."""

from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import POLICIES

from bot.catalog import Catalog, CatalogError, load_catalog
from bot.watch import DraftError, proposal_lines, propose, stale_counts, stale_rules, write_draft
from bot.watch.proposal import normalise_url, rule_values, rules_for_page

PAGE = "https://sellercentral.example.com/help/fuel-surcharge"

DEMO = f'''
platform = "demo"
name = {{ en = "Demo", zh = "演示" }}
time_zone = "UTC"

# A comment the draft must keep.
[[rules]]
id = "demo-fuel-surcharge"
marketplaces = ["US"]
topic = "fees"
title = {{ en = "Demo fuel surcharge", zh = "演示燃油附加费" }}
summary = {{ en = "15% of the fulfilment fee from 2026-04-17.", zh = "自2026-04-17起按配送费的15%收取。" }}
confidence = "high"
reviewed = 2026-05-01

[[rules.numbers]]
id = "rate"
value = "15"
unit = "percent"
label = {{ en = "Rate", zh = "费率" }}

[[rules.numbers]]
id = "deposit"
value = "1500"
unit = "USD"
label = {{ en = "Deposit", zh = "保证金" }}

[[rules.events]]
id = "effective"
kind = "effective"
date = 2026-04-17
label = {{ en = "Surcharge starts", zh = "附加费开始" }}

[[rules.sources]]
url = "{PAGE}"
says = "15% from April 17, 2026"
confidence = "high"

[[rules]]
id = "demo-other"
ref = "N-24"
marketplaces = ["US"]
topic = "fees"
title = {{ en = "Another rule", zh = "另一条规则" }}
summary = {{ en = "Cites another page.", zh = "引用另一个页面。" }}
confidence = "medium"

[[rules.events]]
id = "effective"
kind = "effective"
date = 2026-04-17
label = {{ en = "Starts", zh = "开始" }}

[[rules.sources]]
url = "https://example.org/other"
says = "another page"
confidence = "medium"

[[watch]]
url = "https://example.org/announcements"
about = {{ en = "whether the start moves", zh = "开始日期是否变化" }}
ref = "N-24"
'''

OLD = """Fuel and logistics surcharge
The surcharge is 15% of the FBA fulfilment fee from April 17, 2026.
Sellers need a deposit of US$1,500.
Contact: 400-820-1234
"""
NEW = """Fuel and logistics surcharge
The surcharge is 17% of the FBA fulfilment fee from 15 January 2027.
Sellers need a deposit of US$1,500.
Contact: 400-820-1234
"""


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "demo.toml").write_text(DEMO, encoding="utf-8")
    return folder


@pytest.fixture
def demo(policies: Path) -> Catalog:
    return load_catalog(policies)


@pytest.mark.parametrize(
    "written",
    [
        PAGE,
        PAGE + "/",
        "HTTPS://SellerCentral.Example.com:443/help/fuel-surcharge",
        PAGE + "?utm_source=mail&utm_medium=x",
        PAGE + "#details",
    ],
)
def test_one_page_written_several_ways_is_one_page(written: str) -> None:
    assert normalise_url(written) == normalise_url(PAGE)


def test_a_different_query_or_path_is_another_page() -> None:
    assert normalise_url(PAGE + "?id=2") != normalise_url(PAGE + "?id=3")
    assert normalise_url(PAGE + "-2") != normalise_url(PAGE)


def test_the_rules_citing_a_page_are_found_however_it_is_written(demo: Catalog) -> None:
    assert [rule.id for rule in rules_for_page(demo, PAGE + "/?utm_campaign=x")] == ["demo-fuel-surcharge"]
    assert rules_for_page(demo, "https://example.net/nothing") == []


def test_a_page_to_watch_ties_to_the_rules_of_its_ref(catalog: Catalog) -> None:
    """The shipped catalog's [[watch]] pages with a ref name the rules of that ref."""
    tied = [(listed, catalog.by_ref(listed.ref)) for _, listed in catalog.watch_pages() if listed.ref]
    listed, rules = next((item for item in tied if item[1]), (None, []))
    assert listed is not None, "no shipped page to watch names a ref with rules"
    found = {rule.id for rule in rules_for_page(catalog, listed.url)}
    assert {rule.id for rule in rules} <= found


def test_a_rules_values_are_its_dates_rates_and_amounts(demo: Catalog) -> None:
    values = {
        (value.kind, value.value, value.currency) for value in rule_values(demo.rules["demo-fuel-surcharge"])
    }
    assert values == {("percent", "15", None), ("money", "1500", "USD"), ("date", "2026-04-17", None)}


def test_the_shipped_fuel_surcharge_holds_its_rate_and_dates(catalog: Catalog) -> None:
    values = {(v.kind, v.value) for v in rule_values(catalog.rules["amazon-us-fuel-surcharge-2026"])}
    assert ("percent", "3.5") in values and ("date", "2026-04-17") in values


def test_the_proposal_names_the_rule_and_its_values_that_moved(demo: Catalog) -> None:
    proposal = propose(demo, PAGE, OLD, NEW)
    assert [rule.rule_id for rule in proposal.rules] == ["demo-fuel-surcharge"]
    rule = proposal.rules[0]
    moved = {(held.value, new.value if new else None) for held, new in rule.touched}
    assert moved == {("15", "17"), ("2026-04-17", "2027-01-15")}  # the deposit did not move
    text = "\n".join(proposal_lines(proposal, "en"))
    assert "15% → 17%" in text and "2026-04-17 → 2027-01-15" in text
    assert "demo-fuel-surcharge says 15% (figure rate); the page now says 17%" in text
    assert "400" not in text  # a phone number is no value
    chinese = "\n".join(proposal_lines(proposal, "zh"))
    assert "页面现在写 17%" in chinese and "规则 demo-fuel-surcharge（演示燃油附加费）" in chinese


def test_a_change_that_touches_none_of_the_values_says_so(demo: Catalog) -> None:
    proposal = propose(demo, PAGE, OLD, OLD.replace("Sellers need", "All sellers need"))
    assert proposal.empty and not proposal.rules[0].touched
    assert "the change touches none of its values" in "\n".join(proposal_lines(proposal, "en"))


def test_a_page_no_rule_cites_says_so(demo: Catalog) -> None:
    proposal = propose(demo, "https://example.net/x", OLD, NEW)
    assert proposal.rules == () and "No rule cites this page." in proposal_lines(proposal, "en")


def test_the_draft_fills_in_the_new_values_and_loads_once_reviewed(
    demo: Catalog, policies: Path, tmp_path: Path
) -> None:
    proposal = propose(demo, PAGE, OLD, NEW)
    drafts = tmp_path / "drafts"
    path = write_draft(demo, policies, proposal, "demo-fuel-surcharge", drafts, dt.date(2026, 12, 6))
    assert path == drafts / "demo-fuel-surcharge.demo.toml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# DRAFT written by policybot on 2026-12-06")
    assert "15% → 17%" in text and "2026-04-17 → 2027-01-15" in text
    assert "# A comment the draft must keep." in text
    draft = tomllib.loads(text)
    rule = next(rule for rule in draft["rules"] if rule["id"] == "demo-fuel-surcharge")
    assert rule["numbers"][0]["value"] == "17" and rule["numbers"][1]["value"] == "1500"
    assert rule["events"][0]["date"] == dt.date(2027, 1, 15)
    assert rule["sources"][0]["says"].startswith("The surcharge is 17% of the FBA fulfilment fee")
    other = next(rule for rule in draft["rules"] if rule["id"] == "demo-other")
    assert other["events"][0]["date"] == dt.date(2026, 4, 17)  # another rule on the same date is untouched
    # Reviewed: the person copies the draft over the policy file; the strict loader takes it.
    shutil.copy(path, policies / "demo.toml")
    reviewed = load_catalog(policies).rules["demo-fuel-surcharge"]
    assert reviewed.number("rate").value == Decimal(17)
    assert reviewed.events[0].date == dt.date(2027, 1, 15)
    assert (policies / "demo.toml").read_text(encoding="utf-8") == text


def test_a_page_the_rule_does_not_cite_is_added_as_a_source(
    demo: Catalog, policies: Path, tmp_path: Path
) -> None:
    page = "https://example.org/other"
    proposal = propose(demo, page, "Starts April 17, 2026.", "Starts 1 May 2026.")
    path = write_draft(demo, policies, proposal, "demo-other", tmp_path, dt.date(2026, 12, 6))
    rule = next(rule for rule in tomllib.loads(path.read_text())["rules"] if rule["id"] == "demo-other")
    assert rule["events"][0]["date"] == dt.date(2026, 5, 1)
    assert rule["sources"][0]["says"] == "Starts 1 May 2026."  # the cited page's wording, replaced


def test_a_draft_for_a_rule_the_page_does_not_touch_is_refused(
    demo: Catalog, policies: Path, tmp_path: Path
) -> None:
    proposal = propose(demo, PAGE, OLD, NEW)
    with pytest.raises(DraftError, match="demo-other is not tied to"):
        write_draft(demo, policies, proposal, "demo-other", tmp_path, dt.date(2026, 12, 6))


def test_a_draft_with_a_broken_value_is_caught_by_the_strict_loader(demo: Catalog, policies: Path) -> None:
    """The loader stays the gate: a draft whose new date breaks the rule is refused at check time."""
    text = (policies / "demo.toml").read_text().replace("date = 2026-04-17", 'date = "2027-02-30"', 1)
    (policies / "demo.toml").write_text(text)
    with pytest.raises(CatalogError, match="demo-fuel-surcharge"):
        load_catalog(policies)


def test_stale_rules_changed_pages_first_then_overdue(demo: Catalog) -> None:
    today = dt.date(2026, 12, 6)
    changes = {PAGE + "/": dt.datetime(2026, 11, 1, tzinfo=dt.UTC)}
    stale = stale_rules(demo, changes, today, days=180)
    assert [item.rule_id for item in stale] == ["demo-fuel-surcharge", "demo-other"]
    assert stale[0].changed_pages == ((normalise_url(PAGE), changes[PAGE + "/"]),)
    assert stale[0].overdue  # reviewed 2026-05-01: 219 days ago
    assert stale[1].reviewed is None and stale[1].overdue and not stale[1].changed_pages
    assert stale_counts(stale) == (1, 2)


def test_a_review_after_the_change_clears_it_and_days_decide_overdue(demo: Catalog) -> None:
    changes = {PAGE: dt.datetime(2026, 4, 20, tzinfo=dt.UTC)}  # before the review of 2026-05-01
    assert [item.rule_id for item in stale_rules(demo, changes, dt.date(2026, 10, 28), days=180)] == [
        "demo-other"
    ]
    # 2026-05-01 + 181 days: overdue from 2026-10-29 on.
    overdue = stale_rules(demo, changes, dt.date(2026, 10, 29), days=180)
    assert [item.rule_id for item in overdue] == ["demo-other", "demo-fuel-surcharge"]


def test_the_shipped_catalog_loads_with_reviewed_dates(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    path = folder / "temu.toml"
    text = path.read_text(encoding="utf-8")
    first = text.index("[[rules]]")
    end = text.index("\n", text.index("confidence =", first))
    path.write_text(text[: end + 1] + "reviewed = 2026-12-01\n" + text[end + 1 :], encoding="utf-8")
    catalog = load_catalog(folder)
    assert any(rule.reviewed == dt.date(2026, 12, 1) for rule in catalog.rules.values())
