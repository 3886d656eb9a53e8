"""Issue #19's "done when": a catalog published from a changed copy of policies/ reaches a running
`policybot run` (its own process, against the fake Bot API) by its next pull, and its change alert reaches
the subscribers; /metrics shows the feed's figures; a refused pull keeps the catalog and is counted."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import httpx
from fake_telegram import FakeBotAPI
from support.feed_site import NOW, FeedSite, public_key, publish_to
from support.processes import free_port, start_bot, stop, texts, wait_listening

import bot.feed  # noqa: F401  (its tables, for the store opened below)
from bot.clock import Clock
from bot.store import Store, Subscription

SUBSCRIBER = 7001
OPERATOR = 7002


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_a_published_date_change_reaches_subscribers(
    fake_telegram: FakeBotAPI, site: FeedSite, policies: Path, keys: Path, tmp_path: Path
) -> None:
    server = fake_telegram
    server.add_chat(SUBSCRIBER, "private", first_name="Seller")
    with Store(tmp_path / "bot.db", clock=Clock(NOW)) as store:
        store.ensure_chat(SUBSCRIBER, "private", None, "en")
        store.subscribe(SUBSCRIBER, [Subscription("amazon", "US", "compliance")])
    # The maintainers move the CPSC eFiling foreign-trade-zone date and publish.
    amazon = policies / "amazon.toml"
    amazon.write_text(
        amazon.read_text(encoding="utf-8").replace("date = 2027-01-08", "date = 2027-02-08", 1),
        encoding="utf-8",
    )
    publish_to(site, policies, keys, 2026112501)
    port = free_port()
    config_extra = (
        f'\n[catalog]\nfeed = "{site.manifest_url}"\npublic_keys = ["{public_key(keys)}"]\n'
        f'ca_file = "{site.ca_file}"\ninterval = "1h"\n\n[monitoring]\nlisten = "127.0.0.1:{port}"\n'
    )
    log = (tmp_path / "bot.log").open("w")
    process = start_bot(
        server, tmp_path, now=NOW, monitoring=True, config_extra=config_extra,
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    try:
        # Started on the shipped catalog (recorded, nothing alerted); the first pull installs the feed's.
        server.wait_for_sync(
            lambda: any("2027-02-08" in text for text in texts(server, SUBSCRIBER)), timeout=90
        )
        alert = next(text for text in texts(server, SUBSCRIBER) if "2027-02-08" in text)
        assert "Policy change" in alert and "2027-01-08" in alert
        with httpx.Client() as client:
            wait_listening(client, f"http://127.0.0.1:{port}/metrics")
            body = client.get(f"http://127.0.0.1:{port}/metrics").text
            assert metric(body, "policybot_catalog_version") == 2026112501
            assert metric(body, "policybot_catalog_age_seconds") >= 0
            assert client.get(f"http://127.0.0.1:{port}/healthz").status_code in (200, 503)
            assert "catalog:" not in client.get(f"http://127.0.0.1:{port}/healthz").text
    finally:
        code, _ = stop(process)
        log.close()
    assert code == 0, (tmp_path / "bot.log").read_text()
    log_text = (tmp_path / "bot.log").read_text()
    assert "installed version 2026112501" in log_text
    # The installed catalog survives a restart: the next start loads it (loading the shipped one again
    # would record the date moving back and alert the subscriber again). Meanwhile the feed froze: the
    # newest manifest it serves has expired. The pull refuses it and tells the operator, once.
    sent = len(texts(server, SUBSCRIBER))
    server.add_chat(OPERATOR, "private", first_name="Operator")
    publish_to(site, policies, keys, 2026112502, now=NOW - dt.timedelta(days=20), expires_days=14)
    log = (tmp_path / "bot2.log").open("w")
    process = start_bot(
        server, tmp_path, now=NOW, monitoring=True, config_extra=config_extra, admins=[OPERATOR],
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    try:
        server.wait_for_sync(lambda: any("expired" in text for text in texts(server, OPERATOR)), timeout=90)
    finally:
        code, _ = stop(process)
        log.close()
    logged = (tmp_path / "bot2.log").read_text()
    assert code == 0, logged
    assert "refused: expired" in logged or "catalog feed refused: expired" in logged
    assert len(texts(server, SUBSCRIBER)) == sent
    assert len([text for text in texts(server, OPERATOR) if "expired" in text]) == 1
    with Store(tmp_path / "bot.db", clock=Clock(NOW)) as store:
        actions = [row["action"] for row in store.audit_log(20)]
    assert "catalog-installed" in actions and "catalog-refused" in actions
    server.assert_no_rejections()
