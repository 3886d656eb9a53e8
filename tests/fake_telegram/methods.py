"""The answers of the Bot API methods a bot uses, computed from the World and the validated parameters.

Each handler takes ``(world, params, uploads)`` and returns the ``result`` or raises ApiError. Methods
without a handler fall back by return type: ``True`` for Boolean methods, a plain message for Message
methods. Anything else is `NotImplementedByFake`, which the server reports as a rejection so a test
notices instead of the bot receiving something made up.
"""

from __future__ import annotations

import copy
import json
import struct
from collections.abc import Callable, Mapping
from typing import Any

from . import rules
from .errors import bad_request
from .spec import MethodDef
from .wire import Upload
from .world import ChatRecord, World

Handler = Callable[[World, dict[str, Any], Mapping[str, Upload]], Any]
_ATTACH = "attach://"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
HANDLERS: dict[str, Handler] = {}


class NotImplementedByFake(Exception):
    """The method exists in the Bot API but the fake server has no realistic answer for it."""


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = handler
        return handler

    return register


def dispatch(world: World, method: MethodDef, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    """Answer one validated request."""
    if "chat_id" in method.fields and "chat_id" in params and method.name != "setChatMenuButton":
        world.target_chat(params["chat_id"])  # refuses migrated chats and chats that removed the bot
    handler = HANDLERS.get(method.name)
    if handler is not None:
        return handler(world, params, uploads)
    if method.returns == ("Boolean",):
        return True
    if method.returns == ("Message",) and "chat_id" in params:
        return _send(world, params, {})
    raise NotImplementedByFake(f"the fake Bot API does not implement {method.name}")


# Bot and commands


@handles("getMe")
def get_me(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    return {
        **world.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _commands_key(params: Mapping[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code", "")


@handles("setMyCommands")
def set_my_commands(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    world.commands[_commands_key(params)] = copy.deepcopy(params["commands"])
    return True


@handles("getMyCommands")
def get_my_commands(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    return copy.deepcopy(world.commands.get(_commands_key(params), []))


@handles("deleteMyCommands")
def delete_my_commands(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    world.commands.pop(_commands_key(params), None)
    return True


@handles("setChatMenuButton")
def set_chat_menu_button(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    world.menu_buttons[params.get("chat_id")] = params.get("menu_button") or {"type": "default"}
    return True


@handles("getChatMenuButton")
def get_chat_menu_button(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    chat_id = params.get("chat_id")
    return world.menu_buttons.get(chat_id) or world.menu_buttons.get(None) or {"type": "default"}


@handles("setWebhook")
def set_webhook(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    url = params["url"]
    if not url:
        world.webhook = None
        return True
    if not url.lower().startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    world.webhook = dict(params)
    return True


@handles("getWebhookInfo")
def get_webhook_info(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    # pending_update_count is filled in by the server, which owns the update queue.
    url = world.webhook["url"] if world.webhook else ""
    return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}


# Chats and members


@handles("getChat")
def get_chat(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    chat = world.target_chat(params["chat_id"])
    gifts = dict.fromkeys(
        ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"),
        False,
    )
    return {**chat.as_chat(), "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}


@handles("getChatMember")
def get_chat_member(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    return world.member(world.target_chat(params["chat_id"]), params["user_id"])


@handles("getChatAdministrators")
def get_chat_administrators(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    return world.administrators(world.target_chat(params["chat_id"]))


@handles("getChatMemberCount")
def get_chat_member_count(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    chat = world.target_chat(params["chat_id"])
    if chat.type == "private":
        return 2
    return len(world.admins.get(chat.id, set()) | {world.owners.get(chat.id, 0)}) + 1


@handles("leaveChat")
def leave_chat(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    world.bot_status[world.target_chat(params["chat_id"]).id] = "left"
    return True


@handles("sendChatAction")
def send_chat_action(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    return True


# Sending


def _message_base(world: World, chat: ChatRecord, params: Mapping[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": world.next_message_id(chat.id),
        "from": dict(world.bot_user),
        "chat": chat.as_chat(),
        "date": world.now(),
    }
    reply = params.get("reply_parameters")
    if reply is not None:
        target_chat = reply.get("chat_id", chat.id)
        replied = world.stored(target_chat, reply["message_id"]) if isinstance(target_chat, int) else None
        if replied is not None:
            message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        elif not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
    return message


def _with_markup(message: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Telegram echoes only inline keyboards in Message.reply_markup."""
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        message["reply_markup"] = copy.deepcopy(markup)
    return message


def _with_caption(message: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    parsed = rules.caption(params)
    if parsed is not None and parsed.text:
        message["caption"] = parsed.text
        if parsed.entities:
            message["caption_entities"] = parsed.entities
    return message


def _send(world: World, params: Mapping[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    chat = world.target_chat(params["chat_id"])
    message = _message_base(world, chat, params)
    message.update(content)
    _with_caption(message, params)
    _with_markup(message, params)
    return world.store_message(message)


@handles("sendMessage")
def send_message(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    parsed = rules.message_text(params)
    content: dict[str, Any] = {"text": parsed.text}
    if parsed.entities:
        content["entities"] = parsed.entities
    options = params.get("link_preview_options")
    if options:
        content["link_preview_options"] = options
    return _send(world, params, content)


def _file_input(world: World, value: str, uploads: Mapping[str, Upload], folder: str) -> tuple[Any, bytes]:
    """The stored file behind a parameter: an upload, a known file_id, or an HTTP URL Telegram fetches."""
    if value.startswith(_ATTACH):
        upload = uploads[value[len(_ATTACH) :]]
        if not upload.data:
            raise bad_request("file must be non-empty")
        stored = world.store_file(
            upload.data, file_name=upload.filename, mime_type=upload.content_type, folder=folder
        )
        return stored, upload.data
    if value in world.files:
        return world.files[value], world.files[value].data
    if value.lower().startswith(("http://", "https://")):
        stored = world.store_file(b"", file_name=value.rsplit("/", 1)[-1], mime_type=None, folder=folder)
        return stored, b""
    raise bad_request("wrong file identifier/HTTP URL specified")


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(_IMAGE_SIGNATURES[0]) and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 800, 600


@handles("sendPhoto")
def send_photo(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    stored, data = _file_input(world, params["photo"], uploads, "photos")
    if params["photo"].startswith(_ATTACH) and not data.startswith((*_IMAGE_SIGNATURES, b"RIFF")):
        raise bad_request("IMAGE_PROCESS_FAILED")
    width, height = _image_size(data)
    scale = max(width, height) / 90 or 1
    sizes = [
        {
            "file_id": f"{stored.file_id}-s",
            "file_unique_id": f"{stored.file_unique_id}s",
            "width": max(1, round(width / scale)),
            "height": max(1, round(height / scale)),
            "file_size": max(1, len(data) // 20),
        },
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(data),
        },
    ]
    return _send(world, params, {"photo": sizes})


@handles("sendDocument")
def send_document(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    stored, data = _file_input(world, params["document"], uploads, "documents")
    document: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
    if stored.file_name:
        document["file_name"] = stored.file_name
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    document["file_size"] = len(data)
    return _send(world, params, {"document": document})


@handles("copyMessage")
def copy_message(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    source = world.target_chat(params["from_chat_id"])
    original = world.stored(source.id, params["message_id"])
    if original is None:
        raise bad_request("message to copy not found")
    content = {k: v for k, v in original.items() if k in ("text", "entities", "photo", "document", "caption")}
    return {"message_id": _send(world, params, copy.deepcopy(content))["message_id"]}


MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


@handles("getFile")
def get_file(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    stored = world.files.get(params["file_id"].removesuffix("-s"))
    if stored is None:
        raise bad_request("invalid file_id")
    # getFile: "For the moment, bots can download files of up to 20MB in size."
    if len(stored.data) > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return {
        "file_id": params["file_id"],
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


# Editing and deleting


def _editable(world: World, params: Mapping[str, Any], missing: str) -> dict[str, Any] | None:
    """The stored bot message an edit addresses; None for inline messages (answered with True)."""
    if "inline_message_id" in params:
        return None
    if "chat_id" not in params or "message_id" not in params:
        raise bad_request("message identifier is not specified")
    chat = world.target_chat(params["chat_id"])
    message = world.stored(chat.id, params["message_id"])
    if message is None:
        raise bad_request(missing)
    if message.get("from", {}).get("id") != world.bot_id:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(world: World, message: dict[str, Any], changes: dict[str, Any], markup: Any) -> Any:
    """Replace content and markup; refuse, as Telegram does, an edit that changes nothing."""
    updated = {**message, **changes}
    for key, value in changes.items():
        if value is None:
            updated.pop(key, None)
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        updated["reply_markup"] = copy.deepcopy(markup)
    else:
        updated.pop("reply_markup", None)
    if updated == message:
        raise bad_request(_NOT_MODIFIED)
    updated["edit_date"] = world.now()
    return world.store_message(updated)


@handles("editMessageText")
def edit_message_text(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    parsed = rules.message_text(params)
    message = _editable(world, params, "message to edit not found")
    if message is None:
        return True
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    changes = {"text": parsed.text, "entities": parsed.entities or None}
    return _apply_edit(world, message, changes, params.get("reply_markup"))


@handles("editMessageCaption")
def edit_message_caption(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    message = _editable(world, params, "message to edit not found")
    if message is None:
        return True
    parsed = rules.caption(params)
    changes = {
        "caption": parsed.text if parsed and parsed.text else None,
        "caption_entities": parsed.entities if parsed and parsed.entities else None,
    }
    return _apply_edit(world, message, changes, params.get("reply_markup"))


@handles("editMessageReplyMarkup")
def edit_message_reply_markup(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    message = _editable(world, params, "message to edit not found")
    if message is None:
        return True
    return _apply_edit(world, message, {}, params.get("reply_markup"))


@handles("deleteMessage")
def delete_message(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    chat = world.target_chat(params["chat_id"])
    if world.messages.pop((chat.id, params["message_id"]), None) is None:
        raise bad_request("message to delete not found")
    return True


@handles("deleteMessages")
def delete_messages(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    chat = world.target_chat(params["chat_id"])
    for message_id in params["message_ids"]:
        world.messages.pop((chat.id, message_id), None)
    return True


# Callback queries


@handles("answerCallbackQuery")
def answer_callback_query(world: World, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
    query_id = params["callback_query_id"]
    if world.callback_queries.get(query_id, True):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    world.callback_queries[query_id] = True
    return True
