"""The catalog against the research files: every fact is a rule, every page to watch is watched, and
what the facts' own guidance asks of the answers (low confidence, unconfirmed status, cancelled
measures, dates by marketplace, EU-wide reach, the zone of the dates) holds in the card, /upcoming,
reminders, the planner and change alerts."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from conftest import POLICIES, REFERENCE_COPY, context

from bot.answers.core import Answers
from bot.catalog import Rule
from bot.catalog.load import Catalog, CatalogError, load_catalog
from bot.clock import Clock
from bot.i18n import to_plain_text
from bot.markets import EU_MEMBERS, reached_markets
from bot.reminders.changes import Change, queue_change_alerts
from bot.reminders.outbox import Delivery
from bot.reminders.planner import plan_chat, subscription_matches
from bot.reminders.text import render_digest
from bot.store import ChatSettings, Store, Subscription
from bot.watch.watcher import sources_from

# Copies of the team's research files (shared/reference/), so CI checks the catalog against them too.
REFERENCE = REFERENCE_COPY
FACTS_2026 = REFERENCE / "policy-facts-2026-2027.md"
FACTS_2025 = REFERENCE / "policy-facts-2025-2026.md"
# The fuel and logistics surcharges get their own surcharge model (issue 11).
NOT_HERE = {"R-A1", "R-A2"}
DEC_1 = dt.date(2026, 12, 1)


def headings(text: str) -> list[str]:
    return re.findall(r"^### (R-[AO]\d+):", text, flags=re.MULTILINE)


def watch_section_urls(text: str) -> set[str]:
    """Every URL under the "Unconfirmed / to watch" headings, up to the next part of the file."""
    urls: set[str] = set()
    for section in re.split(r"^## ", text, flags=re.MULTILINE):
        if not section.startswith("Unconfirmed / to watch"):
            continue
        body = re.split(r"^(?:---|# |Not included:)", section, flags=re.MULTILINE)[0]
        urls |= {url.rstrip(".,;)") for url in re.findall(r"https?://[^\s)]+", body)}
    return urls


def plain(answers: Answers, text: str, today: dt.date = DEC_1, lang: str = "en") -> str:
    return answers.reply(text, context(lang, today)).plain


# --- every fact is a rule ------------------------------------------------------------------------------


def test_every_2026_2027_fact_answers_to_rule_ref(answers: Answers, catalog: Catalog) -> None:
    refs = headings(FACTS_2026.read_text(encoding="utf-8"))
    assert len(refs) == 14 + 27  # R-A1..R-A14, R-O1..R-O27: the parser read the whole file
    for ref in refs:
        if ref in NOT_HERE:
            continue
        rules = catalog.by_ref(ref)
        assert rules, f"no rule for {ref}"
        reply = plain(answers, f"/rule {ref}")
        assert rules[0].title.en in reply, ref
        assert "Sources" in reply, ref


def test_every_2025_2026_item_is_in_the_catalog(catalog: Catalog) -> None:
    text = FACTS_2025.read_text(encoding="utf-8")
    items = re.findall(r"^- ([A-Z]{1,2}\d{1,2})\.", text, flags=re.MULTILINE)
    assert len(items) >= 29
    assert [item for item in items if not catalog.by_ref(item)] == []


def test_every_url_to_watch_is_watched(catalog: Catalog) -> None:
    urls = watch_section_urls(FACTS_2026.read_text(encoding="utf-8"))
    assert len(urls) > 40  # both sections were read
    watched = {source.url for source in sources_from(catalog, [])}
    assert sorted(urls - watched) == []


def test_a_rule_without_a_source_is_refused(tmp_path: Path) -> None:
    (tmp_path / "demo.toml").write_text(
        'platform = "demo"\nname = { en = "Demo", zh = "演示" }\ntime_zone = "UTC"\n\n[[rules]]\n'
        'id = "demo-rule"\nmarketplaces = ["US"]\ntopic = "fees"\nconfidence = "high"\n'
        'title = { en = "T", zh = "T" }\nsummary = { en = "S", zh = "S" }\nsources = []\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as error:
        load_catalog(tmp_path)
    assert "demo-rule field sources" in str(error.value)


def test_a_bad_watch_page_or_event_marketplace_is_reported_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "demo.toml").write_text(
        'platform = "demo"\nname = { en = "Demo", zh = "演示" }\ntime_zone = "UTC"\n\n[[rules]]\n'
        'id = "demo-rule"\nmarketplaces = ["US"]\ntopic = "fees"\nconfidence = "high"\n'
        'title = { en = "T", zh = "T" }\nsummary = { en = "S", zh = "S" }\n'
        '[[rules.events]]\nid = "ev"\nkind = "effective"\ndate = 2027-01-01\nmarketplace = "DE"\n'
        'label = { en = "L", zh = "L" }\n'
        '[[rules.sources]]\nurl = "https://example.com/"\nsays = "x"\nconfidence = "high"\n\n'
        '[[watch]]\nurl = "ftp://example.com/"\nabout = { en = "A", zh = "A" }\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as error:
        load_catalog(tmp_path)
    text = str(error.value)
    assert "demo-rule: events: ev: marketplace DE is not one of the rule's" in text
    assert "field watch[0].url" in text


# --- what the answers carry --------------------------------------------------------------------------


def line_of(reply: str, rule: Rule, lang: str = "en") -> str:
    """The line of a date list about one of the rule's events: lines name the event, not the rule id (#17)."""
    return next(x for x in reply.splitlines() if any(e.label.get(lang) in x for e in rule.events))


