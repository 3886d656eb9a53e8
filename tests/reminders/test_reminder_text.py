"""What a reminder says, in both languages: days left, both zones, late, digests, vanished rules, buttons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.catalog.load import Catalog, load_catalog
from bot.i18n import to_plain_text
from bot.reminders.outbox import Delivery
from bot.reminders.text import MAX_MESSAGE_CHARS, SUMMARY_CHARS, reminder_keyboard, render_digest, what_to_do
from bot.store import ChatSettings

NOW = dt.datetime(2026, 2, 22, 1, 0, tzinfo=dt.UTC)  # 2026-02-22 09:00 in Shanghai

LONG_EN = " ".join(
    f"Sentence number {n} says what sellers must do about the fee of $0.32." for n in range(12)
)
LONG_ZH = "".join(f"第{n}句说明卖家需要为0.32美元的费用做什么。" for n in range(30))

POLICY = f"""
platform = "demo"
name = {{ en = "Demo Shop", zh = "示例商城" }}
time_zone = "America/New_York"
marketplace_zones = {{ US = "America/Los_Angeles" }}

[[rules]]
id = "demo-fee"
marketplaces = ["US"]
topic = "fees"
title = {{ en = "Demo fee & more", zh = "示例费用" }}
summary = {{ en = "{LONG_EN}", zh = "{LONG_ZH}" }}
confidence = "high"
conditions = [{{ en = "Only <big> sellers.", zh = "仅限大卖家。" }}]
sources = [{{ url = "https://example.com/fee", says = "fee", confidence = "high" }}]

[[rules.numbers]]
id = "response-days"
value = 10
unit = "days"
label = {{ en = "Days to answer", zh = "回复期限" }}

[[rules.events]]
id = "effective"
kind = "effective"
date = 2026-03-01
label = {{ en = "Fee <starts>", zh = "费用开始收取" }}

[[rules.events]]
id = "cutoff"
kind = "deadline"
date = 2026-03-01
time = "23:59"
time_zone = "America/Los_Angeles"
label = {{ en = "Cut-off", zh = "截止" }}

[[rules]]
id = "demo-short"
marketplaces = ["US", "DE"]
topic = "fees"
title = {{ en = "Short rule", zh = "短规则" }}
summary = {{ "en" = "{"A very long first sentence without any stop " * 12}", zh = "短。" }}
confidence = "high"
conditions = [{{ en = "Pay the deposit before the date.", zh = "日期前缴纳保证金。" }}]
sources = [{{ url = "https://example.com/s", says = "s", confidence = "high" }}]

