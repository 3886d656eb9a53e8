"""The calendar file: parsed back with icalendar, it holds exactly the subscribed dates."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import POLICIES
from icalendar import Calendar, Event

from bot.catalog.load import Catalog, load_catalog
from bot.reminders.ics import calendar_ics, calendar_ics_all
from bot.store import Subscription

NOW = dt.datetime(2025, 6, 1, 7, 30, tzinfo=dt.UTC)
HOLIDAY_PEAK = "amazon-us-holiday-peak-fulfillment-fee"  # B8: yearly, until 2025-10-15 / 2026-01-14
PEAK_STORAGE = "amazon-us-peak-storage-fee"  # B9: yearly, no end on record
DE_MINIMIS = "us-customs-us-de-minimis-end-china-hk-2025"
SUPERSEDED = "us-customs-us-china-postal-duty-first-order-2025"


def events_of(data: bytes) -> list[Event]:
    calendar = Calendar.from_ical(data)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    return list(calendar.walk("VEVENT"))


def rule_of(event: Event) -> str:
    return str(event["UID"]).split("/")[0]


def occurrence_dates(events: list[Event], rule_id: str, event_id: str) -> list[dt.date]:
    prefix = f"{rule_id}/{event_id}/"
    return sorted(e.decoded("DTSTART") for e in events if str(e["UID"]).startswith(prefix))


def test_every_event_is_complete_and_unique(catalog: Catalog) -> None:
    data = calendar_ics_all(catalog, "en", NOW)
    calendar = Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "policybot"
    events = events_of(data)
    assert len(events) > 30
    for event in events:
        for name in ("UID", "DTSTAMP", "DTSTART", "SUMMARY", "DESCRIPTION"):
            assert name in event, (name, event.get("UID"))
        assert event.decoded("DTSTAMP") == NOW
        assert str(event["UID"]).endswith("@policybot")
    uids = [str(event["UID"]) for event in events]
    assert len(uids) == len(set(uids))
    assert calendar_ics_all(catalog, "en", NOW) == data  # same inputs, same bytes


def test_the_window_is_a_year_back_to_the_horizon(catalog: Catalog) -> None:
    events = events_of(calendar_ics_all(catalog, "en", NOW, horizon_days=30))
    days = [
        e.decoded("DTSTART").date() if isinstance(e.decoded("DTSTART"), dt.datetime) else e.decoded("DTSTART")
        for e in events
    ]
    assert min(days) >= dt.date(2024, 6, 1)
    assert max(days) <= dt.date(2025, 7, 1)
    expected = {
        o.key
        for o in catalog.occurrences(dt.date(2024, 6, 1), dt.date(2025, 7, 1))
        if o.rule.superseded_by is None
    }
    assert {str(e["UID"]).removesuffix("@policybot") for e in events} == expected


def test_only_subscribed_platforms_marketplaces_and_topics(catalog: Catalog) -> None:
    events = events_of(calendar_ics(catalog, [Subscription("amazon", "US", "fees")], "en", NOW))
    rules = {rule_of(event) for event in events}
    assert rules
    for rule_id in rules:
        rule = catalog.rules[rule_id]
        assert catalog.rule_platform[rule_id] == "amazon"
        assert rule.topic == "fees" and {"US", "ALL"} & set(rule.marketplaces)
        assert not rule.withdrawn  # a cancelled rule's dates (SP-API developer fees) are not in it
    assert all(event["CATEGORIES"].cats == ["fees"] for event in events)
    assert HOLIDAY_PEAK in rules
    spring_2024 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    german = events_of(calendar_ics(catalog, [Subscription("amazon", "DE")], "en", spring_2024))
    # A German seller on Amazon gets the DE, EU-wide and every-marketplace rules' dates, and of a rule
    # for several marketplaces only the dates of Germany's own (the coupon rule's DE date, not its US one).
    assert german and all({"DE", "EU", "ALL"} & set(catalog.rules[rule_of(e)].marketplaces) for e in german)
    coupon = [str(e["UID"]) for e in german if rule_of(e) == "amazon-coupon-pricing-requirements-2024"]
    assert coupon and all("/effective-de/" in uid for uid in coupon)
    temu = {rule_of(e) for e in events_of(calendar_ics(catalog, [Subscription("temu", "DE")], "en", NOW))}
    # A German seller on Temu gets the rules for every marketplace (ALL) and the EU ones, not the US ones.
    assert temu and all(
        {"ALL", "EU"} & set(catalog.rules[r].marketplaces) or "DE" in catalog.rules[r].marketplaces
        for r in temu
    )
    assert events_of(calendar_ics(catalog, [], "en", NOW)) == []


def test_a_timed_event_keeps_its_time_and_zone(catalog: Catalog) -> None:
    data = calendar_ics(catalog, [Subscription("us-customs")], "en", NOW)
    (event,) = [e for e in events_of(data) if rule_of(e) == DE_MINIMIS]
    start = event.decoded("DTSTART")
    assert start == dt.datetime(2025, 5, 2, 0, 1, tzinfo=ZoneInfo("America/New_York"))
    assert str(start.tzinfo) == "America/New_York"
    assert "DTEND" not in event  # a moment, not a day
    text = data.decode()
    assert "DTSTART;TZID=America/New_York:20250502T000100" in text
    assert "TZID:America/New_York" in text  # the VTIMEZONE the TZID refers to
    calendar = Calendar.from_ical(data)
    assert calendar.get_missing_tzids() == set()


def test_a_timed_event_in_utc_is_written_in_utc(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    path = folder / "us-customs.toml"
    text = path.read_text(encoding="utf-8")
    block_start = text.index(f'id = "{DE_MINIMIS}"')
    zone_at = text.index('time_zone = "America/New_York"', block_start)
    path.write_text(text[:zone_at] + 'time_zone = "UTC"' + text[zone_at + 30 :], encoding="utf-8")
    data = calendar_ics(load_catalog(folder), [Subscription("us-customs")], "en", NOW)
    assert "DTSTART:20250502T000100Z" in data.decode()


def test_an_all_day_event_lasts_its_day_and_links_its_rule(catalog: Catalog) -> None:
    events = events_of(calendar_ics(catalog, [Subscription("amazon", "US", "fees")], "en", NOW))
    (event,) = [e for e in events if str(e["UID"]) == f"{HOLIDAY_PEAK}/peak-start/2024-10-15@policybot"]
    assert event.decoded("DTSTART") == dt.date(2024, 10, 15)
    assert event.decoded("DTEND") == dt.date(2024, 10, 16)
    assert str(event["TRANSP"]) == "TRANSPARENT"
    rule = catalog.rules[HOLIDAY_PEAK]
    assert str(event["SUMMARY"]) == f"Amazon: {rule.events[0].label.en}"
    description = str(event["DESCRIPTION"])
    assert description.startswith(rule.title.en)
    assert rule.summary.en in description
    assert description.endswith(f"/rule {HOLIDAY_PEAK}")
    first_web = next(s.url for s in rule.sources if s.url.startswith("http"))
    assert str(event["URL"]) == first_web


def test_a_yearly_event_appears_once_a_year_and_not_after_recurrence_until(catalog: Catalog) -> None:
    # The window runs to mid-2027: an RRULE or a careless expansion would invent later peak seasons.
    events = events_of(calendar_ics(catalog, [Subscription("amazon")], "en", NOW))
    assert occurrence_dates(events, HOLIDAY_PEAK, "peak-start") == [
        dt.date(2024, 10, 15),
        dt.date(2025, 10, 15),
    ]
    assert occurrence_dates(events, HOLIDAY_PEAK, "peak-end") == [dt.date(2025, 1, 14), dt.date(2026, 1, 14)]
    # A yearly event with no end on record repeats through the horizon, once a year.
    assert occurrence_dates(events, PEAK_STORAGE, "peak-start") == [
        dt.date(2024, 10, 1),
        dt.date(2025, 10, 1),
        dt.date(2026, 10, 1),
    ]
    assert "RRULE" not in calendar_ics(catalog, [Subscription("amazon")], "en", NOW).decode()


def test_superseded_rules_are_left_out(catalog: Catalog) -> None:
    rules = {rule_of(e) for e in events_of(calendar_ics(catalog, [Subscription("us-customs")], "en", NOW))}
    assert DE_MINIMIS in rules
    assert SUPERSEDED not in rules
    assert not {r for r in rules if catalog.rules[r].superseded_by is not None}


def test_both_languages(catalog: Catalog) -> None:
    subscriptions = [Subscription("amazon", "US", "fees")]
    en = {str(e["UID"]): e for e in events_of(calendar_ics(catalog, subscriptions, "en", NOW))}
    zh = {str(e["UID"]): e for e in events_of(calendar_ics(catalog, subscriptions, "zh", NOW))}
    assert en.keys() == zh.keys()  # the same occurrences, the same UIDs
    uid = f"{HOLIDAY_PEAK}/peak-start/2025-10-15@policybot"
    label = catalog.rules[HOLIDAY_PEAK].events[0].label
    assert str(en[uid]["SUMMARY"]) == f"Amazon: {label.en}"
    assert str(zh[uid]["SUMMARY"]) == f"亚马逊: {label.zh}"
    assert str(zh[uid]["DESCRIPTION"]).startswith(catalog.rules[HOLIDAY_PEAK].title.zh)
    assert str(zh[uid]["DESCRIPTION"]).endswith(f"在机器人中查看：/rule {HOLIDAY_PEAK}")


def test_tracks_become_all_day_events(catalog: Catalog) -> None:
    tracks = [
        ("INFORM: answer the request", "amazon-us-inform-consumers-act", dt.date(2025, 6, 11)),
        ("New account exemption ends", "amazon-us-low-inventory-fee-2024", dt.date(2026, 3, 1)),
        ("New parent ASIN exemption ends", "amazon-us-low-inventory-fee-2024", dt.date(2026, 3, 1)),
        ("INFORM: answer the request", "amazon-us-inform-consumers-act", dt.date(2025, 6, 11)),  # twice
    ]
    events = events_of(calendar_ics(catalog, [], "zh", NOW, tracks=tracks))
    assert len(events) == 3
    assert len({str(e["UID"]) for e in events}) == 3
    first = events[0]
    assert first.decoded("DTSTART") == dt.date(2025, 6, 11)
    assert first.decoded("DTEND") == dt.date(2025, 6, 12)
    assert str(first["SUMMARY"]) == "我的截止日期：INFORM: answer the request"
    assert "/rule amazon-us-inform-consumers-act" in str(first["DESCRIPTION"])
    assert first.decoded("DTSTAMP") == NOW


def test_text_from_policy_files_is_escaped_not_broken() -> None:
    # Commas, semicolons and newlines are escaped by icalendar; a parsed summary equals the original.
    catalog = load_catalog(POLICIES)
    events = events_of(calendar_ics_all(catalog, "en", NOW))
    with_punctuation = [e for e in events if ";" in str(e["SUMMARY"]) or "," in str(e["SUMMARY"])]
    assert with_punctuation
    for event in with_punctuation:
        rule = catalog.rules[rule_of(event)]
        event_id = str(event["UID"]).split("/")[1]
        label = next(e.label.en for e in rule.events if e.id == event_id)
        approximate = (
            " (approximate date)" if next(e for e in rule.events if e.id == event_id).approximate else ""
        )
        assert str(event["SUMMARY"]).endswith(label + approximate)


def test_bad_arguments_are_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar_ics(catalog, [], "en", dt.datetime(2025, 6, 1))
    with pytest.raises(ValueError, match="horizon"):
        calendar_ics(catalog, [], "en", NOW, horizon_days=-1)
