"""The update inbox: every update is in SQLite before Telegram is told it arrived, so a crash loses no reply.

Telegram forgets an update once the bot acknowledges it: in polling, by asking the next getUpdates with
a higher offset; in webhook mode, by answering 200. python-telegram-bot does both right after putting
the update on its `update_queue`, long before a handler has replied. So the queue itself is the hook:
`InboxQueue.put` writes the update (id, payload, received at) and only then queues it; python-telegram-bot
awaits `put` before the next getUpdates (Updater._start_polling) and before the webhook's 200
(webhookhandler.TelegramHandler.post). An update is marked handled when its handlers have returned, its
reply sent or queued (`Inbox.handled`, called by the update processor, bot/tg/ordering.py).

At the next start, `InboxQueue.replay` queues again what was received and not handled, once more per
start and at most `MAX_ATTEMPTS` times in all (an update that kills the bot every time must not keep it
in a crash loop). Telegram delivers unacknowledged updates again as well: the update id is the table's
key, so an id already in the inbox is not handled a second time.

When the database refuses writes (a full disk, a lock held by another process), the update is handled
from memory all the same (the bot answers what it can) and `DatabaseHealth` says so on /healthz; only
the crash guarantee is missing for those updates until writes succeed again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from telegram import Bot, Update

from bot.monitoring import DatabaseHealth, is_database_unavailable
from bot.store import Store

__all__ = ["MAX_ATTEMPTS", "Inbox", "InboxQueue", "prune_inbox", "try_lock", "try_write"]

log = logging.getLogger(__name__)

# Times an update is given to the handlers: the first time, then after each crash that left it unhandled.
MAX_ATTEMPTS = 3
_PRUNE_BATCH = 1000  # rows deleted per transaction, so pruning never holds the write lock for long
_RECENT = 10_000  # ids remembered in memory, for updates received while the database refused writes
_PROBE_ID = -1  # the row try_write writes and deletes; Telegram's update ids are positive
# How long an inbox write waits for a lock held elsewhere (SQLite's default is 5 s, with the event loop
# held): past it, the update is handled from memory, which is better than every chat waiting.
_WAIT_MS = 1000


class Inbox:
    """The inbox table's reads and writes, and what the bot received while writes failed."""

    def __init__(self, store: Store, health: DatabaseHealth) -> None:
        self.store = store
        self.health = health
        self._recent: deque[int] = deque(maxlen=_RECENT)
        self._recent_ids: set[int] = set()

    def receive(self, update: Update) -> bool:
        """Write a newly received update; False if its id was received before (Telegram sent it again)."""
        if update.update_id in self._recent_ids:
            return False
        self._remember(update.update_id)
        if not self.health.should_try():
            return True  # the database refuses writes: handle it from memory
        try:
            with _busy_timeout(self.store, _WAIT_MS), self.store.transaction():
                cursor = self.store.db.execute(
                    "INSERT OR IGNORE INTO update_inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
                    [update.update_id, json.dumps(update.to_dict(), ensure_ascii=False), self._now()],
                )
        except Exception as error:
            if not is_database_unavailable(error):
                log.exception("cannot write update %s to the inbox; handling it anyway", update.update_id)
            self.health.failed("writing an update to the inbox", error)
            return True
        self.health.succeeded()
        return cursor.rowcount == 1

    def handled(self, update_id: int) -> None:
        """The update's handlers returned: its reply is sent or queued."""
        if not self.health.should_try():
            return  # left unhandled in the table: the next start handles it again (a repeat, not a loss)
        try:
            with _busy_timeout(self.store, _WAIT_MS), self.store.transaction():
                self.store.db.execute(
                    "UPDATE update_inbox SET handled_at = ? WHERE update_id = ?", [self._now(), update_id]
                )
        except Exception as error:
            if not is_database_unavailable(error):
                log.exception("cannot mark update %s handled", update_id)
            self.health.failed("marking an update handled", error)
            return
        self.health.succeeded()

    def take_unhandled(self) -> list[dict[str, Any]]:
        """At start: the payloads of updates received and not handled, oldest first, each counted as one
        more attempt; those given `MAX_ATTEMPTS` times already are left alone (and logged)."""
        with self.store.transaction():
            rows = self.store.db.execute(
                "SELECT update_id, payload, attempts FROM update_inbox"
                " WHERE handled_at IS NULL AND update_id > 0 ORDER BY update_id"
            ).fetchall()
            again = [(update_id, payload) for update_id, payload, attempts in rows if attempts < MAX_ATTEMPTS]
            self.store.db.conn.executemany(
                "UPDATE update_inbox SET attempts = attempts + 1 WHERE update_id = ?",
                [(update_id,) for update_id, _ in again],
            )
        given_up = [update_id for update_id, _, attempts in rows if attempts >= MAX_ATTEMPTS]
        if given_up:
            log.error(
                "updates %s were handled %s times, each ending in a crash; not handling them again",
                given_up,
                MAX_ATTEMPTS,
            )
        for update_id, _ in again:
            self._remember(update_id)
        return [json.loads(payload) for _, payload in again]

    def counts(self) -> dict[str, int]:
        """Rows handled and not (for tests and the operator)."""
        row = self.store.db.execute(
            "SELECT count(handled_at), count(*) - count(handled_at) FROM update_inbox WHERE update_id > 0"
        ).fetchone()
        return {"handled": int(row[0]), "unhandled": int(row[1])}

    def _remember(self, update_id: int) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_ids.discard(self._recent[0])
        self._recent.append(update_id)
        self._recent_ids.add(update_id)

    def _now(self) -> str:
        return self.store.clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")


