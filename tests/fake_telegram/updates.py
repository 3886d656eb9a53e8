"""Builders of the objects Telegram sends: users, chats, messages with entities, callback queries, members.

They produce plain dicts shaped exactly like the Bot API's JSON (checked against api.json in the tests),
so python-telegram-bot parses them with `Update.de_json` as it would parse the real thing.
"""

from __future__ import annotations

import re
from typing import Any

from .html_check import utf16_len

DEFAULT_USER_ID = 1001
# The user Telegram puts in `from` when an anonymous group admin writes; `sender_chat` is the group.
GROUP_ANONYMOUS_BOT: dict[str, Any] = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
# Update types Telegram does not deliver unless asked for in allowed_updates.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_MENTION = re.compile(r"(?<![A-Za-z0-9_@/])@[A-Za-z][A-Za-z0-9_]{3,31}(?![A-Za-z0-9_])")


def user(
    user_id: int,
    first_name: str,
    *,
    username: str | None = None,
    language_code: str | None = None,
    last_name: str | None = None,
) -> dict[str, Any]:
    """A (human) User object."""
    result: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        result["last_name"] = last_name
    if username:
        result["username"] = username
    if language_code:
        result["language_code"] = language_code
    return result


def text_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram adds to a user's text: a leading /command and @mentions (UTF-16 units)."""
    entities: list[dict[str, Any]] = []
    skip_to = 0
    command = _LEADING_COMMAND.match(text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
        skip_to = command.end()
    for mention in _MENTION.finditer(text, skip_to):
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: mention.start()]),
                "length": utf16_len(mention.group()),
            }
        )
    return entities


def user_message(
    *,
    message_id: int,
    date: int,
    chat: dict[str, Any],
    sender: dict[str, Any],
    text: str | None = None,
    reply_to: dict[str, Any] | None = None,
    sender_chat: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Message a user sends; text gets the entities Telegram would add."""
    message: dict[str, Any] = {"message_id": message_id, "from": sender}
    if sender_chat is not None:
        message["sender_chat"] = sender_chat
    message.update({"chat": chat, "date": date})
    if reply_to is not None:
        message["reply_to_message"] = without_reply(reply_to)
    if text is not None:
        message["text"] = text
        entities = text_entities(text)
        if entities:
            message["entities"] = entities
    if extra:
        message.update(extra)
    return message


def without_reply(message: dict[str, Any]) -> dict[str, Any]:
    """A message as embedded in another one: Telegram does not nest reply_to_message twice."""
    return {key: value for key, value in message.items() if key != "reply_to_message"}


def callback_query(
    *, query_id: str, sender: dict[str, Any], message: dict[str, Any], data: str, chat_instance: str
) -> dict[str, Any]:
    """A CallbackQuery from a button under `message`."""
    return {
        "id": query_id,
        "from": sender,
        "message": without_reply(message),
        "chat_instance": chat_instance,
        "data": data,
    }


ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories", "can_pin_messages",
)  # fmt: skip


def chat_member(member: dict[str, Any], status: str) -> dict[str, Any]:
    """A ChatMember of the given status with every field the spec requires for that status."""
    if status == "creator":
        return {"status": status, "user": member, "is_anonymous": False}
    if status == "administrator":
        rights = dict.fromkeys(ADMIN_RIGHTS, True)
        return {"status": status, "user": member, "can_be_edited": False, "is_anonymous": False, **rights}
    if status == "kicked":
        return {"status": status, "user": member, "until_date": 0}
    if status == "restricted":
        raise ValueError("restricted members are not modelled by the fake server")
    if status not in ("member", "left"):
        raise ValueError(f"unknown chat member status {status!r}")
    return {"status": status, "user": member}


def update_type(update: dict[str, Any]) -> str:
    """The one field besides update_id that says what an update is ("message", "callback_query", ...)."""
    kinds = [key for key in update if key != "update_id"]
    if len(kinds) != 1:
        raise ValueError(f"an update has exactly one payload field, got {kinds}")
    return kinds[0]
