"""`policybot backup`: a consistent copy of the live database, taken while the bot keeps writing.

SQLite's online backup API copies the pages under one read transaction: in WAL mode that does not block
the bot's writers, and the copy is the database as of one instant (never half a transaction). The copy
is written beside the target and renamed into place only once it passed `PRAGMA integrity_check`, so a
failed backup never leaves a broken file where the last good one was. The copy is a single file (its
journal mode set back to DELETE): copy it anywhere; `policybot run --db COPY` opens it.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.errors import PolicyBotError

__all__ = ["BackupError", "BackupResult", "backup_database"]


class BackupError(PolicyBotError):
    """The backup could not be made; the message says why and names the file."""


@dataclass(frozen=True)
class BackupResult:
    target: Path
    rows: dict[str, int]  # table -> rows in the copy
    size: int  # bytes

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def backup_database(source: Path, target: Path) -> BackupResult:
    """Copy `source` to `target` (replacing it) through the online backup API; check and count the copy."""
    if not source.is_file():
        raise BackupError(f"{source}: no such database (see store.path in the config, or pass --db)")
    if target.resolve() == source.resolve():
        raise BackupError(f"{target}: the backup must not overwrite the database itself")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        live = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            live.backup(copy)  # all pages in one step: one read transaction, one instant
            copy.execute("PRAGMA journal_mode = DELETE")
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"{target}: the copy failed its integrity check: {verdict}")
            tables = [
                row[0]
                for row in copy.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                    " ORDER BY name"
                )
            ]
            rows = {
                name: int(copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in tables
            }
        finally:
            copy.close()
            live.close()
        os.replace(partial, target)
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{source}: cannot back up: {error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(target, rows, target.stat().st_size)
