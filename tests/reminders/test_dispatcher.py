"""The dispatcher end to end: a real SQLite outbox under tmp_path, the real python-telegram-bot Bot over
real HTTP, the strict fake Bot API server with its faults and flood control. Nothing of ours is mocked;
`render` is a parameter of the dispatcher, and the tests pass a plain one that shows the delivery ids,
so what the server delivered can be counted per row."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from fake_telegram import FakeBotAPI
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.answers.reply import Button
from bot.clock import Clock
from bot.reminders.dispatcher import Dispatcher, DispatchReport, Limits, TokenBucket
from bot.reminders.outbox import Delivery, Outbox, Planned
from bot.reminders.pacing import GroupWindow
from bot.reminders.sender import Keyboard
from bot.store import ChatSettings, Store
from bot.telegram_text import TELEGRAM_LIMIT
from bot.tg.sender import TelegramSender

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
ALICE, BOB, CAROL = 11, 12, 13
GROUP, SUPERGROUP = -4001, -1001234567890
MARK = re.compile(r"#(\d+)\b")
FAST = Limits(global_per_second=1000, per_chat_per_second=100, per_group_per_minute=6000)


# --- fixtures and helpers ---


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest_asyncio.fixture
async def bot(fake_telegram: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as opened:
        yield opened


def render(deliveries: list[Delivery], settings: ChatSettings) -> tuple[str, Keyboard]:
    """One line per reminder with its id, and a "done" button per reminder, as the real digest has."""
    lines = [f"<b>#{d.id}</b> {d.payload.get('text', d.key)}" for d in deliveries]
    buttons = tuple((Button(f"done #{d.id}", f"done:{d.id}"),) for d in deliveries)
    return "\n".join(lines), buttons


def dispatcher(bot: Bot, store: Store, **options: object) -> Dispatcher:
    """Fast limits and a tiny backoff, unless a test says otherwise: the suite must stay quick."""
    settings: dict[str, object] = {"limits": FAST, "backoff": 0.05, "rng": random.Random(7)}
    settings.update(options)
    return Dispatcher(TelegramSender(bot), store, render, **settings)  # type: ignore[arg-type]


def chat(store: Store, chat_id: int, kind: str = "private") -> None:
    store.ensure_chat(chat_id, kind, None if kind == "private" else "Sellers", "en")


def queue(
    store: Store, chat_id: int, count: int = 1, *, text: str = "", due: dt.timedelta | None = None
) -> list[int]:
    """`count` rows for the chat, due a minute ago (or at now + `due`); returns their ids."""
    due_at = store.clock.now() + (due if due is not None else dt.timedelta(minutes=-1))
    start = len(Outbox(store).pending_for_chat(chat_id, limit=10_000))
    items = [
        Planned(
            chat_id=chat_id,
            kind="alert",
            key=f"change:{chat_id}:{start + index}:{due_at.timestamp()}",
            lead=0,
            due_at=due_at,
            event_date=None,
            payload={"text": text} if text else {},
        )
        for index in range(count)
    ]
    assert Outbox(store).enqueue(items) == count
    rows = store.db.execute(
        "SELECT id FROM deliveries WHERE chat_id = ? ORDER BY id DESC LIMIT ?", [chat_id, count]
    ).fetchall()
    return sorted(int(row[0]) for row in rows)


def delivered(server: FakeBotAPI, chat_id: int | None = None) -> Counter[int]:
    """How many times the server delivered each delivery id (from the texts it recorded)."""
    return Counter(
        int(found)
        for message in server.sent_messages(chat_id)
        for found in MARK.findall(str(message["text"]))
    )


def status(store: Store, delivery_id: int) -> str:
    row = Outbox(store).get(delivery_id)
    assert row is not None
    return row.status


def attempts(store: Store, delivery_id: int) -> list[str]:
    rows = store.db.execute(
        "SELECT status FROM delivery_attempts WHERE delivery_id = ? ORDER BY id", [delivery_id]
    ).fetchall()
    return [str(row[0]) for row in rows]


def unfinished(store: Store) -> int:
    sql = "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')"
    return int(store.db.execute(sql).fetchone()[0])


async def drain(dispatcher: Dispatcher, store: Store, timeout: float = 20) -> None:
    """Run the dispatcher's loop until no row is pending or in flight (retries included), then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        deadline = time.monotonic() + timeout
        while unfinished(store):
            assert time.monotonic() < deadline, f"still unfinished: {Outbox(store).counts()}"
            assert not task.done(), "run() ended by itself"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)


