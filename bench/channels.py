"""Benchmark of delivery to destinations beside Telegram (#20): N destinations, one reminder each.

What it does: a real SQLite store in a temporary folder; N destinations spread over Feishu, DingTalk and
WeCom (a third each), each on its own robot, or `--per-robot K` destinations sharing each robot (a team
with several chats on one group robot); one real reminder row each (an event of the shipped catalog),
due now; the real Dispatcher with the channels' route (bot.channels.attach), as `policybot run` without
a token uses it; the fake robots of tests/channels (HTTPS, signatures, limits and error bodies), with
`--latency` seconds added to every answer (real robots answer from China in 50-300 ms).

It prints the time until every reminder was delivered, the messages each fake received, any refusal
(a limit crossed would show as 11232, 130101 or 45009), the busiest window seen per kind (sends in any
1 s and any 60 s to one robot, against the channel's limit) and the bound the limits alone impose: the
least time in which the busiest robot could take its messages (0 when every robot gets fewer than its
window allows). It never asserts a timing.

Run from the repository root:
    python bench/channels.py [--destinations 1000] [--per-robot 1] [--latency 0.05] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import math
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "channels"))

from channel_fakes import start_fake_channels  # noqa: E402

from bot.catalog import load_catalog  # noqa: E402
from bot.channels import Kind, add_destination, attach  # noqa: E402
from bot.clock import Clock  # noqa: E402
from bot.config import ChannelsConfig  # noqa: E402
from bot.reminders import Dispatcher, Failed, Limits, Outbox, Planned, render_digest  # noqa: E402
from bot.store import Store  # noqa: E402

KINDS = ("feishu", "dingtalk", "wecom")
LIMITS = {"feishu": ((5, 1.0), (100, 60.0)), "dingtalk": ((20, 60.0),), "wecom": ((20, 60.0),)}


class NoTelegram:
    limits = Limits()

    async def send(self, destination, message):  # type: ignore[no-untyped-def]
        return Failed("no Telegram here", transient=False)


def least_time(messages: int, windows: tuple[tuple[int, float], ...]) -> float:
    """The least seconds from the first to the last of `messages` sends to one robot within its windows."""
    return max((math.ceil(messages / count) - 1) * seconds for count, seconds in windows) if messages else 0.0


def busiest(times: list[float], seconds: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run(args: argparse.Namespace, folder: Path) -> None:
    fakes = start_fake_channels(folder)
    fakes.robots.delay = args.latency
    catalog = load_catalog(None)
    rule = next(r for r in catalog.rules.values() if r.events and catalog.rule_platform[r.id] == "amazon")
    event = rule.events[0]
    clock = Clock(dt.datetime.now(dt.UTC))
    store = Store(folder / "bench.db", clock=clock)
    robots_per_kind = math.ceil(args.destinations / len(KINDS) / args.per_robot)
    made = []
    for n in range(args.destinations):
        kind = KINDS[n % len(KINDS)]
        robot = f"{kind}{(n // len(KINDS)) % robots_per_kind:04d}"
        made.append(add_destination(store, f"d{n:05d}", fakes.url(kind, robot), Kind(kind), language="zh"))
    now = clock.now()
    date = event.date.isoformat() if event.date else None
    payload = {"rule_id": rule.id, "event_id": event.id, "date": date}
    key = f"{rule.id}/{event.id}/bench"
    Outbox(store).enqueue(Planned(d.chat_id, "reminder", key, 7, now, None, dict(payload)) for d in made)

    def render(rows, settings):  # type: ignore[no-untyped-def]
        return render_digest(catalog, rows, settings, clock.now()), ()

    hosts = {kind: [fakes.host(kind)] for kind in KINDS}
    config = ChannelsConfig.model_validate({"hosts": hosts, "ca_file": fakes.ca_file})
    dispatcher = Dispatcher(NoTelegram(), store, render, concurrency=args.concurrency)
    sender = attach(dispatcher, store, config)
    stop = asyncio.Event()
    started = time.perf_counter()
    runner = asyncio.ensure_future(dispatcher.run(stop))
    while Outbox(store).counts_by_status().get("sent", 0) < args.destinations:
        await asyncio.sleep(0.05)
        if runner.done():
            break
    elapsed = time.perf_counter() - started
    stop.set()
    await runner
    await sender.aclose()
    fakes.close()
    counts = Outbox(store).counts_by_status()
    store.close()

    received = fakes.robots.received
    per_robot: dict[str, list[float]] = defaultdict(list)
    kind_of_robot = {}
    for item in received:
        per_robot[item.robot].append(item.at)
        kind_of_robot[item.robot] = item.kind
    print(f"destinations={args.destinations} per_robot={args.per_robot} robots={len(per_robot)} "
          f"latency={args.latency}s concurrency={args.concurrency}")  # fmt: skip
    print(f"outbox: {dict((str(k), v) for k, v in counts.items())}")
    print(
        f"received per kind: {dict(Counter(item.kind for item in received))};"
        f" refused: {dict(Counter(f'{kind} {code}' for kind, _, code in fakes.robots.refused))}"
    )
    bound = 0.0
    for kind in KINDS:
        robots = [r for r in per_robot if kind_of_robot[r] == kind]
        most = max((len(per_robot[r]) for r in robots), default=0)
        bound = max(bound, least_time(most, LIMITS[kind]))
        seen = ", ".join(
            f"max {max(busiest(per_robot[r], seconds) for r in robots)} in {seconds:g} s (limit {count})"
            for count, seconds in LIMITS[kind]
        )
        print(f"  {kind}: {len(robots)} robots, up to {most} messages each; busiest window: {seen}")
    ratio = f"{elapsed / bound:.2f}x the bound" if bound else "the limits impose no wait at this spread"
    print(f"delivered_all_s={elapsed:.2f} limits_bound_s={bound:.1f} ({ratio})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--destinations", type=int, default=1000)
    parser.add_argument("--per-robot", type=int, default=1, help="destinations sharing each robot")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each fake answer takes")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    main()
