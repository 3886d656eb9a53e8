"""What the fake Telegram remembers between requests: chats, users, messages, members, files, commands.

Remembering makes answers realistic where the bot depends on them: message ids increase per chat,
edits apply to the stored message (and "message is not modified" is answered like Telegram does),
a migrated group answers "upgraded to a supergroup", a chat that removed or blocked the bot answers 403.
All access happens under the server's lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import updates
from .errors import ApiError, bad_request, chat_migrated, forbidden

SUPERGROUP_PREFIX = -1_000_000_000_000  # supergroup and channel ids are -100xxxxxxxxxx


@dataclass
class ChatRecord:
    """A chat as the test declared it, or as inferred from its id."""

    id: int
    type: str  # "private", "group", "supergroup" or "channel"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    migrated_to: int | None = None

    def as_chat(self) -> dict[str, Any]:
        """The Chat object embedded in messages."""
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or f"User {self.id}"
        else:
            chat["title"] = self.title or f"Chat {self.id}"
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True)
class StoredFile:
    """A file the bot uploaded (or the test added): served by getFile and the file download URL."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str


class World:
    """The fake Telegram's state; see the module docstring for why it is kept."""

    def __init__(self, bot_user: dict[str, Any], clock: Callable[[], float]) -> None:
        self.bot_user = bot_user
        self.clock = clock
        self.chats: dict[int, ChatRecord] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.last_message_id: dict[int, int] = {}
        self.admins: dict[int, set[int]] = {}
        self.owners: dict[int, int] = {}
        self.bot_status: dict[int, str] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: dict[str, Any] | None = None
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, bool] = {}  # id -> answered
        self._ids = itertools.count(1)

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    def now(self) -> int:
        return int(self.clock())

    def new_id(self) -> int:
        return next(self._ids)

    # Chats and users

    def declare_chat(
        self,
        chat_id: int,
        chat_type: str,
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> ChatRecord:
        if chat_type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {chat_type!r}")
        if (chat_type == "private") != (chat_id > 0):
            raise ValueError(f"a {chat_type} chat cannot have the id {chat_id} (private ids are positive)")
        record = self.chats.get(chat_id)
        if record is None:
            record = self.chats[chat_id] = ChatRecord(chat_id, chat_type)
        record.type = chat_type
        record.title = title or record.title
        record.username = username or record.username
        record.first_name = first_name or record.first_name
        return record

    def chat(self, chat_id: int) -> ChatRecord:
        """The declared chat, or one inferred from the id the way Telegram allocates ids."""
        record = self.chats.get(chat_id)
        if record is None:
            if chat_id > 0:
                first_name = self.users.get(chat_id, {}).get("first_name")
                record = ChatRecord(chat_id, "private", first_name=first_name)
            else:
                record = ChatRecord(chat_id, "supergroup" if chat_id < SUPERGROUP_PREFIX else "group")
            self.chats[chat_id] = record
        return record

    def target_chat(self, reference: int | str) -> ChatRecord:
        """The chat a request addresses, refusing as Telegram does when it is gone, moved or closed."""
        if isinstance(reference, str):
            record = next((c for c in self.chats.values() if f"@{c.username}" == reference), None)
            if record is None:
                raise bad_request("chat not found")
        else:
            record = self.chat(reference)
        if record.migrated_to is not None:
            raise chat_migrated(record.migrated_to)
        status = self.bot_status.get(record.id)
        if status in ("kicked", "left"):
            raise _removed(record, status)
        return record

    def declare_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        known = self.users.get(user_id, {})
        record = updates.user(
            user_id,
            first_name or known.get("first_name") or f"User {user_id}",
            username=username or known.get("username"),
            language_code=language_code or known.get("language_code"),
        )
        self.users[user_id] = record
        return record

    def user(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return dict(self.bot_user)
        return dict(self.users.get(user_id) or self.declare_user(user_id))

    # Members

    def status_of(self, chat: ChatRecord, user_id: int) -> str:
        if user_id == self.bot_id and chat.id in self.bot_status:
            return self.bot_status[chat.id]
        if chat.type == "private":
            return "member"
        if self.owners.get(chat.id) == user_id:
            return "creator"
        return "administrator" if user_id in self.admins.get(chat.id, set()) else "member"

    def member(self, chat: ChatRecord, user_id: int) -> dict[str, Any]:
        return updates.chat_member(self.user(user_id), self.status_of(chat, user_id))

    def administrators(self, chat: ChatRecord) -> list[dict[str, Any]]:
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        owner = self.owners.get(chat.id)
        ids = ([owner] if owner is not None else []) + sorted(self.admins.get(chat.id, set()) - {owner})
        return [self.member(chat, user_id) for user_id in ids]

    # Messages

    def next_message_id(self, chat_id: int) -> int:
        """Message ids are per chat and shared by everyone who writes in it."""
        self.last_message_id[chat_id] = self.last_message_id.get(chat_id, 0) + 1
        return self.last_message_id[chat_id]

    def store_message(self, message: dict[str, Any]) -> dict[str, Any]:
        self.messages[(message["chat"]["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def stored(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        return self.messages.get((chat_id, message_id))

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        return [copy.deepcopy(m) for (chat, _), m in self.messages.items() if chat == chat_id]

    def last_bot_message(self, chat_id: int) -> dict[str, Any] | None:
        mine = [
            m
            for (chat, _), m in self.messages.items()
            if chat == chat_id and m.get("from", {}).get("id") == self.bot_id
        ]
        return max(mine, key=lambda m: m["message_id"]) if mine else None

    # Files

    def store_file(
        self, data: bytes, *, file_name: str | None, mime_type: str | None, folder: str
    ) -> StoredFile:
        number = self.new_id()
        suffix = "." + file_name.rsplit(".", 1)[1] if file_name and "." in file_name else ""
        stored = StoredFile(
            file_id=f"FAKE-{folder}-{number:06d}",
            file_unique_id=f"U{number:06d}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{folder}/file_{number}{suffix}",
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, file_path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == file_path), None)


def _removed(chat: ChatRecord, status: str) -> ApiError:
    if chat.type == "private":
        return forbidden("bot was blocked by the user")
    kind = "channel" if chat.type == "channel" else f"{chat.type} chat"
    if status == "kicked":
        return forbidden(f"bot was kicked from the {kind}")
    return forbidden(f"bot is not a member of the {kind}")
