"""`policybot catalog keygen|publish|pull|status|rollback` as an operator types them, and a SIGKILL of a
pull between download and install."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.feed_site import NOW, POLICIES, FeedSite, public_key

from bot.cli import main

ROOT = POLICIES.parent


def write_config(tmp_path: Path, site: FeedSite, keys: Path, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\npath = "bot.db"\n\n[catalog]\nfeed = "{site.manifest_url}"\n'
        f'public_keys = ["{public_key(keys)}"]\nca_file = "{site.ca_file}"\n{extra}',
        encoding="utf-8",
    )
    return config


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYBOT_NOW", NOW.isoformat())


def test_keygen_publish_pull_status_rollback(site, policies, tmp_path, capsys) -> None:
    keys = tmp_path / "k"
    assert main(["catalog", "keygen", "--out", str(keys)]) == 0
    assert "public_keys" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # keygen needs --out
        main(["catalog", "keygen"])
    assert main(["catalog", "keygen", "--out", str(keys)]) == 2  # never overwrites a key
    publish = ["catalog", "publish", "--policies", str(policies), "--key", str(keys / "catalog.key")]
    assert main([*publish, "--out", str(site.folder), "--version", "5"]) == 0
    assert "published version 5" in capsys.readouterr().out
    config = write_config(tmp_path, site, keys)
    assert main(["catalog", "status", "--config", str(config)]) == 0
    assert "none from the feed" in capsys.readouterr().out
    assert main(["catalog", "pull", "--config", str(config)]) == 0
    assert capsys.readouterr().out.strip() == "installed version 5"
    assert main(["catalog", "pull", "--config", str(config)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main([*publish, "--out", str(site.folder), "--version", "5"]) == 2  # not above the published
    capsys.readouterr()
    assert main([*publish, "--out", str(site.folder)]) == 0
    assert main(["catalog", "pull", "--config", str(config)]) == 0
    version = json.loads((site.folder / "manifest.json").read_text())["version"]
    assert f"installed version {version}" in capsys.readouterr().out
    assert main(["catalog", "status", "--config", str(config)]) == 0
    status = capsys.readouterr().out
    assert f"version {version}" in status and site.manifest_url in status and "last check" in status
    assert main(["catalog", "rollback", "--config", str(config)]) == 0
    assert "rolled back to version 5" in capsys.readouterr().out
    # A refusal exits 1 and says why.
    (site.folder / "manifest.json.minisig").write_text("garbage\n", encoding="utf-8")
    assert main(["catalog", "pull", "--config", str(config)]) == 1
    assert capsys.readouterr().out.startswith("refused: signature")


def test_publish_refuses_a_broken_policy_folder(policies, keys, tmp_path, capsys) -> None:
    (policies / "temu.toml").write_text('platform = "temu"\n', encoding="utf-8")
    (policies / "amazon.toml").write_text("not toml = = \n", encoding="utf-8")
    code = main(
        ["catalog", "publish", "--policies", str(policies), "--key", str(keys / "catalog.key"),
         "--out", str(tmp_path / "site")]
    )  # fmt: skip
    assert code == 1
    assert "refusing to publish" in capsys.readouterr().err
    assert not (tmp_path / "site" / "manifest.json").exists()


def test_sigkill_between_download_and_install(site, policies, keys, tmp_path) -> None:
    """The pull is killed with its payload half downloaded: the old catalog stays, and the next pull
    installs (clearing what the killed one left)."""
    from support.feed_site import publish_to

    publish_to(site, policies, keys, 100)
    config = write_config(tmp_path, site, keys)
    assert main(["catalog", "pull", "--config", str(config)]) == 0
    (policies / "marketplaces.toml").write_text(
        (policies / "marketplaces.toml").read_text(encoding="utf-8") + "\n# v101\n", encoding="utf-8"
    )
    publish_to(site, policies, keys, 101)
    payload = json.loads((site.folder / "manifest.json").read_text())["payload"]
    site.stall_after[f"/feed/{payload}"] = 100_000
    env = {**os.environ, "POLICYBOT_NOW": NOW.isoformat()}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "catalog", "pull", "--config", str(config)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert site.stalled.wait(60), "the pull never reached the payload"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    site.release.set()
    del site.stall_after[f"/feed/{payload}"]
    status = subprocess.run(
        [sys.executable, "-m", "bot", "catalog", "status", "--config", str(config)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "installed: version 100" in status.stdout
    assert main(["catalog", "pull", "--config", str(config)]) == 0
    bundles = tmp_path / "bot-catalog" / "bundles"
    assert sorted(p.name.split("-")[0] for p in bundles.iterdir()) == ["100", "101"]