class InboxQueue(asyncio.Queue[object]):
    """python-telegram-bot's update queue, writing each update to the inbox before queueing it."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox

    async def put(self, item: object) -> None:
        # Never raises for an update: an exception here would end python-telegram-bot's polling loop.
        if isinstance(item, Update) and not self.inbox.receive(item):
            log.info("update %s was received before; not handling it again", item.update_id)
            return
        await super().put(item)

    def replay(self, bot: Bot) -> int:
        """At start, before any new update: queue again what the last run received and did not handle."""
        payloads = self.inbox.take_unhandled()
        for payload in payloads:
            update = Update.de_json(payload, bot)
            if update is not None:
                self.put_nowait(update)
        if payloads:
            log.warning("handling %s updates the last run received and did not handle", len(payloads))
        return len(payloads)


def prune_inbox(store: Store, older_than: dt.datetime) -> int:
    """Delete inbox rows received before `older_than`, handled or not, in small transactions; how many.

    Keep at least a day: Telegram sends an unacknowledged update again for up to 24 hours, and the row
    is what makes it count once.
    """
    cutoff = older_than.astimezone(dt.UTC).isoformat(timespec="seconds")
    deleted = 0
    while True:
        with store.transaction():
            cursor = store.db.execute(
                "DELETE FROM update_inbox WHERE update_id IN (SELECT update_id FROM update_inbox"
                " WHERE received_at < ? LIMIT ?)",
                [cutoff, _PRUNE_BATCH],
            )
        deleted += cursor.rowcount
        if cursor.rowcount < _PRUNE_BATCH:
            return deleted


def try_write(store: Store, *, wait_ms: int = 200) -> None:
    """Raise the database's error unless it takes a small write now: the write lock (waiting at most
    `wait_ms`), a new page and a commit (so a full disk shows, not only a full file); it keeps nothing."""
    with _busy_timeout(store, wait_ms), store.transaction():
        store.db.execute(
            "INSERT OR REPLACE INTO update_inbox (update_id, payload, received_at)"
            " VALUES (?, zeroblob(4096), '')",
            [_PROBE_ID],
        )
        store.db.execute("DELETE FROM update_inbox WHERE update_id = ?", [_PROBE_ID])


def try_lock(store: Store, *, wait_ms: int = 200) -> None:
    """Raise the database's error unless its write lock can be had now (waiting at most `wait_ms`)."""
    with _busy_timeout(store, wait_ms), store.transaction():
        pass


@contextmanager
def _busy_timeout(store: Store, wait_ms: int) -> Iterator[None]:
    before = store.db.execute("PRAGMA busy_timeout").fetchone()[0]
    store.db.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
    try:
        yield
    finally:
        store.db.execute(f"PRAGMA busy_timeout = {int(before)}")
