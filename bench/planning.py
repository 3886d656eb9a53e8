"""Benchmark of reminder planning: `plan_all` over 100,000 chats with the shipped catalog.

What it does:
  1. generates --chats chats (default 100,000) into a real SQLite file through the Store's schema: varied
     languages, time zones (DST and not), reminder hours (02:30 included), lead days and quiet hours
     (some wrapping midnight), 2% inactive, 1 to 4 subscriptions each over every platform of the shipped
     catalog, and a countdown (track) in 1% of the chats; generation is not timed;
  2. times `plan_all` on the empty outbox (every reminder inserted), then again unchanged (the diff
     alone, nothing written), then after 10% of the chats changed their reminder hour (rows moved);
  3. plans a fresh copy of the same file again under tracemalloc, for the peak of Python allocations;
  4. with --compare-outbox N, plans the first N chats through plan_chat + Outbox.replace_plan (the path
     plan_all replaces) and through plan_all, on fresh copies, and prints both.
It prints, for each run, the time, the reminders added/moved/withdrawn, and the process's peak RSS
(getrusage maxrss: Python, SQLite's page cache and all); the last line is
`chats=<n> reminders=<n> plan_s=<x> replan_s=<y> peak_rss_mb=<z> peak_tracemalloc_mb=<w>` against the
target (under 10 s and 500 MB). It never asserts a timing.

plan_all writes the reminders due within its window (--window, default planner.PLANNING_WINDOW_DAYS);
`--window none` plans every reminder of the 400-day horizon instead, to show why the window exists.
"Now" is fixed (--now, default 2025-01-01 UTC) so runs plan the same dates: the shipped catalog has
more dated events ahead of early 2025 than of later dates. Run from the repository root:
    python bench/planning.py [--chats 100000] [--now 2025-01-01T00:00:00+00:00] [--window 35|none]
                             [--compare-outbox 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.catalog.load import Catalog, load_catalog
from bot.clock import Clock
from bot.reminders.outbox import Outbox, PlanResult
from bot.reminders.planner import PLANNING_WINDOW_DAYS, plan_all, plan_chat
from bot.reminders.tracks import list_tracks
from bot.store import Store

SEED = 20260308
ZONES = (
    "Asia/Shanghai",  # most of the bot's users are in China
    "Asia/Shanghai",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/Los_Angeles",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
HOURS = ("09:00", "09:00", "09:00", "08:30", "10:00", "07:00", "12:00", "18:00", "21:00", "23:30", "02:30")
LEADS = ((30, 7, 1, 0), (30, 7, 1, 0), (30, 7, 1, 0), (7, 1), (14, 3, 0), (1,), (60, 30, 14, 7, 3, 1, 0))
QUIET = ((None, None), (None, None), (None, None), ("22:00", "07:00"), ("23:00", "08:00"), ("12:00", "13:30"))
SUBSCRIPTIONS = (
    ("amazon", "US", "*"),
    ("amazon", "US", "*"),
    ("amazon", "*", "*"),
    ("amazon", "US", "fees"),
    ("amazon", "DE", "*"),
    ("amazon", "JP", "*"),
    ("tiktok-shop", "*", "*"),
    ("tiktok-shop", "US", "fees"),
    ("tiktok-shop", "UK", "*"),
    ("temu", "*", "*"),
    ("temu", "US", "compliance"),
    ("aliexpress", "*", "*"),
    ("shein", "*", "*"),
    ("eu", "*", "*"),
    ("eu", "IT", "compliance"),
    ("us-customs", "*", "*"),
)
TRACKS = (
    ("amazon-us-inform-consumers-act", "response-days", 10),
    ("amazon-us-low-inventory-fee-2024", "new-parent-asin-exemption-days", 180),
)


def generate(path: Path, chats: int, now: dt.datetime) -> int:
    """Write `chats` chats with their subscriptions and a few tracks; return the subscription count."""
    rng = random.Random(SEED)
    created = now.isoformat(timespec="seconds")
    chat_rows, sub_rows, track_rows = [], [], []
    for index in range(chats):
        chat_id = 10_000_000 + index if rng.random() < 0.8 else -1_000_000_000_000 - index  # users and groups
        language = "zh" if rng.random() < 0.7 else "en"
        quiet_start, quiet_end = rng.choice(QUIET)
        chat_rows.append(
            (
                chat_id,
                "private" if chat_id > 0 else "supergroup",
                None,
                language,
                rng.choice(ZONES),
                rng.choice(HOURS),
                json.dumps(list(rng.choice(LEADS))),
                quiet_start,
                quiet_end,
                0 if rng.random() < 0.02 else 1,
                created,
            )
        )
        for platform, market, topic in rng.sample(SUBSCRIPTIONS, rng.randint(1, 4)):
            sub_rows.append((chat_id, platform, market, topic, created))
        if rng.random() < 0.01:
            rule_id, number_id, days = rng.choice(TRACKS)
            start = now.date() - dt.timedelta(days=rng.randint(0, days - 1))
            deadline = start + dt.timedelta(days=days)
            track_rows.append((chat_id, rule_id, number_id, start.isoformat(), deadline.isoformat(), created))
    with Store(path, clock=Clock(now)) as store:
        conn = store.db.conn
        with store.transaction():
            conn.executemany(
                "INSERT INTO chats (chat_id, kind, title, language, time_zone, reminder_time, lead_days,"
                " quiet_start, quiet_end, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                chat_rows,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO subscriptions (chat_id, platform, marketplace, topic, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                sub_rows,
            )
            conn.executemany(
                "INSERT INTO tracks (chat_id, rule_id, number_id, start_date, deadline, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                track_rows,
            )
        return store.db.table("subscriptions").count_where()


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def timed(label: str, store: Store, catalog: Catalog, window: int | None) -> tuple[float, PlanResult]:
    started = time.perf_counter()
    result = plan_all(store, catalog, window_days=window)
    seconds = time.perf_counter() - started
    print(
        f"{label:<34} {seconds:7.2f} s   added={result.added:>9,} moved={result.moved:>9,}"
        f" withdrawn={result.withdrawn:>9,}   peak RSS so far {peak_rss_mb():6.0f} MB"
    )
    return seconds, result


def compare_outbox(
    folder: Path, pristine: Path, catalog: Catalog, now: dt.datetime, count: int, window: int | None
) -> None:
    """The first `count` chats planned through plan_chat + Outbox.replace_plan, then through plan_all."""
    path = folder / "compare.db"
    shutil.copy(pristine, path)
    with Store(path, clock=Clock(now)) as store:
        chats = store.chats(active_only=False)[:count]
        started = time.perf_counter()
        planned = [
            item
            for settings in chats
            for item in plan_chat(
                catalog,
                settings,
                store.subscriptions(settings.chat_id),
                list_tracks(store, settings.chat_id),
                now,
                window_days=window,
            )
        ]
        computed = time.perf_counter() - started
        result = Outbox(store).replace_plan([settings.chat_id for settings in chats], planned)
        outbox_seconds = time.perf_counter() - started
    shutil.copy(pristine, path)
    with Store(path, clock=Clock(now)) as store:
        started = time.perf_counter()
        ours = plan_all(store, catalog, [settings.chat_id for settings in chats], window_days=window)
        ours_seconds = time.perf_counter() - started
    print(
        f"{count:,} chats: plan_chat + Outbox.replace_plan {outbox_seconds:.2f} s"
        f" ({computed:.2f} s reading and planning per chat, {outbox_seconds - computed:.2f} s replace_plan),"
        f" added={result.added:,}; plan_all {ours_seconds:.2f} s, added={ours.added:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--now", default="2025-01-01T00:00:00+00:00", help="the planning instant (ISO 8601)")
    parser.add_argument(
        "--window",
        default=str(PLANNING_WINDOW_DAYS),
        help=f"plan_all's window in days, or 'none' for the whole horizon (default {PLANNING_WINDOW_DAYS})",
    )
    parser.add_argument("--compare-outbox", type=int, default=0, metavar="N")
    args = parser.parse_args()
    window = None if args.window.casefold() == "none" else int(args.window)
    now = dt.datetime.fromisoformat(args.now)
    catalog = load_catalog()
    with tempfile.TemporaryDirectory(prefix="policybot-bench-") as folder:
        path, pristine = Path(folder) / "plan.db", Path(folder) / "pristine.db"
        started = time.perf_counter()
        subscriptions = generate(pristine, args.chats, now)
        print(
            f"generated {args.chats:,} chats, {subscriptions:,} subscriptions in"
            f" {time.perf_counter() - started:.1f} s; now={now.isoformat()}; window={window} days;"
            f" peak RSS before planning {peak_rss_mb():.0f} MB"
        )
        shutil.copy(pristine, path)
        with Store(path, clock=Clock(now)) as store:
            plan_seconds, first = timed("plan (empty outbox)", store, catalog, window)
            replan_seconds, _ = timed("re-plan (nothing changed)", store, catalog, window)
            ids = [row[0] for row in store.db.execute("SELECT chat_id FROM chats WHERE chat_id % 10 = 3")]
            with store.transaction():
                store.db.conn.executemany(
                    "UPDATE chats SET reminder_time = '11:15' WHERE chat_id = ?", [(i,) for i in ids]
                )
            timed(f"re-plan ({len(ids):,} hours changed)", store, catalog, window)
            counts = {str(status): count for status, count in Outbox(store).counts().items()}
            size = path.stat().st_size / 1e6
        print(f"outbox by status: {counts}; database file {size:.0f} MB")
        rss = peak_rss_mb()

        shutil.copy(pristine, path)
        with Store(path, clock=Clock(now)) as store:
            tracemalloc.start()
            started = time.perf_counter()
            plan_all(store, catalog, window_days=window)
            traced_seconds = time.perf_counter() - started
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        print(
            f"plan (empty outbox) under tracemalloc: {traced_seconds:.2f} s (tracing slows it down),"
            f" peak of Python allocations {traced_peak / 1e6:.0f} MB"
        )
        if args.compare_outbox:
            compare_outbox(Path(folder), pristine, catalog, now, args.compare_outbox, window)
    print(
        f"chats={args.chats} reminders={first.added} plan_s={plan_seconds:.2f} replan_s={replan_seconds:.2f}"
        f" peak_rss_mb={rss:.0f} peak_tracemalloc_mb={traced_peak / 1e6:.0f}"
    )


if __name__ == "__main__":
    main()
