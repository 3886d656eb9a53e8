"""Soak benchmark (#18): a simulated year of 10,000 chats on one SQLite file, with retention.

What it does, on a fake clock (one step per simulated day, no sleeping):
  1. generates --chats chats with subscriptions over every platform of the shipped catalog (the same
     generator as bench/planning.py), on a fresh file;
  2. every simulated day: sends what is due (claim_due, then mark_sent, as a Sender that always
     succeeds: each send writes its attempt), records a few settings changes in the audit log, and runs
     the daily prune (`[store] keep_days` defaults) with its incremental vacuum;
     every 7th day: re-plans every chat (plan_all; its window is 35 days), records a policy change and
     queues its alerts to the platform's subscribers, and stores a new version of each of 50 watched
     pages; every 30th day: 10% of the chats import a SKU file of 20 rows (replacing their earlier one);
  3. prints, at the end of each simulated month, the file's size (after a WAL checkpoint), the rows of
     the growing tables and the month's wall time; then the size at the end, the growth per month over
     the last six months, the peak RSS and the wall time per simulated day.
`--keep-forever` runs the same year with no prune, for comparison; `--keep-all 60` keeps every kind of
row 60 days, so the plateau shows within the year (with the defaults, 180 to 730 days, it comes later).
It prints figures and asserts nothing. Run from the repository root:
    python bench/soak.py [--chats 10000] [--days 365] [--keep-forever | --keep-all DAYS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planning import generate  # bench/planning.py: the same chats as the planning benchmark

import bot.skus
import bot.watch  # noqa: F401  # their tables
from bot.catalog.load import load_catalog
from bot.clock import Clock
from bot.config import KeepDays
from bot.reminders import Change, Outbox, plan_all, queue_change_alerts, record_change
from bot.retention import prune_all
from bot.skus import SkuRecords, read_sku_file
from bot.store import Store

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
PAGES = 50
PLATFORMS = ("amazon", "tiktok-shop", "temu", "aliexpress", "shein")
GROWING = ("deliveries", "delivery_attempts", "audit_log", "changes", "page_snapshots", "seller_skus")


class SimulatedClock(Clock):
    """A clock the benchmark moves by hand: the store, the planner and the outbox all read it."""

    def __init__(self, start: dt.datetime) -> None:
        super().__init__(start)
        self.instant = start

    def now(self) -> dt.datetime:
        return self.instant


def sku_file(rng: random.Random, month: int) -> bytes:
    lines = ["sku,category,price,weight,unit_of_weight"]
    for number in range(20):
        lines.append(f"S{number}-{month},apparel,{rng.randint(5, 80)}.99,{rng.randint(2, 30)},oz")
    return ("\n".join(lines) + "\n").encode()


def dispatch(store: Store) -> int:
    """Everything due by now, sent (a Sender that always succeeds)."""
    outbox, sent = Outbox(store), 0
    while batch := outbox.claim_due(2000):
        outbox.mark_sent([delivery.id for delivery in batch], 1)
        sent += len(batch)
    return sent


def weekly_pages(store: Store, day: int) -> None:
    at = store.clock.now().isoformat(timespec="seconds")
    with store.transaction():
        for page in range(PAGES):
            key = f"https://example.com/policy/{page}"
            store.db.execute("INSERT OR IGNORE INTO page_sources (key, url) VALUES (?, ?)", [key, key])
            text = f"Policy page {page}, version of day {day}. " + "Terms and fees. " * 400
            store.db.execute(
                "INSERT INTO page_snapshots (key, fetched_at, hash, text) VALUES (?, ?, ?, ?)",
                [key, at, f"{page}-{day}", text],
            )


def table_rows(store: Store) -> dict[str, int]:
    return {table: int(store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table in GROWING}


def file_bytes(store: Store, path: Path) -> int:
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--keep-forever", action="store_true", help="no prune: the file as it grew before #18"
    )
    parser.add_argument(
        "--keep-all", type=int, metavar="DAYS", help="every keep_days set to DAYS (the plateau within a year)"
    )
    args = parser.parse_args()
    rng = random.Random(18)
    catalog = load_catalog()
    keep = KeepDays(**dict.fromkeys(KeepDays.model_fields, args.keep_all)) if args.keep_all else KeepDays()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "soak.db"
        generate(path, args.chats, START)
        clock = SimulatedClock(START)
        store = Store(path, clock=clock)
        chat_ids = [row[0] for row in store.db.execute("SELECT chat_id FROM chats WHERE active = 1")]
        importers = rng.sample(chat_ids, len(chat_ids) // 10)
        records = SkuRecords(store)
        sizes: list[int] = []
        sent = alerts = 0
        began = month_began = time.perf_counter()
        retention = "off" if args.keep_forever else f"on, keep_days {keep.model_dump()}"
        print(f"chats={len(chat_ids)} days={args.days} retention={retention}")
        print(f"{'month':>5} {'MB':>8} " + " ".join(f"{table:>17}" for table in GROWING) + f" {'wall s':>7}")
        for day in range(args.days):
            clock.instant = START + dt.timedelta(days=day, hours=23, minutes=59)
            if day % 7 == 0:
                plan_all(store, catalog)
                platform = PLATFORMS[(day // 7) % len(PLATFORMS)]
                change = record_change(
                    store,
                    Change(
                        None,
                        clock.instant,
                        "page",
                        platform,
                        None,
                        "page_changed",
                        None,
                        (),
                        "A page changed",
                        "页面变更",
                    ),
                )
                alerts += queue_change_alerts(store, [change])
                weekly_pages(store, day)
            if day % 30 == 0:
                for chat_id in importers:
                    file = read_sku_file(sku_file(rng, day // 30), "skus.csv")
                    records.replace(chat_id, file, "skus.csv", chat_id)
                    store.audit(chat_id, chat_id, "skus_import", f"{len(file.rows)} from skus.csv")
            sent += dispatch(store)
            for chat_id in rng.sample(chat_ids, 20):
                store.audit(chat_id, chat_id, "settings", "{'reminder_time': '10:00'}")
            if not args.keep_forever:
                prune_all(store, keep, clock.instant)
            if (day + 1) % 30 == 0 or day + 1 == args.days:
                sizes.append(file_bytes(store, path))
                counts = table_rows(store)
                print(
                    f"{len(sizes):>5} {sizes[-1] / 1e6:>8.1f} "
                    + " ".join(f"{counts[table]:>17,}" for table in GROWING)
                    + f" {time.perf_counter() - month_began:>7.1f}",
                    flush=True,
                )
                month_began = time.perf_counter()
        wall = time.perf_counter() - began
        store.close()
    recent = sizes[-7:]
    growth = (recent[-1] - recent[0]) / max(len(recent) - 1, 1)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"sent={sent:,} alerts={alerts:,}")
    print(
        f"end_mb={sizes[-1] / 1e6:.1f} growth_per_month_last6_mb={growth / 1e6:+.2f} "
        f"peak_rss_mb={peak_mb:.0f} s_per_day={wall / args.days:.3f} total_s={wall:.0f}"
    )


if __name__ == "__main__":
    main()
