"""The dispatcher over the `Sender` protocol alone: a scripted in-test channel (the outside world, not our
code) answers each kind of result, and the outbox, the chats and the report follow. Real SQLite under
tmp_path; no Telegram anywhere."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answers.reply import Button
from bot.backoff import Backoff
from bot.clock import Clock
from bot.reminders.dispatcher import Dispatcher
from bot.reminders.outbox import Delivery, Outbox, Planned
from bot.reminders.sender import (
    Blocked,
    ChatMoved,
    Destination,
    Failed,
    Keyboard,
    Limits,
    OutgoingMessage,
    RetryLater,
    Sender,
    SendResult,
    Sent,
    TextFormat,
)
from bot.store import ChatSettings, Store

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
CHAT, OTHER, GROUP, SUPERGROUP = 21, 22, -4002, -1009876543210
QUICK = Limits(global_per_second=1000, per_chat_per_second=100, per_group_per_minute=6000)


class ScriptedSender:
    """A channel that answers from a script: per destination, the outcomes of its next sends (a result,
    or an exception to raise); once a destination's script is used up, every send there is Sent."""

    def __init__(self, script: dict[Destination, list[SendResult | Exception]] | None = None) -> None:
        self.script = script or {}
        self.calls: list[tuple[Destination, OutgoingMessage]] = []
        self._limits = QUICK

    @property
    def limits(self) -> Limits:
        return self._limits

    async def send(self, destination: Destination, message: OutgoingMessage) -> SendResult:
        self.calls.append((destination, message))
        outcomes = self.script.get(destination)
        if outcomes:
            outcome = outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        return Sent(1000 + len(self.calls))


def render(deliveries: list[Delivery], settings: ChatSettings) -> tuple[str, Keyboard]:
    text = "\n".join(f"<b>#{d.id}</b> due &amp; soon" for d in deliveries)
    return text, tuple((Button(f"done #{d.id}", f"rem:done:{d.id}"),) for d in deliveries)


class SteppingClock(Clock):
    """The bot's clock, which a test can move forward (time passing without waiting for it)."""

    def advance(self, seconds: float) -> None:
        self._offset += seconds


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(NOW)


@pytest.fixture
def store(tmp_path: Path, clock: SteppingClock) -> Iterator[Store]:
    with Store(tmp_path / "policybot.db", clock=clock) as opened:
        for chat_id in (CHAT, OTHER):
            opened.ensure_chat(chat_id, "private", None, "en")
        opened.ensure_chat(GROUP, "group", "Sellers", "en")
        yield opened


def queue(store: Store, chat_id: int) -> int:
    """One alert for the chat, due a minute ago; its delivery id."""
    due = store.clock.now() - dt.timedelta(minutes=1)
    Outbox(store).enqueue([Planned(chat_id, "alert", f"change:{chat_id}", 0, due, None, {})])
    [row] = Outbox(store).pending_for_chat(chat_id, limit=10)
    return row.id


def row(store: Store, delivery_id: int) -> Delivery:
    found = Outbox(store).get(delivery_id)
    assert found is not None
    return found


def dispatcher(sender: Sender, store: Store, **options: object) -> Dispatcher:
    settings: dict[str, object] = {"backoff": 10.0, "max_backoff": 60.0, "rng": random.Random(3)}
    settings.update(options)
    return Dispatcher(sender, store, render, **settings)  # type: ignore[arg-type]


async def test_sent_marks_the_row_with_the_message_id_and_passes_html_and_neutral_buttons(
    store: Store,
) -> None:
    delivery_id = queue(store, CHAT)
    sender = ScriptedSender({CHAT: [Sent(777)]})
    report = await dispatcher(sender, store).dispatch_due()
    assert (report.sent, report.messages, report.failed, report.retried) == (1, 1, 0, 0)
    assert (row(store, delivery_id).status, row(store, delivery_id).message_id) == ("sent", 777)
    [(destination, message)] = sender.calls
    assert destination == CHAT
    assert message == OutgoingMessage(
        f"<b>#{delivery_id}</b> due &amp; soon",
        TextFormat.HTML,
        ((Button(f"done #{delivery_id}", f"rem:done:{delivery_id}"),),),
    )


async def test_retry_later_puts_the_row_back_after_the_channels_seconds_and_pauses_sending(
    store: Store,
) -> None:
    delivery_id = queue(store, CHAT)
    sender = ScriptedSender({CHAT: [RetryLater(30)]})
    before = store.clock.now()
    sending = dispatcher(sender, store)
    report = await sending.dispatch_due()
    after = store.clock.now()
    assert (report.retried, report.sent, report.failed) == (1, 0, 0)
    again = row(store, delivery_id)
    assert again.status == "pending" and again.last_error == "flood control: retry after 30 s"
    # Stored to the second: due again 30 s after the answer, not before.
    assert before + dt.timedelta(seconds=29) <= again.due_at <= after + dt.timedelta(seconds=30)
    assert sending.window.floods == 1  # the bot's window paused: every send waits, not just this chat's


async def test_blocked_deactivates_the_chat_and_fails_its_rows(store: Store) -> None:
    delivery_id = queue(store, CHAT)
    other_id = queue(store, OTHER)
    sender = ScriptedSender({CHAT: [Blocked("Forbidden: bot was blocked by the user")]})
    report = await dispatcher(sender, store).dispatch_due()
    assert (report.blocked, report.sent) == (1, 1)
    assert row(store, delivery_id).status == "failed"
    assert row(store, delivery_id).last_error == "Forbidden: bot was blocked by the user"
    settings = store.chat(CHAT)
    assert settings is not None and not settings.active
    assert row(store, other_id).status == "sent"  # one chat's answer never stops the others


