"""`policybot run` started while its database takes no writes (issue #18): it says so once and waits, so a
supervisor sees one process waiting instead of a crash loop, and it starts by itself once writes work."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

from fake_telegram import FakeBotAPI
from support.processes import start_bot, stop

from bot.cli import register_every_owner
from bot.store import Store


def test_a_locked_database_at_start_is_waited_for_not_crashed_on(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    register_every_owner()
    database = tmp_path / "bot.db"
    Store(database).close()  # an existing database, every migration run
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    log = tmp_path / "run.log"
    with log.open("w") as handle:
        process = start_bot(
            fake_telegram, tmp_path, monitoring=False, stdout=subprocess.DEVNULL, stderr=handle
        )
    try:
        deadline = time.monotonic() + 60
        while "takes no writes" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()  # never exits while it waits
            time.sleep(0.2)
        assert "takes no writes" in log.read_text() and "database is locked" in log.read_text()
        time.sleep(3)
        assert process.poll() is None  # still waiting: no exit, no restart loop
        assert fake_telegram.calls_to("getUpdates") == []
        holder.execute("ROLLBACK")
        holder.close()
        fake_telegram.wait_for_sync(lambda: fake_telegram.calls_to("getUpdates"), timeout=60)
    finally:
        code, _ = stop(process)
    assert code == 0, log.read_text()
    assert log.read_text().count("takes no writes") == 1  # said once, not at every try
