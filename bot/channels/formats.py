"""What each channel receives: the bot's Telegram HTML turned into its markdown or plain text, the JSON
body of each kind, and the byte limits a message is split to.

Limits (reference §1.1): WeCom markdown content at most 4,096 bytes of UTF-8 (about 1,365 Chinese
characters; errcode 40058 past it); DingTalk a request of at most 20,000 bytes; Feishu a body of at most
20 KB. A longer text is split at line ends, and never inside a character (a cut UTF-8 sequence would be
refused or shown as garbage); a line longer than the limit alone is cut between characters.
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = [
    "BYTE_LIMITS",
    "dingtalk_body",
    "feishu_body",
    "markdown_of",
    "plain_of",
    "split_by_bytes",
    "title_of",
    "wecom_body",
]

# Bytes of UTF-8 text per message, with room for the JSON around it (the title, the signature).
BYTE_LIMITS = {"wecom": 4096, "dingtalk": 18_000, "feishu": 18_000}
TITLE_CHARS = 40

_LINK = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_MARKS = [
    (re.compile(r"</?(?:b|strong)>", re.IGNORECASE), "**"),
    (re.compile(r"</?(?:i|em)>", re.IGNORECASE), "*"),
    (re.compile(r"</?code>", re.IGNORECASE), "`"),
]


def plain_of(text_html: str) -> str:
    """What a reader sees: the tags gone, the entities turned back into characters."""
    return html.unescape(_TAG.sub("", text_html))


def markdown_of(text_html: str) -> str:
    """Telegram HTML as the markdown Feishu (lark_md), DingTalk and WeCom read: bold, italics, code, links."""
    text = _LINK.sub(lambda m: f"[{_TAG.sub('', m[2])}]({html.unescape(m[1])})", text_html)
    for pattern, mark in _MARKS:
        text = pattern.sub(mark, text)
    return html.unescape(_TAG.sub("", text))


def title_of(text_html: str) -> str:
    """The first line a reader sees, short: a card's header, a DingTalk preview, an e-mail subject."""
    first = next((line.strip() for line in plain_of(text_html).splitlines() if line.strip()), "policybot")
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


def split_by_bytes(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` UTF-8 bytes, cut at line ends never in a character."""
    if limit < 4:
        raise ValueError("a piece must hold at least one character (4 bytes)")
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if len((current + line).encode()) <= limit:
            current += line
            continue
        if current:
            pieces.append(current)
            current = ""
        while len(line.encode()) > limit:
            head = _longest_prefix(line, limit)
            pieces.append(head)
            line = line[len(head) :]
        current = line
    if current or not pieces:
        pieces.append(current)
    return [piece.rstrip("\n") or piece for piece in pieces]


def _longest_prefix(line: str, limit: int) -> str:
    """The longest start of `line` within `limit` bytes (whole characters only)."""
    size = 0
    for index, char in enumerate(line):
        size += len(char.encode())
        if size > limit:
            return line[:index]
    return line


def feishu_body(markdown: str, title: str) -> dict[str, Any]:
    """A Feishu/Lark interactive card: a header and one lark_md block (Feishu has no plain markdown type)."""
    return {
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": markdown}}],
        },
    }


def dingtalk_body(markdown: str, title: str) -> dict[str, Any]:
    """A DingTalk markdown message (the title is the notification preview only)."""
    return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}


def wecom_body(markdown: str) -> dict[str, Any]:
    """A WeCom group robot markdown message (content at most 4,096 bytes)."""
    return {"msgtype": "markdown", "markdown": {"content": markdown}}
