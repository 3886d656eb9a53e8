"""The SQLite store: chats and their settings, subscriptions, the audit log, and the migration runner.

Each package owns its tables: it registers its numbered migrations here (`register(Migrations(...))`,
done when the package is imported), with a hook that moves its rows when a group becomes a supergroup.
A Store opens with its own tables and every registered package's; nothing here reads the others.

One file in WAL mode, through sqlite-utils. Writes that read before they write run in `BEGIN IMMEDIATE`
transactions, so a second process on the same file (a CLI command beside the running bot) waits for
the lock instead of failing half-way.

Exceptions:

    StoreError            anything the store refuses
    +-- UnknownChat       (also a KeyError) no chat with that id has been seen
    +-- InvalidSetting    (also a ValueError) a value is not allowed; names the setting and why
    +-- SchemaTooNew      the file was written by a newer policybot than this one
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import available_timezones

from sqlite_utils import Database

from bot.catalog import ID_PATTERN, Topic
from bot.clock import Clock
from bot.errors import PolicyBotError
from bot.i18n import LANGUAGES, normalize_language
from bot.markets import reached_markets

__all__ = [
    "CHAT_KINDS",
    "DEFAULT_LEAD_DAYS",
    "DEFAULT_REMINDER_TIME",
    "DEFAULT_TIME_ZONES",
    "LEGACY_VERSION",
    "STORE_MIGRATIONS",
    "ChatSettings",
    "InvalidSetting",
    "MigrationStep",
    "Migrations",
    "MoveChat",
    "SchemaTooNew",
    "Store",
    "StoreError",
    "Subscription",
    "UnknownChat",
    "incremental_vacuum",
    "migrate",
    "register",
    "registered",
    "schema_versions",
]

CHAT_KINDS = ("private", "group", "supergroup", "channel")
DEFAULT_TIME_ZONES = {"zh": "Asia/Shanghai", "en": "UTC"}
DEFAULT_REMINDER_TIME = "09:00"
DEFAULT_LEAD_DAYS = (30, 7, 1, 0)
MAX_LEAD_DAYS = 365
# A subscription's marketplace: a code as in the policy files, or "*" for all. "ALL" is refused: it is
# a rule's word for "every marketplace", and a subscription to it would only match rules that say ALL.
SUBSCRIPTION_MARKETPLACE = re.compile(r"\*|[A-Z]{2}|EU")
ANY = "*"
_CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class StoreError(PolicyBotError):
    """The store cannot do what was asked."""


class UnknownChat(StoreError, KeyError):
    """No chat with this id has been seen."""

    def __init__(self, chat_id: int) -> None:
        super().__init__(chat_id)
        self.chat_id = chat_id

    def __str__(self) -> str:
        # KeyError's own __str__ would print the repr of the argument.
        return f"unknown chat {self.chat_id}"


class InvalidSetting(StoreError, ValueError):
    """A value is not allowed; `setting` names it and the message says why."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason


class SchemaTooNew(StoreError):
    """The database was written by a newer policybot, whose schema this code would misread."""


@dataclass(frozen=True)
class ChatSettings:
    chat_id: int
    kind: str  # "private", "group", "supergroup" or "channel"
    title: str | None
    language: str  # "zh" or "en"
    time_zone: str  # IANA name
    reminder_time: str  # "HH:MM" in time_zone
    lead_days: tuple[int, ...]  # days before an event to remind, descending, unique, each 0..365
    quiet_start: str | None  # "HH:MM", or None for no quiet hours; may wrap midnight (22:00-07:00)
    quiet_end: str | None
    active: bool  # False once the chat blocked the bot or was deleted
    created_at: str  # ISO 8601 UTC


@dataclass(frozen=True, order=True)
class Subscription:
    platform: str  # platform id, e.g. "amazon"
    marketplace: str = ANY  # "US", "UK", "EU", ... or "*" for all marketplaces
    topic: str = ANY  # "fees", "deposit", ... or "*" for all topics


# --- schema migrations ----------------------------------------------------------------------------
#
# Each package owns its tables and registers its numbered migrations here (`register`); the store's
# own are chats, subscriptions and the audit log. A database records which steps of which owner ran;
# opening it runs the rest, each in its own transaction.


