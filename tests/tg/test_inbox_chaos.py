"""Issue #18's chaos measurement: SIGKILL at random moments *while commands arrive*.

The bot's own process (`policybot run`) against the strict fake Bot API server at Telegram's 30 messages
a second, with 5% of requests answered 500 and 5% slowly; 200 chats each send `/subscribe` while the
process is killed with SIGKILL three times at random moments (seeded) and started again each time, the
commands still arriving meanwhile (Telegram keeps them, as the fake does, until acknowledged).

Expected: every command answered (each chat confirmed), and repeats only among the updates in flight
at a kill: those stored in the inbox and not marked handled when the process died (their reply may have
gone out just before), counted at each kill. The figures are printed (run with -s), the bound asserted.

The bot's clock starts an hour before the first reminder these subscriptions plan, so the only messages
to the subscribers are the confirmations.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

from conftest import POLICIES
from fake_telegram import FakeBotAPI
from support.processes import start_bot

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.reminders.planner import plan_all
from bot.store import Store, Subscription
from bot.tg import tables as tables  # the inbox table, for reading it after a kill

CHATS = range(50_000, 50_200)
SUBSCRIBE = "/subscribe amazon us fees"
CONFIRMED = "Subscribed"
PLANNED_AT = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)
KILLS = 3
SEED = 18


def first_reminder_due(scratch: Path) -> dt.datetime:
    with Store(scratch / "plan.db", clock=Clock(PLANNED_AT)) as store:
        store.ensure_chat(1, "private", None, "en")
        store.subscribe(1, [Subscription("amazon", "US", "fees")])
        plan_all(store, LiveCatalog(POLICIES).catalog)
        due = store.db.execute("SELECT min(due_at) FROM deliveries WHERE chat_id = 1").fetchone()[0]
    assert due is not None
    return dt.datetime.fromisoformat(due)


def confirmations(server: FakeBotAPI) -> Counter[int]:
    return Counter(
        int(m["chat_id"])
        for m in server.sent_messages()
        if int(m["chat_id"]) in CHATS and CONFIRMED in str(m.get("text"))
    )


def at_work(server: FakeBotAPI, run_start: tuple[int, int], sent: int) -> Callable[[], bool]:
    """The run begun at `run_start` (confirmations, getUpdates calls) has confirmed a command, or it polls
    with every command sent so far confirmed."""
    confirmed, polls = run_start

    def check() -> bool:
        now_confirmed = len(confirmations(server))
        polling = len(server.calls_to("getUpdates")) > polls
        return now_confirmed > confirmed or (polling and now_confirmed >= sent)

    return check


def run_start(server: FakeBotAPI) -> tuple[int, int]:
    return len(confirmations(server)), len(server.calls_to("getUpdates"))


def unhandled(db: Path) -> int:
    """Updates stored and not marked handled: those in flight when the process died."""
    with Store(db, clock=Clock(PLANNED_AT)) as store:
        row = store.db.execute(
            "SELECT count(*) FROM update_inbox WHERE handled_at IS NULL AND update_id > 0"
        ).fetchone()
        return int(row[0])


def test_sigkill_at_random_moments_while_200_chats_subscribe_loses_no_reply(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    server = fake_telegram
    server.expect_rejections()  # a request cut by SIGKILL arrives without its body: refused, rightly
    server.limit_rate(per_second=30)
    server.random_faults(server_error=0.05, slow=0.05, slow_delay=1.0, seed=SEED)
    rng = random.Random(SEED)
    bot_start = first_reminder_due(tmp_path) - dt.timedelta(hours=1)
    # Kill after the n-th command, one kill in each third of them.
    third = len(CHATS) // KILLS
    kill_after = [rng.randrange(k * third + 10, (k + 1) * third - 10) for k in range(KILLS)]
    started = time.monotonic()
    log_path = tmp_path / "bot.log"
    in_flight: list[int] = []  # unhandled inbox rows at each kill
    confirmed_at_kill: list[int] = []
    with log_path.open("w", encoding="utf-8") as log:

        def start(log: IO[str]) -> subprocess.Popen[str]:
            now = bot_start + dt.timedelta(seconds=time.monotonic() - started)
            return start_bot(
                server, tmp_path, now=now, monitoring=False, stdout=subprocess.DEVNULL, stderr=log
            )

        process, begun = start(log), run_start(server)
        try:
            server.wait_for_sync(lambda: server.calls_to("getUpdates"), timeout=30)
            for index, chat_id in enumerate(CHATS):
                server.message(chat_id, SUBSCRIBE, chat_type="private", language_code="en")
                time.sleep(rng.uniform(0.0, 0.15))
                if index in kill_after:
                    # A bot at work: this run has answered a command already (not one still starting).
                    server.wait_for_sync(at_work(server, begun, index + 1), timeout=60)
                    time.sleep(rng.uniform(0.0, 0.5))  # then a random moment amid the replies
                    process.send_signal(signal.SIGKILL)
                    process.wait(timeout=30)
                    in_flight.append(unhandled(tmp_path / "bot.db"))
                    confirmed_at_kill.append(len(confirmations(server)))
                    process, begun = start(log), run_start(server)
            server.wait_for_sync(lambda: len(confirmations(server)) == len(CHATS), timeout=180)
            all_confirmed_after = time.monotonic() - started
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    stderr = log_path.read_text(encoding="utf-8")
    confirmed = confirmations(server)
    repeats = sum(count - 1 for count in confirmed.values())
    sends = server.calls_to("sendMessage")
    print(
        f"\nchaos: {len(CHATS)} /subscribe, {KILLS} SIGKILLs after commands {kill_after} with "
        f"{confirmed_at_kill} confirmed by then; {sum(c.status == 500 for c in sends)} of {len(sends)} sends "
        f"answered 500, {sum(c.status == 429 for c in sends)} refused with 429; all confirmed "
        f"{all_confirmed_after:.1f} s after the first start; updates in flight at the kills {in_flight}; "
        f"{repeats} confirmations repeated"
    )
    assert sum(c.status == 500 for c in sends) > 0  # the faults did happen
    assert set(confirmed) == set(CHATS)  # every command answered
    assert repeats <= sum(in_flight), (repeats, in_flight)  # repeats only among those in flight
    assert process.returncode == 0, stderr[-3000:]
    assert server.token not in stderr
    with Store(tmp_path / "bot.db", clock=Clock(PLANNED_AT)) as store:
        assert {s.chat_id for s in _subscribers(store)} == set(CHATS)
        failed_replies = [row for row in store.audit_log(limit=1000) if row["action"] == "reply-failed"]
        left = store.db.execute("SELECT count(*) FROM update_inbox WHERE handled_at IS NULL").fetchone()[0]
    assert not failed_replies
    assert left == 0  # every update handled in the end


def _subscribers(store: Store) -> list[object]:
    return list(store.chats(active_only=True))
