"""Shared fixtures: the shipped catalog (loaded once), chat contexts on fixed dates, and one store.

Tests live in one folder per package of bot/ (tests/catalog/, tests/answers/, ...). Helpers shared
by several folders live beside this file: `processes` (the bot as a process), `fake_telegram` (the
strict fake Bot API server).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.answers.core import Answers, ChatContext
from bot.catalog.load import Catalog, load_catalog
from bot.clock import Clock
from bot.store import Store

# python-telegram-bot warns at every 429 unless durations are timedeltas; the bot opts in, so do the tests.
os.environ.setdefault("PTB_TIMEDELTA", "true")

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
# The research files: the copy kept with the tests, and the shared folder beside the checkout (if there).
REFERENCE_COPY = ROOT / "tests" / "reference"
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(POLICIES)


@pytest.fixture(scope="session")
def answers(catalog: Catalog) -> Answers:
    return Answers(catalog)


def context(lang: str = "en", today: dt.date = TODAY, zone: str = "UTC") -> ChatContext:
    return ChatContext(lang, ZoneInfo(zone), today)


@pytest.fixture
def en() -> ChatContext:
    return context("en")


@pytest.fixture
def zh() -> ChatContext:
    return context("zh", zone="Asia/Shanghai")


@pytest.fixture
def now() -> dt.datetime:
    """The store's clock. A test module overrides this fixture with its own moment."""
    return dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "policybot.db"


@pytest.fixture
def store(db_path: Path, now: dt.datetime) -> Iterator[Store]:
    """A real SQLite file under tmp_path, every migration run, its clock fixed at `now`.

    A module that needs chats in it overrides `store`, asking for this one by the same name.
    """
    with Store(db_path, clock=Clock(now)) as opened:
        yield opened


pytest_plugins = ["fake_telegram.fixtures", "support.feed_fixtures"]