# --- the token bucket, on a clock the test moves ---


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_starts_with_one_token_so_there_is_no_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(30, clock=clock)
    assert bucket.delay() == 0
    bucket.take()
    assert bucket.delay() == pytest.approx(1 / 30)
    clock.now += 10  # idle for long: still only one token, not 300
    assert bucket.delay() == 0
    bucket.take()
    assert bucket.delay() == pytest.approx(1 / 30)


def test_bucket_reservations_queue_up_evenly_spaced() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0, 0.25, 0.5, 0.75])
    clock.now += 0.5  # two slots have passed; the next caller queues behind the remaining ones
    assert bucket.reserve() == pytest.approx(0.5)


def test_bucket_per_chat_and_per_group_rates() -> None:
    clock = FakeClock()
    per_chat = TokenBucket(1, clock=clock)
    per_group = TokenBucket(20 / 60, clock=clock)
    for bucket in (per_chat, per_group):
        bucket.take()
    clock.now += 0.999
    assert per_chat.delay() == pytest.approx(0.001)
    clock.now += 0.001
    assert per_chat.delay() == 0
    assert per_group.delay() == pytest.approx(2.0)  # 20 a minute: one every 3 s
    clock.now += 2.0
    assert per_group.delay() == 0
    assert per_group.full


def test_bucket_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(1, capacity=0.5)
    with pytest.raises(ValueError):
        Limits(global_per_second=0)
    with pytest.raises(ValueError):
        Limits(headroom=1.5)


# --- digests ---


