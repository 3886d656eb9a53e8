"""Benchmark of delivery: 600 reminders to 600 chats through the fake Bot API server's flood control.

The fake server (tests/fake_telegram's FakeBotAPI) answers 429 beyond `--limit` messages a second
overall (default 30, Telegram's own), counted in a sliding one-second window (as strict as Telegram is
said to be), and delays every request by a random 0 to `--jitter` seconds (default 0.2) of network
round trip, half on the way in (so arrivals jitter as flood control counts them), half on the way
back. By default it runs
in a process of its own, as Telegram runs on machines of its own: in a thread of this process it would
share the GIL, and the figures would say as much about the fake's parsing and validating as about the
bot (`--same-process` runs it that way anyway). Two contenders send the same messages, each to its own
fresh server:

  1. our `Dispatcher`: a real SQLite outbox under a temporary directory (chats and deliveries inserted
     directly, all due now), paced by an ArrivalWindow at the limit with `--margin`, the bot's
     concurrency for that rate, one
     `dispatch_due` pass (then `run` for any row put back), each row marked sent as its answer comes.
     One message per chat, so the per-chat and per-group limits never bind;
  2. the baseline: python-telegram-bot's AIORateLimiter(overall_max_rate=limit, max_retries=3) on an
     ExtBot, every send started at once with asyncio.gather. It retries a 429 after retry_after up to
     max_retries times; what still fails is lost.

For each it prints the achieved rate (messages delivered / seconds from the start of sending until the
last answer) against the limit, the CPU seconds this process used, the 429s the server answered, the
messages lost (never delivered) and duplicated (delivered more than once, from the texts the server
recorded), and the requests the server refused outright. The last line is the dispatcher's
`efficiency=<ratio> lost=<n> duplicates=<n> retry_after=<n>`. Nothing is asserted: the figures move
with the machine's load. Try `--limit 300 --messages 3000` for a heavier run (CPU-bound on a small box).

Run from the repository root:
    python bench/delivery.py [--limit 30] [--messages 600] [--concurrency N] [--margin 0.01]
                             [--jitter 0.2] [--skip-baseline] [--same-process]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import multiprocessing
import multiprocessing.process
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
# retry_after as a timedelta, as the bot runs it (and no deprecation warning at every 429).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from fake_telegram import FakeBotAPI  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.error import TelegramError  # noqa: E402
from telegram.ext import AIORateLimiter, ExtBot  # noqa: E402

from bot.clock import Clock  # noqa: E402
from bot.reminders.dispatcher import Dispatcher, Limits  # noqa: E402
from bot.reminders.outbox import Delivery  # noqa: E402
from bot.reminders.pacing import ArrivalWindow  # noqa: E402
from bot.reminders.sender import Keyboard  # noqa: E402
from bot.store import ChatSettings, Store  # noqa: E402
from bot.tg.reminders import dispatch_concurrency  # noqa: E402
from bot.tg.sender import TelegramSender  # noqa: E402

FIRST_CHAT = 100_000
MARK = re.compile(r"#(\d+)")


@dataclass
class Result:
    name: str
    expected: int
    delivered: int
    seconds: float
    limit: int
    cpu_seconds: float
    too_many_requests: int
    lost: int
    duplicates: int
    refused: int

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0

    @property
    def efficiency(self) -> float:
        return self.rate / self.limit

    def show(self) -> str:
        return (
            f"{self.name:<28} {self.delivered:>5}/{self.expected} delivered in {self.seconds:6.2f} s"
            f"  rate {self.rate:7.1f}/s = {self.efficiency:.3f} of {self.limit}/s"
            f"  cpu {self.cpu_seconds:5.1f} s"
            f"  429s={self.too_many_requests} lost={self.lost} duplicates={self.duplicates}"
            f" refused={self.refused}"
        )


def tally(
    name: str, served: Served, expected: set[int], seconds: float, cpu_seconds: float, limit: int
) -> Result:
    """Lost and duplicated from what the server recorded as delivered, whatever the client believes."""
    counts = Counter(int(match.group(1)) for text in served.texts if (match := MARK.search(text)))
    return Result(
        name=name,
        expected=len(expected),
        delivered=sum(counts.values()),
        seconds=seconds,
        limit=limit,
        cpu_seconds=cpu_seconds,
        too_many_requests=served.too_many_requests,
        lost=len(expected - set(counts)),
        duplicates=sum(count - 1 for count in counts.values()),
        refused=served.refused,
    )


@dataclass(frozen=True)
class Served:
    """What the fake server saw: the texts it delivered, the 429s it answered, what it refused."""

    texts: list[str]
    too_many_requests: int
    refused: int

    @classmethod
    def of(cls, server: FakeBotAPI) -> Served:
        return cls(
            texts=[str(message["text"]) for message in server.sent_messages()],
            too_many_requests=sum(1 for call in server.calls if call.status == 429),
            refused=len(server.rejected) + len(server.internal_errors),
        )


def serve(connection: Connection, limit: int, jitter: float) -> None:
    """The child process: a FakeBotAPI with flood control, answering the parent's questions."""
    with FakeBotAPI() as server:
        server.limit_rate(per_second=limit)
        server.network_delay(jitter)
        connection.send((server.token, server.base_url, server.base_file_url))
        while connection.recv() == "results":
            connection.send(Served.of(server))