def _create_chats_and_subscriptions(db: Database) -> None:
    # Chat kinds and setting values are checked in Python, not by CHECK constraints: widening a CHECK
    # in SQLite means rebuilding the table. Only the quiet-hours pair, a shape rule, is checked here.
    db.execute(
        """
        CREATE TABLE chats (
            chat_id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            title TEXT,
            language TEXT NOT NULL,
            time_zone TEXT NOT NULL,
            reminder_time TEXT NOT NULL,
            lead_days TEXT NOT NULL,  -- JSON array, e.g. [30, 7, 1, 0]
            quiet_start TEXT,
            quiet_end TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            settings_changed_at TEXT,  -- NULL: the defaults were never changed
            CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
        )
        """
    )
    # No ON DELETE action: deleting a chat that still has subscriptions fails instead of losing them.
    db.execute(
        """
        CREATE TABLE subscriptions (
            chat_id INTEGER NOT NULL REFERENCES chats (chat_id) ON UPDATE CASCADE,
            platform TEXT NOT NULL,
            marketplace TEXT NOT NULL,
            topic TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, platform, marketplace, topic)
        )
        """
    )
    # subscribers() looks subscriptions up by platform for every alert.
    db.execute("CREATE INDEX subscriptions_by_platform ON subscriptions (platform, topic)")


def _create_audit_log(db: Database) -> None:
    # chat_id is not a foreign key: the log outlives chats and keeps the ids they had at the time.
    db.execute(
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor_id INTEGER,
            chat_id INTEGER,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )
        """
    )


MigrationStep = Callable[[Database], None]
# Moves an owner's rows from a chat's old id to its new one (a group became a supergroup), inside the
# store's transaction; rows the new chat already has win.
MoveChat = Callable[[Database, int, int], None]


@dataclass(frozen=True)
class Migrations:
    """One owner's numbered migrations (like sqlite-utils' `Migrations(name)`), and its chat-move hook.

    A step that has shipped is never edited, reordered or removed: databases that ran its old text would
    differ from new ones. Change an owner's tables by appending a step.
    (A future step that rebuilds a table must turn foreign keys off first, outside its transaction.)
    """

    owner: str
    steps: tuple[MigrationStep, ...]
    move_chat: MoveChat | None = None


def _incremental_vacuum(db: Database) -> None:
    # Deleted rows' pages go back to the file system in small steps (`PRAGMA incremental_vacuum`, after
    # each prune) instead of waiting in the file for reuse. On a database that has tables this takes a
    # VACUUM, which cannot run in a transaction: Store() runs it right after the migrations (#18).
    db.execute("PRAGMA auto_vacuum = INCREMENTAL")


STORE_MIGRATIONS = Migrations(
    "store", (_create_chats_and_subscriptions, _create_audit_log, _incremental_vacuum)
)

_registered: dict[str, Migrations] = {}


def register(migrations: Migrations) -> Migrations:
    """Make a package's tables part of every Store opened from now on (each package registers on import)."""
    if migrations.owner == STORE_MIGRATIONS.owner:
        raise ValueError(f"the owner name {migrations.owner!r} is the store's own")
    _registered[migrations.owner] = migrations
    return migrations


def registered() -> tuple[Migrations, ...]:
    """The store's own migrations and every registered package's, the store's first."""
    return (STORE_MIGRATIONS, *(_registered[owner] for owner in sorted(_registered)))


# The table recording which steps of which owner ran. Until release 0.x (one global sequence) it was
# `schema_migrations` with versions 1..5; that table stays, its last row saying the sequence was split,
# so a release from before the split refuses this file (SchemaTooNew) instead of misreading it.
_VERSIONS_TABLE = "owner_migrations"
_LEGACY_TABLE = "schema_migrations"
LEGACY_VERSION = 6
_SPLIT_NAME = "split_migrations_by_owner"
# What each global version of the old sequence was, in the new per-owner terms.
_LEGACY_STEPS = {
    1: ("store", 1),  # _create_chats_and_subscriptions
    2: ("store", 2),  # _create_audit_log
    3: ("reminders", 1),  # _create_outbox_tracks_and_catalog_history
    4: ("watch", 1),  # _create_page_watch
    5: ("skus", 1),  # _create_seller_skus
}


def _legacy_version(db: Database) -> int:
    if _LEGACY_TABLE not in db.table_names():
        return 0
    row = db.execute(f"SELECT max(version) FROM {_LEGACY_TABLE}").fetchone()
    return int(row[0] or 0)


