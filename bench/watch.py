"""Benchmark of the page watcher: 500 sources answered with 304 Not Modified, checked in one pass.

What it does:
  1. starts a local HTTP/1.1 server (ThreadingHTTPServer, keep-alive) serving --sources pages, each
     with its own ETag, answering 304 when If-None-Match matches it. By default the server runs in a
     process of its own, as real sites run on machines of their own: in a thread of this process it
     would share the GIL with the watcher (`--same-process` runs it that way anyway);
  2. pass 1 (not the target): `Watcher.check_all` over every source on a fresh SQLite store in a
     temporary directory: every page is fetched in full, parsed, hashed, stored as a baseline with
     its ETag;
  3. pass 2 (the target): `check_all` again over the same sources: every request carries
     If-None-Match, every answer is a 304, and each check only updates its schedule row.
For each pass it prints the wall time, requests per second, this process's CPU seconds and the
statuses seen. The last line is `sources=<n> pass304_s=<x> rps=<y>` against the target (under 10 s
for 500 sources). Nothing is asserted: the figures move with the machine's load.

Run from the repository root:
    python bench/watch.py [--sources 500] [--concurrency 8] [--same-process]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import Clock
from bot.store import Store
from bot.watch.watcher import CheckResult, Source, Watcher, WatchSettings

TARGET_SECONDS = 10.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        etag = f'"{self.path.strip("/").replace("/", "-")}-v1"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        body = (
            f"<html><body><main><h1>Page {self.path}</h1>"
            + "".join(
                f"<p>Rule paragraph {i}: the fee is {i}% from 2026-01-{i % 28 + 1:02d}.</p>"
                for i in range(20)
            )
            + "</main></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def serve(conn: Connection) -> None:
    """Run the server until told to stop; send its port first."""
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send(server.server_address[1])
    conn.recv()
    server.shutdown()
    server.server_close()


async def one_pass(watcher: Watcher, sources: list[Source]) -> tuple[float, float, Counter[str]]:
    statuses: Counter[str] = Counter()

    def count(result: CheckResult) -> None:
        statuses[result.status] += 1

    cpu = time.process_time()
    started = time.perf_counter()
    await watcher.check_all(sources, progress=count)
    return time.perf_counter() - started, time.process_time() - cpu, statuses


async def run(port: int, count: int, concurrency: int) -> float:
    sources = [Source(f"http://127.0.0.1:{port}/page/{index}") for index in range(count)]
    settings = WatchSettings(allow_hosts=("127.0.0.1",), concurrency=concurrency)
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "store.db", clock=Clock()) as store:
        async with Watcher(store, settings) as watcher:
            results = {}
            for name in ("pass 1 (200, baselines)", "pass 2 (304)"):
                wall, cpu, statuses = await one_pass(watcher, sources)
                results[name] = wall
                print(
                    f"{name:24} {wall:6.2f} s  {count / wall:7.0f} requests/s  cpu {cpu:5.2f} s  "
                    f"statuses {dict(statuses)}"
                )
    return results["pass 2 (304)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--same-process", action="store_true", help="run the server in a thread of this process"
    )
    args = parser.parse_args()

    if args.same_process:
        server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        stop = server.shutdown
    else:
        ours, theirs = multiprocessing.Pipe()
        process = multiprocessing.get_context("spawn").Process(target=serve, args=(theirs,), daemon=True)
        process.start()
        port = ours.recv()

        def stop() -> None:
            ours.send("stop")
            process.join(10)

    print(
        f"{args.sources} sources, concurrency {args.concurrency}, server "
        f"{'in this process' if args.same_process else 'in its own process'}"
    )
    try:
        seconds = asyncio.run(run(port, args.sources, args.concurrency))
    finally:
        stop()
    verdict = "under" if seconds < TARGET_SECONDS else "OVER"
    print(f"sources={args.sources} pass304_s={seconds:.2f} rps={args.sources / seconds:.0f}")
    print(f"target: {verdict} {TARGET_SECONDS:g} s")


if __name__ == "__main__":
    main()
