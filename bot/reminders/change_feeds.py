"""The published policy changes as feeds: Atom (RFC 4287) and JSON Feed 1.1, for feed readers and
automation tools (`GET /feeds/changes.atom`, `GET /feeds/changes.json` on the bot's HTTP server).

Published means what subscribers are alerted to: the changes a catalog update recorded (source
"catalog"). A changed official page the operators have not reviewed is not published here. Filters, in
the query: `platform=amazon`, `marketplace=DE` (a change for the EU, or for every marketplace, is kept
for DE too, as alerts are), `lang=zh|en` (default en), `days=N` (default 90, at most 365). Each answer has
an ETag; an unchanged feed answers 304.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from urllib.parse import parse_qs, urlencode
from xml.etree import ElementTree as ET

from bot.catalog import Catalog
from bot.markets import reaches
from bot.reminders.calendar_links import HttpAnswer
from bot.reminders.changes import Change, recent_changes
from bot.store import Store

__all__ = ["FEED_PATHS", "changes_feed_answer"]

FEED_PATHS = ("/feeds/changes.atom", "/feeds/changes.json")
DEFAULT_DAYS = 90
MAX_DAYS = 365
ATOM = "http://www.w3.org/2005/Atom"
_BAD = {"Content-Type": "text/plain; charset=utf-8"}


def _published(changes: list[Change], platform: str | None, marketplace: str | None) -> list[Change]:
    kept = []
    for change in changes:
        if change.source != "catalog":
            continue
        if platform is not None and change.platform != platform:
            continue
        if marketplace is not None and change.marketplaces and not reaches(change.marketplaces, marketplace):
            continue
        kept.append(change)
    return kept


def _feed_title(lang: str) -> str:
    return "policybot: 平台政策变化" if lang == "zh" else "policybot: policy changes"


def _terms(change: Change) -> list[str]:
    return [term for term in (change.platform, change.topic, change.kind, *change.marketplaces) if term]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _title(change: Change, catalog: Catalog, lang: str) -> str:
    platform = change.platform or ""
    name = catalog.platforms[platform].info.name.get(lang) if platform in catalog.platforms else platform
    rule = catalog.rules.get(change.rule_id or "")
    subject = rule.title.get(lang) if rule is not None else change.summary(lang)
    return f"{name}: {subject}" if name else subject


def _atom(changes: list[Change], catalog: Catalog, lang: str, feed_url: str, now: dt.datetime) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "zh-CN" if lang == "zh" else "en"})
    ET.SubElement(feed, f"{{{ATOM}}}id").text = (
        "urn:policybot:changes:" + hashlib.sha256(feed_url.encode()).hexdigest()[:16]
    )
    ET.SubElement(feed, f"{{{ATOM}}}title").text = (
        "policybot: 平台政策变化" if lang == "zh" else "policybot: policy changes"
    )
    # An empty feed is dated at the start of the day, so that it too answers 304 until something changes.
    start = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _iso(changes[0].at if changes else start)
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": feed_url})
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "policybot"
    for change in changes:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:policybot:change:{change.id}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = _title(change, catalog, lang)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _iso(change.at)
        ET.SubElement(entry, f"{{{ATOM}}}content", {"type": "text"}).text = change.summary(lang)
        for term in _terms(change):
            ET.SubElement(entry, f"{{{ATOM}}}category", {"term": term})
        rule = catalog.rules.get(change.rule_id or "")
        link = next((s.url for s in rule.sources if s.url.startswith("http")), None) if rule else None
        if link:
            ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "related", "href": link})
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data


def _json_feed(changes: list[Change], catalog: Catalog, lang: str, feed_url: str) -> bytes:
    items = []
    for change in changes:
        rule = catalog.rules.get(change.rule_id or "")
        link = next((s.url for s in rule.sources if s.url.startswith("http")), None) if rule else None
        item: dict[str, object] = {
            "id": f"urn:policybot:change:{change.id}",
            "title": _title(change, catalog, lang),
            "content_text": change.summary(lang),
            "date_published": _iso(change.at),
            "tags": [
                term for term in (change.platform, change.topic, change.kind, *change.marketplaces) if term
            ],
        }
        if link:
            item["external_url"] = link
        items.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _feed_title(lang),
        "feed_url": feed_url,
        "language": "zh-CN" if lang == "zh" else "en",
        "items": items,
    }
    return json.dumps(feed, ensure_ascii=False, indent=1).encode()


def changes_feed_answer(
    store: Store,
    catalog: Catalog,
    path: str,
    query: str,
    headers: Mapping[str, str],
    now: dt.datetime,
    base_url: str = "",
) -> HttpAnswer:
    """The answer to `GET /feeds/changes.atom|json?...`: the feed, 304 when unchanged, 400 on a bad filter."""
    params = {key: values[-1] for key, values in parse_qs(query).items()}
    unknown = sorted(set(params) - {"platform", "marketplace", "lang", "days"})
    if unknown:
        return 400, _BAD, f"unknown filter: {', '.join(unknown)}\n".encode()
    platform = params.get("platform")
    if platform is not None and platform not in catalog.platforms:
        return 400, _BAD, f"unknown platform: {platform}\n".encode()
    marketplace = params["marketplace"].upper() if "marketplace" in params else None
    lang = params.get("lang", "en")
    days_text = params.get("days", str(DEFAULT_DAYS))
    if lang not in ("zh", "en") or not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
        return 400, _BAD, f"lang is zh or en; days is 1 to {MAX_DAYS}\n".encode()
    changes = _published(recent_changes(store, int(days_text), now), platform, marketplace)
    feed_url = base_url.rstrip("/") + path + ("?" + urlencode(sorted(params.items())) if params else "")
    if path.endswith(".atom"):
        body, kind = _atom(changes, catalog, lang, feed_url, now), "application/atom+xml; charset=utf-8"
    else:
        body, kind = _json_feed(changes, catalog, lang, feed_url), "application/feed+json; charset=utf-8"
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    common = {"ETag": etag, "Cache-Control": "public, max-age=900"}
    if etag in {tag.strip() for tag in headers.get("if-none-match", "").split(",")}:
        return 304, common, b""
    return 200, {"Content-Type": kind, **common}, body