def test_upcoming_400_on_2026_12_01_lists_the_real_coming_dates(answers: Answers, catalog: Catalog) -> None:
    reply = plain(answers, "/upcoming 400")
    for date, rule_id in (
        ("2027-01-01", "us-customs-section-232-wood-2027"),
        ("2027-01-08", "amazon-us-cpsc-efiling-2026"),
        ("2027-03-27", "amazon-sp-api-orders-v0-deprecation"),
        ("2027-07-01", "us-customs-us-de-minimis-statutory-repeal-2027"),
    ):
        assert line_of(reply, catalog.rules[rule_id]).startswith(f"• {date} "), (date, rule_id)
        assert rule_id not in reply
    assert "2026-03-31" not in reply  # the end of commingling is past


def test_low_confidence_shows_in_the_card_the_upcoming_line_and_the_reminder(
    answers: Answers, catalog: Catalog
) -> None:
    rule = catalog.rules["amazon-jp-fba-long-term-storage-2026"]  # R-A8, one low-authority source
    assert rule.confidence == "low"
    before = dt.date(2026, 4, 1)
    card = plain(answers, "/rule R-A8", before)
    assert "Low confidence" in card and "Confidence: low" in card
    line = line_of(plain(answers, "/upcoming 30", before), rule)
    assert "low confidence" in line
    zh_line = line_of(plain(answers, "/upcoming 30", before, "zh"), rule, "zh")
    assert "低可信度" in zh_line
    # A high-confidence rule's line carries no such mark: the mark is the rule's, not every line's.
    orders = line_of(plain(answers, "/upcoming 400"), catalog.rules["amazon-sp-api-orders-v0-deprecation"])
    assert "confidence" not in orders

    delivery = reminder_for(rule.id, "effective", dt.date(2026, 4, 15))
    for lang, mark in (("en", "low confidence"), ("zh", "低可信度")):
        text = to_plain_text(render_digest(catalog, [delivery], chat(lang), NOON_APRIL_8))
        assert mark in text


