"""Shared fixtures: the shipped catalog (loaded once) and chat contexts on fixed dates."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.answers.core import Answers, ChatContext
from bot.catalog.load import Catalog, load_catalog

# python-telegram-bot warns at every 429 unless durations are timedeltas; the bot opts in, so do the tests.
os.environ.setdefault("PTB_TIMEDELTA", "true")

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
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


pytest_plugins = ["fake_telegram.fixtures"]
