"""The channels' tables: destinations (a webhook or an e-mail address the bot sends to) and their
failures. Each destination also has a row in the store's `chats` (its language, zone, reminder time,
quiet hours) and its subscriptions in the store's `subscriptions`, under its own chat id (see
bot/channels/destinations.py), so that planning, alerts and the outbox treat it like any chat.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store import Migrations, register

__all__ = ["CHANNEL_MIGRATIONS"]


def _create_destinations(db: Database) -> None:
    # AUTOINCREMENT: an id is never used again, so a removed destination's chat id (and its outbox rows)
    # can never be taken by a new one.
    db.execute(
        """
        CREATE TABLE destinations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL UNIQUE,  -- its row in chats: DESTINATION_BASE + id
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,               -- feishu, dingtalk, wecom, email, webhook
            url TEXT NOT NULL,                -- a credential (the webhook key): never logged or shown
            secret TEXT,                      -- the signing secret: never logged or shown
            mirror_of INTEGER,                -- the Telegram chat whose messages it also gets (/connect)
            owner_id INTEGER,                 -- the Telegram user who connected it (NULL: the command line)
            enabled INTEGER NOT NULL DEFAULT 1,
            failures INTEGER NOT NULL DEFAULT 0,  -- permanent failures in a row
            disabled_reason TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX destinations_by_mirror ON destinations (mirror_of)")
    db.execute(
        """
        CREATE TABLE destination_failures (
            id INTEGER PRIMARY KEY,
            destination_id INTEGER NOT NULL,
            at TEXT NOT NULL,
            reason TEXT NOT NULL,             -- the channel's code and words, never the URL
            permanent INTEGER NOT NULL
        )
        """
    )


def _move_chat(db: Database, old_chat_id: int, new_chat_id: int) -> None:
    """A mirrored group became a supergroup: its destinations follow it."""
    db.execute("UPDATE destinations SET mirror_of = ? WHERE mirror_of = ?", [new_chat_id, old_chat_id])


CHANNEL_MIGRATIONS = register(Migrations("channels", (_create_destinations,), move_chat=_move_chat))
