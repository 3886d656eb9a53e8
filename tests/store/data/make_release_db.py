"""Make `release_a68f5ac.sql`: a database written by the release before #15 (main at a68f5ac, one global
migration sequence 1..5), dumped as SQL text for the upgrade test (tests/store/test_owner_upgrade.py).

Run with that release's code first on the path, from this repository's root:

    git -C /work/main archive a68f5ac | tar -x -C /tmp/old-main
    PYTHONPATH=/tmp/old-main .venv/bin/python tests/store/data/make_release_db.py /tmp/old-main

It writes through the release's own API (no hand-written SQL): chats with settings, subscriptions, the
catalog history of a first sync, reminders planned for the next year, an alert sent, one failed,
one retried, one dismissed, a countdown, a recorded change, a watched page with two snapshots, a
seller's SKU import, and audit rows. The clock is fixed, so the dump is the same on every run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import httpx

import bot
from bot.catalog.load import load_catalog
from bot.clock import Clock
from bot.reminders.changes import Change, record_change, sync_catalog
from bot.reminders.outbox import Outbox, Planned
from bot.reminders.planner import plan_all
from bot.reminders.tracks import add_track
from bot.skus.read import read_sku_file
from bot.skus.records import SkuRecords
from bot.store import Store, Subscription
from bot.watch.watcher import Source, Watcher, WatchSettings

START = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
ALICE, BOB, GROUP = 11, 12, -1001
PAGE = "https://sellercentral.example/fees"
OUT = Path(__file__).with_name("release_a68f5ac.sql")


class PageVersions(httpx.AsyncBaseTransport):
    """The page's two versions, one per request (httpx's MockTransport reads the body ahead, and the
    watcher streams it)."""

    def __init__(self) -> None:
        self.texts = iter(["<p>Referral fee 15%</p>", "<p>Referral fee 17%</p>"])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = next(self.texts).encode()
        headers = {"content-type": "text/html; charset=utf-8", "content-length": str(len(body))}
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body), request=request)


async def watch_twice(store: Store) -> None:
    async with httpx.AsyncClient(transport=PageVersions()) as client:
        settings = WatchSettings(allow_hosts=("sellercentral.example",))
        watcher = Watcher(store, settings, client=client, rng=random.Random(7))
        await watcher.check(Source(PAGE, platform="shein"))
        await watcher.check(Source(PAGE, platform="shein"))


def main(old_tree: Path) -> None:
    assert Path(bot.__file__).is_relative_to(old_tree), f"run with PYTHONPATH={old_tree}: got {bot.__file__}"
    with tempfile.TemporaryDirectory() as folder:
        # A few small platforms keep the dump small; the catalog history has the same shape for all.
        policies = Path(folder) / "policies"
        policies.mkdir()
        for name in ("shein.toml", "temu.toml", "tiktok-shop.toml", "aliexpress.toml", "marketplaces.toml"):
            shutil.copy(old_tree / "policies" / name, policies / name)
        catalog = load_catalog(policies)
        path = Path(folder) / "bot.db"
        store = Store(path, clock=Clock(START))
        store.ensure_chat(ALICE, "private", None, "zh-hans")
        store.ensure_chat(BOB, "private", None, "en")
        store.ensure_chat(GROUP, "group", "Sellers", "en")
        store.update_settings(ALICE, quiet_start="22:00", quiet_end="07:00", lead_days=[7, 1])
        store.subscribe(ALICE, [Subscription("shein"), Subscription("temu")])
        store.subscribe(GROUP, [Subscription("shein", "US", "fees"), Subscription("temu")])
        store.subscribe(BOB, [Subscription("temu")])
        store.set_active(BOB, False)
        store.audit(ALICE, ALICE, "settings", "quiet hours")
        store.audit(None, GROUP, "subscribe", "shein US fees")

        sync_catalog(store, catalog)  # the first sync: the baseline of the catalog history
        add_track(store, catalog, ALICE, "temu-exemption", dt.date(2026, 11, 20))
        plan_all(store, catalog, horizon_days=366)
        record_change(
            store,
            Change(
                None, START, "catalog", "shein", None, "changed", "fees", ("US",), "Fees changed", "费用变更"
            ),
        )
        outbox = Outbox(store)
        outbox.enqueue(
            Planned(chat, "alert", f"change:1:{chat}", 0, START, None, {"change_id": 1})
            for chat in (ALICE, GROUP, BOB)
        )
        claimed = {delivery.chat_id: delivery.id for delivery in outbox.claim_due()}
        outbox.mark_sent([claimed[ALICE]], message_id=501)
        outbox.retry_later([claimed[GROUP]], START + dt.timedelta(minutes=5), "429: retry after 300")
        outbox.mark_failed([claimed[BOB]], "Forbidden: bot was blocked by the user", attempt_status="blocked")
        reminder = next(d for d in outbox.pending_for_chat(ALICE) if d.kind in ("reminder", "track"))
        outbox.dismiss(ALICE, reminder.key)

        asyncio.run(watch_twice(store))
        sku_file = read_sku_file(
            b"SKU,Category,Price,Monthly Units,DAYS_OF_SUPPLY\nA1,apparel,9.99,5,12\nB2,home,24.99,3,40\n",
            "a.csv",
        )
        SkuRecords(store).replace(ALICE, sku_file, "a.csv", actor_id=ALICE)
        store.close()

        connection = sqlite3.connect(path)
        try:
            lines = list(connection.iterdump())
        finally:
            connection.close()
    OUT.write_text(
        "-- A policybot database as release a68f5ac wrote it (tests/store/data/make_release_db.py).\n"
        + "\n".join(lines)
        + "\n",
        "utf-8",
    )
    print(f"{OUT}: {len(lines)} statements")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
