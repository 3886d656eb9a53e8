"""A chat's private calendar URL (issue #20): the token is random and stored hashed, the calendar is read
back by a second parser (vobject), UIDs stay, SEQUENCE follows the rule's version, 304 when unchanged,
404 for an unknown or revoked token; and the feeds of published changes (Atom read by feedparser, JSON
Feed 1.1), filtered, with 304."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import feedparser
import pytest
import vobject
from conftest import POLICIES

from bot.catalog import Catalog, load_catalog
from bot.reminders import FEED_PATHS, calendar_answer, changes_feed_answer, create_calendar_link, sync_catalog
from bot.reminders.calendar_links import chat_for_token
from bot.reminders.changes import Change, record_change
from bot.store import Store, Subscription

CHAT = 501
RULE = "amazon-us-fuel-surcharge-2026"


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(store: Store) -> Store:
    store.ensure_chat(CHAT, "private", "Shop A", "en")
    store.subscribe(CHAT, [Subscription("amazon", "US")])
    return store


def fetch(
    store: Store, catalog: Catalog, token: str, now: dt.datetime, etag: str = ""
) -> tuple[int, dict, bytes]:
    headers = {"if-none-match": etag} if etag else {}
    return calendar_answer(store, catalog, f"/cal/{token}.ics", headers, now)


def test_the_token_is_random_stored_hashed_and_shown_once(store: Store, db_path: Path) -> None:
    token = create_calendar_link(store, CHAT)
    assert token is not None and len(token) >= 32
    assert chat_for_token(store, token) == CHAT
    assert create_calendar_link(store, CHAT) is None  # it exists; its hash cannot be shown again
    store.db.conn.commit()
    assert token.encode() not in db_path.read_bytes()  # a copy of the database gives nobody the link
    other = (
        create_calendar_link(store, CHAT + 1) if store.ensure_chat(CHAT + 1, "private", None, "en") else None
    )
    assert other is not None and other != token


def test_the_calendar_is_served_and_read_back_by_a_second_parser(
    store: Store, catalog: Catalog, now: dt.datetime
) -> None:
    token = create_calendar_link(store, CHAT)
    assert token is not None
    sync_catalog(store, catalog)
    status, headers, body = fetch(store, catalog, token, now)
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["ETag"].startswith('"')
    parsed = vobject.readOne(body.decode())
    assert parsed.contents["refresh-interval"][0].value == "PT6H"
    assert parsed.contents["x-published-ttl"][0].value == "PT6H"
    events = {event.uid.value: event for event in parsed.vevent_list}
    surcharge = next(uid for uid in events if uid.startswith(f"{RULE}/"))
    assert events[surcharge].sequence.value == "0"  # version 1 of the rule
    assert "Amazon" in events[surcharge].summary.value
    # Fetched again: same events, same UIDs; the unchanged calendar answers 304 to its ETag.
    again = vobject.readOne(fetch(store, catalog, token, now + dt.timedelta(minutes=5))[2].decode())
    assert {event.uid.value for event in again.vevent_list} == set(events)
    assert fetch(store, catalog, token, now + dt.timedelta(minutes=5), headers["ETag"])[:1] == (304,)


def test_a_changed_rule_keeps_its_uids_and_raises_the_sequence(
    store: Store, now: dt.datetime, tmp_path: Path
) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    first = load_catalog(folder)
    sync_catalog(store, first)
    token = create_calendar_link(store, CHAT)
    assert token is not None
    _, headers, body = fetch(store, first, token, now)
    path = folder / "amazon.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f'id = "{RULE}"')
    old = 'summary = { en = "From 2026-04-17 Amazon adds'
    at = text.index(old, start)
    path.write_text(text[:at] + text[at:].replace(old, 'summary = { en = "Since 2026-04-17 Amazon adds', 1))
    second = load_catalog(folder)
    sync_catalog(store, second)
    status, _, changed = fetch(store, second, token, now, headers["ETag"])
    assert status == 200  # the rule changed: the old ETag no longer matches
    events = {event.uid.value: event for event in vobject.readOne(changed.decode()).vevent_list}
    before = {event.uid.value for event in vobject.readOne(body.decode()).vevent_list}
    assert set(events) == before
    assert all(event.sequence.value == "1" for uid, event in events.items() if uid.startswith(f"{RULE}/"))


def test_an_unknown_a_revoked_or_a_malformed_token_is_404(
    store: Store, catalog: Catalog, now: dt.datetime
) -> None:
    token = create_calendar_link(store, CHAT)
    assert token is not None
    new = create_calendar_link(store, CHAT, replace=True)
    assert new is not None and new != token
    assert fetch(store, catalog, token, now)[0] == 404  # revoked by the reset
    assert fetch(store, catalog, new, now)[0] == 200
    assert fetch(store, catalog, "x" * 32, now)[0] == 404
    assert calendar_answer(store, catalog, "/cal/../../etc/passwd", {}, now)[0] == 404
    store.set_active(CHAT, False)  # the chat blocked the bot: nothing more is served
    assert fetch(store, catalog, new, now)[0] == 404


def record(
    store: Store, at: dt.datetime, platform: str, markets: tuple[str, ...], source: str = "catalog"
) -> None:
    record_change(
        store,
        Change(
            id=None,
            at=at,
            source=source,
            platform=platform,
            rule_id=RULE if platform == "amazon" else None,
            kind="changed",
            topic="fees",
            marketplaces=markets,
            summary_en=f"{platform} changed <b>&",
            summary_zh=f"{platform} 有变化",
        ),
    )


def feed(store: Store, catalog: Catalog, path: str, query: str, now: dt.datetime, etag: str = "") -> tuple:
    headers = {"if-none-match": etag} if etag else {}
    return changes_feed_answer(store, catalog, path, query, headers, now, "https://bot.example.com")


def test_the_atom_feed_lists_published_changes_newest_first(
    store: Store, catalog: Catalog, now: dt.datetime
) -> None:
    record(store, now - dt.timedelta(days=2), "amazon", ("US", "CA"))
    record(store, now - dt.timedelta(days=1), "temu", ("EU",))
    record(store, now - dt.timedelta(hours=1), "amazon", (), source="page")  # not reviewed: not published
    status, headers, body = feed(store, catalog, "/feeds/changes.atom", "", now)
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [entry.title.split(":")[0] for entry in parsed.entries] == ["Temu", "Amazon"]
    assert parsed.entries[1].summary == "amazon changed <b>&"  # text, escaped, never markup
    assert parsed.feed.links[0].href == "https://bot.example.com/feeds/changes.atom"
    root = ET.fromstring(body)
    atom = "{http://www.w3.org/2005/Atom}"
    for entry in root.findall(f"{atom}entry"):
        assert entry.find(f"{atom}id") is not None and entry.find(f"{atom}updated") is not None
    assert feed(store, catalog, "/feeds/changes.atom", "", now, headers["ETag"])[0] == 304


def test_the_json_feed_filters_by_platform_marketplace_and_language(
    store: Store, catalog: Catalog, now: dt.datetime
) -> None:
    record(store, now - dt.timedelta(days=2), "amazon", ("US", "CA"))
    record(store, now - dt.timedelta(days=1), "temu", ("EU",))
    status, headers, body = feed(store, catalog, "/feeds/changes.json", "marketplace=de&lang=zh", now)
    assert status == 200 and headers["Content-Type"].startswith("application/feed+json")
    data = json.loads(body)
    assert data["version"] == "https://jsonfeed.org/version/1.1" and data["language"] == "zh-CN"
    assert [item["content_text"] for item in data["items"]] == ["temu 有变化"]  # an EU change reaches DE
    amazon = json.loads(feed(store, catalog, "/feeds/changes.json", "platform=amazon", now)[2])
    assert [item["tags"][0] for item in amazon["items"]] == ["amazon"]
    assert amazon["items"][0]["id"].startswith("urn:policybot:change:")
    assert "date_published" in amazon["items"][0]


@pytest.mark.parametrize(
    "query", ["platform=nothing", "lang=fr", "days=0", "days=999", "colour=red", "days=abc"]
)
def test_a_bad_filter_is_400_naming_it(store: Store, catalog: Catalog, now: dt.datetime, query: str) -> None:
    status, _, body = feed(store, catalog, FEED_PATHS[0], query, now)
    assert status == 400 and body
