"""Splitting long Telegram-HTML replies: within the limit as Telegram counts it, valid HTML in every piece."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram_text import TELEGRAM_LIMIT, split_html, utf16_len, visible_text

LINK = '<a href="https://example.com/?q=1&amp;r=2">'


class Checked(HTMLParser):
    """An independent reading of a piece: its visible text, and whether its tags are balanced."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def visible(self) -> str:
        return "".join(self.text)


def checked_pieces(markup: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The pieces, each asserted well-formed and within the limit both ways, and non-empty if cut."""
    pieces = split_html(markup, limit)
    for piece in pieces:
        parsed = Checked(piece)
        assert parsed.stack == [], piece
        assert parsed.visible.strip() or pieces == [markup], piece
        assert len(piece) <= limit
        assert utf16_len(parsed.visible) <= limit
    return pieces


def same_text_modulo_cut_whitespace(pieces: list[str], original: str) -> bool:
    """The visible text of the pieces, in order, is the original's, but for white space at the cuts."""
    parts = [re.escape(Checked(piece).visible) for piece in pieces]
    pattern = r"\s*" + r"\s*".join(parts) + r"\s*"
    return re.fullmatch(pattern, Checked(original).visible, flags=re.S) is not None


def test_utf16_len_counts_as_telegram_does() -> None:
    assert utf16_len("") == 0
    assert utf16_len("abc") == 3
    assert utf16_len("中文") == 2  # in the Basic Multilingual Plane: one unit each
    assert utf16_len("😀") == 2  # beyond it: a surrogate pair
    assert utf16_len("a😀中") == 4


def test_visible_text() -> None:
    assert visible_text(f"<b>x &amp; y</b> {LINK}link</a> &lt;3") == "x & y link <3"


def test_short_text_is_unchanged() -> None:
    text = f"<b>Fees</b>\n{LINK}a &amp; b</a>"
    assert split_html(text) == [text]
    assert split_html("") == [""]


def test_long_text_of_lines_splits_at_line_breaks() -> None:
    text = "\n".join(f"{i:05d} " + "word " * (i % 17) for i in range(600))
    assert len(text) > 10_000
    pieces = checked_pieces(text)
    assert len(pieces) >= 3
    assert "\n".join(pieces) == text


def test_blank_lines_are_preferred_to_line_breaks() -> None:
    paragraph = "\n".join(["line of text"] * 20)
    text = "\n\n".join([paragraph] * 40)
    pieces = checked_pieces(text)
    assert all(piece == "\n\n".join([paragraph] * (piece.count("\n\n") + 1)) for piece in pieces)
    assert "\n\n".join(pieces) == text


@pytest.mark.parametrize(("opening", "closing"), [("<b>", "</b>"), (LINK, "</a>"), ("<i><u>", "</u></i>")])
def test_a_tag_open_at_a_cut_is_closed_and_reopened(opening: str, closing: str) -> None:
    text = "Before " + opening + "word " * 2000 + closing + " after"
    pieces = checked_pieces(text)
    assert len(pieces) == 3
    assert pieces[0].startswith("Before " + opening) and pieces[0].endswith(closing)
    assert pieces[1].startswith(opening) and pieces[1].endswith(closing)
    assert pieces[2].startswith(opening) and pieces[2].endswith(closing + " after")
    assert same_text_modulo_cut_whitespace(pieces, text)


def test_an_entity_is_never_cut() -> None:
    pieces = checked_pieces("&amp;" * 2000)
    assert len(pieces) == 3
    assert all(re.fullmatch(r"(&amp;)+", piece) for piece in pieces)
    text = "a&lt;b&gt;c&quot;d&amp;e" * 500
    for piece in checked_pieces(text, 100):
        assert not re.search(r"&(?!(amp|lt|gt|quot);)", piece), piece
        assert not re.search(r"&[a-z]*$", piece), piece


def test_a_word_longer_than_the_limit_is_still_split() -> None:
    pieces = checked_pieces("x" * 10_000)
    assert [len(piece) for piece in pieces] == [4096, 4096, 1808]
    pieces = checked_pieces("<code>" + "y" * 200 + "</code>", 50)
    assert all(re.fullmatch(r"<code>y+</code>", piece) for piece in pieces)
    assert sum(piece.count("y") for piece in pieces) == 200


def test_visible_length_is_counted_in_utf16_units() -> None:
    emoji = "😀" * 3000  # 3,000 characters, but 6,000 UTF-16 units: too long for one message
    pieces = checked_pieces(emoji)
    assert [utf16_len(piece) for piece in pieces] == [4096, 1904]
    assert "".join(pieces) == emoji
    chinese = "收费标准变更。" * 1000  # 7,000 characters, one unit each
    pieces = checked_pieces(chinese)
    assert len(pieces) == 2
    assert "".join(pieces) == chinese


def test_tags_do_not_count_towards_the_visible_length_but_the_raw_length_is_kept_too() -> None:
    text = "<b>x</b> " * 1000  # 9,000 raw characters, 2,000 visible
    pieces = checked_pieces(text)
    assert len(pieces) == 3
    assert same_text_modulo_cut_whitespace(pieces, text)


def test_a_limit_too_small_for_the_open_tags_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        split_html(LINK + "word " * 20 + "</a>", 20)


WORDS = st.text(alphabet="abcxyz0189éß中文字表😀🇨🇳", min_size=1, max_size=12)
LONG_WORDS = st.text(alphabet="mn中😀", min_size=30, max_size=160)
ENTITIES = st.sampled_from(["&lt;", "&gt;", "&amp;", "&quot;", "&#128512;"])
SEPARATORS = st.sampled_from([" ", " ", "\n", "\n\n", "  "])
TAGS = st.sampled_from(
    [
        ("<b>", "</b>"),
        ("<i>", "</i>"),
        ("<u>", "</u>"),
        ("<s>", "</s>"),
        ("<code>", "</code>"),
        ("<pre>", "</pre>"),
        ("<blockquote>", "</blockquote>"),
        (LINK, "</a>"),
    ]
)
RUNS = st.lists(st.one_of(WORDS, WORDS, ENTITIES, SEPARATORS, LONG_WORDS), min_size=1, max_size=25).map(
    "".join
)


def tagged(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda tag, body: tag[0] + body + tag[1], TAGS, inner)


LEVEL_ONE = st.one_of(RUNS, tagged(RUNS))
DOCUMENTS = st.lists(
    st.one_of(LEVEL_ONE, tagged(st.lists(LEVEL_ONE, min_size=1, max_size=4).map("".join))),
    min_size=1,
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS, st.integers(min_value=120, max_value=600))
def test_random_documents_split_into_valid_pieces_within_the_limit(text: str, limit: int) -> None:
    pieces = checked_pieces(text, limit)
    if len(text) <= limit and utf16_len(visible_text(text)) <= limit:
        assert pieces == [text]
    assert same_text_modulo_cut_whitespace(pieces, text)
    assert visible_text(text) == Checked(text).visible
