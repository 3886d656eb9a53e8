"""Interoperability with the stock `minisign` tool (Debian package `minisign`): a manifest it signs
verifies with our code, and ours verifies with it; its keys work for publishing. Skipped without it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from support.feed_site import NOW

from bot.feed import PublicKey, SecretKey, Signature, publish, sign

MINISIGN = shutil.which("minisign")
pytestmark = pytest.mark.skipif(MINISIGN is None, reason="the minisign tool is not installed")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    assert MINISIGN is not None
    return subprocess.run([MINISIGN, *args], capture_output=True, text=True, timeout=30)


def test_minisign_signature_verifies_with_our_code(tmp_path: Path) -> None:
    run("-G", "-W", "-p", str(tmp_path / "k.pub"), "-s", str(tmp_path / "k.key")).check_returncode()
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(b'{"schema": 1, "version": 7}\n')
    run("-S", "-s", str(tmp_path / "k.key"), "-m", str(manifest), "-t", "version=7").check_returncode()
    signature = Signature.parse((tmp_path / "manifest.json.minisig").read_bytes())
    key = PublicKey.from_file(tmp_path / "k.pub")
    assert signature.trusted_comment == "version=7"
    assert signature.verify(manifest.read_bytes(), [key]) == key
    # And its secret key file reads as ours (unencrypted, -W).
    assert SecretKey.from_file(tmp_path / "k.key").public().to_base64() == key.to_base64()


def test_our_signature_verifies_with_minisign(tmp_path: Path, keys: Path) -> None:
    data = tmp_path / "manifest.json"
    data.write_bytes(b'{"schema": 1, "version": 8}\n')
    signature = sign(data.read_bytes(), SecretKey.from_file(keys / "catalog.key"), "version=8")
    (tmp_path / "manifest.json.minisig").write_text(signature.file_text(), encoding="utf-8")
    checked = run("-V", "-p", str(keys / "catalog.pub"), "-m", str(data))
    assert checked.returncode == 0, checked.stderr
    assert "version=8" in checked.stdout
    data.write_bytes(b'{"schema": 1, "version": 9}\n')
    assert run("-V", "-p", str(keys / "catalog.pub"), "-m", str(data)).returncode != 0


def test_minisign_signs_with_our_secret_key_and_publish_uses_its_key(
    tmp_path: Path, keys: Path, policies
) -> None:
    data = tmp_path / "f"
    data.write_bytes(b"hello")
    signed = run("-S", "-s", str(keys / "catalog.key"), "-m", str(data), "-t", "x")
    assert signed.returncode == 0, signed.stderr
    assert run("-V", "-p", str(keys / "catalog.pub"), "-m", str(data)).returncode == 0
    run("-G", "-W", "-p", str(tmp_path / "m.pub"), "-s", str(tmp_path / "m.key")).check_returncode()
    published = publish(policies, tmp_path / "m.key", tmp_path / "site", now=NOW, version=3)
    checked = run("-V", "-p", str(tmp_path / "m.pub"), "-m", str(published.manifest))
    assert checked.returncode == 0 and "version=3" in checked.stdout
