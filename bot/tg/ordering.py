"""Updates of different chats handled at the same time, those of one chat one after another, in order.

python-telegram-bot handles one update at a time by default: when 200 sellers write at once, the last
waits for the 199 replies before it, and one slow answer from Telegram (or a retried 500) holds up
everyone behind it. Handling every update concurrently would fix that but let two presses of one chat's
buttons race. `ChatOrderedUpdates` does both: up to `max_concurrent_updates` at once, and within a chat
(or, without a chat, a user) strictly in the order they arrived. Handlers touch SQLite only in short
synchronous calls, so concurrent handlers of different chats never interleave inside a transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

__all__ = ["ChatOrderedUpdates"]


class ChatOrderedUpdates(BaseUpdateProcessor):
    """Concurrent across chats, sequential within one (module docstring)."""

    def __init__(
        self, max_concurrent_updates: int = 64, *, on_handled: Callable[[int], None] | None = None
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.on_handled = on_handled  # told each update's id once its handlers returned (the inbox)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # updates holding or waiting for each chat's lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._in_chat_order(update, coroutine)
        # Not reached when cancelled or on a crash: the update stays unhandled in the inbox.
        if self.on_handled is not None and isinstance(update, Update):
            self.on_handled(update.update_id)

    async def _in_chat_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_of(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock is first come, first served: the chat's order is kept
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # a quiet chat costs no memory
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _chat_of(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None