def test_an_unconfirmed_status_is_said_only_after_the_sources_stop(
    answers: Answers, catalog: Catalog
) -> None:
    rule = catalog.rules["us-customs-us-china-truce-expiry-2026"]  # R-O8: renewed or lapsed is unknown
    assert rule.status_confirmed_until == dt.date(2026, 11, 10)
    assert "Status after 2026-11-10 not confirmed" in plain(answers, "/rule R-O8")
    assert "2026-11-10 之后的状态未确认" in plain(answers, "/rule R-O8", lang="zh")
    # On the last confirmed day itself the status still stands.
    assert "not confirmed" not in plain(answers, "/rule R-O8", dt.date(2026, 11, 10)).split("Notes")[0]
    line = line_of(plain(answers, "/upcoming 60"), rule)
    assert "status after 2026-11-10 not confirmed" in line
    delivery = reminder_for(rule.id, "china-exclusions-end", dt.date(2026, 12, 31))
    text = to_plain_text(
        render_digest(catalog, [delivery], chat("en"), dt.datetime(2026, 12, 24, tzinfo=dt.UTC))
    )
    assert "status after 2026-11-10 not confirmed" in text


def test_the_card_shows_the_zone_of_the_dates_as_the_sources_give_it(answers: Answers) -> None:
    # Amazon US dates are US Eastern (policy-facts-2025-2026.md), US customs too, Japan's Tokyo time.
    assert "Dates (time zone: US Eastern time)" in plain(answers, "/rule amazon-us-fba-fee-update-2026")
    assert "Dates (time zone: US Eastern time)" in plain(answers, "/rule R-O10")
    assert "Dates (time zone: Japan time)" in plain(answers, "/rule R-A7")
    assert "日期（时区：美国东部时间）" in plain(answers, "/rule R-O10", lang="zh")  # by name (#17)
    # A time the source gives is shown in its own zone and the chat's.
    assert "2026-04-20 08:00 US Eastern time (= 2026-04-20 12:00 UTC)" in plain(answers, "/rule R-O2")


# --- cancelled measures ------------------------------------------------------------------------------


def test_the_cancelled_tiktok_mandate_is_said_and_never_planned(answers: Answers, catalog: Catalog) -> None:
    rule = catalog.rules["tiktok-shop-us-logistics-mandate-cancelled-2026"]  # R-O26
    card = plain(answers, "/rule R-O26", dt.date(2026, 2, 20))
    assert "Cancelled" in card
    line = line_of(plain(answers, "/upcoming 60 tiktok", dt.date(2026, 2, 20)), rule)
    assert "cancelled" in line
    now = dt.datetime(2026, 2, 20, 1, 0, tzinfo=dt.UTC)
    planned = plan_chat(catalog, settings(), [Subscription("tiktok-shop")], [], now)
    assert planned  # the chat gets TikTok Shop's other dates (Vietnam 2026-03-02, ...)
    assert not [p for p in planned if p.key.startswith(rule.id + "/")]


def test_the_same_mandate_not_cancelled_would_be_planned(tmp_path: Path) -> None:
    """The control for the test above: only the status keeps its 2026-03-31 date out of the plan."""
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    path = folder / "tiktok-shop.toml"
    text = path.read_text(encoding="utf-8")
    marker = 'topic = "logistics"\nstatus = "cancelled"\n'
    assert text.count(marker) == 1
    path.write_text(text.replace(marker, 'topic = "logistics"\n'), encoding="utf-8")
    active = load_catalog(folder)
    now = dt.datetime(2026, 2, 20, 1, 0, tzinfo=dt.UTC)
    planned = plan_chat(active, settings(), [Subscription("tiktok-shop", "US")], [], now)
    keys = {p.key for p in planned}
    assert "tiktok-shop-us-logistics-mandate-cancelled-2026/seller-shipping-end/2026-03-31" in keys


# --- dates by marketplace, EU-wide reach -------------------------------------------------------------