class FakeServer:
    """The fake server with `limit`, in its own process (as Telegram is) or in a thread of this one.

    In its own process by default: sharing this process's GIL, the server's own work (parsing,
    validating, answering 300 requests a second) would slow the bot being measured, and the figures
    would say more about the fake than about the bot.
    """

    def __init__(self, limit: int, same_process: bool, jitter: float = 0.0) -> None:
        self.limit = limit
        self.jitter = jitter
        self.same_process = same_process
        self._server: FakeBotAPI | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None

    def __enter__(self) -> FakeServer:
        if self.same_process:
            self._server = FakeBotAPI().start()
            self._server.limit_rate(per_second=self.limit)
            self._server.network_delay(self.jitter)
            self.token, self.base_url, self.base_file_url = (
                self._server.token,
                self._server.base_url,
                self._server.base_file_url,
            )
            return self
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child, self.limit, self.jitter), daemon=True)
        self._process.start()
        self.token, self.base_url, self.base_file_url = self._connection.recv()
        return self

    def results(self) -> Served:
        if self._server is not None:
            return Served.of(self._server)
        assert self._connection is not None
        self._connection.send("results")
        served: Served = self._connection.recv()
        return served

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.stop()
        if self._connection is not None and self._process is not None:
            self._connection.send("stop")
            self._process.join(timeout=10)


def fill_outbox(store: Store, messages: int) -> set[int]:
    """`messages` chats with one reminder each, all due a minute ago; returns the delivery ids."""
    now = store.clock.now()
    stamp = now.isoformat(timespec="seconds")
    due = (now - dt.timedelta(minutes=1)).isoformat(timespec="seconds")
    chats = [
        {
            "chat_id": FIRST_CHAT + index,
            "kind": "private",
            "title": None,
            "language": "en",
            "time_zone": "UTC",
            "reminder_time": "09:00",
            "lead_days": "[30, 7, 1, 0]",
            "quiet_start": None,
            "quiet_end": None,
            "active": 1,
            "created_at": stamp,
            "settings_changed_at": None,
        }
        for index in range(messages)
    ]
    deliveries = [
        {
            "chat_id": FIRST_CHAT + index,
            "kind": "reminder",
            "key": f"bench/deadline/{index}",
            "lead": 7,
            "due_at": due,
            "event_date": None,
            "payload": json.dumps({"title": f"Deadline {index}"}),
            "status": "pending",
            "created_at": stamp,
            "updated_at": stamp,
        }
        for index in range(messages)
    ]
    with store.transaction():
        store.db.table("chats").insert_all(chats, batch_size=1000)
        store.db.table("deliveries").insert_all(deliveries, batch_size=1000)
    return {int(row[0]) for row in store.db.execute("SELECT id FROM deliveries").fetchall()}


def render(deliveries: list[Delivery], settings: ChatSettings) -> tuple[str, Keyboard]:
    lines = [f"<b>#{d.id}</b> {d.payload['title']} in {d.lead} days" for d in deliveries]
    return "\n".join(lines), ()


