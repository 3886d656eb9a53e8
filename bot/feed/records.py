"""What the feed's tables say: the installed catalogs, the pull's state, failures by reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.feed.tables import FEED_MIGRATIONS
from bot.store import Store

__all__ = ["FeedRecords", "Installed"]

assert FEED_MIGRATIONS.owner == "feed"  # imported for its registration: a Store opened later has the tables


@dataclass(frozen=True)
class Installed:
    id: int
    version: int
    sha256: str
    payload: str
    created: dt.datetime
    expires: dt.datetime
    source: str
    installed_at: dt.datetime
    state: str

    @property
    def bundle(self) -> str:
        """The folder name it is unpacked in."""
        return f"{self.version}-{self.sha256[:16]}"


def _installed(row: dict[str, object]) -> Installed:
    return Installed(
        id=int(str(row["id"])),
        version=int(str(row["version"])),
        sha256=str(row["sha256"]),
        payload=str(row["payload"]),
        created=dt.datetime.fromisoformat(str(row["created"])),
        expires=dt.datetime.fromisoformat(str(row["expires"])),
        source=str(row["source"]),
        installed_at=dt.datetime.fromisoformat(str(row["installed_at"])),
        state=str(row["state"]),
    )


class FeedRecords:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def current(self) -> Installed | None:
        rows = list(
            self.db.query("SELECT * FROM feed_catalogs WHERE state = 'installed' ORDER BY id DESC LIMIT 1")
        )
        return _installed(rows[0]) if rows else None

    def installed(self) -> list[Installed]:
        """Every catalog still installed (the current one first): the ones a rollback can return to."""
        rows = self.db.query("SELECT * FROM feed_catalogs WHERE state = 'installed' ORDER BY id DESC")
        return [_installed(row) for row in rows]

    def hashes_of(self, version: int) -> set[str]:
        rows = self.db.query("SELECT sha256 FROM feed_catalogs WHERE version = ?", [version])
        return {str(row["sha256"]) for row in rows}

    def rolled_back(self, version: int) -> bool:
        rows = self.db.query(
            "SELECT 1 FROM feed_catalogs WHERE version = ? AND state = 'rolled_back'", [version]
        )
        return any(True for _ in rows)

    def record_install(
        self, version: int, sha256: str, payload: str, created: dt.datetime, expires: dt.datetime, source: str
    ) -> None:
        with self.store.transaction():
            self.db.table("feed_catalogs").insert(
                {
                    "version": version,
                    "sha256": sha256,
                    "payload": payload,
                    "created": created.isoformat(),
                    "expires": expires.isoformat(),
                    "source": source,
                    "installed_at": self.store.clock.now().isoformat(),
                    "state": "installed",
                }
            )

    def mark_rolled_back(self, installed: Installed) -> None:
        with self.store.transaction():
            self.db.execute("UPDATE feed_catalogs SET state = 'rolled_back' WHERE id = ?", [installed.id])

    def forget(self, keep: list[Installed]) -> None:
        """Only `keep` stay installed; older ones are marked pruned (their folders are deleted)."""
        ids = [item.id for item in keep] or [0]
        marks = ",".join("?" for _ in ids)
        with self.store.transaction():
            self.db.execute(
                "UPDATE feed_catalogs SET state = 'pruned' "
                f"WHERE state = 'installed' AND id NOT IN ({marks})",
                ids,
            )

    def get(self, key: str) -> str | None:
        rows = list(self.db.query("SELECT value FROM feed_state WHERE key = ?", [key]))
        return str(rows[0]["value"]) if rows else None

    def set(self, key: str, value: str | None) -> None:
        with self.store.transaction():
            if value is None:
                self.db.execute("DELETE FROM feed_state WHERE key = ?", [key])
            else:
                self.db.execute(
                    "INSERT INTO feed_state (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )

    def count_failure(self, reason: str) -> None:
        with self.store.transaction():
            self.db.execute(
                "INSERT INTO feed_failures (reason, count) VALUES (?, 1) "
                "ON CONFLICT (reason) DO UPDATE SET count = count + 1",
                [reason],
            )

    def failures(self) -> dict[str, int]:
        rows = self.db.query("SELECT reason, count FROM feed_failures ORDER BY reason")
        return {str(row["reason"]): int(str(row["count"])) for row in rows}
