"""Policy-change detection: an operator edits a copy of the policy files, the sync finds what changed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from conftest import POLICIES

from bot.catalog.load import Catalog, load_catalog
from bot.clock import Clock
from bot.i18n import to_plain_text
from bot.reminders.changes import (
    MAX_LINES,
    Change,
    changes_text,
    queue_change_alerts,
    recent_changes,
    sync_catalog,
)
from bot.store import Store, Subscription

START = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
LOW_INVENTORY = "amazon-us-low-inventory-fee-2024"
GRACE_END = 'id = "grace-end"\nkind = "grace_end"\ndate = 2024-05-14'
PREP_SERVICES = "amazon-us-fba-prep-services-end-2026"  # referenced by no other rule: safe to remove
# The US apparel middle tier, with the tier after it: UK and EU apparel share the first line.
APPAREL_MIDDLE_TIER = (
    '{ above = "15.00", up_to = "20.00", rate = "0.10" },\n  { above = "20.00", rate = "0.17" }'
)
NEW_TEMU_RULE = """
[[rules]]
id = "temu-us-test-deposit-2024"
marketplaces = ["US"]
topic = "deposit"
title = { en = "Test deposit for new stores (US)", zh = "新店测试保证金（美国站）" }
summary = { en = "A deposit for new stores, written for a test.", zh = "为测试编写的新店保证金。" }
confidence = "low"

[[rules.events]]
id = "effective"
kind = "effective"
date = 2024-06-01
label = { en = "Test deposit due", zh = "测试保证金到期" }

[[rules.sources]]
url = "https://example.com/temu-deposit"
says = "A made-up source for a test."
confidence = "low"
"""


def _rule_block(text: str, rule_id: str) -> tuple[int, int]:
    start = text.index(f'[[rules]]\nid = "{rule_id}"')
    following = text.find("\n[[rules]]\n", start + 1)
    return start, len(text) if following == -1 else following + 1


class Policies:
    """A writable copy of the shipped policy files, edited the way an operator would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        shutil.copytree(POLICIES, folder)

    def edit(self, file: str, old: str, new: str) -> None:
        path = self.folder / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} is not once in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def edit_rule(self, file: str, rule_id: str, old: str, new: str) -> None:
        """Edit text that occurs once within one rule's block (other rules may have the same text)."""
        path = self.folder / file
        text = path.read_text(encoding="utf-8")
        start, end = _rule_block(text, rule_id)
        block = text[start:end]
        assert block.count(old) == 1, f"{old!r} is not once in rule {rule_id}"
        path.write_text(text[:start] + block.replace(old, new) + text[end:], encoding="utf-8")

    def append(self, file: str, text: str) -> None:
        path = self.folder / file
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    def remove_rule(self, file: str, rule_id: str) -> str:
        """Cut the rule's [[rules]] block out of the file and return it (to put it back later)."""
        path = self.folder / file
        text = path.read_text(encoding="utf-8")
        start, end = _rule_block(text, rule_id)
        path.write_text(text[:start] + text[end:], encoding="utf-8")
        return text[start:end]

    def load(self) -> Catalog:
        return load_catalog(self.folder)


@pytest.fixture
def policies(tmp_path: Path) -> Policies:
    return Policies(tmp_path / "policies")


@pytest.fixture
def now() -> dt.datetime:
    return START


