"""A changed source page in the running bot (issue #21): the operators' message names the rule and the
values that moved, a button drafts the update for review, and /stats counts the rules to review first.
The page is a real HTTP server on 127.0.0.1; the bot is the real application against the fake Bot API."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_telegram import FakeBotAPI
from support.pages import Page, served, surcharge_policy

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import TelegramConfig, WatchConfig
from bot.i18n import to_plain_text
from bot.store import Store
from bot.tg.app import build_application
from bot.tg.watching import watch_job

ADMIN = 910
NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


BEFORE = "<html><body><p>The surcharge is 15% of the fulfilment fee from April 17, 2026.</p></body></html>"


@pytest.fixture
def page() -> Iterator[Page]:
    with served(Page(BEFORE), "/surcharge") as running:
        yield running


async def test_the_operator_sees_the_proposal_and_drafts_the_update(
    fake_telegram: FakeBotAPI, page: Page, tmp_path: Path
) -> None:
    page_url = page.url
    server = fake_telegram
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url, admins=[ADMIN])
    drafts = tmp_path / "drafts"
    watch = WatchConfig(allow_hosts=["127.0.0.1"], drafts=drafts)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "demo.toml").write_text(surcharge_policy(page_url), encoding="utf-8")
    app = build_application(config, server.token, LiveCatalog(policies), store, clock, watch)
    async with app:
        assert app.post_init is not None and app.job_queue is not None and app.updater is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            store.ensure_chat(ADMIN, "private", None, "en")
            app.job_queue.run_once(watch_job, 0)  # the baseline
            await server.wait_for(
                lambda: store.db.execute("SELECT count(*) FROM page_snapshots").fetchone()[0]
            )
            page.body = page.body.replace("15%", "17%").replace("April 17, 2026", "15 January 2027")
            store.db.execute("UPDATE page_sources SET next_check_at = ?", [NOW.isoformat()])
            store.db.conn.commit()
            app.job_queue.run_once(watch_job, 0)
            await server.wait_for(lambda: server.sent_messages(ADMIN), timeout=10)
            message = server.sent_messages(ADMIN)[0]
            text = to_plain_text(message["text"])
            assert "Rule demo-fuel-surcharge (Demo fuel surcharge):" in text
            assert "15% → 17%" in text and "2026-04-17 → 2027-01-15" in text
            buttons = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
            draft_button = next(b for b in buttons if b.startswith("watch:drf:"))

            server.callback(ADMIN, ADMIN, draft_button)
            await server.wait_for(lambda: len(server.sent_messages(ADMIN)) > 1, timeout=10)
            reply = to_plain_text(server.sent_messages(ADMIN)[1]["text"])
            path = drafts / "demo-fuel-surcharge.demo.toml"
            assert f"Draft written for review: {path}" in reply and "Nothing reaches subscribers" in reply
            rule = tomllib.loads(path.read_text(encoding="utf-8"))["rules"][0]
            assert rule["numbers"][0]["value"] == "17" and rule["events"][0]["date"] == dt.date(2027, 1, 15)
            assert (policies / "demo.toml").read_text(encoding="utf-8") == surcharge_policy(
                page_url
            )  # untouched

            server.message(ADMIN, "/stats", chat_type="private", language_code="en")
            await server.wait_for(lambda: len(server.sent_messages(ADMIN)) > 2, timeout=10)
            stats = to_plain_text(server.sent_messages(ADMIN)[2]["text"])
            assert "Rules to review: 1 with a cited page changed since their review, 1 not reviewed" in stats
        finally:
            await app.updater.stop()
            await app.stop()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
    server.assert_no_rejections()