async def test_rows_due_to_one_chat_go_as_one_digest(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    chat(store, BOB)
    alice = queue(store, ALICE, 3)
    (bob,) = queue(store, BOB)
    later = queue(store, ALICE, due=dt.timedelta(hours=1))  # not due: stays pending

    report = await dispatcher(bot, store).dispatch_due()

    assert report.sent == 4 and report.messages == 2 and report.claimed == 4
    (message,) = fake_telegram.sent_messages(ALICE)
    assert delivered(fake_telegram, ALICE) == Counter(alice)
    assert message["parse_mode"] == "HTML"
    assert len(message["reply_markup"]["inline_keyboard"]) == 3
    assert delivered(fake_telegram, BOB) == Counter([bob])
    # Each row records the Telegram message it went out in.
    message_ids = {Outbox(store).get(row).message_id for row in alice}  # type: ignore[union-attr]
    assert len(message_ids) == 1 and None not in message_ids
    assert [attempts(store, row) for row in alice] == [["sent"]] * 3
    assert status(store, later[0]) == "pending"


async def test_a_digest_too_long_for_one_message_is_split_between_reminders(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    rows = queue(store, ALICE, 7, text="x" * 1500)  # ~10,500 characters in all

    report = await dispatcher(bot, store).dispatch_due()

    messages = fake_telegram.sent_messages(ALICE)
    assert report.sent == 7 and len(messages) == report.messages >= 3
    assert all(len(str(m["text"])) <= TELEGRAM_LIMIT for m in messages)
    assert delivered(fake_telegram, ALICE) == Counter(rows)
    # Each message carries the buttons of its own reminders.
    for message in messages:
        shown = {int(found) for found in MARK.findall(str(message["text"]))}
        buttons = {
            int(row[0]["callback_data"].split(":")[1]) for row in message["reply_markup"]["inline_keyboard"]
        }
        assert buttons == shown


async def test_one_reminder_longer_than_a_message_goes_in_pieces(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    (row,) = queue(store, ALICE, text="word " * 1000)  # 5,000 characters

    report = await dispatcher(bot, store).dispatch_due()

    messages = fake_telegram.sent_messages(ALICE)
    assert report.sent == 1 and len(messages) == report.messages == 2
    assert "reply_markup" not in messages[0] and "reply_markup" in messages[1]
    assert Outbox(store).get(row).message_id == fake_telegram.calls_to("sendMessage")[-1].result["message_id"]  # type: ignore[union-attr]


async def test_rows_of_an_inactive_chat_are_skipped_and_a_render_bug_fails_only_its_chat(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    for chat_id in (ALICE, BOB, CAROL):
        chat(store, chat_id)
    store.set_active(ALICE, False)
    (alice,) = queue(store, ALICE)
    (bob,) = queue(store, BOB)
    (carol,) = queue(store, CAROL)

    def fragile(deliveries: list[Delivery], settings: ChatSettings) -> tuple[str, Keyboard]:
        if settings.chat_id == BOB:
            raise KeyError("a payload without a title")
        return render(deliveries, settings)

    report = await Dispatcher(TelegramSender(bot), store, fragile, limits=FAST).dispatch_due()

    assert (report.skipped, report.failed, report.sent) == (1, 1, 1)
    assert attempts(store, alice) == ["skipped"] and status(store, alice) == "failed"
    assert attempts(store, bob) == ["failed"] and "title" in str(Outbox(store).get(bob).last_error)  # type: ignore[union-attr]
    assert delivered(fake_telegram) == Counter([carol])


# --- pacing ---


async def test_two_messages_to_one_chat_keep_telegrams_one_a_second(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    # The server answers 429 to a second message within a second: pacing must not provoke one.
    fake_telegram.limit_rate(per_chat_per_second=1)
    chat(store, ALICE)
    rows = queue(store, ALICE, 2, text="y" * 3000)  # too long together: two messages

    report = await dispatcher(bot, store, limits=Limits()).dispatch_due()

    assert report.sent == 2 and report.messages == 2 and report.retried == 0
    assert [call.status for call in fake_telegram.calls_to("sendMessage")] == [200, 200]
    assert delivered(fake_telegram) == Counter(rows)


async def test_messages_to_a_group_follow_the_group_rate(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    fake_telegram.add_chat(GROUP, "group", title="Sellers")
    chat(store, GROUP, "group")
    chat(store, ALICE)
    rows = queue(store, GROUP, 3, text="z" * 2500)  # three messages
    (alice,) = queue(store, ALICE)
    # Two a second for the group (a one-second window stands for Telegram's minute), whatever the
    # faster per-chat limit allows.
    groups = GroupWindow(per_minute=2, span=1.0, margin=0.0)

    started = time.monotonic()
    report = await dispatcher(bot, store, groups=groups).dispatch_due()
    elapsed = time.monotonic() - started

    assert report.sent == 4 and delivered(fake_telegram, GROUP) == Counter(rows)
    assert delivered(fake_telegram, ALICE) == Counter([alice])
    # Two go at once, the third when the first leaves the window; a lower bound only, which a slow
    # machine cannot break.
    assert elapsed >= 0.95


async def test_the_overall_rate_has_no_burst_at_start(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    # 20 a second overall, enforced by the server too; 20 chats due at once must not go in one burst.
    fake_telegram.limit_rate(per_second=20)
    for chat_id in range(100, 120):
        chat(store, chat_id)
        queue(store, chat_id)

    started = time.monotonic()
    report = await dispatcher(bot, store, limits=Limits(global_per_second=20)).dispatch_due()
    elapsed = time.monotonic() - started

    assert report.sent == 20
    assert all(call.status == 200 for call in fake_telegram.calls_to("sendMessage"))
    # Spaced at least half of 1/limit apart (the arrival window's spacing), not all at once.
    assert elapsed >= 19 / (2 * 20) * 0.95


# --- Telegram's answers ---


async def test_flood_control_pauses_sending_and_retries_after_retry_after(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    (row,) = queue(store, ALICE)
    fake_telegram.fail_next("sendMessage", "retry_after", retry_after=1)
    sender = dispatcher(bot, store)

    started = time.monotonic()
    first = await sender.dispatch_due()
    assert first.retried == 1 and first.sent == 0
    assert status(store, row) == "pending"
    assert "retry after 1 s" in str(Outbox(store).get(row).last_error)  # type: ignore[union-attr]
    await drain(sender, store)

    assert time.monotonic() - started >= 0.95  # not before retry_after
    assert delivered(fake_telegram) == Counter([row])
    assert attempts(store, row) == ["retry", "sent"]
    assert [call.status for call in fake_telegram.calls_to("sendMessage")] == [429, 200]


async def test_flood_control_holds_back_every_chat_not_just_the_one_refused(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    chat(store, BOB)
    (alice,) = queue(store, ALICE)
    (bob,) = queue(store, BOB)
    fake_telegram.fail_next("sendMessage", "retry_after", chat_id=ALICE, retry_after=1)

    started = time.monotonic()
    report = await dispatcher(bot, store, concurrency=1).dispatch_due()  # Alice first, then Bob

    elapsed = time.monotonic() - started
    assert report.retried == 1
    assert delivered(fake_telegram)[bob] == 1
    assert elapsed >= 0.95  # Bob's message waited out Alice's retry_after
    # (Alice's own row may fall due again within the pass: due times are stored to the second.)
    assert delivered(fake_telegram)[alice] <= 1


async def test_server_errors_are_retried_with_backoff_and_delivered_once(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    (row,) = queue(store, ALICE)
    fake_telegram.fail_next("sendMessage", "server_error", times=2)

    await drain(dispatcher(bot, store), store)

    assert delivered(fake_telegram) == Counter([row])
    assert attempts(store, row) == ["retry", "retry", "sent"]
    assert Outbox(store).get(row).attempts == 3  # type: ignore[union-attr]


async def test_backoff_doubles_with_each_attempt(fake_telegram: FakeBotAPI, bot: Bot, store: Store) -> None:
    chat(store, ALICE)
    (row,) = queue(store, ALICE)
    fake_telegram.fail_next("sendMessage", "server_error", times=2)
    sender = dispatcher(bot, store, backoff=100.0)

    await sender.dispatch_due()
    first = Outbox(store).get(row).due_at - store.clock.now()  # type: ignore[union-attr]
    assert dt.timedelta(seconds=49) <= first <= dt.timedelta(seconds=100)  # 100 s, jitter down to half
    # Make it due again now, as if the backoff had passed.
    store.db.execute("UPDATE deliveries SET due_at = ? WHERE id = ?", [NOW.isoformat(), row])
    await sender.dispatch_due()
    second = Outbox(store).get(row).due_at - store.clock.now()  # type: ignore[union-attr]
    assert dt.timedelta(seconds=99) <= second <= dt.timedelta(seconds=200)


async def test_after_max_attempts_a_row_fails(fake_telegram: FakeBotAPI, bot: Bot, store: Store) -> None:
    chat(store, ALICE)
    chat(store, BOB)
    (row,) = queue(store, ALICE)
    (other,) = queue(store, BOB)
    fake_telegram.fail_next("sendMessage", "server_error", times=10, chat_id=ALICE)

    await drain(dispatcher(bot, store, max_attempts=3), store)

    assert status(store, row) == "failed"
    assert attempts(store, row) == ["retry", "retry", "failed"]
    assert "after 3 attempts" in str(Outbox(store).get(row).last_error)  # type: ignore[union-attr]
    assert delivered(fake_telegram) == Counter([other])


async def test_a_slow_answer_within_the_timeout_is_not_retried(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    (row,) = queue(store, ALICE)
    fake_telegram.fail_next("sendMessage", "slow", delay=0.5)

    report = await dispatcher(bot, store).dispatch_due()

    assert report.sent == 1 and report.retried == 0
    assert delivered(fake_telegram) == Counter([row])


async def test_a_timed_out_send_is_retried_and_may_repeat_once(
    fake_telegram: FakeBotAPI, store: Store
) -> None:
    """A read timeout is ambiguous: Telegram may have carried the send out (the fake does). Retrying
    keeps the reminder from being lost, at the cost the module states: one repeat per such timeout."""
    chat(store, ALICE)
    (row,) = queue(store, ALICE)
    fake_telegram.fail_next("sendMessage", "slow", delay=0.6)
    impatient = HTTPXRequest(read_timeout=0.2)
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url, request=impatient) as bot:
        await drain(dispatcher(bot, store), store)

    assert attempts(store, row) == ["retry", "sent"]
    assert "TimedOut" in str(
        store.db.execute(
            "SELECT error FROM delivery_attempts WHERE delivery_id = ? ORDER BY id", [row]
        ).fetchone()[0]
    )
    await fake_telegram.wait_for(lambda: delivered(fake_telegram)[row] == 2, timeout=3)
    assert delivered(fake_telegram) == Counter({row: 2})


async def test_a_chat_that_blocked_the_bot_is_deactivated_and_the_others_still_get_theirs(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    chat(store, BOB)
    (row,) = queue(store, ALICE)
    (other,) = queue(store, BOB)
    fake_telegram.fail_next("sendMessage", "blocked", chat_id=ALICE)

    report = await dispatcher(bot, store).dispatch_due()

    assert report.blocked == 1 and report.sent == 1
    assert status(store, row) == "failed" and attempts(store, row) == ["blocked"]
    assert store.chat(ALICE).active is False  # type: ignore[union-attr]
    assert delivered(fake_telegram) == Counter([other])
    # What is queued for the blocked chat later is not sent.
    (later,) = queue(store, ALICE)
    assert (await dispatcher(bot, store).dispatch_due()).skipped == 1
    assert attempts(store, later) == ["skipped"]


async def test_a_refused_message_fails_without_retry(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    (row,) = queue(store, ALICE)
    fake_telegram.fail_next("sendMessage", "chat_not_found")

    report = await dispatcher(bot, store).dispatch_due()

    assert report.failed == 1 and status(store, row) == "failed" and attempts(store, row) == ["failed"]
    assert "chat not found" in str(Outbox(store).get(row).last_error).casefold()  # type: ignore[union-attr]


async def test_a_migrated_group_gets_its_message_at_the_new_id(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    fake_telegram.add_chat(GROUP, "group", title="Sellers")
    chat(store, GROUP, "group")
    rows = queue(store, GROUP, 2)
    fake_telegram.migrate(GROUP, SUPERGROUP)

    report = await dispatcher(bot, store).dispatch_due()

    assert report.migrated == 2 and report.sent == 2
    assert delivered(fake_telegram, SUPERGROUP) == Counter(rows)
    assert store.chat(GROUP) is None and store.chat(SUPERGROUP) is not None
    assert all(Outbox(store).get(row).chat_id == SUPERGROUP for row in rows)  # type: ignore[union-attr]
    assert [attempts(store, row) for row in rows] == [["migrated", "sent"]] * 2


# --- faults at random, crashes ---


async def test_random_faults_lose_nothing_and_repeat_nothing(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    """429s, 500s and slow answers (within the read timeout) at random chats: each row once."""
    rng = random.Random(20240501)
    chats = list(range(1000, 1250))
    expected: list[int] = []
    for chat_id in chats:
        chat(store, chat_id)
        expected += queue(store, chat_id, rng.choice([1, 1, 1, 2, 3]))
    faulty = rng.sample(chats, 45)
    for chat_id in faulty[:4]:
        fake_telegram.fail_next("sendMessage", "retry_after", chat_id=chat_id, retry_after=1)
    for chat_id in faulty[4:30]:
        fake_telegram.fail_next("sendMessage", "server_error", times=rng.randint(1, 3), chat_id=chat_id)
    for chat_id in faulty[30:]:
        fake_telegram.fail_next("sendMessage", "slow", chat_id=chat_id, delay=rng.uniform(0.05, 0.4))

    await drain(
        dispatcher(bot, store, limits=Limits(global_per_second=500, per_chat_per_second=20)), store, 40
    )

    assert delivered(fake_telegram) == Counter(expected)  # every row, each exactly once
    assert Outbox(store).counts() == {"sent": len(expected)}
    statuses = Counter(call.status for call in fake_telegram.calls_to("sendMessage"))
    assert statuses[429] == 4 and statuses[500] >= 26


async def test_rows_claimed_by_a_dead_process_are_sent_after_recovery(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store, tmp_path: Path
) -> None:
    for chat_id in (ALICE, BOB, CAROL):
        chat(store, chat_id)
    rows = queue(store, ALICE, 2) + queue(store, BOB) + queue(store, CAROL)
    # A process claimed them and died before sending: they sit in 'sending'.
    assert len(Outbox(store).claim_due()) == 4
    assert await dispatcher(bot, store).dispatch_due() == DispatchReport()  # nothing due meanwhile

    with Store(tmp_path / "policybot.db", clock=Clock(NOW)) as restarted:
        assert Outbox(restarted).recover_in_flight() == 4
        report = await dispatcher(bot, restarted).dispatch_due()

    assert report.sent == 4
    assert delivered(fake_telegram) == Counter(rows)


async def test_a_stopped_dispatch_repeats_at_most_the_sends_in_flight(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store, tmp_path: Path
) -> None:
    """Cancelled in the middle (as at shutdown): rows never tried are pending at once; the sends in flight
    stay 'sending' until recovery, and only they can be repeated."""
    concurrency = 4
    chats = list(range(2000, 2040))
    for chat_id in chats:
        chat(store, chat_id)
    expected = [row for chat_id in chats for row in queue(store, chat_id)]
    for chat_id in chats:  # every answer is slow, so that sends are in flight when it stops
        fake_telegram.fail_next("sendMessage", "slow", chat_id=chat_id, delay=0.3)
    sender = dispatcher(bot, store, concurrency=concurrency)

    task = asyncio.create_task(sender.dispatch_due())
    await fake_telegram.wait_for(lambda: len(fake_telegram.sent_messages()) >= 10, timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    in_flight = store.db.execute("SELECT count(*) FROM deliveries WHERE status = 'sending'").fetchone()[0]
    assert 0 < in_flight <= concurrency
    assert Outbox(store).counts()["pending"] > 0  # claimed, never tried: back at once
    # The server carries out what was in flight, as Telegram would.
    await settle(fake_telegram)
    with Store(tmp_path / "policybot.db", clock=Clock(NOW)) as restarted:
        Outbox(restarted).recover_in_flight()
        await drain(dispatcher(bot, restarted), restarted)
        assert Outbox(restarted).counts() == {"sent": len(expected)}

    counts = delivered(fake_telegram)
    assert set(counts) == set(expected)  # nothing lost
    repeated = sum(count - 1 for count in counts.values())
    assert repeated <= in_flight
    # A request cut off while its body was on the way reaches the server empty; nothing else is refused.
    fake_telegram.expect_rejections()
    assert all(call.params == {} for call in fake_telegram.rejected)


async def test_a_graceful_stop_finishes_the_sends_in_flight_and_repeats_nothing(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chats = list(range(3000, 3030))
    for chat_id in chats:
        chat(store, chat_id)
        fake_telegram.fail_next("sendMessage", "slow", chat_id=chat_id, delay=0.2)
    expected = [row for chat_id in chats for row in queue(store, chat_id)]
    sender = dispatcher(bot, store, concurrency=4)
    stop = asyncio.Event()

    task = asyncio.create_task(sender.run(stop))
    await fake_telegram.wait_for(lambda: len(fake_telegram.sent_messages()) >= 8, timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=5)

    counts = Outbox(store).counts()
    assert "sending" not in counts  # every send in flight finished and was marked
    assert counts["pending"] > 0 and counts["sent"] == len(fake_telegram.sent_messages())
    await drain(dispatcher(bot, store), store)
    assert delivered(fake_telegram) == Counter(expected)


async def test_a_stop_during_a_long_flood_control_pause_puts_the_waiting_rows_back(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    chat(store, BOB)
    (alice,) = queue(store, ALICE)
    (bob,) = queue(store, BOB)
    fake_telegram.fail_next("sendMessage", "retry_after", chat_id=ALICE, retry_after=30)
    stop = asyncio.Event()

    task = asyncio.create_task(dispatcher(bot, store, concurrency=1).run(stop))
    await fake_telegram.wait_for(lambda: fake_telegram.calls_to("sendMessage"), timeout=5)
    await asyncio.sleep(0.2)  # Bob's message is now waiting out the 30 s pause
    stop.set()
    await asyncio.wait_for(task, timeout=3)  # not 30 s

    assert fake_telegram.sent_messages() == []
    assert status(store, alice) == status(store, bob) == "pending"
    assert attempts(store, bob) == ["retry"]  # put back, never sent
    assert Outbox(store).get(bob).due_at < store.clock.now()  # type: ignore[union-attr]  # still due


async def settle(server: FakeBotAPI) -> None:
    """Until no answer is still being delayed: the number of calls stops changing for a moment."""
    count = -1
    while len(server.calls) != count:
        count = len(server.calls)
        await asyncio.sleep(0.4)


# --- the loop ---


async def test_run_sleeps_until_woken_or_due_and_stops(
    fake_telegram: FakeBotAPI, bot: Bot, store: Store
) -> None:
    chat(store, ALICE)
    sender = dispatcher(bot, store, idle_poll=60.0)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await asyncio.sleep(0.1)

    (now,) = queue(store, ALICE)
    sender.wake()  # without this it would sleep for idle_poll
    await fake_telegram.wait_for(lambda: delivered(fake_telegram)[now] == 1, timeout=3)

    (soon,) = queue(store, ALICE, due=dt.timedelta(seconds=1))
    sender.wake()  # it now sleeps until that row is due, not for idle_poll
    await fake_telegram.wait_for(lambda: delivered(fake_telegram)[soon] == 1, timeout=4)

    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert delivered(fake_telegram) == Counter([now, soon])


def test_wrong_settings_are_refused(store: Store) -> None:
    bot = Bot("123:abc")
    with pytest.raises(ValueError):
        Dispatcher(TelegramSender(bot), store, render, concurrency=0)
    with pytest.raises(ValueError):
        Dispatcher(TelegramSender(bot), store, render, max_attempts=0)