def schema_versions(db: Database) -> dict[str, int]:
    """How many steps of each owner `db` has run, by owner (owners with none are absent)."""
    if _VERSIONS_TABLE not in db.table_names():
        return {}
    rows = db.execute(f"SELECT owner, max(version) FROM {_VERSIONS_TABLE} GROUP BY owner").fetchall()
    return {str(owner): int(version) for owner, version in rows}


def _refuse_newer(db: Database, owners: Sequence[Migrations]) -> None:
    legacy = _legacy_version(db)
    if legacy > LEGACY_VERSION:
        raise SchemaTooNew(
            f"the database is at schema version {legacy}, but this policybot knows only up to "
            f"version {LEGACY_VERSION}: it was written by a newer release; upgrade policybot to open it"
        )
    versions = schema_versions(db)
    for migrations in owners:
        version = versions.get(migrations.owner, 0)
        if version > len(migrations.steps):
            raise SchemaTooNew(
                f"the database's {migrations.owner} tables are at schema version {version}, but this "
                f"policybot knows only up to version {len(migrations.steps)}: it was written by a newer "
                "release; upgrade policybot to open it"
            )


def _split_legacy_versions(db: Database, clock: Clock) -> None:
    """Record a database of the one global sequence as having run each owner's matching first steps."""
    legacy = _legacy_version(db)
    if legacy >= LEGACY_VERSION:
        return
    if legacy:
        rows = db.execute(
            f"SELECT version, name, applied_at FROM {_LEGACY_TABLE} ORDER BY version"
        ).fetchall()
        for version, name, applied_at in rows:
            owner, step = _LEGACY_STEPS[int(version)]
            db.execute(
                f"INSERT OR IGNORE INTO {_VERSIONS_TABLE} (owner, version, name, applied_at)"
                " VALUES (?, ?, ?, ?)",
                [owner, step, name, applied_at],
            )
    else:
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {_LEGACY_TABLE} "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    db.table(_LEGACY_TABLE).insert(
        {"version": LEGACY_VERSION, "name": _SPLIT_NAME, "applied_at": _timestamp(clock)}
    )


def migrate(
    db: Database, owners: Sequence[Migrations] | None = None, *, clock: Clock | None = None
) -> dict[str, int]:
    """Run the steps of `owners` (default: every registered one) that `db` has not run yet, each in its
    own transaction; return each owner's schema version."""
    clock = clock or Clock()
    owners = registered() if owners is None else owners
    _refuse_newer(db, owners)
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {_VERSIONS_TABLE} (owner TEXT NOT NULL, version INTEGER NOT NULL, "
        "name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (owner, version))"
    )
    with _immediate_transaction(db):
        _split_legacy_versions(db, clock)
    for migrations in owners:
        for number, step in enumerate(migrations.steps, start=1):
            with _immediate_transaction(db):
                # Read again under the write lock: another process may have run it meanwhile.
                _refuse_newer(db, [migrations])
                if schema_versions(db).get(migrations.owner, 0) >= number:
                    continue
                step(db)
                db.table(_VERSIONS_TABLE).insert(
                    {
                        "owner": migrations.owner,
                        "version": number,
                        "name": step.__name__,
                        "applied_at": _timestamp(clock),
                    }
                )
    return {
        owner: version for owner, version in schema_versions(db).items() if owner in {m.owner for m in owners}
    }


@contextmanager
def _immediate_transaction(db: Database) -> Iterator[None]:
    # BEGIN IMMEDIATE takes the write lock before the first read, so a read-then-write cannot be
    # overtaken by another writer (in WAL mode that would fail with SQLITE_BUSY, not wait).
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.rollback()
        raise
    db.commit()


def _apply_auto_vacuum(db: Database) -> None:
    """Rewrite the file once so `auto_vacuum = INCREMENTAL` (store migration 3) holds for it."""
    if db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
        return
    db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    # Another connection (the running bot, beside a CLI command) may hold the file: then the next open
    # that has it alone does it. Until then freed pages are reused, only not given back.
    with suppress(sqlite3.OperationalError):
        db.execute("VACUUM")


