"""Message catalogs (bot/locales/*.toml) and HTML-safe formatting of the bot's replies.

Replies are Telegram HTML. Templates may hold tags; every value filled into a template is escaped
unless it is `Html` (already-rendered, already-escaped markup), so text from a user, a policy file or
a web page can never break a message.
"""

from __future__ import annotations

import html
import re
import string
import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"


class Html(str):
    """A string that is already valid, escaped Telegram HTML."""

    __slots__ = ()


class MessageRef(str):
    """The key of a message, to be filled in in the reader's language when the reply is rendered."""

    __slots__ = ()


def escape(value: object) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=False))


def join(parts: list[Html] | list[str], separator: str = "\n") -> Html:
    return Html(separator.join(escape(part) for part in parts))


@cache
def messages(lang: str) -> dict[str, str]:
    text = resources.files("bot").joinpath(f"locales/{lang}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {str(key): str(value) for key, value in data.items()}


def normalize_language(code: str | None) -> str:
    """Telegram's language_code or a user's word -> "zh" or "en"."""
    if not code:
        return DEFAULT_LANGUAGE
    folded = code.strip().casefold().replace("_", "-")
    if folded.startswith("zh") or folded in {"中文", "汉语", "chinese", "cn"}:
        return "zh"
    return "en"


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def t(lang: str, key: str, /, **values: Any) -> Html:
    """The message `key` in `lang` with `values` escaped into it."""
    catalog = messages(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    template = catalog.get(key) or messages(DEFAULT_LANGUAGE)[key]
    filled = {
        name: t(lang, value) if isinstance(value, MessageRef) else escape(value)
        for name, value in values.items()
    }
    return Html(template.format(**filled))


def to_plain_text(markup: str) -> str:
    """Telegram HTML -> plain text for the console: links become "text (url)", tags go, entities unescape."""

    def link(match: re.Match[str]) -> str:
        url, label = html.unescape(match.group(1)), match.group(2)
        return label if label == url else f"{label} ({url})"

    text = re.sub(r'<a href="([^"]*)">(.*?)</a>', link, markup, flags=re.S)
    text = re.sub(r"</?(b|i|u|s|code|pre|blockquote)>", "", text)
    return html.unescape(text)