[[rules.events]]
id = "today"
kind = "deadline"
date = 2026-02-22
label = {{ en = "Due today", zh = "今天到期" }}
"""


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder: Path = tmp_path_factory.mktemp("policies")
    (folder / "demo.toml").write_text(POLICY, encoding="utf-8")
    return load_catalog(folder)


def chat(lang: str = "en", zone: str = "Asia/Shanghai") -> ChatSettings:
    return ChatSettings(1, "private", None, lang, zone, "09:00", (7, 1, 0), None, None, True, "")


def delivery(
    kind: str = "reminder",
    payload: dict[str, Any] | None = None,
    *,
    id: int = 11,
    key: str = "demo-fee/effective/2026-03-01",
    late: bool = False,
    event_date: dt.date | None = dt.date(2026, 3, 1),
) -> Delivery:
    if payload is None:
        payload = {"rule_id": "demo-fee", "event_id": "effective", "date": "2026-03-01"}
    return Delivery(
        id=id,
        chat_id=1,
        kind=kind,
        key=key,
        lead=7,
        due_at=NOW,
        event_date=event_date,
        payload=payload,
        status="sending",
        late=late,
        attempts=1,
        last_error=None,
        message_id=None,
    )


def track(id: int = 12) -> Delivery:
    payload = {
        "track_id": 3,
        "rule_id": "demo-fee",
        "number_id": "response-days",
        "start_date": "2026-02-20",
        "deadline": "2026-03-02",
    }
    return delivery("track", payload, id=id, key="track:3", event_date=dt.date(2026, 3, 2))


def alert(id: int = 13, rule_id: str | None = "demo-fee") -> Delivery:
    payload: dict[str, Any] = {
        "summary_en": "Demo moved the fee date: 2026-02-20 -> 2026-03-01 <now>",
        "summary_zh": "示例商城调整了收费日期：2026-02-20 -> 2026-03-01",
    }
    if rule_id:
        payload["rule_id"] = rule_id
    return delivery("alert", payload, id=id, key="change:5", event_date=None)


def test_one_reminder_in_english(catalog: Catalog) -> None:
    text = render_digest(catalog, [delivery()], chat("en"), NOW)
    plain = to_plain_text(text)
    assert plain.startswith("🔔 Fee <starts>")
    assert "&lt;starts&gt;" in text  # the label is escaped in the markup
    assert "Demo Shop · US · in 7 days" in plain
    assert "2026-03-01 (a date in US Pacific time)" in plain  # the marketplace's zone
    assert "Sentence number 0 says" in plain
    assert "demo-fee" not in plain  # sellers see names, not ids (#17)
    assert "late" not in plain


def test_one_reminder_in_chinese(catalog: Catalog) -> None:
    plain = to_plain_text(render_digest(catalog, [delivery()], chat("zh"), NOW))
    assert plain.startswith("🔔 费用开始收取")
    assert "示例商城 · US · 7 天后" in plain
    assert "第0句" in plain and "demo-fee" not in plain
    assert "2026-03-01（按美国太平洋时间）" in plain


def test_a_timed_event_shows_the_platforms_zone_and_the_chats(catalog: Catalog) -> None:
    payload = {"rule_id": "demo-fee", "event_id": "cutoff", "date": "2026-03-01"}
    plain = to_plain_text(render_digest(catalog, [delivery(payload=payload)], chat("en"), NOW))
    assert "2026-03-01 23:59 US Pacific time (= 2026-03-02 15:59 Beijing time)" in plain
    # Days left count to the moment in the chat's own zone: the 2nd in Shanghai.
    assert "in 8 days" in plain
    berlin = to_plain_text(
        render_digest(catalog, [delivery(payload=payload)], chat("en", "Europe/Berlin"), NOW)
    )
    assert "(= 2026-03-02 08:59 Europe/Berlin)" in berlin


@pytest.mark.parametrize(
    ("lang", "date", "expected"),
    [
        ("en", "2026-02-22", "today"),
        ("en", "2026-02-23", "tomorrow"),
        ("zh", "2026-02-22", "今天"),
        ("zh", "2026-02-23", "明天"),
    ],
)
def test_today_and_tomorrow(catalog: Catalog, lang: str, date: str, expected: str) -> None:
    payload = {"rule_id": "demo-fee", "event_id": "effective", "date": date}
    plain = to_plain_text(render_digest(catalog, [delivery(payload=payload)], chat(lang), NOW))
    assert f"· {expected}" in plain


@pytest.mark.parametrize(("lang", "marker"), [("en", "late: the bot could not send"), ("zh", "迟到")])
def test_the_late_marker(catalog: Catalog, lang: str, marker: str) -> None:
    assert marker in to_plain_text(render_digest(catalog, [delivery(late=True)], chat(lang), NOW))
    assert marker not in to_plain_text(render_digest(catalog, [delivery(late=False)], chat(lang), NOW))


def test_what_to_do_is_shortened_sensibly(catalog: Catalog) -> None:
    english = what_to_do(catalog.rules["demo-fee"], "en")
    assert len(english) <= SUMMARY_CHARS["en"] and english.endswith(
        "$0.32."
    )  # whole sentences; "0.32" is no end
    chinese = what_to_do(catalog.rules["demo-fee"], "zh")
    assert len(chinese) <= SUMMARY_CHARS["zh"] and chinese.endswith("。")
    assert len(chinese) > SUMMARY_CHARS["zh"] - 25  # as many whole sentences as fit
    # A first sentence too long to fit gives way to the rule's condition.
    assert what_to_do(catalog.rules["demo-short"], "en") == "Pay the deposit before the date."
    assert what_to_do(catalog.rules["demo-short"], "zh") == "短。"


def test_a_digest_of_three_in_both_languages(catalog: Catalog) -> None:
    items = [delivery(), track(), alert()]
    english = to_plain_text(render_digest(catalog, items, chat("en"), NOW))
    assert english.startswith("🔔 3 reminders")
    assert "1. 🔔 Fee <starts>" in english
    assert "2. ⏳ Demo fee & more" in english
    assert "Days to answer: 10 days from 2026-02-20. Deadline 2026-03-02 — in 8 days." in english
    assert "3. 📣 Policy change" in english
    assert "Demo moved the fee date: 2026-02-20 -> 2026-03-01 <now>" in english
    chinese = to_plain_text(render_digest(catalog, items, chat("zh"), NOW))
    assert chinese.startswith("🔔 3 条提醒")
    assert "示例商城调整了收费日期" in chinese and "政策变化" in chinese
    assert "回复期限：自 2026-02-20 起 10 天。截止日期 2026-03-02 — 8 天后。" in chinese


def test_a_vanished_rule_or_event_renders_an_honest_line(catalog: Catalog) -> None:
    gone_rule = delivery(payload={"rule_id": "demo-withdrawn", "event_id": "effective", "date": "2026-03-01"})
    gone_event = delivery(payload={"rule_id": "demo-fee", "event_id": "renamed", "date": "2026-03-01"}, id=12)
    for lang, words in (("en", "no longer in the catalog"), ("zh", "已不在规则库中")):
        text = to_plain_text(render_digest(catalog, [gone_rule], chat(lang), NOW))
        assert words in text and "demo-withdrawn" not in text
        digest = to_plain_text(render_digest(catalog, [gone_event, delivery(id=13)], chat(lang), NOW))
        assert "demo-fee/renamed" not in digest and words in digest
    orphan_track = track()
    orphan_track.payload["rule_id"] = "demo-withdrawn"
    plain = to_plain_text(render_digest(catalog, [orphan_track], chat("en"), NOW))
    assert "deadline 2026-03-02 — in 8 days" in plain and "no longer in the catalog" in plain
    # An alert about a withdrawn rule does not link a card that no longer exists.
    assert "/rule" not in to_plain_text(
        render_digest(catalog, [alert(rule_id="demo-withdrawn")], chat("en"), NOW)
    )
    assert "demo-fee" not in to_plain_text(render_digest(catalog, [alert()], chat("en"), NOW))  # no ids (#17)


def test_a_snoozed_reminder_says_so_and_a_snoozed_countdown_stays_a_countdown(catalog: Catalog) -> None:
    snoozed = delivery(
        "snooze", {"rule_id": "demo-fee", "event_id": "effective", "date": "2026-03-01", "snoozed": True}
    )
    assert "(snoozed)" in to_plain_text(render_digest(catalog, [snoozed], chat("en"), NOW))
    countdown = track()
    countdown_snoozed = delivery("snooze", {**countdown.payload, "snoozed": True}, key="track:3")
    plain = to_plain_text(render_digest(catalog, [countdown_snoozed], chat("en"), NOW))
    assert plain.startswith("⏳ Demo fee & more (snoozed)") and "Deadline 2026-03-02" in plain


def test_an_oversized_digest_stays_within_telegrams_limit(catalog: Catalog) -> None:
    many = [delivery(id=n) for n in range(60)]
    text = render_digest(catalog, many, chat("en"), NOW)
    assert len(text) <= MAX_MESSAGE_CHARS
    assert "👉" not in text  # the "what to do" lines went first
    assert "more that do not fit in one message" in to_plain_text(text)
    assert render_digest(catalog, [], chat("en"), NOW) == ""


def test_buttons_for_one_reminder() -> None:
    keyboard = reminder_keyboard([delivery(id=11)])
    [[done, snooze]] = keyboard
    assert (done.label, done.data) == ("✅ Done", "rem:done:11")
    assert (snooze.label, snooze.data) == ("⏰ Snooze 1 day", "rem:snooze:11")
    chinese = reminder_keyboard([delivery(id=11)], lang="zh")
    assert [button.label for button in chinese[0]] == ["✅ 已处理", "⏰ 1 天后再提醒"]


def test_buttons_for_a_digest_name_each_item_and_skip_alerts(catalog: Catalog) -> None:
    keyboard = reminder_keyboard(
        [delivery(id=11), alert(id=12), track(id=10**12 - 1)], lang="en", catalog=catalog
    )
    rows = keyboard
    assert len(rows) == 2
    assert rows[0][0].label == "✅ Done: 1. Fee <starts>"  # plain text: not escaped
    assert rows[0][1].label == "⏰ 1: snooze 1 day"
    assert rows[1][0].label.startswith("✅ Done: 3. Demo fee & more")
    for row in rows:
        for button in row:
            assert isinstance(button.data, str) and len(button.data.encode()) <= 64
    assert rows[1][1].data == f"rem:snooze:{10**12 - 1}"
    # Without the catalog an item is named by its rule id, cut short.
    bare = reminder_keyboard([delivery(id=11), track(id=12)])
    assert bare and bare[0][0].label == "✅ Done: 1. demo-fee"
    assert reminder_keyboard([alert()]) == ()
    assert reminder_keyboard([]) == ()