def incremental_vacuum(db: Database, pages: int = 1000) -> int:
    """Give up to `pages` free pages back to the file system; return how many were free before."""
    free = int(db.execute("PRAGMA freelist_count").fetchone()[0])
    if free:
        # Through sqlite3_exec (executescript), which steps the pragma to its end: a cursor's execute
        # steps it once, and one step frees one page. (executescript commits first: call it outside a
        # transaction.)
        db.conn.executescript(f"PRAGMA incremental_vacuum({int(pages)});")
    return free


def _timestamp(clock: Clock) -> str:
    return clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")


# --- validation ------------------------------------------------------------------------------------


class _Unset(Enum):
    UNSET = "unset"


_UNSET = _Unset.UNSET


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_kind(kind: str) -> str:
    if kind not in CHAT_KINDS:
        raise InvalidSetting("kind", f"{kind!r} is not one of {', '.join(CHAT_KINDS)}")
    return kind


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidSetting("language", f"{language!r} is not one of {', '.join(LANGUAGES)}")
    return language


def _check_time_zone(zone: str) -> str:
    # The list of names, not ZoneInfo(zone): ZoneInfo also opens "America" (a folder), "zone.tab" or
    # "localtime", failing with assorted errors or accepting a name that is not an IANA zone.
    if zone not in _time_zones():
        raise InvalidSetting("time_zone", f'{zone!r} is not an IANA time zone such as "Asia/Shanghai"')
    return zone


def _check_clock_time(setting: str, value: str) -> str:
    if not _CLOCK_TIME.fullmatch(value):
        raise InvalidSetting(setting, f"{value!r} is not a time of day written HH:MM, 00:00 to 23:59")
    return value


def _check_lead_days(days: Iterable[int]) -> tuple[int, ...]:
    if isinstance(days, (str, bytes)):
        raise InvalidSetting("lead_days", "expected a list of whole numbers of days")
    values = list(days)
    for day in values:
        if isinstance(day, bool) or not isinstance(day, int):
            raise InvalidSetting("lead_days", f"{day!r} is not a whole number of days")
        if not 0 <= day <= MAX_LEAD_DAYS:
            raise InvalidSetting("lead_days", f"{day} is not between 0 and {MAX_LEAD_DAYS} days")
    if not values:
        raise InvalidSetting("lead_days", "give at least one day (0 means on the day itself)")
    return tuple(sorted(set(values), reverse=True))


def _check_quiet_hours(start: str | None, end: str | None) -> None:
    if start is not None and end is None:
        raise InvalidSetting("quiet_end", "quiet hours need an end as well as a start (or neither)")
    if start is None and end is not None:
        raise InvalidSetting("quiet_start", "quiet hours need a start as well as an end (or neither)")
    if start is not None and start == end:
        raise InvalidSetting("quiet_end", f"quiet hours from {start} to {end} are empty")


def _check_subscription(subscription: Subscription) -> Subscription:
    if not re.fullmatch(ID_PATTERN, subscription.platform):
        raise InvalidSetting("platform", f"{subscription.platform!r} is not a platform id such as amazon")
    if not SUBSCRIPTION_MARKETPLACE.fullmatch(subscription.marketplace):
        raise InvalidSetting(
            "marketplace", f'{subscription.marketplace!r} is not a code such as US, DE, EU, or "*" for all'
        )
    topics = [ANY, *(topic.value for topic in Topic)]
    if subscription.topic not in topics:
        raise InvalidSetting("topic", f"{subscription.topic!r} is not one of {', '.join(topics)}")
    return subscription