def rows(store: Store, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    return [tuple(row) for row in store.db.execute(sql, params or []).fetchall()]


# --- the baseline ----------------------------------------------------------------------------------


def test_the_first_sync_records_the_baseline_and_reports_nothing(store: Store, catalog: Catalog) -> None:
    assert sync_catalog(store, catalog) == []
    assert rows(store, "SELECT count(*), min(version), max(version) FROM catalog_rules") == [
        (len(catalog.rules), 1, 1)
    ]
    assert rows(store, "SELECT count(*) FROM catalog_rule_versions") == [(len(catalog.rules),)]
    events = sum(len(rule.events) for rule in catalog.rules.values())
    assert rows(store, "SELECT count(*) FROM catalog_events") == [(events,)]
    assert rows(
        store, "SELECT kind, date FROM catalog_events WHERE key = ?", [f"{LOW_INVENTORY}/grace-end"]
    ) == [("grace_end", "2024-05-14")]
    stored = json.loads(
        rows(store, "SELECT data FROM catalog_rules WHERE rule_id = ?", [LOW_INVENTORY])[0][0]
    )
    assert stored == catalog.rules[LOW_INVENTORY].model_dump(mode="json")
    assert rows(store, "SELECT count(*) FROM changes") == [(0,)]


def test_syncing_the_same_catalog_again_changes_nothing(store: Store, catalog: Catalog) -> None:
    sync_catalog(store, catalog)
    before = rows(store, "SELECT rule_id, digest, version FROM catalog_rules ORDER BY rule_id")
    assert sync_catalog(store, catalog) == []
    assert sync_catalog(store, load_catalog(POLICIES)) == []  # a fresh load of the same files
    assert rows(store, "SELECT rule_id, digest, version FROM catalog_rules ORDER BY rule_id") == before
    assert rows(store, "SELECT count(*) FROM catalog_rule_versions") == [(len(catalog.rules),)]
    assert rows(store, "SELECT count(*) FROM changes") == [(0,)]


# --- what an edit of the files turns into -----------------------------------------------------------


def test_a_grace_period_end_moved_later_is_an_extension(store: Store, policies: Policies) -> None:
    # The story of the issue: the credit window first ended on 2024-04-30, then Amazon extended it.
    policies.edit("amazon.toml", GRACE_END, GRACE_END.replace("2024-05-14", "2024-04-30"))
    sync_catalog(store, policies.load())
    policies.edit("amazon.toml", GRACE_END.replace("2024-05-14", "2024-04-30"), GRACE_END)

    changes = sync_catalog(store, policies.load())

    assert len(changes) == 1
    change = changes[0]
    assert (change.kind, change.rule_id, change.platform) == ("event_moved", LOW_INVENTORY, "amazon")
    assert (change.topic, change.marketplaces, change.source) == ("fees", ("US",), "catalog")
    assert change.detail["extended"] is True
    assert (change.detail["old_date"], change.detail["new_date"]) == ("2024-04-30", "2024-05-14")
    assert change.summary_en.startswith("Amazon extended Low-inventory-level fee (US FBA)")
    assert "credit window" in change.summary_en
    assert change.summary_en.endswith("2024-04-30 -> 2024-05-14")
    assert change.summary_zh.startswith("亚马逊延长了低库存水平费（美国站FBA）")
    assert change.summary_zh.endswith("2024-04-30 → 2024-05-14")
    assert "&" not in change.summary_en + change.summary_zh  # plain text, escaped only where shown
    # Recorded, with its id, and the rule's new version and event date with it.
    assert change.id is not None
    assert rows(store, "SELECT kind, rule_id, summary_en FROM changes WHERE id = ?", [change.id]) == [
        ("event_moved", LOW_INVENTORY, change.summary_en)
    ]
    assert rows(store, "SELECT version FROM catalog_rules WHERE rule_id = ?", [LOW_INVENTORY]) == [(2,)]
    versions = rows(
        store, "SELECT version, data FROM catalog_rule_versions WHERE rule_id = ?", [LOW_INVENTORY]
    )
    assert [version for version, _ in versions] == [1, 2]
    assert '"2024-04-30"' in str(versions[0][1]) and '"2024-04-30"' not in str(versions[1][1])
    assert rows(store, "SELECT date FROM catalog_events WHERE key = ?", [f"{LOW_INVENTORY}/grace-end"]) == [
        ("2024-05-14",)
    ]
    assert sync_catalog(store, policies.load()) == []


def test_an_end_moved_earlier_or_a_start_moved_later_is_only_moved(store: Store, policies: Policies) -> None:
    sync_catalog(store, policies.load())
    policies.edit("amazon.toml", GRACE_END, GRACE_END.replace("2024-05-14", "2024-05-07"))
    effective = 'id = "charging-starts"\nkind = "effective"\ndate = 2024-05-15'
    policies.edit("amazon.toml", effective, effective.replace("2024-05-15", "2024-05-22"))

    changes = sync_catalog(store, policies.load())

    assert [(c.kind, c.detail["event_id"], c.detail["extended"]) for c in changes] == [
        ("event_moved", "grace-end", False),
        ("event_moved", "charging-starts", False),
    ]
    assert changes[0].summary_en.startswith("Amazon moved a date of Low-inventory-level fee (US FBA)")
    assert changes[0].summary_en.endswith("2024-05-14 -> 2024-05-07")
    assert changes[1].summary_zh.startswith("亚马逊调整了低库存水平费（美国站FBA）的日期")
    assert changes[1].summary_zh.endswith("2024-05-15 → 2024-05-22")


def test_a_new_rule_is_added(store: Store, policies: Policies) -> None:
    sync_catalog(store, policies.load())
    policies.append("temu.toml", NEW_TEMU_RULE)

    changes = sync_catalog(store, policies.load())

    assert [(c.kind, c.rule_id, c.platform, c.topic, c.marketplaces) for c in changes] == [
        ("added", "temu-us-test-deposit-2024", "temu", "deposit", ("US",))
    ]
    assert changes[0].summary_en == "New rule (Temu): Test deposit for new stores (US)"
    assert changes[0].summary_zh == "新规则（Temu）：新店测试保证金（美国站）"
    assert rows(store, "SELECT date FROM catalog_events WHERE rule_id = 'temu-us-test-deposit-2024'") == [
        ("2024-06-01",)
    ]


def test_a_removed_rule_is_withdrawn_and_added_again_when_it_comes_back(
    store: Store, policies: Policies
) -> None:
    sync_catalog(store, policies.load())
    block = policies.remove_rule("amazon.toml", PREP_SERVICES)

    withdrawn = sync_catalog(store, policies.load())

    assert [(c.kind, c.rule_id, c.platform, c.topic, c.marketplaces) for c in withdrawn] == [
        ("withdrawn", PREP_SERVICES, "amazon", "logistics", ("US",))
    ]
    assert withdrawn[0].summary_en.startswith("Rule withdrawn (Amazon): ")
    assert withdrawn[0].summary_zh.startswith("规则已撤回（亚马逊）：")
    assert rows(
        store, "SELECT withdrawn_at IS NOT NULL FROM catalog_rules WHERE rule_id = ?", [PREP_SERVICES]
    ) == [(1,)]
    assert rows(store, "SELECT count(*) FROM catalog_events WHERE rule_id = ?", [PREP_SERVICES]) == [(0,)]
    assert sync_catalog(store, policies.load()) == []  # withdrawn once, not at every sync

    policies.append("amazon.toml", "\n" + block)
    back = sync_catalog(store, policies.load())

    assert [(c.kind, c.rule_id) for c in back] == [("added", PREP_SERVICES)]
    assert back[0].detail["reinstated"] is True
    assert rows(
        store, "SELECT withdrawn_at, version FROM catalog_rules WHERE rule_id = ?", [PREP_SERVICES]
    ) == [(None, 1)]
    assert rows(store, "SELECT count(*) FROM catalog_events WHERE rule_id = ?", [PREP_SERVICES]) == [(2,)]


def test_a_fee_tier_rate_change_is_a_fee_change_naming_schedule_and_version(
    store: Store, policies: Policies
) -> None:
    sync_catalog(store, policies.load())
    policies.edit("amazon.toml", APPAREL_MIDDLE_TIER, APPAREL_MIDDLE_TIER.replace('"0.10"', '"0.12"'))

    changes = sync_catalog(store, policies.load())

    assert len(changes) == 1
    change = changes[0]
    assert (change.kind, change.rule_id, change.marketplaces) == (
        "fees",
        "amazon-us-apparel-referral-fee-2024",
        ("US",),
    )
    assert change.detail["schedule_id"] == "amazon-us-referral-apparel"
    assert (change.detail["version"], change.detail["change"]) == ("2024-01-15", "changed")
    assert change.detail["old"]["tiers"][1]["rate"] == "0.10"
    assert change.detail["new"]["tiers"][1]["rate"] == "0.12"
    assert "Clothing & Accessories (US), since 2024-01-15" in change.summary_en
    assert "12%" in change.summary_en
    assert "服装配饰（US），自 2024-01-15 起" in change.summary_zh


def test_a_new_fee_version_is_a_fee_change(store: Store, policies: Policies) -> None:
    sync_catalog(store, policies.load())
    last_tier = '  { above = "20.00", rate = "0.17" },\n]\n'
    new_version = (
        last_tier + '\n[[rules.fee_schedules.versions]]\neffective_from = 2025-02-01\nminimum_fee = "0.30"\n'
        'tiers = [{ above = 0, rate = "0.08" }]\n'
    )
    policies.edit("amazon.toml", last_tier, new_version)

    changes = sync_catalog(store, policies.load())

    assert [(c.kind, c.detail["version"], c.detail["change"], c.detail["old"]) for c in changes] == [
        ("fees", "2025-02-01", "added", None)
    ]
    assert "since 2025-02-01" in changes[0].summary_en


def test_rewriting_a_number_or_adding_a_search_word_records_a_version_but_no_change(
    store: Store, policies: Policies
) -> None:
    sync_catalog(store, policies.load())
    # "0.10" and "0.1" are the same rate; a keyword only helps search.
    policies.edit("amazon.toml", APPAREL_MIDDLE_TIER, APPAREL_MIDDLE_TIER.replace('"0.10"', '"0.1"'))
    policies.edit("amazon.toml", '"降佣", "apparel fee"', '"降佣", "clothes fee", "apparel fee"')

    assert sync_catalog(store, policies.load()) == []
    assert rows(
        store, "SELECT version FROM catalog_rules WHERE rule_id = 'amazon-us-apparel-referral-fee-2024'"
    ) == [(2,)]


def test_other_edits_are_changed_naming_the_fields_and_figures(store: Store, policies: Policies) -> None:
    sync_catalog(store, policies.load())
    policies.edit_rule(
        "amazon.toml", LOW_INVENTORY, 'id = "trigger-days"\nvalue = 28', 'id = "trigger-days"\nvalue = 30'
    )
    policies.edit(
        "amazon.toml",
        "Computed per parent product (parent ASIN) and updated weekly.",
        "Computed per parent product (parent ASIN) and updated every week.",
    )

    changes = sync_catalog(store, policies.load())

    assert [(c.kind, c.rule_id) for c in changes] == [("changed", LOW_INVENTORY)]
    change = changes[0]
    assert change.detail["fields"] == ["conditions", "numbers"]
    assert change.detail["numbers"] == [{"id": "trigger-days", "old": "28", "new": "30"}]
    assert change.summary_en.startswith(
        "Amazon updated Low-inventory-level fee (US FBA): conditions; figures ("
    )
    assert "28 -> 30" in change.summary_en
    assert change.summary_zh.startswith("亚马逊更新了低库存水平费（美国站FBA）：条件；数值（")
    assert "28 → 30" in change.summary_zh


def test_an_event_added_and_an_event_removed(store: Store, policies: Policies) -> None:
    sync_catalog(store, policies.load())
    low_sales = (
        '[[rules.events]]\nid = "low-sales-exemption"\nkind = "effective"\ndate = 2024-05-15\n'
        'label = { en = "Exemption for products with fewer than 20 units sold in the past 7 days starts", '
        'zh = "过去7天销量少于20件的商品开始免收低库存水平费" }\n'
    )
    policies.edit(
        "amazon.toml",
        low_sales,
        low_sales.replace("low-sales-exemption", "low-sales-review").replace("2024-05-15", "2024-11-15"),
    )

    changes = sync_catalog(store, policies.load())

    assert [(c.kind, c.detail["event_id"], c.detail["date"]) for c in changes] == [
        ("event_added", "low-sales-review", "2024-11-15"),
        ("event_removed", "low-sales-exemption", "2024-05-15"),
    ]
    assert changes[0].summary_en.startswith("Amazon added a date to Low-inventory-level fee (US FBA)")
    assert changes[1].summary_zh.startswith("亚马逊删除了低库存水平费（美国站FBA）的一个日期")


# --- alerts -----------------------------------------------------------------------------------------


def test_alerts_reach_exactly_the_subscribed_chats_once(store: Store, policies: Policies) -> None:
    subscriptions = {
        1: [Subscription("amazon", "US", "fees")],
        2: [Subscription("amazon")],  # everything on Amazon
        3: [Subscription("temu")],
        4: [Subscription("amazon", "US", "fees")],  # blocked the bot
        5: [Subscription("amazon", "DE", "fees")],  # another marketplace
        6: [Subscription("amazon", "US", "deposit")],  # another topic
        7: [],
    }
    for chat_id, wanted in subscriptions.items():
        store.ensure_chat(chat_id, "private", None, "en")
        store.subscribe(chat_id, wanted)
    store.set_active(4, False)
    policies.edit("amazon.toml", GRACE_END, GRACE_END.replace("2024-05-14", "2024-04-30"))
    sync_catalog(store, policies.load())
    policies.edit("amazon.toml", GRACE_END.replace("2024-05-14", "2024-04-30"), GRACE_END)
    policies.append("temu.toml", NEW_TEMU_RULE)
    policies.remove_rule("amazon.toml", PREP_SERVICES)
    changes = sync_catalog(store, policies.load())
    by_kind = {change.kind: change for change in changes}
    assert set(by_kind) == {"event_moved", "added", "withdrawn"}

    assert queue_change_alerts(store, changes) == 4
    assert queue_change_alerts(store, changes) == 0

    queued = rows(store, "SELECT chat_id, kind, key, lead, status, payload FROM deliveries ORDER BY id")
    extended, added, withdrawn = by_kind["event_moved"], by_kind["added"], by_kind["withdrawn"]
    assert sorted((str(key), chat) for chat, _, key, _, _, _ in queued) == sorted(
        [
            (f"change:{extended.id}", 1),
            (f"change:{extended.id}", 2),
            (f"change:{added.id}", 3),
            (f"change:{withdrawn.id}", 2),  # a logistics rule: only the chat that follows all of Amazon
        ]
    )
    for _, kind, _, lead, status, _ in queued:
        assert (kind, lead, status) == ("alert", 0, "pending")
    payloads = [json.loads(str(payload)) for chat, _, _, _, _, payload in queued if chat == 1]
    assert payloads == [
        {
            "change_id": extended.id,
            "rule_id": LOW_INVENTORY,
            "summary_en": extended.summary_en,
            "summary_zh": extended.summary_zh,
        }
    ]


def test_a_change_without_an_id_cannot_be_alerted(store: Store) -> None:
    change = Change(None, START, "catalog", "amazon", None, "added", "fees", ("US",), "x", "x", {})
    with pytest.raises(ValueError, match="id"):
        queue_change_alerts(store, [change])


def test_a_page_change_without_topic_or_marketplace_reaches_every_subscriber_of_the_platform(
    store: Store,
) -> None:
    for chat_id, wanted in {1: Subscription("temu", "US", "fees"), 2: Subscription("amazon")}.items():
        store.ensure_chat(chat_id, "private", None, "en")
        store.subscribe(chat_id, [wanted])
    page = _insert_page_change(store, "2024-05-01T08:00:00+00:00", platform="temu")

    assert queue_change_alerts(store, [page]) == 1
    assert rows(store, "SELECT chat_id, key FROM deliveries") == [(1, f"change:{page.id}")]


# --- /changes ---------------------------------------------------------------------------------------


def _insert_page_change(store: Store, at: str, platform: str = "temu") -> Change:
    """What the page watcher of a later issue writes: source "page", no rule, no topic."""
    with store.transaction():
        cursor = store.db.execute(
            "INSERT INTO changes (at, source, platform, rule_id, kind, topic, summary_en, summary_zh)"
            " VALUES (?, 'page', ?, NULL, 'page_changed', NULL, ?, ?)",
            [at, platform, "Temu seller rules page <changed>", "Temu 卖家规则页面有变化"],
        )
    found = [c for c in recent_changes(store, 1, dt.datetime.fromisoformat(at)) if c.id == cursor.lastrowid]
    assert len(found) == 1
    return found[0]


def test_recent_changes_is_a_window_newest_first(tmp_path: Path, policies: Policies) -> None:
    path = tmp_path / "bot.sqlite"
    with Store(path, clock=Clock(START)) as store:
        sync_catalog(store, policies.load())
    policies.append("temu.toml", NEW_TEMU_RULE)
    with Store(path, clock=Clock(START + dt.timedelta(days=10))) as store:
        (added,) = sync_catalog(store, policies.load())
    policies.edit("amazon.toml", GRACE_END, GRACE_END.replace("2024-05-14", "2024-05-21"))
    with Store(path, clock=Clock(START + dt.timedelta(days=20))) as store:
        (moved,) = sync_catalog(store, policies.load())
        page = _insert_page_change(store, (START + dt.timedelta(days=15)).isoformat())
        now = START + dt.timedelta(days=20, hours=1)

        assert [c.id for c in recent_changes(store, 30, now)] == [moved.id, page.id, added.id]
        assert [c.id for c in recent_changes(store, 7, now)] == [moved.id, page.id]
        assert [c.id for c in recent_changes(store, 1, now)] == [moved.id]
        # Nothing recorded after `now` is "recent" to a clock set back for a demo.
        assert [c.id for c in recent_changes(store, 30, START + dt.timedelta(days=12))] == [added.id]
        assert recent_changes(store, 5, START + dt.timedelta(days=30)) == []
        with pytest.raises(ValueError):
            recent_changes(store, 0, now)
        fetched = recent_changes(store, 30, now)[-1]
        assert fetched == added
        assert page.source == "page" and page.topic is None and page.marketplaces == ()


def test_changes_text_in_both_languages(store: Store, policies: Policies, catalog: Catalog) -> None:
    sync_catalog(store, policies.load())
    policies.append("temu.toml", NEW_TEMU_RULE)
    (added,) = sync_catalog(store, policies.load())
    page = _insert_page_change(store, START.isoformat())

    en = changes_text([added, page], "en", 7, catalog)
    zh = changes_text([added, page], "zh", 7, catalog)

    assert en.startswith("<b>Policy changes in the last 7 days</b>: 2")
    assert f"<b>{added.at.date().isoformat()}</b> Temu: New rule (Temu)" in en
    assert "temu-us-test-deposit-2024" not in en  # /changes names rules, never ids (#17)
    assert "Temu seller rules page &lt;changed&gt; (official page changed" in en  # escaped, marked
    assert zh.startswith("<b>最近 7 天的政策变化</b>：2")
    assert "新规则（Temu）：新店测试保证金（美国站）" in zh
    assert "来源页面" not in zh and "官方页面有变化" in zh
    plain = to_plain_text(en).splitlines()
    assert len(plain) == 3
    assert "/rule" not in plain[2]  # a page change names no rule
    # Without a catalog the platform is shown by its id.
    assert "</b> temu: New rule" in changes_text([added], "en", 7)


def test_changes_text_empty_and_long(store: Store) -> None:
    assert changes_text([], "en", 30) == (
        "No policy changes recorded in the last 30 days. /history lists past dates."
    )
    assert "/history" in changes_text([], "zh", 30) and "30" in changes_text([], "zh", 30)
    many = [
        Change(i, START, "catalog", "amazon", "r", "changed", "fees", ("US",), f"change {i}", f"变化 {i}", {})
        for i in range(MAX_LINES + 5)
    ]
    text = to_plain_text(changes_text(many, "en", 30))
    assert len(text.splitlines()) == 1 + MAX_LINES + 1
    assert text.endswith("… and 5 more.")


# --- cancelled measures and dates of one marketplace (#9) ------------------------------------------


def test_a_cancelled_rule_is_a_change_and_its_pending_reminders_are_withdrawn(tmp_path: Path) -> None:
    from bot.reminders.planner import plan_all

    policies = Policies(tmp_path / "policies")
    rule_id = "amazon-sp-api-orders-v0-deprecation"  # a deadline on 2027-03-27
    now = dt.datetime(2027, 3, 1, 1, 0, tzinfo=dt.UTC)
    with Store(tmp_path / "bot.sqlite", clock=Clock(now)) as store:
        store.ensure_chat(1, "private", None, "en")
        store.subscribe(1, [Subscription("amazon", "US")])
        sync_catalog(store, policies.load())
        plan_all(store, policies.load())
        pending = "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND key LIKE ?"
        assert rows(store, pending, [rule_id + "/%"])[0][0] > 0

        policies.edit_rule(
            "amazon.toml", rule_id, 'topic = "program"\n', 'topic = "program"\nstatus = "cancelled"\n'
        )
        changes = sync_catalog(store, policies.load())
        assert [(c.rule_id, c.kind) for c in changes] == [(rule_id, "changed")]
        assert "status" in changes[0].detail["fields"]
        assert queue_change_alerts(store, changes) == 1  # the US subscriber hears of it (an ALL rule)
        plan_all(store, policies.load())
        assert rows(store, pending, [rule_id + "/%"])[0][0] == 0


def test_a_moved_date_of_one_marketplace_alerts_only_that_marketplace(
    store: Store, policies: Policies
) -> None:
    for chat_id, market in ((1, "US"), (2, "DE")):
        store.ensure_chat(chat_id, "private", None, "en")
        store.subscribe(chat_id, [Subscription("amazon", market)])
    sync_catalog(store, policies.load())
    policies.edit("amazon.toml", "date = 2024-03-18\n", "date = 2024-03-19\n")  # the coupon rule's DE date

    changes = sync_catalog(store, policies.load())

    assert [(c.kind, c.marketplaces) for c in changes] == [("event_moved", ("DE",))]
    queue_change_alerts(store, changes)
    alerted = rows(store, "SELECT chat_id FROM deliveries WHERE kind = 'alert'")
    assert alerted == [(2,)]
