"""The issue's scenario from the shell (issue #21): a local page that is a rule's source changes from
"15% ... from April 17, 2026" to "17% ... from 15 January 2027"; `policybot watch --once` names the rule
and prints 15% → 17% and the new date; `policybot propose` drafts the rule; the draft loads with the strict
loader once reviewed; `policybot check --stale` lists the rule."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from support.pages import Page, served, surcharge_policy

from bot.catalog import load_catalog

PAGE = "<html><body><h1>Fuel surcharge</h1><p>The surcharge is {}.</p></body></html>"
BEFORE = PAGE.format("15% of the fulfilment fee from April 17, 2026")
AFTER = PAGE.format("17% of the fulfilment fee from 15 January 2027")


@pytest.fixture
def page() -> Iterator[Page]:
    with served(Page(BEFORE), "/fuel-surcharge") as running:
        yield running


def run(*args: str, now: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "POLICYBOT_NOW": now, "LANG": "en_US.UTF-8"},
        timeout=120,
        check=False,
    )


def test_a_changed_source_page_is_proposed_drafted_and_listed_as_stale(page: Page, tmp_path: Path) -> None:
    page_url = page.url
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "demo.toml").write_text(surcharge_policy(page_url, "2026-11-01"), encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        '[store]\npath = "bot.db"\n\n[policies]\ndir = "policies"\n\n'
        '[watch]\nallow_hosts = ["127.0.0.1"]\ndrafts = "drafts"\n',
        encoding="utf-8",
    )
    common = ["--config", str(config)]

    first = run("watch", "--once", *common, now="2026-12-01T09:00:00+00:00")
    assert first.returncode == 0, first.stderr
    assert "checked=1 changed=0" in first.stdout

    page.body = AFTER
    second = run("watch", "--once", *common, now="2026-12-06T09:00:00+00:00")
    assert second.returncode == 0, second.stderr
    assert "checked=1 changed=1" in second.stdout
    assert "Rule demo-fuel-surcharge (Demo fuel surcharge):" in second.stdout
    assert "15% → 17%" in second.stdout
    assert "2026-04-17 → 2027-01-15" in second.stdout
    assert (
        "demo-fuel-surcharge says 2026-04-17 (event effective); the page now says 2027-01-15" in second.stdout
    )
    assert f"policybot propose {page_url}" in second.stdout

    drafted = run("propose", page_url, *common, now="2026-12-06T10:00:00+00:00")
    assert drafted.returncode == 0, drafted.stderr
    draft = tmp_path / "drafts" / "demo-fuel-surcharge.demo.toml"
    assert f"draft: {draft}" in drafted.stdout
    # Reviewed and accepted: the draft replaces the policy file and the strict loader takes it.
    shutil.copy(draft, policies / "demo.toml")
    rule = load_catalog(policies).rules["demo-fuel-surcharge"]
    assert str(rule.number("rate").value) == "17" and rule.events[0].date.isoformat() == "2027-01-15"
    checked = run("check", str(policies), now="2026-12-06T10:00:00+00:00")
    assert checked.returncode == 0, checked.stderr

    stale = run(
        "check", str(policies), "--stale", "--db", str(tmp_path / "bot.db"), now="2026-12-06T11:00:00+00:00"
    )
    assert stale.returncode == 0, stale.stderr
    assert "stale rules: 1 with a cited page changed after review" in stale.stdout
    line = next(line for line in stale.stdout.splitlines() if line.startswith("demo-fuel-surcharge"))
    assert "page changed 2026-12-06 after review (2026-11-01)" in line


def test_propose_names_what_it_cannot_draft(page: Page, tmp_path: Path) -> None:
    page_url = page.url
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "demo.toml").write_text(surcharge_policy(page_url, "2026-11-01"), encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        '[store]\npath = "bot.db"\n\n[policies]\ndir = "policies"\n\n[watch]\nallow_hosts = ["127.0.0.1"]\n',
        encoding="utf-8",
    )
    unknown = run(
        "propose", "https://example.net/none", "--config", str(config), now="2026-12-06T10:00:00+00:00"
    )
    assert unknown.returncode == 2 and "names none" in unknown.stderr
    run("watch", "--once", "--config", str(config), now="2026-12-06T10:00:00+00:00")
    once = run("propose", page_url, "--config", str(config), now="2026-12-06T10:00:00+00:00")
    assert once.returncode == 2 and "only one version stored" in once.stderr