def _settings_from_row(row: dict[str, Any]) -> ChatSettings:
    return ChatSettings(
        chat_id=row["chat_id"],
        kind=row["kind"],
        title=row["title"],
        language=row["language"],
        time_zone=row["time_zone"],
        reminder_time=row["reminder_time"],
        lead_days=tuple(json.loads(row["lead_days"])),
        quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"],
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


# The columns a chat's owner chooses (the rest follow Telegram or the store itself).
_SETTINGS_COLUMNS = (
    "language",
    "time_zone",
    "reminder_time",
    "lead_days",
    "quiet_start",
    "quiet_end",
    "settings_changed_at",
)


# --- the store -------------------------------------------------------------------------------------


class Store:
    """The bot's SQLite database.

    Every method that takes a chat id, except `chat()` and `audit()`, raises UnknownChat for a chat
    never seen.
    """

    def __init__(
        self, path: str | Path, *, clock: Clock | None = None, owners: Sequence[Migrations] | None = None
    ) -> None:
        """Open or create the database at `path`, turn on WAL and foreign keys, and migrate it.

        `owners`: the packages whose tables this store creates and migrates besides its own (default:
        every registered package).
        """
        self._clock = clock or Clock()
        mine = registered() if owners is None else (STORE_MIGRATIONS, *owners)
        self._owners = tuple({migrations.owner: migrations for migrations in mine}.values())
        self._db = Database(path)
        try:
            # Refuse a newer schema before changing anything in the file, the journal mode included.
            _refuse_newer(self._db, self._owners)
            # On a new, empty file this takes effect at once; on an older one, with the VACUUM below.
            self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self._db.enable_wal()
            # Per connection, and a no-op inside a transaction: it must come before any.
            self._db.execute("PRAGMA foreign_keys = ON")
            migrate(self._db, self._owners, clock=self._clock)
            _apply_auto_vacuum(self._db)
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StoreError(f"{path}: cannot open as a policybot database: {error}") from error
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    @property
    def db(self) -> Database:
        """The sqlite-utils Database, for the packages that own the other tables (reminders, watch, skus)."""
        return self._db

    @property
    def clock(self) -> Clock:
        return self._clock

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction that takes the lock first (BEGIN IMMEDIATE)."""
        with _immediate_transaction(self._db):
            yield

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def schema_versions(self) -> dict[str, int]:
        """How many migration steps each owner of this store has run, by owner."""
        owners = {migrations.owner for migrations in self._owners}
        return {owner: version for owner, version in schema_versions(self._db).items() if owner in owners}

    # --- chats ---

    def ensure_chat(
        self, chat_id: int, kind: str, title: str | None, language_code: str | None
    ) -> ChatSettings:
        """The chat's settings, creating them with defaults the first time the chat is seen.

        A known chat keeps its settings; its kind and title follow Telegram's, and a chat that talks to
        the bot again after blocking it is active again.
        """
        _check_kind(kind)
        known = self.chat(chat_id)
        # Every incoming update calls this: take the write lock only when something changes.
        if known is not None and (known.kind, known.title, known.active) == (kind, title, True):
            return known
        with _immediate_transaction(self._db):
            known = self.chat(chat_id)
            if known is None:
                language = normalize_language(language_code)
                self._db.table("chats").insert(
                    {
                        "chat_id": chat_id,
                        "kind": kind,
                        "title": title,
                        "language": language,
                        "time_zone": DEFAULT_TIME_ZONES[language],
                        "reminder_time": DEFAULT_REMINDER_TIME,
                        "lead_days": json.dumps(list(DEFAULT_LEAD_DAYS)),
                        "quiet_start": None,
                        "quiet_end": None,
                        "active": 1,
                        "created_at": self._now(),
                        "settings_changed_at": None,
                    }
                )
            else:
                self._db.table("chats").update(chat_id, {"kind": kind, "title": title, "active": 1})
        return self._require_chat(chat_id)

    def chat(self, chat_id: int) -> ChatSettings | None:
        rows = list(self._db.table("chats").rows_where("chat_id = ?", [chat_id]))
        return _settings_from_row(rows[0]) if rows else None

    def chats(self, active_only: bool = True) -> list[ChatSettings]:
        """Every chat (only the active ones by default), by chat id."""
        where = "active = 1" if active_only else None
        return [
            _settings_from_row(row) for row in self._db.table("chats").rows_where(where, order_by="chat_id")
        ]

    def update_settings(
        self,
        chat_id: int,
        *,
        language: str | None = None,
        time_zone: str | None = None,
        reminder_time: str | None = None,
        lead_days: Iterable[int] | None = None,
        quiet_start: str | Literal[_Unset.UNSET] | None = _UNSET,
        quiet_end: str | Literal[_Unset.UNSET] | None = _UNSET,
    ) -> ChatSettings:
        """Change the given settings, leave the others; return the result.

        None leaves a setting unchanged, except for quiet hours, where None clears them: pass
        `quiet_start=None, quiet_end=None`. Quiet hours are set or cleared as a pair. Raises
        InvalidSetting, naming the setting, before changing anything.
        """
        changes: dict[str, object] = {}
        if language is not None:
            changes["language"] = _check_language(language)
        if time_zone is not None:
            changes["time_zone"] = _check_time_zone(time_zone)
        if reminder_time is not None:
            changes["reminder_time"] = _check_clock_time("reminder_time", reminder_time)
        if lead_days is not None:
            changes["lead_days"] = json.dumps(list(_check_lead_days(lead_days)))
        for name, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
            if value is not _UNSET:
                changes[name] = None if value is None else _check_clock_time(name, value)
        with _immediate_transaction(self._db):
            current = self._require_chat(chat_id)
            if not changes:
                return current
            # One of the pair given alone pairs with the stored other one.
            _check_quiet_hours(
                current.quiet_start if quiet_start is _UNSET else quiet_start,
                current.quiet_end if quiet_end is _UNSET else quiet_end,
            )
            changes["settings_changed_at"] = self._now()
            self._db.table("chats").update(chat_id, changes)
        return self._require_chat(chat_id)

    def set_active(self, chat_id: int, active: bool) -> None:
        """Mark a chat active or not (inactive: it blocked the bot or was deleted; nothing is sent)."""
        cursor = self._db.execute("UPDATE chats SET active = ? WHERE chat_id = ?", [int(active), chat_id])
        if cursor.rowcount == 0:
            raise UnknownChat(chat_id)

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup with a new id: move its settings and subscriptions there.

        Idempotent. If the new chat is already known (it talked before this call), the two are merged:
        subscriptions are united, and the old chat's settings are kept unless the new chat has changed
        its own; those are newer, since the old group cannot be used once it has migrated.
        """
        if old_chat_id == new_chat_id:
            self._require_chat(old_chat_id)
            return
        # Other owners' tables that refer to chats follow through their move_chat hooks, in this
        # transaction.
        with _immediate_transaction(self._db):
            old = self._settings_row(old_chat_id)
            new = self._settings_row(new_chat_id)
            if old is None:
                if new is None:
                    raise UnknownChat(old_chat_id)
                return  # moved already
            if new is None:
                self._db.execute(
                    "UPDATE chats SET chat_id = ?, kind = 'supergroup' WHERE chat_id = ?",
                    [new_chat_id, old_chat_id],
                )
                self._move_chat_rows(old_chat_id, new_chat_id)
                return
            merged: dict[str, object] = {
                "kind": "supergroup",
                "created_at": min(old["created_at"], new["created_at"]),
            }
            if new["settings_changed_at"] is None:
                for column in _SETTINGS_COLUMNS:
                    merged[column] = old[column]
            self._db.table("chats").update(new_chat_id, merged)
            self._db.execute(
                """
                INSERT OR IGNORE INTO subscriptions (chat_id, platform, marketplace, topic, created_at)
                SELECT ?, platform, marketplace, topic, created_at FROM subscriptions WHERE chat_id = ?
                """,
                [new_chat_id, old_chat_id],
            )
            self._db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [old_chat_id])
            self._move_chat_rows(old_chat_id, new_chat_id)
            self._db.execute("DELETE FROM chats WHERE chat_id = ?", [old_chat_id])

    def _move_chat_rows(self, old_chat_id: int, new_chat_id: int) -> None:
        """Every owner's rows follow a migrated chat, by the hook each owner registered."""
        for migrations in self._owners:
            if migrations.move_chat is not None:
                migrations.move_chat(self._db, old_chat_id, new_chat_id)

    # --- subscriptions ---

    def subscriptions(self, chat_id: int) -> list[Subscription]:
        """The chat's subscriptions, sorted."""
        self._require_chat(chat_id)
        rows = self._db.table("subscriptions").rows_where(
            "chat_id = ?", [chat_id], select="platform, marketplace, topic"
        )
        return sorted(Subscription(**row) for row in rows)

    def subscribe(self, chat_id: int, subscriptions: Iterable[Subscription]) -> int:
        """Add subscriptions to a chat; return how many were new (duplicates are ignored)."""
        wanted = [_check_subscription(subscription) for subscription in subscriptions]
        added = 0
        with _immediate_transaction(self._db):
            self._require_chat(chat_id)
            now = self._now()
            for subscription in wanted:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO subscriptions (chat_id, platform, marketplace, topic, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [chat_id, subscription.platform, subscription.marketplace, subscription.topic, now],
                )
                added += cursor.rowcount
        return added

    def unsubscribe(self, chat_id: int, platform: str | None = None) -> int:
        """Remove all the chat's subscriptions, or those to one platform; return how many."""
        with _immediate_transaction(self._db):
            self._require_chat(chat_id)
            if platform is None:
                cursor = self._db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [chat_id])
            else:
                cursor = self._db.execute(
                    "DELETE FROM subscriptions WHERE chat_id = ? AND platform = ?", [chat_id, platform]
                )
            return cursor.rowcount

    def subscribers(self, platform: str, marketplaces: Iterable[str], topic: str) -> list[int]:
        """The active chats to tell about a rule of `platform` in `marketplaces` on `topic`, by id.

        A subscription to "*" matches any marketplace or topic; a rule whose marketplaces include
        "ALL" matches a subscription to any marketplace; a rule for "EU" a subscription to any member
        state, and a member state's rule a subscription to "EU" (bot.markets).
        """
        markets = sorted(reached_markets(marketplaces))
        match_market = (
            ""
            if "ALL" in markets
            else "AND (s.marketplace = '*' OR s.marketplace IN (SELECT value FROM json_each(?)))"
        )
        sql = f"""
            SELECT DISTINCT s.chat_id FROM subscriptions AS s JOIN chats AS c ON c.chat_id = s.chat_id
            WHERE c.active = 1 AND s.platform = ? AND s.topic IN ('*', ?) {match_market}
            ORDER BY s.chat_id
        """
        params: list[object] = [platform, topic]
        if match_market:
            params.append(json.dumps(markets))
        return [row[0] for row in self._db.execute(sql, params).fetchall()]

    # --- audit log ---

    def audit(self, actor_id: int | None, chat_id: int | None, action: str, detail: str = "") -> None:
        """Record who did what where (an admin command, a settings change, a migration)."""
        self._db.table("audit_log").insert(
            {"at": self._now(), "actor_id": actor_id, "chat_id": chat_id, "action": action, "detail": detail}
        )

    def prune_audit(self, before: dt.datetime, batch: int = 500) -> int:
        """Delete up to `batch` audit entries older than `before` (oldest first); return how many.

        Small batches, each its own short transaction, so a prune never holds the write lock for long
        (the dispatcher and the handlers write between them): call it again until it returns 0.
        """
        cutoff = before.astimezone(dt.UTC).isoformat(timespec="seconds")
        with _immediate_transaction(self._db):
            cursor = self._db.execute(
                "DELETE FROM audit_log WHERE id IN "
                "(SELECT id FROM audit_log WHERE at < ? ORDER BY id LIMIT ?)",
                [cutoff, batch],
            )
            return cursor.rowcount

    def audit_log(self, limit: int = 50) -> list[dict[str, object]]:
        """The latest `limit` entries, newest first."""
        if limit < 1:
            return []
        rows = self._db.table("audit_log").rows_where(order_by="id DESC", limit=limit)
        return [dict(row) for row in rows]

    # --- stats ---

    def stats(self) -> dict[str, int]:
        """Counts for operators.

        chats: every chat seen; active_chats: those not blocked or deleted; private_chats and
        group_chats: active ones by kind (groups and supergroups together); subscriptions: every row.
        (Reminder counts come from their owner, the outbox.)
        """
        chats = self._db.execute(
            """
            SELECT count(*),
                   coalesce(sum(active = 1), 0),
                   coalesce(sum(active = 1 AND kind = 'private'), 0),
                   coalesce(sum(active = 1 AND kind IN ('group', 'supergroup')), 0)
            FROM chats
            """
        ).fetchone()
        subscriptions = self._db.table("subscriptions").count_where()
        return {
            "chats": chats[0],
            "active_chats": chats[1],
            "private_chats": chats[2],
            "group_chats": chats[3],
            "subscriptions": subscriptions,
        }

    # --- helpers ---

    def _now(self) -> str:
        return _timestamp(self._clock)

    def _settings_row(self, chat_id: int) -> dict[str, Any] | None:
        rows = list(self._db.table("chats").rows_where("chat_id = ?", [chat_id]))
        return rows[0] if rows else None

    def _require_chat(self, chat_id: int) -> ChatSettings:
        settings = self.chat(chat_id)
        if settings is None:
            raise UnknownChat(chat_id)
        return settings
