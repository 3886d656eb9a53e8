"""Catalog feed pulls (issue #19): time and peak memory of a pull that installs a new catalog, and of
one that finds nothing new (a 304), against a local HTTPS host serving a SITE published from policies/.

    python bench/feed.py [--rounds 5]

Prints figures; asserts nothing. Memory is tracemalloc's peak of Python allocations during the pull (the
payload, its JSON, the strict loader's catalog), plus the process's max RSS at the end for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.feed_site import FeedSite, open_feed, publish_to, serve  # noqa: E402

from bot.feed import Outcome, keygen  # noqa: E402

NOW = dt.datetime.now(dt.UTC)


async def measure(feed, expected: Outcome, traced: bool) -> float:
    """Seconds (untraced: tracemalloc slows Python down several times) or peak MB (traced)."""
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    result = await feed.pull()
    elapsed = time.perf_counter() - started
    assert result.outcome is expected, result
    if not traced:
        return elapsed
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        policies = work / "policies"
        shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("*.md"))
        keygen(work / "keys")
        (work / "site").mkdir()
        site = FeedSite(work / "site", work / "ca.pem")
        server = serve(site)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        feed = open_feed(site, work / "keys", work / "bot.db", now=NOW)
        figures: dict[tuple[str, bool], list[float]] = {}
        for version in range(1, 2 * args.rounds + 1):
            traced = version % 2 == 0
            marketplaces = policies / "marketplaces.toml"
            marketplaces.write_text(
                marketplaces.read_text(encoding="utf-8") + f"\n# {version}\n", encoding="utf-8"
            )
            publish_to(site, policies, work / "keys", version, now=NOW)
            figures.setdefault(("install", traced), []).append(
                asyncio.run(measure(feed, Outcome.INSTALLED, traced))
            )
            figures.setdefault(("304", traced), []).append(
                asyncio.run(measure(feed, Outcome.UP_TO_DATE, traced))
            )
        size = next(site.folder.glob("catalog-1-*.json")).stat().st_size
        server.shutdown()
        server.server_close()
    files = len(list((ROOT / "policies").glob("*.toml")))
    print(f"payload: {size} bytes ({files} policy files); {args.rounds} rounds each")
    for key, name in (("install", "pull that installs"), ("304", "pull, nothing new (304)")):
        times = [seconds * 1000 for seconds in figures[(key, False)]]
        peaks = figures[(key, True)]
        print(
            f"{name:<24} time median {statistics.median(times):7.1f} ms (min {min(times):.1f}, "
            f"max {max(times):.1f})  peak Python memory median {statistics.median(peaks):.2f} MB "
            f"(max {max(peaks):.2f})"
        )
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
