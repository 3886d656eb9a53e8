"""pytest fixtures for the fake Telegram server.

Register them with ``pytest_plugins = ["fake_telegram.fixtures"]`` in ``tests/conftest.py``.

`fake_telegram` fails the test at teardown if any request was rejected (or the fake hit a bug of its
own), because a bot usually swallows the resulting BadRequest in its error handler and the test would
pass while the real Telegram refuses the same request. A test that provokes rejections on purpose calls
``fake_telegram.expect_rejections()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from telegram import Bot

from .server import FakeBotAPI


@pytest.fixture
def fake_telegram() -> Iterator[FakeBotAPI]:
    """A started FakeBotAPI with the default token; stopped (and checked for rejections) afterwards."""
    with FakeBotAPI() as server:
        yield server
        if not server.rejections_expected:
            server.assert_no_rejections()


@pytest_asyncio.fixture
async def fake_bot(fake_telegram: FakeBotAPI) -> AsyncIterator[Bot]:
    """An initialized `telegram.Bot` talking to `fake_telegram`."""
    bot = Bot(fake_telegram.token, base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url)
    async with bot:
        yield bot
