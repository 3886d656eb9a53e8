"""Benchmark of the update inbox: what writing every update before its acknowledgement costs.

What it does: on a fresh SQLite store in a temporary directory (WAL, as the bot runs it), for --updates
Telegram updates (a /subscribe message each, ~400 bytes of JSON) it times `Inbox.receive` (the write
before the acknowledgement) and `Inbox.handled` (the mark after the reply), one transaction each, as the
bot does; then `prune_inbox` of all of them, and `take_unhandled` of --unhandled rows left by a "crash".
It prints the time per update (p50, p99, mean) of each write, the database size, and the prune and
replay times. Nothing is asserted: the figures move with the machine's load and disk.

Run from the repository root:
    python bench/inbox.py [--updates 5000] [--unhandled 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update

from bot.clock import Clock
from bot.monitoring import DatabaseHealth
from bot.store import Store
from bot.tg import prune_inbox
from bot.tg.inbox import Inbox

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def update(update_id: int) -> Update:
    chat = 40_000 + update_id
    found = Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_764_061_200,
                "chat": {"id": chat, "type": "private", "first_name": "Seller"},
                "from": {"id": chat, "is_bot": False, "first_name": "Seller", "language_code": "zh-hans"},
                "text": "/subscribe amazon us fees",
                "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
            },
        },
        None,
    )
    assert found is not None
    return found


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] * 1e3
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3
    return f"p50 {p50:.3f} ms, p99 {p99:.3f} ms, mean {statistics.fmean(ordered) * 1e3:.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--unhandled", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bench.db"
        store = Store(path, clock=Clock(NOW))
        inbox = Inbox(store, DatabaseHealth())
        updates = [update(n) for n in range(1, args.updates + 1)]
        received, handled = [], []
        for item in updates:
            start = time.perf_counter()
            inbox.receive(item)
            received.append(time.perf_counter() - start)
        for item in updates[args.unhandled :]:
            start = time.perf_counter()
            inbox.handled(item.update_id)
            handled.append(time.perf_counter() - start)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        start = time.perf_counter()
        again = Inbox(store, DatabaseHealth()).take_unhandled()
        replay_s = time.perf_counter() - start
        start = time.perf_counter()
        pruned = prune_inbox(store, NOW + dt.timedelta(days=1))
        prune_s = time.perf_counter() - start
        store.close()
    print(f"receive (write before the ack), {len(received)} updates: {percentiles(received)}")
    print(f"handled (mark after the reply), {len(handled)} updates: {percentiles(handled)}")
    per_row = size / args.updates
    print(f"database with {args.updates} inbox rows: {size / 1e6:.2f} MB ({per_row:.0f} bytes a row)")
    print(f"take_unhandled of {len(again)} rows: {replay_s * 1e3:.1f} ms")
    print(f"prune_inbox of {pruned} rows: {prune_s * 1e3:.1f} ms")
    print(
        f"updates={args.updates} receive_p50_ms={statistics.median(received) * 1e3:.3f} "
        f"handled_p50_ms={statistics.median(handled) * 1e3:.3f} bytes_per_row={size / args.updates:.0f}"
    )


if __name__ == "__main__":
    main()
