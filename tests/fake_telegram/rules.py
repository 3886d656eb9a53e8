"""Limits the Bot API states in prose rather than in types, enforced where the real server enforces them.

Checked after the spec (types) so that these checks can rely on well-typed parameters: text 1-4096
characters and captions up to 1024 after entity parsing (leading/trailing whitespace trimmed, as Telegram
does), well-formed HTML for ``parse_mode=HTML``, inline keyboards whose buttons have exactly one action and
1-64 bytes of ``callback_data``, callback answers up to 200 characters, and bot commands Telegram accepts.
Lengths count Unicode code points, as the documentation says "characters".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import bad_request
from .html_check import ParsedText, TelegramHtmlError, parse_html, utf16_len

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
CALLBACK_ANSWER_LIMIT = 200
INLINE_KEYBOARD_BUTTONS_LIMIT = 100
COMMANDS_LIMIT = 100
COMMAND_DESCRIPTION_LIMIT = 256
PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
TEXT_METHODS = frozenset({"sendMessage", "editMessageText"})
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    }
)  # fmt: skip
# Exactly one of these makes an inline keyboard button do something.
BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay",
)  # fmt: skip
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")
_BUTTON_URL = re.compile(r"(https?|tg)://\S+", re.IGNORECASE)


def formatted(text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None) -> ParsedText:
    """The text Telegram would store: parsed per `parse_mode`, then trimmed of surrounding whitespace.

    MarkdownV2/Markdown are not validated; their raw text (markup included) is kept, so length checks
    over-count for them.
    """
    mode = (parse_mode or "").lower()
    if mode and mode not in PARSE_MODES:
        raise bad_request("unsupported parse_mode")
    if mode == "html":
        try:
            parsed = parse_html(text)
        except TelegramHtmlError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        parsed = ParsedText(text, list(entities or []) if not mode else [])
    return _trimmed(parsed)


def _trimmed(parsed: ParsedText) -> ParsedText:
    text = parsed.text.strip()
    if text == parsed.text:
        return parsed
    shift = utf16_len(parsed.text[: len(parsed.text) - len(parsed.text.lstrip())])
    limit = utf16_len(text)
    entities = []
    for entity in parsed.entities:
        start = min(max(entity["offset"] - shift, 0), limit)
        end = min(max(entity["offset"] + entity["length"] - shift, 0), limit)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(text, entities)


def message_text(params: Mapping[str, Any]) -> ParsedText:
    """The `text` of sendMessage/editMessageText, parsed and within 1-4096 characters."""
    parsed = formatted(params.get("text", ""), params.get("parse_mode"), params.get("entities"))
    if not parsed.text:
        raise bad_request("message text is empty")
    if len(parsed.text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return parsed


def caption(params: Mapping[str, Any]) -> ParsedText | None:
    """The `caption` of a media message, parsed and at most 1024 characters; None when there is none."""
    if "caption" not in params:
        return None
    parsed = formatted(params["caption"], params.get("parse_mode"), params.get("caption_entities"))
    if len(parsed.text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return parsed


def check_inline_keyboard(markup: Mapping[str, Any]) -> None:
    """Buttons with text and exactly one action; callback_data of 1-64 bytes; at most 100 buttons."""
    rows = markup["inline_keyboard"]
    if sum(len(row) for row in rows) > INLINE_KEYBOARD_BUTTONS_LIMIT:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            if not button["text"]:
                raise bad_request("inline keyboard button text must be non-empty")
            actions = [action for action in BUTTON_ACTIONS if action in button]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad_request(f"inline keyboard button must have exactly one action, got {actions}")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not _BUTTON_URL.fullmatch(button["url"]):
                raise bad_request("BUTTON_URL_INVALID")


def check_commands(params: Mapping[str, Any]) -> None:
    """setMyCommands: 1-32 lowercase letters, digits or underscores; a 1-256 character description."""
    commands = params["commands"]
    if len(commands) > COMMANDS_LIMIT:
        raise bad_request("too many commands")
    for command in commands:
        if not _COMMAND.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"].strip()) <= COMMAND_DESCRIPTION_LIMIT:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


def check_request(method: str, params: Mapping[str, Any]) -> None:
    """Every prose limit that applies to this request; raise ApiError(400) at the first violation."""
    if method in TEXT_METHODS:
        message_text(params)
    caption(params)
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        check_inline_keyboard(markup)
    if method == "answerCallbackQuery" and len(params.get("text", "")) > CALLBACK_ANSWER_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    if method == "setMyCommands":
        check_commands(params)
    language = params.get("language_code")
    if method.endswith("MyCommands") and language and not _LANGUAGE_CODE.fullmatch(language):
        raise bad_request("invalid language code specified")
    if method == "sendChatAction" and params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
