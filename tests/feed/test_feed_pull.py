"""Pulling the signed feed over HTTPS: what installs, and every attack of issue #19 refused with the last
good catalog kept and the reason in the result, the audit log and the failure counts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from support.feed_site import NOW, FeedSite, open_feed, public_key, publish_to

from bot.catalog import load_catalog
from bot.feed import Feed, FeedError, Outcome, feed_status, keygen, rollback


def move_date(policies: Path, old: str, new: str) -> None:
    path = policies / "amazon.toml"
    text = path.read_text(encoding="utf-8")
    assert f"date = {old}" in text
    path.write_text(text.replace(f"date = {old}", f"date = {new}", 1), encoding="utf-8")


def manifest(site: FeedSite) -> dict:
    return json.loads((site.folder / "manifest.json").read_text(encoding="utf-8"))


def assert_refused(feed: Feed, result, reason: str, kept: int | None) -> None:
    assert result.outcome is Outcome.REFUSED, result
    assert result.reason == reason, result
    assert feed.records.current() is None if kept is None else feed.records.current().version == kept
    assert feed_status(feed.store).failures.get(reason, 0) >= 1
    audit = [row for row in feed.store.audit_log(10) if row["action"] == "catalog-refused"]
    assert audit and str(audit[0]["detail"]).startswith(reason)


async def installed(feed: Feed, version: int) -> None:
    result = await feed.pull()
    assert result.outcome is Outcome.INSTALLED and result.version == version, result


async def test_install_then_304_then_newer(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    feed = open_feed(site, keys, tmp_path / "bot.db")
    await installed(feed, 100)
    folder = feed.directory()
    assert load_catalog(folder).rules.keys() == load_catalog(policies).rules.keys()
    # Nothing new: the manifest is asked for conditionally and answered 304; nothing else is fetched.
    site.requests.clear()
    again = await feed.pull()
    assert again.outcome is Outcome.UP_TO_DATE and again.detail == "not modified"
    assert site.requests == [("/feed/manifest.json", 304)]
    move_date(policies, "2027-01-08", "2027-01-22")
    publish_to(site, policies, keys, 101)
    await installed(feed, 101)
    assert "2027-01-22" in (feed.directory() / "amazon.toml").read_text(encoding="utf-8")
    status = feed_status(feed.store)
    assert status.version == 101 and status.source == site.manifest_url and not status.expired


async def test_tampered_payload_byte(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    feed = open_feed(site, keys, tmp_path / "bot.db")
    await installed(feed, 100)
    publish_to(site, policies, keys, 101)
    name = manifest(site)["payload"]
    body = bytearray((site.folder / name).read_bytes())
    body[len(body) // 2] ^= 0x01
    site.replace[f"/feed/{name}"] = bytes(body)
    assert_refused(feed, await feed.pull(), "sha256", kept=100)


async def test_tampered_manifest(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    raw = (site.folder / "manifest.json").read_bytes()
    site.replace["/feed/manifest.json"] = raw.replace(b'"version": 100', b'"version": 900')
    feed = open_feed(site, keys, tmp_path / "bot.db")
    assert_refused(feed, await feed.pull(), "signature", kept=None)


async def test_valid_signature_by_an_unknown_key(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    stranger = tmp_path / "stranger"
    keygen(stranger)
    feed = open_feed(site, keys, tmp_path / "bot.db", other_keys=[public_key(stranger)])
    assert_refused(feed, await feed.pull(), "unknown_key", kept=None)


async def test_next_key_is_accepted_during_a_key_change(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    old = tmp_path / "old"
    keygen(old)
    feed = open_feed(site, keys, tmp_path / "bot.db", other_keys=[public_key(old), public_key(keys)])
    await installed(feed, 100)


async def test_replay_of_an_older_valid_manifest(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    old_manifest = (site.folder / "manifest.json").read_bytes()
    old_signature = (site.folder / "manifest.json.minisig").read_bytes()
    publish_to(site, policies, keys, 101)
    feed = open_feed(site, keys, tmp_path / "bot.db")
    await installed(feed, 101)
    site.replace["/feed/manifest.json"] = old_manifest
    site.replace["/feed/manifest.json.minisig"] = old_signature
    assert_refused(feed, await feed.pull(), "rollback", kept=101)


async def test_same_version_with_another_hash(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    feed = open_feed(site, keys, tmp_path / "bot.db")
    await installed(feed, 100)
    move_date(policies, "2027-01-08", "2027-01-22")
    # A second publish of version 100 with other content (the publisher refuses it; an attacker with the
    # key, or a broken CI, would not): written into a fresh SITE folder, then served.
    (site.folder / "manifest.json").unlink()
    publish_to(site, policies, keys, 100)
    assert_refused(feed, await feed.pull(), "equivocation", kept=100)


async def test_expired_manifest_keeps_last_good_and_alerts_once(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    feed = open_feed(site, keys, tmp_path / "bot.db")
    await installed(feed, 100)
    publish_to(site, policies, keys, 101, now=NOW - dt.timedelta(days=20), expires_days=14)
    first = await feed.pull()
    assert_refused(feed, first, "expired", kept=100)
    assert first.alert_operators
    second = await feed.pull()
    assert second.reason == "expired" and not second.alert_operators  # once, not at every pull


async def test_truncated_payload(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    name = manifest(site)["payload"]
    site.replace[f"/feed/{name}"] = (site.folder / name).read_bytes()[:-100]
    feed = open_feed(site, keys, tmp_path / "bot.db")
    assert_refused(feed, await feed.pull(), "size", kept=None)


async def test_oversized_payload(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    name = manifest(site)["payload"]
    # The host serves more than the signed size: the download stops at the signed size plus one byte.
    site.replace[f"/feed/{name}"] = (site.folder / name).read_bytes() + b" " * 50_000
    feed = open_feed(site, keys, tmp_path / "bot.db")
    assert_refused(feed, await feed.pull(), "too_large", kept=None)


async def test_payload_over_max_bytes_is_not_downloaded(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    feed = open_feed(site, keys, tmp_path / "bot.db", max_bytes=10_000)
    assert_refused(feed, await feed.pull(), "too_large", kept=None)
    assert [path for path, _ in site.requests if "catalog-" in path] == []


async def test_payload_signed_fine_but_failing_the_strict_loader(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    feed = open_feed(site, keys, tmp_path / "bot.db")
    await installed(feed, 100)
    # Broken after the loader's check in publish: a maintainer's CI that skipped it, or another tool.
    from bot.feed.bundle import pack_policies

    (policies / "temu.toml").write_text('platform = "temu"\n[[rules]]\nid = "x"\n', encoding="utf-8")
    payload = pack_policies(policies, 101)
    import hashlib

    from bot.feed import SecretKey, sign
    from bot.feed.publish import trusted_comment

    sha = hashlib.sha256(payload).hexdigest()
    name = f"catalog-101-{sha[:16]}.json"
    (site.folder / name).write_bytes(payload)
    data = manifest(site) | {"version": 101, "payload": name, "sha256": sha, "size": len(payload)}
    raw = (json.dumps(data) + "\n").encode()
    secret = SecretKey.from_file(keys / "catalog.key")
    (site.folder / "manifest.json").write_bytes(raw)
    signature = sign(raw, secret, trusted_comment(101, sha, data["expires"]))
    (site.folder / "manifest.json.minisig").write_text(signature.file_text(), encoding="utf-8")
    result = await feed.pull()
    assert_refused(feed, result, "invalid", kept=100)
    assert "temu.toml" in result.detail
    assert not list((feed.folders.bundles).glob(".staging-*"))


async def test_publish_refuses_a_broken_catalog(policies, keys, tmp_path) -> None:
    from bot.catalog import CatalogError
    from bot.feed import publish

    (policies / "temu.toml").write_text('platform = "temu"\n[[rules]]\nid = "x"\n', encoding="utf-8")
    with pytest.raises(CatalogError):
        publish(policies, keys / "catalog.key", tmp_path / "site", now=NOW, version=1)
    assert not (tmp_path / "site").exists()


async def test_rollback_and_the_pull_after_it(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    feed = open_feed(site, keys, tmp_path / "bot.db")
    await installed(feed, 100)
    move_date(policies, "2027-01-08", "2027-01-22")
    publish_to(site, policies, keys, 101)
    await installed(feed, 101)
    assert rollback(feed).version == 100
    assert feed.records.current().version == 100
    assert "2027-01-08" in (feed.directory() / "amazon.toml").read_text(encoding="utf-8")
    assert any(row["action"] == "catalog-rollback" for row in feed.store.audit_log(5))
    # The feed still offers 101: not reinstalled, not a failure.
    held = await feed.pull()
    assert held.outcome is Outcome.UP_TO_DATE and held.version == 100 and "rolled back" in held.detail
    # A newer one installs.
    move_date(policies, "2027-01-22", "2027-01-29")
    publish_to(site, policies, keys, 102)
    await installed(feed, 102)
    with pytest.raises(FeedError):  # nothing before the first install to go back to
        rollback(open_feed(site, keys, tmp_path / "other.db"))


async def test_keeps_the_current_and_previous_two(site, policies, keys, tmp_path) -> None:
    feed = open_feed(site, keys, tmp_path / "bot.db")
    for version in range(100, 105):
        (policies / "marketplaces.toml").write_text(
            (policies / "marketplaces.toml").read_text(encoding="utf-8") + f"\n# {version}\n",
            encoding="utf-8",
        )
        publish_to(site, policies, keys, version)
        await installed(feed, version)
    assert [item.version for item in feed.records.installed()] == [104, 103, 102]
    assert sorted(path.name.split("-")[0] for path in feed.folders.bundles.iterdir()) == ["102", "103", "104"]


async def test_local_rules_override_a_feed_rule(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    catalog = load_catalog(policies)
    rule = catalog.rules["temu-us-semi-managed-mode-2024"]
    local = tmp_path / "local"
    local.mkdir()
    text = (policies / "temu.toml").read_text(encoding="utf-8")
    start = text.index('[[rules]]\nid = "temu-us-semi-managed-mode-2024"')
    end = text.index("[[rules]]", start + 10)
    header = 'platform = "temu"\nname = { en = "Temu", zh = "Temu" }\ntime_zone = "Asia/Shanghai"\n\n'
    body = text[start:end].replace("date = 2024-03-05", "date = 2024-03-15")
    (local / "temu.toml").write_text(header + body, encoding="utf-8")
    feed = open_feed(site, keys, tmp_path / "bot.db", local=local)
    await installed(feed, 100)
    merged = load_catalog(feed.directory())
    overridden = merged.rules[rule.id]
    assert overridden.events[0].date == dt.date(2024, 3, 15)
    assert overridden.notes[-1].en.startswith("Local rule")
    assert len(merged.rules) == len(catalog.rules)
    # Kept across a feed update.
    publish_to(site, policies, keys, 101)
    await installed(feed, 101)
    assert load_catalog(feed.directory()).rules[rule.id].events[0].date == dt.date(2024, 3, 15)
    # A feed catalog that the local rules no longer fit (the local rule relates to a rule the feed
    # renamed) is refused: the bot keeps the last catalog that loads with them.
    temu = (policies / "temu.toml").read_text(encoding="utf-8")
    assert '"temu-semi-managed-settlement"' in body
    renamed = temu.replace('"temu-semi-managed-settlement"', '"temu-semi-managed-settlement-v2"')
    (policies / "temu.toml").write_text(renamed, encoding="utf-8")
    publish_to(site, policies, keys, 102)
    result = await feed.pull()
    assert_refused(feed, result, "invalid", kept=101)
    assert "temu-semi-managed-settlement" in result.detail
    assert load_catalog(feed.directory()).rules[rule.id].events[0].date == dt.date(2024, 3, 15)


def test_minisign_formats_round_trip(keys) -> None:
    from bot.feed import BadSignature, PublicKey, SecretKey, Signature, sign

    secret = SecretKey.from_file(keys / "catalog.key")
    public = PublicKey.from_file(keys / "catalog.pub")
    assert re.fullmatch(r"[0-9A-F]{16}", public.key_id_hex)
    assert (keys / "catalog.key").stat().st_mode & 0o777 == 0o600
    signature = Signature.parse(sign(b"data", secret, "version=1").file_text())
    assert signature.verify(b"data", [public]) == public
    with pytest.raises(BadSignature):
        signature.verify(b"datA", [public])
    forged = Signature(
        signature.algorithm, signature.key_id, signature.signature, "version=2", signature.global_signature
    )
    with pytest.raises(BadSignature):
        forged.verify(b"data", [public])


def sign_manifest(site: FeedSite, keys: Path, data: dict) -> None:
    """Serve `data` as the manifest, properly signed: what a holder of the key could publish."""
    from bot.feed import SecretKey, sign
    from bot.feed.publish import trusted_comment

    raw = (json.dumps(data) + "\n").encode()
    (site.folder / "manifest.json").write_bytes(raw)
    signature = sign(
        raw,
        SecretKey.from_file(keys / "catalog.key"),
        trusted_comment(data["version"], data["sha256"], data["expires"]),
    )
    (site.folder / "manifest.json.minisig").write_text(signature.file_text(), encoding="utf-8")


async def test_a_catalog_for_a_newer_bot_is_refused(site, policies, keys, tmp_path) -> None:
    publish_to(site, policies, keys, 100)
    sign_manifest(site, keys, manifest(site) | {"min_bot": "99.0.0"})
    feed = open_feed(site, keys, tmp_path / "bot.db")
    assert_refused(feed, await feed.pull(), "min_bot", kept=None)


async def test_a_payload_with_a_path_outside_its_folder_is_refused(site, policies, keys, tmp_path) -> None:
    import hashlib

    payload = json.dumps({"schema": 1, "version": 100, "files": {"../../evil.toml": "x = 1"}}).encode()
    sha = hashlib.sha256(payload).hexdigest()
    name = f"catalog-100-{sha[:16]}.json"
    (site.folder / name).write_bytes(payload)
    publish_to(site, policies, keys, 99)
    sign_manifest(
        site, keys, manifest(site) | {"version": 100, "payload": name, "sha256": sha, "size": len(payload)}
    )
    feed = open_feed(site, keys, tmp_path / "bot.db")
    assert_refused(feed, await feed.pull(), "payload", kept=None)
    assert not (tmp_path / "evil.toml").exists() and not list(tmp_path.rglob("evil.toml"))


async def test_the_card_of_a_local_rule_says_so(site, policies, keys, tmp_path) -> None:
    from zoneinfo import ZoneInfo

    from bot.answers import Answers, ChatContext

    local = tmp_path / "local"
    local.mkdir()
    temu = (policies / "temu.toml").read_text(encoding="utf-8")
    mine = temu.replace('platform = "temu"', 'platform = "my-shop"').replace('id = "temu-', 'id = "my-shop-')
    (local / "my-shop.toml").write_text(mine, encoding="utf-8")
    publish_to(site, policies, keys, 100)
    feed = open_feed(site, keys, tmp_path / "bot.db", local=local)
    await installed(feed, 100)
    answers = Answers(load_catalog(feed.directory()))
    reply = answers.reply(
        "/rule my-shop-us-semi-managed-mode-2024", ChatContext("en", ZoneInfo("UTC"), NOW.date())
    )
    assert "Local rule" in reply.plain
