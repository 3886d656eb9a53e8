"""Telegram's HTML parse mode, checked the way the Bot API parses it, and turned into text plus entities.

The real server (tdlib's ``parse_html``) accepts only a small tag set, requires every tag to be closed in
order, and answers ``400 Bad Request: can't parse entities: ...`` otherwise. A bot that forgets to escape
user input (``<``, ``&``) fails in production only when a user types one of them; checking here makes the
end-to-end tests fail first. Error texts follow tdlib's wording where it has one.

One deliberate difference: tdlib keeps a bare ``&`` that starts no entity as a literal character; this
checker rejects it, so that the bot is held to always escaping text it inserts into HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Tag -> the MessageEntity type it produces (Bot API "Formatting options", HTML style).
TAG_ENTITY_TYPES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}

# The only named entities Telegram decodes; numeric ones (&#38; &#x26;) are decoded too.
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_-]+")


class TelegramHtmlError(ValueError):
    """The text is not well-formed for Telegram's HTML parse mode ("can't parse entities")."""


@dataclass(frozen=True)
class ParsedText:
    """Text as Telegram stores it after entity parsing: plain text plus MessageEntity dicts."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    start: int  # UTF-16 offset in the plain text
    language: str | None = None  # set by a nested <code class="language-x"> inside <pre>


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of MessageEntity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML into plain text and entities, or raise TelegramHtmlError saying where it fails."""
    parser = _Parser(source)
    return parser.run()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.offset16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8", "surrogatepass"))

    def fail(self, message: str) -> TelegramHtmlError:
        return TelegramHtmlError(message)

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.offset16 += utf16_len(text)

    def run(self) -> ParsedText:
        source, i = self.source, 0
        while i < len(source):
            char = source[i]
            if char == "&":
                decoded, i = self.entity(i)
                self.emit(decoded)
            elif char != "<":
                end = _next_special(source, i)
                self.emit(source[i:end])
                i = end
            elif source.startswith("</", i):
                i = self.end_tag(i)
            else:
                i = self.start_tag(i)
        if self.stack:
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return ParsedText("".join(self.out), self.entities)

    def entity(self, index: int) -> tuple[str, int]:
        match = _ENTITY.match(self.source, index)
        decoded = _decode_entity(match) if match else None
        if match is None or decoded is None:
            raise self.fail(
                f'Character "&" at byte offset {self.byte_offset(index)} does not start an HTML entity; '
                'escape it as "&amp;"'
            )
        return decoded, match.end()

    def start_tag(self, begin: int) -> int:
        source, i = self.source, begin + 1
        while i < len(source) and not source[i].isspace() and source[i] != ">":
            i += 1
        if i >= len(source):
            raise self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = source[begin + 1 : i].lower()
        if name not in TAG_ENTITY_TYPES:
            raise self.fail(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        attributes, i = self.attributes(i, name, begin)
        self.check_attributes(name, attributes, begin)
        self.stack.append(_OpenTag(name, attributes, self.offset16))
        return i + 1

    def attributes(self, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
        """Parse `name="value"`, `name='value'`, `name=value` and bare `name`; return them and the `>`."""
        source, attributes = self.source, dict[str, str]()
        while True:
            while i < len(source) and source[i].isspace():
                i += 1
            if i >= len(source):
                raise self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if source[i] == ">":
                return attributes, i
            match = _ATTRIBUTE_NAME.match(source, i)
            if match is None:
                raise self.fail(
                    f'Invalid attribute name in the tag "{tag}" at byte offset {self.byte_offset(i)}'
                )
            name, i = match.group().lower(), match.end()
            while i < len(source) and source[i].isspace():
                i += 1
            if i >= len(source) or source[i] != "=":
                attributes[name] = ""
                continue
            i += 1
            while i < len(source) and source[i].isspace():
                i += 1
            if i < len(source) and source[i] in "\"'":
                end = source.find(source[i], i + 1)
                if end < 0:
                    raise self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
                raw, i = source[i + 1 : end], end + 1
            else:
                start = i
                while i < len(source) and not source[i].isspace() and source[i] != ">":
                    i += 1
                raw = source[start:i]
            attributes[name] = self.attribute_value(raw, begin)

    def attribute_value(self, raw: str, begin: int) -> str:
        parts, i = [], 0
        while i < len(raw):
            amp = raw.find("&", i)
            if amp < 0:
                parts.append(raw[i:])
                break
            parts.append(raw[i:amp])
            match = _ENTITY.match(raw, amp)
            decoded = _decode_entity(match) if match else None
            if match is None or decoded is None:
                raise self.fail(
                    f'Character "&" in an attribute of the tag at byte offset {self.byte_offset(begin)} '
                    'does not start an HTML entity; escape it as "&amp;"'
                )
            parts.append(decoded)
            i = match.end()
        return "".join(parts)

    def check_attributes(self, name: str, attributes: dict[str, str], begin: int) -> None:
        where = f"at byte offset {self.byte_offset(begin)}"
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise self.fail(f'Tag "span" must have class "tg-spoiler" {where}')
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise self.fail(f'Tag "tg-emoji" must have a numeric attribute "emoji-id" {where}')
        if name == "tg-time" and not attributes.get("unix", "").isdigit():
            raise self.fail(f'Tag "tg-time" must have a numeric attribute "unix" {where}')

    def end_tag(self, begin: int) -> int:
        source = self.source
        close = source.find(">", begin + 2)
        if close < 0:
            raise self.fail(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        name = source[begin + 2 : close].strip().lower()
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        open_tag = self.stack.pop()
        if name != open_tag.name:
            raise self.fail(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{open_tag.name}>", found "</{name}>"'
            )
        self.close(open_tag)
        return close + 1

    def close(self, tag: _OpenTag) -> None:
        length = self.offset16 - tag.start
        language = tag.attributes.get("class", "")
        parent = self.stack[-1] if self.stack else None
        if tag.name == "code" and parent is not None and parent.name == "pre" and language:
            # <pre><code class="language-x"> is one pre entity with a language, not two entities.
            parent.language = language.removeprefix("language-")
            return
        if length == 0:
            return  # Telegram drops empty entities
        entity: dict[str, Any] = {"type": TAG_ENTITY_TYPES[tag.name], "offset": tag.start, "length": length}
        if tag.name == "a":
            if not tag.attributes.get("href"):
                return  # a link without a target is plain text
            entity["url"] = tag.attributes["href"]
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attributes:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attributes["emoji-id"]
        elif tag.name == "tg-time":
            entity["unix_time"] = int(tag.attributes["unix"])
            if tag.attributes.get("format"):
                entity["date_time_format"] = tag.attributes["format"]
        self.entities.append(entity)


def _next_special(source: str, start: int) -> int:
    """Index of the next `<` or `&` (or the end), so runs of plain text are copied in one piece."""
    ends = [index for index in (source.find("<", start), source.find("&", start)) if index >= 0]
    return min(ends) if ends else len(source)


def _decode_entity(match: re.Match[str]) -> str | None:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)
