"""Destinations in the store and the outbox: their own chat ids, planned in their own zone and language,
mirror copies queued once and re-planning leaving them alone, routed by the dispatcher without touching
Telegram's limits, following a group that became a supergroup."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.catalog import Catalog
from bot.channels import (
    DESTINATION_BASE,
    Kind,
    add_destination,
    destinations,
    is_destination,
    mirror_copies,
    remove_destination,
    unmirror,
)
from bot.reminders import (
    Delivery,
    Dispatcher,
    Failed,
    Keyboard,
    Limits,
    Outbox,
    OutgoingMessage,
    Planned,
    RetryLater,
    SendResult,
    Sent,
    plan_all,
    render_digest,
)
from bot.store import ChatSettings, Store, Subscription

GROUP = -4001
URL = "https://oapi.dingtalk.com/robot/send?access_token=abc"


DELIVERED = Sent(None)


class Recording:
    """A Sender standing in for a channel: records what it was given, answers what it is told."""

    def __init__(self, answer: SendResult = DELIVERED) -> None:
        self.answer = answer
        self.sent: list[tuple[object, OutgoingMessage]] = []

    @property
    def limits(self) -> Limits:
        return Limits()

    async def send(self, destination: object, message: OutgoingMessage) -> SendResult:
        self.sent.append((destination, message))
        return self.answer


def test_a_destination_is_a_chat_beyond_telegrams_ids_planned_in_its_zone_and_language(
    store: Store, catalog: Catalog
) -> None:
    found = add_destination(
        store, "ny-team", URL, Kind.DINGTALK, language="en", time_zone="America/New_York",
        subscriptions=[Subscription("amazon", "US", "*")],
    )  # fmt: skip
    assert found.chat_id == DESTINATION_BASE + found.id and is_destination(found.chat_id)
    assert not is_destination(-1001234567890123) and not is_destination(2**52)
    assert "abc" not in repr(found) and found.shown_url == "https://oapi.dingtalk.com/…"
    settings = store.chat(found.chat_id)
    assert settings is not None and (settings.language, settings.time_zone) == ("en", "America/New_York")
    plan_all(store, catalog, [found.chat_id])
    pending = Outbox(store).pending_for_chat(found.chat_id, limit=50)
    assert pending
    assert {d.due_at.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") for d in pending} == {"09:00"}
    text = render_digest(catalog, pending[:1], settings, store.clock.now())
    assert "days" in text or "today" in text or "tomorrow" in text  # English, the destination's language


def test_mirror_copies_are_queued_once_and_survive_replanning(store: Store, catalog: Catalog) -> None:
    store.ensure_chat(GROUP, "group", "Sellers", "zh")
    store.subscribe(GROUP, [Subscription("amazon")])
    mirror = add_destination(store, "lark", URL, Kind.DINGTALK, mirror_of=GROUP)
    other = add_destination(store, "off", URL, Kind.DINGTALK, mirror_of=GROUP)
    remove_destination(store, "off")
    plan_all(store, catalog)
    rows = Outbox(store).pending_for_chat(GROUP, limit=3)
    broadcast = Planned(GROUP, "broadcast", "b1", 0, store.clock.now(), None, {"text": "hi"})
    Outbox(store).enqueue([broadcast])
    every = Outbox(store).pending_for_chat(GROUP, limit=100)
    assert (
        mirror_copies(store, [d for d in every if d.kind == "broadcast"]) == 0
    )  # it reaches the mirror itself
    assert mirror_copies(store, rows) == 3
    assert mirror_copies(store, rows) == 0  # claimed again after a crash: no second copy
    copies = Outbox(store).pending_for_chat(mirror.chat_id, limit=10)
    assert [c.kind for c in copies] == ["mirror"] * 3
    assert Outbox(store).pending_for_chat(other.chat_id, limit=10) == []
    plan_all(store, catalog)  # the mirror has no subscriptions: re-planning must not withdraw its copies
    assert len(Outbox(store).pending_for_chat(mirror.chat_id, limit=10)) == 3
    restored = unmirror(copies)
    assert [(d.kind, d.key) for d in restored] == [(r.kind, r.key) for r in rows]


def test_a_mirrored_group_that_becomes_a_supergroup_keeps_its_mirrors(store: Store) -> None:
    store.ensure_chat(GROUP, "group", "Sellers", "zh")
    add_destination(store, "lark", URL, Kind.DINGTALK, mirror_of=GROUP)
    store.migrate_chat(GROUP, -1009999)
    assert [d.mirror_of for d in destinations(store)] == [-1009999]


def render(rows: list[Delivery], settings: ChatSettings) -> tuple[str, Keyboard]:
    return "\n".join(f"#{row.id} {row.key}" for row in rows), ()


async def test_the_dispatcher_routes_destinations_and_keeps_telegrams_window_for_telegram(
    store: Store,
) -> None:
    store.ensure_chat(11, "private", None, "en")
    found = add_destination(store, "dt", URL, Kind.DINGTALK)
    now = store.clock.now() - dt.timedelta(minutes=1)
    Outbox(store).enqueue(
        [Planned(11, "broadcast", "b1", 0, now, None, {"text": "hi"}),
         Planned(found.chat_id, "broadcast", "b1", 0, now, None, {"text": "hi"}),
         Planned(found.chat_id, "broadcast", "b2", 0, now, None, {"text": "hi again"})]
    )  # fmt: skip
    telegram, channel = Recording(), Recording(RetryLater(600))
    dispatcher = Dispatcher(telegram, store, render)
    dispatcher.route(is_destination, channel)
    report = await dispatcher.dispatch_due()
    assert [d for d, _ in telegram.sent] == [11]
    assert [d for d, _ in channel.sent] == [found.chat_id]  # one digest of both rows
    assert channel.sent[0][1].text.count("#") == 2
    assert (report.sent, report.retried) == (1, 2)
    assert dispatcher.window.floods == 0  # a robot's "too fast" does not stop Telegram's sends
    channel.answer = Failed("310000 sign not match", transient=False)
    store.db.execute("UPDATE deliveries SET due_at = ? WHERE status = 'pending'", [now.isoformat()])
    store.db.conn.commit()
    report = await dispatcher.dispatch_due()
    assert report.failed == 2
