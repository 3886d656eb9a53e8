"""Personal countdowns: names in both languages, days from the catalog, adding, listing, removing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_planner import demo_catalog

from bot.catalog.load import Catalog
from bot.errors import UserInputError
from bot.i18n import t
from bot.reminders.outbox import Outbox
from bot.reminders.planner import plan_all
from bot.reminders.tracks import (
    MAX_TRACKS_PER_CHAT,
    TRACKABLE,
    add_track,
    find_trackable,
    list_tracks,
    remove_track,
)
from bot.store import Store, Subscription, UnknownChat

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
TODAY_SHANGHAI = dt.date(2026, 11, 25)
CHAT, OTHER = 7, 8


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def store(store: Store) -> Store:
    store.ensure_chat(CHAT, "private", None, "zh")  # Asia/Shanghai by default
    store.ensure_chat(OTHER, "private", None, "en")
    return store


def test_the_mapping_names_four_countdowns() -> None:
    assert [countdown.name for countdown in TRACKABLE] == [
        "inform",
        "new-account",
        "new-asin",
        "temu-exemption",
    ]


@pytest.mark.parametrize(
    ("word", "name", "rule_id", "days"),
    [
        ("inform", "inform", "amazon-us-inform-consumers-act", 10),
        ("INFORM", "inform", "amazon-us-inform-consumers-act", 10),
        ("验证", "inform", "amazon-us-inform-consumers-act", 10),
        ("认证", "inform", "amazon-us-inform-consumers-act", 10),
        ("amazon-us-inform-consumers-act", "inform", "amazon-us-inform-consumers-act", 10),
        ("new-account", "new-account", "amazon-us-low-inventory-fee-2024", 365),
        ("New Account", "new-account", "amazon-us-low-inventory-fee-2024", 365),
        ("新账户", "new-account", "amazon-us-low-inventory-fee-2024", 365),
        ("新账号", "new-account", "amazon-us-low-inventory-fee-2024", 365),
        ("new_asin", "new-asin", "amazon-us-low-inventory-fee-2024", 180),
        ("新ASIN", "new-asin", "amazon-us-low-inventory-fee-2024", 180),
        ("新asin", "new-asin", "amazon-us-low-inventory-fee-2024", 180),
        ("新品", "new-asin", "amazon-us-low-inventory-fee-2024", 180),
        ("temu-exemption", "temu-exemption", "temu-one-click-30-day-exemption", 30),
        ("Temu", "temu-exemption", "temu-one-click-30-day-exemption", 30),
        ("豁免", "temu-exemption", "temu-one-click-30-day-exemption", 30),
    ],
)
def test_find_trackable_in_english_and_chinese(
    catalog: Catalog, word: str, name: str, rule_id: str, days: int
) -> None:
    found = find_trackable(catalog, word)
    assert found is not None
    assert (found.name, found.rule_id, found.days) == (name, rule_id, days)
    assert found.days == int(found.number.value)  # the catalog's figure, not a constant


@pytest.mark.parametrize("word", ["", "  ", "coupon", "amazon-us-low-inventory-fee-2024", "informs"])
def test_unknown_words_find_nothing(catalog: Catalog, word: str) -> None:
    # The low-inventory rule carries two countdowns: its id alone does not say which.
    assert find_trackable(catalog, word) is None


def test_the_days_come_from_the_catalog(tmp_path: Path, store: Store) -> None:
    catalog = demo_catalog(tmp_path / "policies", response_days=15)
    found = find_trackable(catalog, "inform")
    assert found is not None and (found.rule_id, found.days) == ("demo-inform", 15)
    track = add_track(store, catalog, CHAT, "inform", dt.date(2026, 11, 20))
    assert track.deadline == dt.date(2026, 12, 5)
    # A catalog without the rule has no such countdown.
    assert find_trackable(catalog, "temu-exemption") is None


def test_add_list_and_remove(store: Store, catalog: Catalog) -> None:
    inform = add_track(store, catalog, CHAT, "验证", dt.date(2026, 11, 20))
    assert (inform.chat_id, inform.rule_id, inform.number_id) == (
        CHAT,
        "amazon-us-inform-consumers-act",
        "response-days",
    )
    assert (inform.start_date, inform.deadline) == (dt.date(2026, 11, 20), dt.date(2026, 11, 30))
    asin = add_track(store, catalog, CHAT, "new-asin", dt.date(2026, 11, 1))
    assert asin.deadline == dt.date(2027, 4, 30)
    assert add_track(store, catalog, CHAT, "inform", dt.date(2026, 11, 20)) == inform  # the same, once
    assert list_tracks(store, CHAT) == [inform, asin]  # soonest deadline first
    assert list_tracks(store, OTHER) == []
    assert not remove_track(store, OTHER, inform.id)  # not that chat's countdown
    assert remove_track(store, CHAT, inform.id)
    assert not remove_track(store, CHAT, inform.id)
    assert list_tracks(store, CHAT) == [asin]


def test_boundaries_of_the_start_date(store: Store, catalog: Catalog) -> None:
    # Today in Shanghai is 2026-11-25: a countdown ending today is still running.
    ends_today = add_track(store, catalog, CHAT, "inform", TODAY_SHANGHAI - dt.timedelta(days=10))
    assert ends_today.deadline == TODAY_SHANGHAI
    with pytest.raises(UserInputError) as passed:
        add_track(store, catalog, CHAT, "inform", TODAY_SHANGHAI - dt.timedelta(days=11))
    assert passed.value.key == "track_error_deadline_passed"
    assert passed.value.values["days"] == 1
    add_track(store, catalog, CHAT, "new-account", TODAY_SHANGHAI + dt.timedelta(days=366))
    with pytest.raises(UserInputError) as far:
        add_track(store, catalog, CHAT, "new-account", TODAY_SHANGHAI + dt.timedelta(days=367))
    assert far.value.key == "track_error_too_far"


def test_errors_render_in_both_languages(store: Store, catalog: Catalog) -> None:
    with pytest.raises(UserInputError) as unknown:
        add_track(store, catalog, CHAT, "<coupon>", TODAY_SHANGHAI)
    assert unknown.value.key == "track_error_unknown"
    english = t("en", unknown.value.key, **unknown.value.values)
    chinese = t("zh", unknown.value.key, **unknown.value.values)
    assert "&lt;coupon&gt;" in english and "inform, new-account, new-asin, temu-exemption" in english
    assert "&lt;coupon&gt;" in chinese and "倒计时" in chinese


def test_a_chat_has_at_most_so_many_countdowns(store: Store, catalog: Catalog) -> None:
    for offset in range(MAX_TRACKS_PER_CHAT):
        add_track(store, catalog, CHAT, "new-account", TODAY_SHANGHAI - dt.timedelta(days=offset))
    with pytest.raises(UserInputError) as caught:
        add_track(store, catalog, CHAT, "inform", TODAY_SHANGHAI)
    assert caught.value.key == "track_error_too_many"
    assert len(list_tracks(store, CHAT)) == MAX_TRACKS_PER_CHAT
    add_track(store, catalog, OTHER, "inform", TODAY_SHANGHAI)  # another chat is not limited by it


def test_an_unknown_chat_is_refused(store: Store, catalog: Catalog) -> None:
    with pytest.raises(UnknownChat):
        add_track(store, catalog, 999, "inform", TODAY_SHANGHAI)


def test_removing_a_countdown_withdraws_its_reminders_at_once(store: Store, catalog: Catalog) -> None:
    store.subscribe(CHAT, [Subscription("amazon", "US", "*")])
    track = add_track(store, catalog, CHAT, "inform", TODAY_SHANGHAI)
    plan_all(store, catalog, [CHAT])
    outbox = Outbox(store)
    mine = [d for d in outbox.pending_for_chat(CHAT, 100) if d.key == track.key]
    assert {d.lead for d in mine} == {7, 1, 0}  # 30 days before is already past
    assert outbox.snooze(mine[0].id, CHAT, NOW + dt.timedelta(days=1))
    others = [d for d in outbox.pending_for_chat(CHAT, 100) if d.key != track.key]
    assert others
    remove_track(store, CHAT, track.id)
    left = outbox.pending_for_chat(CHAT, 100)
    assert [d.key for d in left if d.key == track.key] == []  # the snoozed copy too
    assert [d.id for d in left] == [d.id for d in others]  # nothing else touched
