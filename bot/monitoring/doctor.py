"""`policybot doctor`: what is wrong with this installation, and how to fix it.

Each check gives a `Finding`: the configuration file, the bot token's shape (a malformed token is named
as such, never printed), the policy catalog, the database's schema (read only: the doctor changes
nothing), the time zone data, and whether the Bot API answers to the token.
"""

from __future__ import annotations

import re
import sqlite3
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlite_utils import Database

from bot.catalog import CatalogError, default_policies_dir, load_catalog
from bot.config import Config, ConfigError, load_config
from bot.feed import BadKey, FeedError, PublicKey, overlay_local
from bot.store import LEGACY_VERSION, registered, schema_versions

__all__ = ["Finding", "check_installation", "database_size", "looks_like_token", "table_sizes"]

# BotFather's tokens: the bot's numeric id, a colon, 35 letters, digits, _ or - (a little slack both ways).
_TOKEN = re.compile(r"[0-9]{5,20}:[A-Za-z0-9_-]{30,60}")
_ZONES = ("Asia/Shanghai", "America/Los_Angeles", "Europe/Berlin")


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str = ""


def looks_like_token(token: str) -> bool:
    return bool(_TOKEN.fullmatch(token))


def check_installation(
    config_path: Path | None, env: Mapping[str, str], db: Path | None = None, *, timeout: float = 10.0
) -> list[Finding]:
    """Every check, in order; a broken configuration stops there (the others depend on it)."""
    try:
        config = load_config(config_path)
    except ConfigError as error:
        return [
            Finding("config", False, str(error), "edit the file; config.example.toml documents every key")
        ]
    findings = [Finding("config", True, str(config_path) if config_path else "no file: every default")]
    token = (env.get("TELEGRAM_BOT_TOKEN") or config.telegram.token or "").strip()
    findings.append(_token(token))
    findings.append(_catalog(config))
    if config.catalog.feed is not None or config.catalog.local is not None:
        findings.append(_feed(config))
    findings.append(_database(db or config.store.path))
    findings.append(database_size(db or config.store.path))
    findings.append(_zones())
    if looks_like_token(token):
        findings.append(_bot_api(config, token, timeout))
    return findings


def _token(token: str) -> Finding:
    if not token:
        return Finding(
            "token",
            False,
            "no bot token",
            "set TELEGRAM_BOT_TOKEN (from @BotFather, /newbot) or telegram.token",
        )
    if not looks_like_token(token):
        return Finding(
            "token",
            False,
            "the bot token is malformed (not <digits>:<35 characters>)",
            "copy the token again from @BotFather (/mybots → API Token), without spaces or quotes",
        )
    return Finding("token", True, f"well formed (bot id {token.split(':', 1)[0]})")


def _catalog(config: Config) -> Finding:
    where = str(config.policies.dir or "policies/")
    try:
        catalog = load_catalog(config.policies.dir)
    except CatalogError as error:
        shown = "; ".join(str(problem) for problem in error.problems[:3])
        more = f" (and {len(error.problems) - 3} more)" if len(error.problems) > 3 else ""
        return Finding("catalog", False, f"{where}: {shown}{more}", f"run: policybot check {where}")
    return Finding("catalog", True, f"{len(catalog.rules)} rules in {len(catalog.files)} files ({where})")


def _feed(config: Config) -> Finding:
    """[catalog]: the keys parse (at most two), the CA file exists, the local rules load on the shipped
    catalog. The feed itself is not fetched: `policybot catalog pull` does that."""
    settings = config.catalog
    fix = 'see README, "The catalog feed"; keys come from `policybot catalog keygen` or `minisign -G`'
    try:
        keys = [PublicKey.from_base64(key) for key in settings.public_keys]
    except BadKey as error:
        return Finding("catalog feed", False, f"catalog.public_keys: {error}", fix)
    if settings.feed is not None and not settings.feed.startswith("https://"):
        return Finding("catalog feed", False, f"{settings.feed} is not https", "serve the feed over HTTPS")
    if settings.ca_file is not None and not settings.ca_file.is_file():
        return Finding("catalog feed", False, f"catalog.ca_file {settings.ca_file} does not exist", fix)
    if settings.local is not None:
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            try:
                folder = Path(scratch) / "catalog"
                overlay_local(config.policies.dir or default_policies_dir(), settings.local, folder)
                load_catalog(folder)
            except (FeedError, CatalogError) as error:
                return Finding("catalog feed", False, f"local rules {settings.local}: {error}"[:300], fix)
    ids = ", ".join(key.key_id_hex for key in keys) or "none"
    return Finding("catalog feed", True, f"{settings.feed or 'no feed'}; keys {ids}; local {settings.local}")


