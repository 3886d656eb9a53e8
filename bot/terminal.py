"""Terminal output of the command line: rich tables, progress bars and colour on a terminal, plain when piped.

A script that reads policybot's output (cron, monitoring) gets plain aligned text, no escape codes, and
the machine-readable last line (`checked=N ...`, `backup=...`, `doctor: ...`) exactly as before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["is_terminal", "print_table", "progress"]

STATUS_STYLES = {"ok": "green", "fail": "bold red", "changed": "yellow", "failed": "bold red", "note": "cyan"}


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    right: Sequence[str] = (),
    stream: TextIO | None = None,
) -> None:
    """A table: drawn by rich on a terminal; aligned plain text (a header line, then rows) when piped.

    `right` names the columns aligned right (numbers). A cell whose text is a key of STATUS_STYLES is
    coloured on a terminal.
    """
    stream = stream or sys.stdout
    if is_terminal(stream):
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, justify="right" if column in right else "left")
        for row in rows:
            table.add_row(*(f"[{STATUS_STYLES[c]}]{c}[/]" if c in STATUS_STYLES else c for c in row))
        Console(file=stream).print(table)
        return
    widths = [max([len(column), *(len(row[i]) for row in rows)]) for i, column in enumerate(columns)]
    if title:
        print(title, file=stream)
    for cells in [list(columns), *rows]:
        parts = [
            cell.rjust(width) if column in right else cell.ljust(width)
            for cell, width, column in zip(cells, widths, columns, strict=True)
        ]
        print("  ".join(parts).rstrip(), file=stream)


@contextmanager
def progress(total: int, label: str, stream: TextIO | None = None) -> Iterator[Callable[[], None]]:
    """A progress bar on a terminal (stderr by default); nothing when piped. Yields `step()` to advance."""
    stream = stream or sys.stderr
    if not is_terminal(stream):
        yield lambda: None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=stream),
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)