async def test_chat_moved_follows_the_group_and_sends_there(store: Store) -> None:
    delivery_id = queue(store, GROUP)
    sender = ScriptedSender({GROUP: [ChatMoved(SUPERGROUP)]})
    report = await dispatcher(sender, store).dispatch_due()
    assert (report.migrated, report.sent) == (1, 1)
    assert [destination for destination, _ in sender.calls] == [GROUP, SUPERGROUP]
    assert row(store, delivery_id).status == "sent"
    assert store.chat(GROUP) is None and store.chat(SUPERGROUP) is not None


async def test_a_chat_that_keeps_moving_is_given_up(store: Store) -> None:
    delivery_id = queue(store, GROUP)
    hops = [GROUP - n for n in range(10)]
    sender = ScriptedSender({hop: [ChatMoved(hops[index + 1])] for index, hop in enumerate(hops[:-1])})
    report = await dispatcher(sender, store).dispatch_due()
    assert (report.sent, report.failed) == (0, 1)
    assert "migrated more than" in str(row(store, delivery_id).last_error)
    assert len(sender.calls) == 4  # the first try and three migrations followed


async def test_a_permanent_failure_fails_the_row_at_once(store: Store) -> None:
    delivery_id = queue(store, CHAT)
    sender = ScriptedSender({CHAT: [Failed("refused: chat not found", transient=False)]})
    report = await dispatcher(sender, store).dispatch_due()
    assert (report.failed, report.retried) == (1, 0)
    assert row(store, delivery_id).status == "failed"
    assert row(store, delivery_id).last_error == "refused: chat not found"
    settings = store.chat(CHAT)
    assert settings is not None and settings.active  # refused, not blocked


@pytest.mark.parametrize(
    "outcome",
    [Failed("NetworkError: Bad Gateway", transient=True), RuntimeError("a bug on our side")],
    ids=["transient", "exception"],
)
async def test_a_transient_failure_or_an_exception_is_retried_after_a_backoff(
    store: Store, outcome: SendResult | Exception
) -> None:
    delivery_id = queue(store, CHAT)
    sender = ScriptedSender({CHAT: [outcome]})
    before = store.clock.now()
    report = await dispatcher(sender, store, backoff=10.0).dispatch_due()
    after = store.clock.now()
    assert (report.retried, report.failed, report.sent) == (1, 0, 0)
    again = row(store, delivery_id)
    assert again.status == "pending" and again.attempts == 1
    # The first retry waits 5-10 s (10 s, jittered by 0.5-1), to the second.
    assert before + dt.timedelta(seconds=4) <= again.due_at <= after + dt.timedelta(seconds=10)
    assert "Bad Gateway" in str(again.last_error) or "a bug on our side" in str(again.last_error)


async def test_transient_failures_end_in_failed_after_max_attempts(
    store: Store, clock: SteppingClock
) -> None:
    delivery_id = queue(store, CHAT)
    sender = ScriptedSender({CHAT: [Failed("TimedOut: timed out", transient=True)] * 3})
    sending = dispatcher(sender, store, max_attempts=2)
    first = await sending.dispatch_due()
    clock.advance(120)  # the backoff (at most 10 s) has passed
    second = await sending.dispatch_due()
    assert (first.retried, second.failed) == (1, 1)
    assert row(store, delivery_id).status == "failed"
    assert row(store, delivery_id).last_error == "TimedOut: timed out (after 2 attempts)"
    assert len(sender.calls) == 2


def test_the_dispatcher_takes_its_limits_from_the_sender_unless_told(store: Store) -> None:
    sender = ScriptedSender()
    assert dispatcher(sender, store).limits == QUICK
    mine = Limits(global_per_second=5)
    assert dispatcher(sender, store, limits=mine).limits == mine


# --- the retry policy shared with replies (bot/backoff.py) ---


def test_backoff_doubles_up_to_its_cap_with_jitter_and_obeys_retry_after() -> None:
    policy = Backoff(first=2.0, cap=10.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 10.0), (9, 10.0)]:
        wait = policy.next_wait(attempt, rng)
        assert wait is not None and ceiling / 2 <= wait <= ceiling
    assert Backoff(first=2.0, cap=10.0, retry_after_margin=0.1).next_wait(5, rng, retry_after=30) == 30.1


def test_backoff_gives_up_after_max_attempts_or_past_its_deadline() -> None:
    rng = random.Random(2)
    limited = Backoff(first=1.0, cap=1.0, max_attempts=3)
    assert limited.next_wait(2, rng) is not None
    assert limited.next_wait(3, rng) is None
    assert limited.next_wait(3, rng, retry_after=5) == 5  # flow control does not use up attempts
    timed = Backoff(first=1.0, cap=1.0, deadline=10.0)
    assert timed.next_wait(1, rng, elapsed=9.0) is not None  # 0.5-1 s: ends by 10 s
    assert timed.next_wait(1, rng, elapsed=9.6) is None  # at least 0.5 s: past 10 s
    assert timed.next_wait(1, rng, retry_after=3, elapsed=8.0) is None  # 11 s: past the deadline


@pytest.mark.parametrize(
    "settings",
    [{"first": -1.0, "cap": 1.0}, {"first": 1.0, "cap": -1.0}, {"first": 1.0, "cap": 1.0, "max_attempts": 0}],
)
def test_backoff_refuses_nonsense(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**settings)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Backoff(first=1.0, cap=1.0).delay(0, random.Random())