def _database(path: Path) -> Finding:
    # Each package's tables are known once it is imported (the CLI imports them before the doctor runs).
    known = {migrations.owner: len(migrations.steps) for migrations in registered()}
    if not path.exists():
        return Finding("database", True, f"{path} does not exist yet: the first start creates it")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            legacy = 0
            if "schema_migrations" in tables:
                legacy = int(
                    connection.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0
                )
            versions = schema_versions(Database(connection))
        finally:
            connection.close()
    except sqlite3.Error as error:
        return Finding(
            "database", False, f"{path}: not a readable SQLite database: {error}", "restore it from a backup"
        )
    if verdict != "ok":
        return Finding("database", False, f"{path}: damaged: {verdict}", "restore it from a backup")
    if legacy > LEGACY_VERSION:
        return Finding(
            "database",
            False,
            f"{path}: schema version {legacy}, newer than this policybot knows ({LEGACY_VERSION})",
            "upgrade policybot",
        )
    for owner, version in sorted(versions.items()):
        if version > known.get(owner, version):
            return Finding(
                "database",
                False,
                f"{path}: {owner} schema version {version}, newer than this policybot knows ({known[owner]})",
                "upgrade policybot",
            )
    shown = ", ".join(f"{owner} {versions.get(owner, 0)}" for owner in known)
    if legacy < LEGACY_VERSION or any(versions.get(owner, 0) < steps for owner, steps in known.items()):
        wanted = ", ".join(f"{owner} {steps}" for owner, steps in known.items())
        return Finding("database", True, f"{path}: schema {shown}; the next start migrates it to {wanted}")
    return Finding("database", True, f"{path}: schema up to date ({shown})")


def table_sizes(connection: sqlite3.Connection) -> tuple[str, list[tuple[str, int]]]:
    """("bytes", [(table, bytes with its indexes)]) from the dbstat virtual table where SQLite has it,
    else ("rows", [(table, rows)]); largest first."""
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    try:
        rows = connection.execute(
            "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat AS d"
            " LEFT JOIN sqlite_master AS m ON m.name = d.name GROUP BY 1"
        ).fetchall()
        sizes = {name: int(size) for name, size in rows if name in tables}
        unit = "bytes"
    except sqlite3.OperationalError:  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
        sizes = {
            name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in tables
        }
        unit = "rows"
    return unit, sorted(sizes.items(), key=lambda item: (-item[1], item[0]))


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


def database_size(path: Path, largest: int = 5) -> Finding:
    """The file's size (with its WAL), the pages free for reuse, and the largest tables (read only)."""
    if not path.exists():
        return Finding("database size", True, f"{path} does not exist yet")
    wal = path.with_name(path.name + "-wal")
    size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            page_size = int(connection.execute("PRAGMA page_size").fetchone()[0])
            free = int(connection.execute("PRAGMA freelist_count").fetchone()[0]) * page_size
            unit, sizes = table_sizes(connection)
        finally:
            connection.close()
    except sqlite3.Error as error:
        return Finding("database size", False, f"{path}: cannot read: {error}", "restore it from a backup")
    shown = ", ".join(
        f"{name} {_megabytes(amount) if unit == 'bytes' else f'{amount:,} rows'}"
        for name, amount in sizes[:largest]
    )
    return Finding(
        "database size",
        True,
        f"{_megabytes(size)} ({_megabytes(free)} free for reuse); largest: {shown or 'no tables'}",
    )


def _zones() -> Finding:
    try:
        for name in _ZONES:
            zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as error:
        return Finding(
            "time zones", False, f"no time zone data: {error}", "pip install tzdata (or apt install tzdata)"
        )
    return Finding("time zones", True, f"{len(zoneinfo.available_timezones())} zones")


def _bot_api(config: Config, token: str, timeout: float) -> Finding:
    base = config.telegram.base_url
    try:
        answer = httpx.get(f"{base}{token}/getMe", timeout=timeout)
    except httpx.HTTPError as error:
        # httpx names the URL in some errors, and the URL holds the token: say only the kind of failure.
        return Finding(
            "bot api",
            False,
            f"cannot reach {base}: {type(error).__name__}",
            "check the network, a proxy or firewall, and telegram.base_url",
        )
    if answer.status_code in (401, 404):
        return Finding(
            "bot api",
            False,
            "Telegram refused the token (revoked or mistyped)",
            "get the token from @BotFather again",
        )
    try:
        username = answer.json()["result"]["username"]
    except (ValueError, KeyError, TypeError):
        return Finding(
            "bot api",
            False,
            f"{base} answered {answer.status_code}, not like the Bot API",
            "check telegram.base_url",
        )
    return Finding("bot api", True, f"{base} answers: the bot is @{username}")
