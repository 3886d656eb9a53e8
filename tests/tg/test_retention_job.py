"""The running bot's daily prune (#18): scheduled at start with `[store] keep_days`, it deletes what is
older than kept, through the real Application against the fake Bot API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conftest import POLICIES
from fake_telegram import FakeBotAPI

from bot.answers import LiveCatalog
from bot.clock import Clock
from bot.config import KeepDays, TelegramConfig
from bot.store import Store
from bot.tg import build_application
from bot.tg.retention import RETENTION_JOB

THEN = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
NOW = THEN + dt.timedelta(days=10)


async def test_the_daily_prune_is_scheduled_and_deletes_what_is_not_kept(
    fake_telegram: FakeBotAPI, tmp_path: Path
) -> None:
    with Store(tmp_path / "bot.db", clock=Clock(THEN)) as old:
        for number in range(1200):  # more than one batch
            old.audit(1, 1, "old", str(number))
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    store.audit(1, 1, "recent", "kept")
    config = TelegramConfig(base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url)
    app = build_application(
        config, fake_telegram.token, LiveCatalog(POLICIES), store, clock, keep_days=KeepDays(audit=5)
    )
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None and app.job_queue is not None
        await app.post_init(app)
        try:
            (job,) = app.job_queue.get_jobs_by_name(RETENTION_JOB)
            await job.run(app)
            assert [entry["action"] for entry in store.audit_log()] == ["recent"]
        finally:
            await app.post_shutdown(app)


async def test_no_keep_days_no_prune(fake_telegram: FakeBotAPI, tmp_path: Path) -> None:
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url)
    app = build_application(config, fake_telegram.token, LiveCatalog(POLICIES), store, clock)
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None and app.job_queue is not None
        await app.post_init(app)
        try:
            assert not app.job_queue.get_jobs_by_name(RETENTION_JOB)
        finally:
            await app.post_shutdown(app)
