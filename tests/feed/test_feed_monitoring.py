"""The feed in /metrics, `policybot doctor` and `policybot check --local`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from support.feed_site import NOW, open_feed, public_key, publish_to

from bot.cli import main
from bot.feed import feed_status
from bot.monitoring import DatabaseHealth, Metrics, check_installation


def metrics_for(feed) -> str:
    metrics = Metrics(
        reminders=lambda: [],
        late_reminders=lambda: 0,
        catalog_version=lambda: 0,
        catalog_rules=lambda: 0,
        too_many_requests=lambda: 0,
    )
    assert "policybot_catalog_version" not in metrics.render().decode()  # no feed: no lines
    metrics.catalog_feed = lambda: feed_status(feed.store)
    return metrics.render().decode()


async def test_metrics_version_age_and_failures_by_reason(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100, now=NOW - dt.timedelta(hours=2))
    feed = open_feed(site, keys, tmp_path / "bot.db")
    assert (await feed.pull()).version == 100
    site.replace["/feed/manifest.json"] = (site.folder / "manifest.json").read_bytes() + b" "
    await feed.pull()
    await feed.pull()
    text = metrics_for(feed)
    assert "policybot_catalog_version 100.0" in text
    age = next(
        float(line.split()[1]) for line in text.splitlines() if line.startswith("policybot_catalog_age")
    )
    assert 7200 <= age < 7200 + 3600  # published two hours before the store's clock started (it runs on)
    assert 'policybot_catalog_update_failures_total{reason="signature"} 2.0' in text


async def test_status_says_expired(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100, expires_days=1)
    feed = open_feed(site, keys, tmp_path / "bot.db")
    await feed.pull()
    later = open_feed(site, keys, tmp_path / "bot.db", now=NOW + dt.timedelta(days=2))
    status = feed_status(later.store)
    assert status.expired and "EXPIRED" in status.lines()[0]


def doctor(tmp_path: Path, catalog: str) -> list:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "bot.db"\n\n[catalog]\n{catalog}', encoding="utf-8")
    findings = check_installation(config, {})
    return [finding for finding in findings if finding.check == "catalog feed"]


def test_doctor_checks_the_feed_settings(tmp_path, keys) -> None:
    good = doctor(
        tmp_path, f'feed = "https://example.org/manifest.json"\npublic_keys = ["{public_key(keys)}"]\n'
    )
    assert good[0].ok, good
    bad_key = doctor(tmp_path, 'feed = "https://example.org/manifest.json"\npublic_keys = ["RWQnotakey"]\n')
    assert not bad_key[0].ok and "public_keys" in bad_key[0].detail
    plain = doctor(
        tmp_path, f'feed = "http://example.org/manifest.json"\npublic_keys = ["{public_key(keys)}"]\n'
    )
    assert not plain[0].ok and "https" in plain[0].detail
    # No key at all is a config error, named.
    findings = check_installation(_config(tmp_path, 'feed = "https://example.org/m.json"\n'), {})
    assert not findings[0].ok and "public_keys" in findings[0].detail


def _config(tmp_path: Path, catalog: str) -> Path:
    config = tmp_path / "c2.toml"
    config.write_text(f"[catalog]\n{catalog}", encoding="utf-8")
    return config


def test_check_validates_local_rules_with_the_catalog(tmp_path, capsys) -> None:
    local = tmp_path / "local"
    local.mkdir()
    (local / "temu.toml").write_text(
        'platform = "temu"\nname = { en = "Temu", zh = "Temu" }\n\n[[rules]]\nid = "my-own-rule"\n',
        encoding="utf-8",
    )
    assert main(["check", "--local", str(local)]) == 1
    assert "my-own-rule" in capsys.readouterr().err
    assert main(["check"]) == 0


async def test_healthz_reports_a_catalog_past_its_expiry(
    site, policies, keys, tmp_path, fake_telegram
) -> None:
    from bot.answers import LiveCatalog
    from bot.config import TelegramConfig
    from bot.monitoring import UpdatesWatch
    from bot.tg.app import build_application
    from bot.tg.monitoring import health_checks

    publish_to(site, policies, keys, 100, expires_days=1)
    await open_feed(site, keys, tmp_path / "bot.db").pull()
    for days, expected in ((0, None), (2, "version 100 expired at")):
        feed = open_feed(site, keys, tmp_path / "bot.db", now=NOW + dt.timedelta(days=days))
        config = TelegramConfig(base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url)
        live = LiveCatalog(feed.directory())
        app = build_application(config, fake_telegram.token, live, feed.store, feed.store.clock)
        app.bot_data.feed = feed
        reason = health_checks(app, feed.store, UpdatesWatch(60), DatabaseHealth())["catalog"]()
        assert reason is None if expected is None else expected in reason
        feed.store.close()
