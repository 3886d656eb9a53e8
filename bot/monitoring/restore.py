"""`policybot restore`: put a backup made by `policybot backup` in place of the database, after checking it.

Refusing while a bot runs on the database: the database's own locks cannot tell, since an idle bot in
WAL mode holds none. So `policybot run` holds an advisory lock (flock) on `<database>.lock` for as long
as it runs, with its pid written inside; the kernel drops the lock when the process ends, even on
SIGKILL, so a crashed bot never leaves a stale lock behind. `restore` takes that lock without waiting
(refused: a bot runs) and then SQLite's own exclusive lock (refused: another command is writing).

The backup is checked first: `PRAGMA integrity_check`, and each owner's schema version not newer than
this release (a newer release's file would be misread). The database it replaces is kept beside it as
`<database>.before-restore`, and its WAL and shared-memory files are removed, since SQLite would
otherwise replay the old WAL onto the restored file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlite_utils import Database

from bot.errors import PolicyBotError
from bot.store import LEGACY_VERSION, registered, schema_versions

__all__ = ["RestoreError", "RestoreResult", "RunLock", "hold_run_lock", "restore_database"]


class RestoreError(PolicyBotError):
    """The backup was not restored (the database is as it was); the message says why."""


@dataclass(frozen=True)
class RestoreResult:
    target: Path
    previous: Path | None  # where the replaced database was kept, if there was one
    rows: dict[str, int]  # table -> rows restored
    size: int  # bytes

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class RunLock:
    """The running bot's hold on `<database>.lock` (released by close, or by the kernel at exit)."""

    def __init__(self, file: IO[str] | None) -> None:
        self._file = file

    @property
    def held(self) -> bool:
        return self._file is not None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None


def _try_lock(database: Path) -> IO[str] | None:
    """The lock file open and locked by us, or None when another process holds it."""
    file = open(lock_path(database), "a+", encoding="utf-8")  # noqa: SIM115  # kept open while held
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    return file


def hold_run_lock(database: Path) -> RunLock:
    """Taken by `policybot run` for its whole life; a RunLock that is not `held` means another process
    (a second bot on the same file, or a restore under way) has it."""
    file = _try_lock(database)
    if file is not None:
        file.seek(0)
        file.truncate()
        file.write(f"{os.getpid()}\n")
        file.flush()
    return RunLock(file)


def _holder(database: Path) -> str:
    try:
        pid = lock_path(database).read_text(encoding="utf-8").strip()
    except OSError:
        pid = ""
    return f" (pid {pid})" if pid.isdigit() else ""


def check_backup(backup: Path) -> dict[str, int]:
    """The backup's rows per table, once it passed the integrity check and the schema versions check."""
    if not backup.is_file():
        raise RestoreError(f"{backup}: no such file")
    known = {migrations.owner: len(migrations.steps) for migrations in registered()}
    try:
        connection = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise RestoreError(f"{backup}: fails the integrity check: {verdict}")
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                    " ORDER BY name"
                )
            ]
            if "owner_migrations" not in tables:
                raise RestoreError(f"{backup}: not a policybot database (no owner_migrations table)")
            legacy = 0
            if "schema_migrations" in tables:
                legacy = int(
                    connection.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0
                )
            versions = schema_versions(Database(connection))
            rows = {
                name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
                for name in tables
            }
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise RestoreError(f"{backup}: not a readable SQLite database: {error}") from None
    if legacy > LEGACY_VERSION:
        raise RestoreError(
            f"{backup}: schema version {legacy} is newer than this policybot ({LEGACY_VERSION})"
        )
    for owner, version in sorted(versions.items()):
        if owner not in known or version > known[owner]:
            mine = known.get(owner, 0)
            raise RestoreError(
                f"{backup}: its {owner} tables are at schema version {version}, newer than this policybot "
                f"knows ({mine}): it was written by a newer release; upgrade policybot to restore it"
            )
    return rows


def restore_database(backup: Path, target: Path) -> RestoreResult:
    """Replace `target` with `backup` after checking it; refuse while a bot runs on `target`."""
    if target.exists() and backup.resolve() == target.resolve():
        raise RestoreError(f"{backup}: that is the database itself")
    if not target.parent.is_dir():
        raise RestoreError(f"{target.parent}: no such folder")
    rows = check_backup(backup)
    lock = _try_lock(target)
    if lock is None:
        raise RestoreError(
            f"{target}: a policybot is running on this database{_holder(target)}; stop it, then restore"
        )
    try:
        previous = _set_aside(target) if target.exists() else None
        partial = target.with_name(f".{target.name}.restore.partial")
        shutil.copyfile(backup, partial)
        with open(partial, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(partial, target)
    finally:
        lock.close()
    return RestoreResult(target, previous, rows, target.stat().st_size)


def _set_aside(target: Path) -> Path:
    """Fold the database's WAL into it under SQLite's exclusive lock, then keep it as .before-restore."""
    try:
        connection = sqlite3.connect(target, timeout=5)
        try:
            connection.execute("BEGIN EXCLUSIVE")  # waits up to 5 s for a writer, then refuses
            connection.rollback()
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
    except sqlite3.OperationalError as error:
        raise RestoreError(f"{target}: the database is in use ({error}); try again when it is not") from None
    kept = target.with_name(target.name + ".before-restore")
    os.replace(target, kept)
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    return kept