async def run_dispatcher(
    limit: int,
    messages: int,
    concurrency: int,
    margin: float,
    jitter: float,
    same_process: bool,
    folder: Path,
) -> Result:
    with (
        FakeServer(limit, same_process, jitter) as server,
        Store(folder / "bench.db", clock=Clock()) as store,
    ):
        expected = fill_outbox(store, messages)
        async with Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
            dispatcher = Dispatcher(
                TelegramSender(bot),
                store,
                render,
                limits=Limits(global_per_second=limit),
                window=ArrivalWindow(limit, margin=margin),
                concurrency=concurrency,
            )
            start, cpu = time.perf_counter(), time.process_time()
            report = await dispatcher.dispatch_due()
            # Rows put back (a 429, a timeout) are due later: let `run` finish them.
            if store.db.execute("SELECT count(*) FROM deliveries WHERE status != 'sent'").fetchone()[0]:
                await finish_with_run(dispatcher, store, timeout=60)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"  dispatcher report: {report}")
        print(f"  outbox: {store_counts(store)}")
        return tally("dispatcher (ours)", server.results(), expected, seconds, cpu, limit)


async def finish_with_run(dispatcher: Dispatcher, store: Store, timeout: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not store.db.execute(
            "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')"
        ).fetchone()[0]:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task


def store_counts(store: Store) -> dict[str, int]:
    rows = store.db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
    return {str(status): int(count) for status, count in rows}


async def run_baseline(limit: int, messages: int, jitter: float, same_process: bool) -> Result:
    with FakeServer(limit, same_process, jitter) as server:
        limiter = AIORateLimiter(overall_max_rate=limit, overall_time_period=1, max_retries=3)
        bot = ExtBot(
            server.token, base_url=server.base_url, base_file_url=server.base_file_url, rate_limiter=limiter
        )
        expected = set(range(messages))
        async with bot:
            start, cpu = time.perf_counter(), time.process_time()
            outcomes = await asyncio.gather(
                *(bot.send_message(FIRST_CHAT + index, f"<b>#{index}</b> baseline", parse_mode="HTML")
                  for index in range(messages)),
                return_exceptions=True,
            )  # fmt: skip
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        errors = Counter(type(o).__name__ for o in outcomes if isinstance(o, BaseException))
        unexpected = [
            o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, TelegramError)
        ]
        print(f"  baseline errors raised to the caller: {dict(errors) or 'none'}")
        if unexpected:
            print(f"  (not Telegram errors: {unexpected[:3]!r})")
        return tally("AIORateLimiter + gather", server.results(), expected, seconds, cpu, limit)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=30, help="the server's overall limit, messages/s")
    parser.add_argument("--messages", type=int, default=600, help="reminders, one per chat")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="the dispatcher's sends in flight (default: as the bot)"
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=ArrivalWindow(1).margin,
        help="seconds the dispatcher's arrival window adds to each slot",
    )
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.2,
        help="the server's random network delay per request, 0 to this many seconds (round trip)",
    )
    parser.add_argument("--skip-baseline", action="store_true", help="run only the dispatcher")
    parser.add_argument(
        "--same-process", action="store_true", help="run the fake server in a thread of this process"
    )
    args = parser.parse_args()
    if args.concurrency is None:
        args.concurrency = dispatch_concurrency(args.limit)
    # The dispatcher logs each flood-control pause as a warning; the figures below count them.
    logging.basicConfig(level=logging.ERROR)
    print(
        f"delivery: {args.messages} messages to {args.messages} chats, server limit {args.limit}/s,"
        f" network delay 0-{args.jitter * 1000:g} ms a request"
    )
    with tempfile.TemporaryDirectory(prefix="policybot-bench-") as folder:
        if not args.skip_baseline:
            print("baseline: AIORateLimiter(overall_max_rate=limit, max_retries=3) + asyncio.gather")
            baseline = await run_baseline(args.limit, args.messages, args.jitter, args.same_process)
            print(baseline.show())
        print(
            f"dispatcher: arrival window at the limit, margin {args.margin:g} s,"
            f" concurrency {args.concurrency}"
        )
        ours = await run_dispatcher(
            args.limit,
            args.messages,
            args.concurrency,
            args.margin,
            args.jitter,
            args.same_process,
            Path(folder),
        )
        print(ours.show())
    print(
        f"efficiency={ours.efficiency:.3f} lost={ours.lost} duplicates={ours.duplicates}"
        f" retry_after={ours.too_many_requests}"
    )


if __name__ == "__main__":
    asyncio.run(main())
