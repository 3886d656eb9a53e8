"""The page watcher wired in: a changed official page reaches the operators as a diff with buttons, and,
once published, the platform's subscribers; `policybot watch --once` from the shell. A real HTTP server on
127.0.0.1 serves the page; the bot is the real application against the fake Bot API server."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import POLICIES, ROOT
from fake_telegram import FakeBotAPI

from bot.answers.live import LiveCatalog
from bot.clock import Clock
from bot.config import TelegramConfig, WatchConfig, WatchPage
from bot.i18n import to_plain_text
from bot.store import Store, Subscription
from bot.tg.app import build_application
from bot.tg.watching import changed_page_text, record_page_change, watch_job
from bot.watch.watcher import CheckResult, Source, sources_from

ADMIN = 900
SELLER = 901
OTHER = 902
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


class Page:
    """The official page: its text can change between requests."""

    body = "<html><body><main><h1>Low-inventory fee</h1><p>Credits until 2024-04-30.</p></main></body></html>"


@pytest.fixture
def page_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = Page.body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/lowinv"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_page_change_reaches_operators_and_after_publish_the_subscribers(
    fake_telegram: FakeBotAPI, page_server: str, tmp_path: Path
) -> None:
    server = fake_telegram
    clock = Clock(NOW)
    store = Store(tmp_path / "bot.db", clock=clock)
    config = TelegramConfig(base_url=server.base_url, base_file_url=server.base_file_url, admins=[ADMIN])
    watch = WatchConfig(
        allow_hosts=["127.0.0.1"], pages=[WatchPage(url=page_server, selector="main", platform="amazon")]
    )
    policies = tmp_path / "policies"
    # Only the configured page: rule sources and the policy files' pages to watch would reach the
    # internet, which tests never do.
    policies.mkdir()
    for path in POLICIES.glob("*.toml"):
        text = re.sub(
            r'\[\[watch\]\]\nurl = "[^"\n]*"\n(?:[a-z]+ = [^\n]*\n)*', "", path.read_text(encoding="utf-8")
        )
        (policies / path.name).write_text(
            text.replace('url = "https://', 'url = "report:https-'), encoding="utf-8"
        )
    app = build_application(config, server.token, LiveCatalog(policies), store, clock, watch)
    async with app:
        assert app.post_init is not None and app.job_queue is not None
        await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            store.ensure_chat(ADMIN, "private", None, "en")
            store.ensure_chat(SELLER, "private", None, "zh-hans")
            store.ensure_chat(OTHER, "private", None, "en")
            store.subscribe(SELLER, [Subscription("amazon")])
            store.subscribe(OTHER, [Subscription("temu")])
            app.job_queue.run_once(watch_job, 0)  # first pass: the baseline, nothing to report
            await server.wait_for(
                lambda: store.db.execute("SELECT count(*) FROM page_snapshots").fetchone()[0]
            )
            assert server.sent_messages(ADMIN) == []

            Page.body = Page.body.replace("2024-04-30", "2024-05-14")
            store.db.execute("UPDATE page_sources SET next_check_at = ?", [NOW.isoformat()])
            store.db.conn.commit()
            app.job_queue.run_once(watch_job, 0)
            await server.wait_for(lambda: server.sent_messages(ADMIN), timeout=10)
            message = server.sent_messages(ADMIN)[0]
            text = to_plain_text(message["text"])
            assert "official page changed" in text and "2024-05-14" in text and "2024-04-30" in text
            buttons = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
            publish = next(b for b in buttons if b.startswith("watch:pub:"))

            # A seller forges the operator's button under a message of their own chat: refused.
            server.message(SELLER, "/help", chat_type="private", language_code="zh-hans")
            await server.wait_for(lambda: server.sent_messages(SELLER))
            server.callback(SELLER, SELLER, publish, check_button=False)
            await server.wait_for(lambda: server.calls_to("answerCallbackQuery"))
            assert len(server.sent_messages(SELLER)) == 1
            assert "运营者" in str(server.calls_to("answerCallbackQuery")[0].params.get("text"))

            server.callback(ADMIN, ADMIN, publish)
            await server.wait_for(lambda: len(server.sent_messages(SELLER)) > 1, timeout=10)
            assert "官方政策页面有变化" in to_plain_text(server.sent_messages(SELLER)[1]["text"])
            assert server.sent_messages(OTHER) == []  # temu subscribers are not told about an amazon page
        finally:
            await app.updater.stop()
            await app.stop()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)


def test_watch_once_prints_a_summary_and_the_machine_line(page_server: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[store]\npath = "bot.db"\n\n[watch]\nallow_hosts = ["127.0.0.1"]\n\n'
        f'[[watch.pages]]\nurl = "{page_server}"\nselector = "main"\nplatform = "amazon"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "bot", "watch", "--once", "--config", str(config), "--only", page_server]
    first = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "checked=1 changed=0 not_modified=0 failed=0"
    Page.body = Page.body.replace("Credits", "Refunds")
    env["POLICYBOT_NOW"] = "2026-12-25T09:00:00+00:00"  # a month later: the page is due again
    second = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().splitlines()[-1] == "checked=1 changed=1 not_modified=0 failed=0"
    # The changed page's short diff, and plain text when piped (no progress bar, no escape codes).
    diff = second.stdout.split("--- " + page_server + "\n", 1)[1].splitlines()
    assert diff[0].startswith("- Credits until") and diff[1].startswith("+ Refunds until")
    assert "\x1b[" not in second.stdout + second.stderr
    nothing = [*command[:-1], "nothing-like-it"]
    refused = subprocess.run(
        nothing, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode == 2 and "no watched page" in refused.stderr


def test_a_bad_watched_page_in_the_config_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[watch.pages]]\nurl = "https://example.com/a"\nselector = "main >>> p"\n', encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "watch", "--once", "--config", str(config)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "watch.pages[0]" in result.stderr


def test_the_operators_message_says_what_to_look_for_on_a_listed_page(tmp_path: Path) -> None:
    """A page a policy file lists to watch carries its `about` into the operators' message and the change."""
    catalog = LiveCatalog(POLICIES).catalog
    platform, listed = catalog.watch_pages()[0]
    source = next(s for s in sources_from(catalog, []) if s.url == listed.url)
    result = CheckResult(source, "changed", diff="- old\n+ new")
    for lang in ("en", "zh"):
        text = to_plain_text(changed_page_text(result, lang))
        assert listed.about.get(lang) in text and listed.url in text and "+ new" in text
    with Store(tmp_path / "bot.db", clock=Clock(NOW)) as store:
        change = record_page_change(store, result)
    assert listed.about.en in change.summary_en and listed.about.zh in change.summary_zh
    assert change.platform == platform
    plain = CheckResult(Source("https://seller.example.com/news", platform="temu"), "changed", diff="x")
    assert "What to look for" not in to_plain_text(changed_page_text(plain, "en"))