def test_an_event_of_one_marketplace_reaches_only_its_subscribers(catalog: Catalog) -> None:
    now = dt.datetime(2024, 2, 1, 1, 0, tzinfo=dt.UTC)
    coupon = "amazon-coupon-pricing-requirements-2024"

    def coupon_events(market: str) -> set[str]:
        planned = plan_chat(catalog, settings(), [Subscription("amazon", market)], [], now)
        return {p.key.split("/")[1] for p in planned if p.key.startswith(coupon + "/")}

    assert coupon_events("US") == {"effective-us"}
    assert coupon_events("DE") == {"effective-de"}
    assert coupon_events("MX") == {"rollout-start-mx", "rollout-end-mx"}
    assert coupon_events("JP") == set()  # a marketplace of the rule without a date of its own
    assert coupon_events("*") == {"effective-us", "effective-de", "rollout-start-mx", "rollout-end-mx"}


def test_eu_wide_rules_reach_member_states_and_member_rules_reach_eu() -> None:
    assert len(EU_MEMBERS) == 27 and "UK" not in EU_MEMBERS and "GB" not in EU_MEMBERS
    assert subscription_matches(Subscription("eu", "DE"), "eu", ["EU"], "compliance")
    assert subscription_matches(Subscription("eu", "FR", "fees"), "eu", ["EU"], "fees")
    assert subscription_matches(Subscription("eu", "EU"), "eu", ["IT"], "logistics")
    assert not subscription_matches(Subscription("amazon", "UK"), "amazon", ["EU"], "fees")
    assert not subscription_matches(Subscription("amazon", "US"), "amazon", ["EU"], "fees")
    assert not subscription_matches(Subscription("eu", "DE"), "eu", ["IT"], "logistics")
    assert reached_markets(["US"]) == {"US"}


def test_a_german_subscriber_gets_the_eu_wide_dates(catalog: Catalog) -> None:
    now = dt.datetime(2026, 10, 20, 1, 0, tzinfo=dt.UTC)
    planned = plan_chat(catalog, settings(), [Subscription("eu", "DE")], [], now)
    keys = {p.key for p in planned}
    assert "eu-product-identifiers-2026/mandatory/2026-11-01" in keys  # an EU rule
    assert not [key for key in keys if key.startswith("eu-it-")]  # Italy's own rules are Italy's


def test_change_alerts_reach_member_state_subscribers_of_an_eu_rule(tmp_path: Path) -> None:
    store = Store(tmp_path / "bot.db", clock=Clock(dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)))
    for chat_id, market in ((1, "DE"), (2, "UK"), (3, "EU"), (4, "IT")):
        store.ensure_chat(chat_id, "private", None, "en")
        store.subscribe(chat_id, [Subscription("amazon", market)])
    assert store.subscribers("amazon", ["EU"], "fees") == [1, 3, 4]
    assert store.subscribers("amazon", ["IT"], "fees") == [3, 4]
    change = Change(1, DEC_NOW, "catalog", "amazon", "r", "changed", "fees", ("EU",), "en", "zh")
    assert queue_change_alerts(store, [change]) == 3


# --- helpers ---------------------------------------------------------------------------------------------

NOON_APRIL_8 = dt.datetime(2026, 4, 8, 4, 0, tzinfo=dt.UTC)
DEC_NOW = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


def settings() -> ChatSettings:
    return ChatSettings(1, "private", None, "en", "UTC", "09:00", (7,), None, None, True, "")


def chat(lang: str) -> ChatSettings:
    return ChatSettings(1, "private", None, lang, "Asia/Shanghai", "09:00", (7,), None, None, True, "")


def reminder_for(rule_id: str, event_id: str, day: dt.date) -> Delivery:
    return Delivery(
        id=1,
        chat_id=1,
        kind="reminder",
        key=f"{rule_id}/{event_id}/{day.isoformat()}",
        lead=7,
        due_at=NOON_APRIL_8,
        event_date=day,
        payload={"rule_id": rule_id, "event_id": event_id, "date": day.isoformat()},
        status="sending",
        late=False,
        attempts=1,
        last_error=None,
        message_id=None,
    )
