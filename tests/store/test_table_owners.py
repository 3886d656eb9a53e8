"""Every table has one owner: each package creates its own tables through the store's runner, nobody else
writes SQL on them, and a file with a newer schema of any owner is refused."""

from __future__ import annotations

import ast
import re
import sqlite3
from pathlib import Path

import pytest

import bot.channels
import bot.feed
import bot.reminders
import bot.skus
import bot.tg
import bot.watch
from bot.reminders.tables import REMINDER_MIGRATIONS
from bot.skus.tables import SKU_MIGRATIONS
from bot.store import STORE_MIGRATIONS, Migrations, SchemaTooNew, Store, registered
from bot.watch.tables import WATCH_MIGRATIONS

BOT = Path(bot.__file__).parent
RUNNER_TABLES = {"owner_migrations", "schema_migrations"}
# Which package owns which table: its folder under bot/ (or store.py for the store's own).
OWNED: dict[str, set[str]] = {
    "store.py": {"chats", "subscriptions", "audit_log"},
    "reminders": {
        "deliveries",
        "delivery_attempts",
        "dismissed",
        "tracks",
        "changes",
        "catalog_rules",
        "catalog_rule_versions",
        "catalog_events",
        "calendar_links",
    },
    "watch": {"page_sources", "page_snapshots"},
    "skus": {"seller_skus", "seller_sku_imports"},
    "channels": {"destinations", "destination_failures"},
    "feed": {"feed_catalogs", "feed_state", "feed_failures"},
    "tg": {"update_inbox"},
}
OWNER_OF = {
    "store": "store.py",
    "reminders": "reminders",
    "watch": "watch",
    "skus": "skus",
    "channels": "channels",
    "feed": "feed",
    "tg": "tg",
}


def sql_on(table: str, text: str) -> bool:
    """Whether `text` uses `table` as SQL does (upper-case keywords, as all SQL in bot/ is written)."""
    return re.search(rf'\b(FROM|JOIN|INTO|UPDATE|TABLE|ON|OR IGNORE)\s+"?{table}\b', text) is not None


def tables(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        connection.close()
    return {name for (name,) in rows}


def test_every_package_registers_its_tables() -> None:
    assert {owner.owner for owner in registered()} == set(OWNER_OF)
    assert {REMINDER_MIGRATIONS, SKU_MIGRATIONS, WATCH_MIGRATIONS} <= set(registered())


def test_a_store_without_the_packages_has_only_its_own_tables(tmp_path: Path) -> None:
    with Store(tmp_path / "bare.db", owners=[]) as store:
        assert store.schema_versions == {"store": len(STORE_MIGRATIONS.steps)}
    assert tables(tmp_path / "bare.db") == OWNED["store.py"] | RUNNER_TABLES


@pytest.mark.parametrize("owner", [REMINDER_MIGRATIONS, WATCH_MIGRATIONS, SKU_MIGRATIONS], ids=str)
def test_each_owner_creates_exactly_its_tables(tmp_path: Path, owner: Migrations) -> None:
    with Store(tmp_path / "one.db", owners=[owner]):
        pass
    assert tables(tmp_path / "one.db") == OWNED["store.py"] | RUNNER_TABLES | OWNED[OWNER_OF[owner.owner]]


def test_a_package_added_later_gets_its_tables_on_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "grows.db"
    Store(path, owners=[]).close()
    assert "deliveries" not in tables(path)
    with Store(path) as store:
        assert store.schema_versions["reminders"] == len(REMINDER_MIGRATIONS.steps)
    assert set().union(*OWNED.values()) <= tables(path)


def _sql_strings(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        # db.table("name") is sqlite-utils' way to the same table.
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "table"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, f"FROM {node.args[0].value}"))
    return found


def owner_of(module: Path) -> str:
    part = module.relative_to(BOT).parts[0]
    return part if part in OWNED else module.name


def test_no_module_writes_sql_on_another_owners_tables() -> None:
    # The store's own tables are left out: the planner reads chats and subscriptions in bulk (#15 keeps it).
    others = {table: owner for owner, names in OWNED.items() if owner != "store.py" for table in names}
    problems = []
    for module in sorted(BOT.rglob("*.py")):
        mine = owner_of(module)
        for line, text in _sql_strings(module.read_text("utf-8")):
            for table, owner in others.items():
                if owner != mine and sql_on(table, text):
                    problems.append(f"{module.relative_to(BOT)}:{line}: SQL on {owner}'s table {table}")
    assert problems == []


def test_the_check_would_see_sql_on_another_owners_table() -> None:
    # The same scan, on a line as monitoring/metrics.py had it before #15.
    found = _sql_strings('db.execute("SELECT status, count(*) FROM deliveries GROUP BY status")')
    assert any(sql_on("deliveries", text) for _, text in found)
    assert any(
        sql_on("seller_skus", text) for _, text in _sql_strings('db.table("seller_skus").count_where()')
    )
    # Words in prose are not SQL.
    assert not any(
        sql_on("changes", text) for _, text in _sql_strings('"""Tell users of changes from the feed."""')
    )


@pytest.mark.parametrize("owner", ["store", "reminders", "watch", "skus"])
def test_a_newer_schema_of_any_owner_is_refused_untouched(tmp_path: Path, owner: str) -> None:
    path = tmp_path / "newer.db"
    Store(path).close()
    known = {migrations.owner: len(migrations.steps) for migrations in registered()}
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO owner_migrations VALUES (?, ?, 'from_the_future', '2030-01-01')",
            [owner, known[owner] + 1],
        )
    connection.execute("PRAGMA journal_mode = delete")
    connection.close()

    with pytest.raises(SchemaTooNew) as caught:
        Store(path)

    assert f"{owner} tables are at schema version {known[owner] + 1}" in str(caught.value)
    assert f"up to version {known[owner]}" in str(caught.value)
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchall() == [("delete",)]
    finally:
        connection.close()


def test_a_file_past_the_old_sequence_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    Store(path).close()
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("INSERT INTO schema_migrations VALUES (7, 'from_the_future', '2030-01-01')")
    connection.close()
    with pytest.raises(SchemaTooNew, match="schema version 7"):
        Store(path)


def test_an_owner_cannot_take_the_stores_name() -> None:
    from bot.store import register

    with pytest.raises(ValueError, match="the store's own"):
        register(Migrations("store", ()))
