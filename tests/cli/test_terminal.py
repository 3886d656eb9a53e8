"""Terminal output: rich tables and colour on a terminal, aligned plain text when piped."""

from __future__ import annotations

import io

from bot.terminal import print_table, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


ROWS = [("amazon", "20", "ok"), ("temu", "9", "fail")]


def test_a_piped_table_is_plain_aligned_text() -> None:
    out = io.StringIO()
    print_table(["platform", "rules", "status"], ROWS, right=["rules"], stream=out)
    assert out.getvalue().splitlines() == [
        "platform  rules  status",
        "amazon       20  ok",
        "temu          9  fail",
    ]


def test_a_terminal_table_is_drawn_by_rich_with_colour() -> None:
    out = Terminal()
    print_table(["platform", "rules", "status"], ROWS, right=["rules"], stream=out)
    text = out.getvalue()
    assert "┃" in text or "│" in text  # box drawing
    assert "\x1b[" in text  # colour (the failed row in red)
    assert "amazon" in text and "temu" in text


def test_progress_is_silent_when_piped() -> None:
    out = io.StringIO()
    with progress(3, "checking", stream=out) as step:
        for _ in range(3):
            step()
    assert out.getvalue() == ""
