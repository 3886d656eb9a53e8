"""The feed tests' fixtures (a pytest plugin named in tests/conftest.py): a copy of policies/, a key
pair, and a SITE folder served over HTTPS on 127.0.0.1."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.feed import keygen
from support.feed_site import POLICIES, FeedSite, serve


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    """A copy of the shipped policies that a test may edit before publishing."""
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy, ignore=shutil.ignore_patterns("*.md"))
    return copy


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    keygen(folder)
    return folder


@pytest.fixture
def site(tmp_path: Path) -> Iterator[FeedSite]:
    folder = tmp_path / "site"
    folder.mkdir()
    feed_site = FeedSite(folder, tmp_path / "ca.pem")
    server = serve(feed_site)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield feed_site
    feed_site.release.set()
    server.shutdown()
    server.server_close()
