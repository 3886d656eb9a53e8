"""The comparable text of a watched page, and a short diff between two versions of it.

`page_text` turns a response body into the text the watcher compares: the visible text of the part of
the page a CSS selector picks (the whole <body> without one), one line per block of the page, with
whitespace collapsed and the volatile bits below masked, so that a page rebuilt with nothing new in it
hashes the same as before.

Always dropped: script, style, noscript, template, svg, and elements with the `hidden` attribute.
Dropped only when no selector is given: nav, header, footer (site chrome; a selector that picks them
wants them), and head and title (for a page without a <body>).

The volatile bits, masked on every line (kept few on purpose: each one could hide a real change):

    page dates      "Last updated: 2026-11-25", "Updated on Nov 25, 2026", "更新时间：2026年11月25日"
                    -> "Last updated: [date]" (the date after an updated/modified/generated/refreshed/
                    reviewed/更新/修改/编辑 word; a date anywhere else is policy text and is kept)
    timestamps      "2026-11-25T09:00:00Z", "09:14:03", "5 minutes ago", "5分钟前" -> "[time]"
                    (a clock time only with seconds: "09:00" alone may be a deadline and is kept)
    counters        "1,234 views", "Views: 1.2k", "阅读 1.2万", "3万次浏览" -> "[n] views", ...
    cache-busters   "?v=123", "&_=1700000000", "?t=...", "?cb=..." in URLs shown as text -> "?v=[n]"
    copyright years "© 2024-2026", "Copyright 2026" -> "© [year]"

Exceptions:

    PageTextError    the page has no comparable text where the source says to look
"""

from __future__ import annotations

import difflib
import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Iterator

import soupsieve
from bs4 import BeautifulSoup
from bs4.dammit import UnicodeDammit
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

__all__ = [
    "PageTextError",
    "check_selector",
    "mask_volatile",
    "page_text",
    "short_diff",
    "text_hash",
]


class PageTextError(Exception):
    """The page has no comparable text where the source says to look (a selector matched nothing)."""


_ALWAYS_DROPPED = frozenset({"script", "style", "noscript", "template", "svg"})
_CHROME = frozenset({"nav", "header", "footer"})
_HEAD = frozenset({"head", "title"})  # never shown; only a page without <body> puts them in the walk
# Elements that start a new line. Everything else (a, b, span, ...) runs on within its block.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "nav", "ol", "option", "p", "pre",
        "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_XML_TYPES = frozenset({"text/xml", "application/xml"})
_TEXT_TYPES = frozenset({"application/json"})
# Characters that render as nothing: zero-width spaces and joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_WHITESPACE = re.compile(r"\s+")
# HTML has no processing instructions (an HTML5 parser reads them as comments). Dropping them before
# parsing also keeps bs4 from taking an XHTML page's "<?xml ...?>" as a sign of XML and warning.
_PROCESSING_INSTRUCTION = re.compile(r"<\?.*?>", re.S)


def check_selector(selector: str) -> None:
    """Raise ValueError, saying why, if `selector` is not a CSS selector soupsieve understands."""
    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as error:
        raise ValueError(f"{selector!r} is not a CSS selector: {error}") from None


def page_text(body: bytes, content_type: str | None, charset: str | None, selector: str | None) -> str:
    """The normalised text of a response body, the text the watcher hashes and stores.

    `content_type` is the media type without parameters ("text/html"), None if the server sent none;
    `charset` is the one the Content-Type header declares, if any. HTML (and XML, read as markup) gives
    its visible text; other text types give their lines; anything else (a PDF, an image) gives a
    one-line fingerprint of its bytes, so that a change is still noticed. Raises PageTextError when a
    selector matches nothing or is given for a page that is not markup.
    """
    kind = content_type or "text/html"
    if kind in _HTML_TYPES or kind in _XML_TYPES or kind.endswith("+xml"):
        # XML (a feed, say) is read as markup too, each element on a line of its own.
        every_tag_a_block = kind not in _HTML_TYPES
        markup = _decode(body, charset, is_html=True)
        lines: Iterable[str] = _markup_lines(markup, selector, every_tag_a_block)
    elif selector is not None:
        raise PageTextError(f"the selector {selector!r} needs an HTML page, but this one is {kind}")
    elif kind.startswith("text/") or kind in _TEXT_TYPES:
        lines = _decode(body, charset, is_html=False).splitlines()
    else:
        digest = hashlib.sha256(body).hexdigest()
        lines = [f"[{kind}, {len(body)} bytes, sha256 {digest}]"]
    cleaned = "\n".join(line for line in map(_clean_line, lines) if line)
    # Masked in one go: no volatile pattern spans lines, and a regex over the whole text is much
    # faster than a dozen over every line of a long page.
    return mask_volatile(cleaned)


