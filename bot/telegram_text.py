"""Splitting a long Telegram-HTML reply into messages Telegram accepts.

Telegram refuses a message longer than 4,096 characters, counted after the HTML is parsed: only the
visible text, in UTF-16 code units (an emoji or a rare CJK character counts 2). A split must also
keep every piece valid HTML, or Telegram refuses the piece ("can't parse entities"). So the text is
cut only between tags and entities, never inside one, and a tag open at a cut is closed at the end of
one piece and opened again, with the same attributes, at the start of the next.

Each piece is kept within the limit twice over: its visible text in UTF-16 units, and its raw HTML
in characters. The second is stricter than Telegram needs, and simple to keep.

Pure functions: no Telegram import, so the console and the tests use them as they are.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import Enum

__all__ = ["TELEGRAM_LIMIT", "split_html", "utf16_len", "visible_text"]

TELEGRAM_LIMIT = 4096

# A tag (attribute values may be quoted), an entity, or any one character, in that order of trial.
_TOKEN = re.compile(
    r"""(?P<tag><(?P<close>/)?(?P<name>[a-zA-Z][a-zA-Z0-9-]*)(?:[^<>"']|"[^"]*"|'[^']*')*>)"""
    r"|(?P<entity>&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#[xX][0-9a-fA-F]+);)"
    r"|(?P<char>.)",
    re.DOTALL,
)


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (characters beyond U+FFFF count 2)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def visible_text(text: str) -> str:
    """What a reader sees of Telegram HTML: the tags gone, the entities turned into their characters."""
    return "".join(atom.visible for atom in _atoms(text))


class _Kind(Enum):
    TEXT = "text"  # one character, or one entity
    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True)
class _Atom:
    """The smallest unit a split may not cut: a tag, an entity or one character."""

    kind: _Kind
    raw: str
    visible: str = ""
    name: str = ""  # the tag name, lower case

    @property
    def units(self) -> int:
        return utf16_len(self.visible)

    @property
    def closing(self) -> str:
        return f"</{self.name}>"


def _atoms(text: str) -> list[_Atom]:
    atoms = []
    for match in _TOKEN.finditer(text):
        raw = match.group()
        if match.group("tag"):
            kind = _Kind.CLOSE if match.group("close") else _Kind.OPEN
            atoms.append(_Atom(kind, raw, name=match.group("name").lower()))
        elif match.group("entity"):
            atoms.append(_Atom(_Kind.TEXT, raw, html.unescape(raw)))
        else:
            atoms.append(_Atom(_Kind.TEXT, raw, raw))
    return atoms


def _after(stack: tuple[_Atom, ...], atom: _Atom) -> tuple[_Atom, ...]:
    """The open tags after `atom`; a closing tag with no matching open tag leaves them as they are."""
    if atom.kind is _Kind.OPEN:
        return (*stack, atom)
    if atom.kind is _Kind.CLOSE:
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth].name == atom.name:
                return stack[:depth] + stack[depth + 1 :]
    return stack


def _closing_len(stack: tuple[_Atom, ...]) -> int:
    return sum(len(tag.closing) for tag in stack)


@dataclass
class _Cut:
    """Where a piece ends (`end`, exclusive) and the next begins (`resume`): the separator between goes."""

    end: int
    resume: int


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` (visible UTF-16 units, and raw characters), each valid HTML.

    A text within the limit comes back unchanged, as the only piece. Longer text is cut at the last
    blank line that fits, else the last line break, else the last space, else (one word longer than
    the limit) between any two characters; the blank line, line break or space at the cut is
    dropped, as Telegram would trim it anyway. Pieces with no visible text but white space are left out.
    Raises ValueError when `limit` cannot hold even the tags that are open at a cut.
    """
    if len(text) <= limit and utf16_len(visible_text(text)) <= limit:
        return [text]
    atoms = _atoms(text)
    pieces: list[str] = []
    start = 0
    stack: tuple[_Atom, ...] = ()  # the tags open where the current piece starts
    while start < len(atoms):
        cut, stack_at_end = _next_cut(atoms, start, stack, limit)
        opening = "".join(tag.raw for tag in stack)
        body = "".join(atom.raw for atom in atoms[start : cut.end])
        closing = "".join(tag.closing for tag in reversed(stack_at_end))
        if "".join(atom.visible for atom in atoms[start : cut.end]).strip():
            pieces.append(opening + body + closing)
        # The separator dropped at the cut is text, so the tags open after it are the same.
        start, stack = cut.resume, stack_at_end
    return pieces


def _next_cut(
    atoms: list[_Atom], start: int, stack: tuple[_Atom, ...], limit: int
) -> tuple[_Cut, tuple[_Atom, ...]]:
    """The cut that ends the piece starting at `start`, and the tags open at that cut."""
    raw = sum(len(tag.raw) for tag in stack)
    if raw + _closing_len(stack) > limit:
        raise ValueError(f"a limit of {limit} cannot hold the tags open at a split")
    units = 0
    has_text = False  # only a cut after some visible text makes a piece worth sending
    blank_line = line_break = space = None
    stacks: dict[int, tuple[_Atom, ...]] = {start: stack}
    index = start
    while index < len(atoms):
        atom = atoms[index]
        if has_text and atom.kind is _Kind.TEXT:
            if atom.raw == "\n":
                line_break = _Cut(index, index + 1)
                # Some text came before, so the first line break of the pair is not the piece's start.
                if atoms[index - 1].raw == "\n":
                    blank_line = _Cut(index - 1, index + 1)
            elif atom.raw == " ":
                space = _Cut(index, index + 1)
        after = _after(stack, atom)
        if raw + len(atom.raw) + _closing_len(after) > limit or units + atom.units > limit:
            break
        raw, units, stack = raw + len(atom.raw), units + atom.units, after
        has_text = has_text or bool(atom.visible.strip())
        index += 1
        stacks[index] = stack
    else:
        return _Cut(index, index), stack
    cut = blank_line or line_break or space or _hard_cut(atoms, start, index, limit)
    return cut, stacks[cut.end]


def _hard_cut(atoms: list[_Atom], start: int, end: int, limit: int) -> _Cut:
    """No white space to cut at: cut before `end`, but not right after an opening tag (an empty element)."""
    cut = end
    while cut > start + 1 and atoms[cut - 1].kind is _Kind.OPEN:
        cut -= 1
    if cut == start:
        raise ValueError(
            f"a limit of {limit} cannot hold {atoms[start].raw[:40]!r} and the tags open before it"
        )
    return _Cut(cut, cut)