def text_hash(text: str) -> str:
    """The sha256 of the normalised text, in hex: what change detection compares."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _decode(body: bytes, charset: str | None, *, is_html: bool) -> str:
    # The header's charset first, then what the document declares (BOM, <meta charset>), then guesses.
    dammit = UnicodeDammit(body, known_definite_encodings=[charset] if charset else [], is_html=is_html)
    if dammit.unicode_markup is not None:
        return dammit.unicode_markup
    return body.decode("utf-8", errors="replace")


def _clean_line(line: str) -> str:
    line = unicodedata.normalize("NFC", line).translate(_INVISIBLE)
    return _WHITESPACE.sub(" ", line).strip()


def _markup_lines(markup: str, selector: str | None, every_tag_a_block: bool) -> list[str]:
    markup = _PROCESSING_INSTRUCTION.sub("", markup)
    if "<" not in markup:
        # No element at all: the body is text (bs4 is not asked, which would wonder if it is a URL).
        if selector is not None:
            raise PageTextError(f"the selector {selector!r} matched nothing (the page has no markup)")
        return html.unescape(markup).splitlines()
    soup = BeautifulSoup(markup, "html.parser")
    if selector is None:
        body = soup.body
        roots: list[Tag] = [body if body is not None else soup]
        # An XML feed's <title> is its content; an HTML page's is not.
        dropped = _ALWAYS_DROPPED | _CHROME | (frozenset() if every_tag_a_block else _HEAD)
    else:
        roots = soup.select(selector)
        if not roots:
            raise PageTextError(f"the selector {selector!r} matched nothing")
        dropped = _ALWAYS_DROPPED
    return list(_visible_lines(roots, dropped, every_tag_a_block))


def _visible_lines(roots: list[Tag], dropped: frozenset[str], every_tag_a_block: bool) -> Iterator[str]:
    """The text under `roots` as it reads: a new line at every block boundary and <br>.

    A root inside an earlier root (a selector like "div" matches nested divs) is read once, with the
    outer one. One walk over the tree with an explicit stack, each node visited once: no recursion for
    a deeply nested page to exhaust, no walk up the ancestors of every string.
    """
    covered: set[int] = set()
    matched = {id(root) for root in roots}
    line: list[str] = []
    current_block: Tag | None = None
    for root in roots:
        if id(root) in covered:
            continue
        # (node, the block it is in, whether it is inside <pre>), in document order from the top.
        stack: list[tuple[PageElement, Tag, bool]] = [(root, root, False)]
        while stack:
            node, block, in_pre = stack.pop()
            if isinstance(node, Tag):
                if node is not root and (node.name in dropped or node.has_attr("hidden")):
                    continue
                if id(node) in matched:
                    covered.add(id(node))
                if node.name == "br":
                    yield "".join(line)
                    line = []
                    continue
                inner = node if every_tag_a_block or node.name in _BLOCKS else block
                inner_pre = in_pre or node.name == "pre"
                stack.extend((child, inner, inner_pre) for child in reversed(node.contents))
                continue
            # Comments, CDATA, doctypes and processing instructions are PreformattedStrings: not shown.
            if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
                continue
            if block is not current_block:
                yield "".join(line)
                line = []
                current_block = block
            if in_pre:
                first, *rest = str(node).split("\n")
                line.append(first)
                for part in rest:
                    yield "".join(line)
                    line = [part]
            else:
                line.append(str(node))
    yield "".join(line)


# --- volatile bits -----------------------------------------------------------------------------------

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"  # 2026-11-25, 2026/11/25, 2026.11.25
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"  # 25.11.2026, 11/25/2026
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}"  # November 25, 2026
    rf"|\d{{1,2}}(?:st|nd|rd|th)? {_MONTH},? \d{{4}}"  # 25 November 2026
    r"|\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日)"  # 2026年11月25日
)
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[ap]\.?m\b\.?)?(?: ?(?:utc|gmt|z|[+-]\d{2}:?\d{2})\b)?"
_DATETIME = rf"{_DATE}(?:(?:t| |, | at ){_TIME})?"
_UNITS_EN = r"(?:second|minute|hour|day|week|month|year)s?"
_UNITS_ZH = r"(?:秒|分钟|小时|天|周|个月|年)"
_UPDATED_EN = r"(?:last )?(?:updated|update|modified|generated|refreshed|reviewed)(?: on| at)?:? ?"
_UPDATED_ZH = r"(?:最后|最近)?(?:更新|修改|编辑)(?:时间|日期|于)?[:：]? ?"
_COUNTED_EN = r"views?|reads?|visits?|likes?|comments?|shares?|downloads?"
_COUNTED_ZH = r"浏览|阅读|访问|点赞|评论"
_COUNTED_ZH_AFTER = r"次浏览|人浏览|次阅读|人阅读|次访问|人看过|浏览|阅读"
_NUMBER = r"\d[\d,.]*"
_CACHE_BUSTERS = r"v|ver|version|_|t|ts|cb|cachebust|cachebuster|nocache|rev"


def _rule(pattern: str, replacement: str) -> tuple[re.Pattern[str], str]:
    return re.compile(pattern, re.IGNORECASE), replacement


# (pattern, replacement), applied in this order after whitespace is collapsed (a space is " ").
VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    # Page dates: the date after an "updated" word, never a date on its own.
    _rule(rf"\b({_UPDATED_EN}){_DATETIME}", r"\1[date]"),
    _rule(rf"({_UPDATED_ZH}){_DATETIME}", r"\1[date]"),
    # Timestamps: with seconds, or relative to now.
    _rule(r"\b\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:z|[+-]\d{2}:?\d{2})?", "[time]"),
    _rule(r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b", "[time]"),
    _rule(rf"\b\d+ {_UNITS_EN} ago\b", "[time] ago"),
    _rule(rf"\d+ ?{_UNITS_ZH}前", "[time]前"),
    # Counters.
    _rule(rf"\b{_NUMBER}(?: ?[km])?\+? ?({_COUNTED_EN})\b", r"[n] \1"),
    _rule(rf"\b({_COUNTED_EN}): ?{_NUMBER}(?: ?[km]\b)?", r"\1: [n]"),
    _rule(rf"({_COUNTED_ZH})(量|数|次数)?([:：]? ?){_NUMBER}(?:万|w|k)?\+?", r"\1\2\3[n]"),
    _rule(rf"{_NUMBER}(?:万|w|k)?\+? ?({_COUNTED_ZH_AFTER})", r"[n]\1"),
    # Cache-busting parameters in URLs shown as text.
    _rule(rf"([?&](?:{_CACHE_BUSTERS})=)[\w.-]+", r"\1[n]"),
    # Copyright years.
    _rule(r"((?:©|\(c\)|copyright)(?: ©)? ?)(?:\d{4} ?[-–—] ?)?\d{4}", r"\1[year]"),
)


def mask_volatile(text: str) -> str:
    """`text` with its volatile bits (see the module docstring) replaced by placeholders.

    No pattern matches a line break, so a text is masked line by line, and no line becomes empty.
    """
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


# --- diff --------------------------------------------------------------------------------------------

_MIN_DIFF_CHARS = 80
_LINE_CHARS = 500  # a changed line longer than this is cut: one minified paragraph must not fill it all
_GAP = "…"


def short_diff(old: str, new: str, max_chars: int = 3000) -> str:
    """The changed lines between two texts, "- " removed and "+ " added, at most `max_chars` long.

    Hunks appear in page order, separated by a "…" line where unchanged lines lie between them. What
    does not fit is counted in a last line ("… 12 more changed lines"). Empty when nothing changed.
    Counts characters (code points); Telegram's limit of 4096 counts UTF-16 units, so leave room for
    emoji or wrap this in a message well under the limit.
    """
    if max_chars < _MIN_DIFF_CHARS:
        raise ValueError(f"max_chars must be at least {_MIN_DIFF_CHARS}")
    items = list(_diff_items(old.splitlines(), new.splitlines()))
    total = sum(changed for _, changed in items)
    if total == 0:
        return ""
    reserve = len(_more(total)) + 1  # the last line and its newline, for the largest count
    out: list[str] = []
    size = shown = 0
    for index, (line, changed) in enumerate(items):
        last = index == len(items) - 1
        budget = max_chars - size - (0 if last else reserve) - (1 if out else 0)
        if len(line) > budget:
            if out or budget < 2:
                break
            line = line[: budget - 1] + "…"  # even a huge first line shows its start
        out.append(line)
        size += len(line) + (1 if len(out) > 1 else 0)
        shown += changed
    if out and out[-1] == _GAP:
        out.pop()
    if shown < total:
        out.append(_more(total - shown))
    return "\n".join(out)


def _more(count: int) -> str:
    return f"… {count} more changed line{'s' if count != 1 else ''}"


def _diff_items(old: list[str], new: list[str]) -> Iterator[tuple[str, bool]]:
    """("- line" | "+ line", True) for each change, and (GAP, False) between separated hunks."""
    matcher = difflib.SequenceMatcher(None, old, new)
    started = False
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            if started:
                yield _GAP, False
            continue
        started = True
        removed = [_clip(f"- {line}") for line in old[i1:i2]]
        added = [_clip(f"+ {line}") for line in new[j1:j2]]
        # A replaced line reads best next to its replacement: pairs first, then the rest.
        for pair in zip(removed, added, strict=False):
            yield pair[0], True
            yield pair[1], True
        for line in removed[len(added) :] + added[len(removed) :]:
            yield line, True


def _clip(line: str) -> str:
    return line if len(line) <= _LINE_CHARS else line[: _LINE_CHARS - 1] + "…"
