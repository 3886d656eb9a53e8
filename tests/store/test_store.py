"""The SQLite store, on real files under tmp_path: chats, settings, subscriptions, migrations, audit."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

# Importing a package registers its tables: these tests open stores with every owner's.
import bot.skus
import bot.watch  # noqa: F401
from bot.reminders.outbox import DeliveryStatus, Outbox
from bot.store import (
    STORE_MIGRATIONS,
    ChatSettings,
    InvalidSetting,
    Migrations,
    SchemaTooNew,
    Store,
    StoreError,
    Subscription,
    UnknownChat,
    migrate,
    registered,
)

START = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
GROUP, OTHER_GROUP, SUPERGROUP = -1001, -1002, -1001999
ALICE, BOB = 11, 12


def all_steps() -> dict[str, int]:
    """Every registered owner's number of steps (importing a package registers its tables)."""
    return {owner.owner: len(owner.steps) for owner in registered()}


SENT_AND_FAILED = (DeliveryStatus.SENT, DeliveryStatus.FAILED)


@pytest.fixture
def now() -> dt.datetime:
    return START


@pytest.fixture
def path(db_path: Path) -> Path:
    return db_path


def raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the file through a separate plain connection, as another process would."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


# --- chats and their defaults ---


@pytest.mark.parametrize(
    ("language_code", "language", "zone"),
    [
        ("zh-hans", "zh", "Asia/Shanghai"),
        ("zh-CN", "zh", "Asia/Shanghai"),
        ("en", "en", "UTC"),
        ("de", "en", "UTC"),
        (None, "en", "UTC"),
    ],
)
def test_a_new_chat_gets_defaults_from_its_language_code(
    store: Store, language_code: str | None, language: str, zone: str
) -> None:
    settings = store.ensure_chat(ALICE, "private", None, language_code)
    assert settings == ChatSettings(
        chat_id=ALICE,
        kind="private",
        title=None,
        language=language,
        time_zone=zone,
        reminder_time="09:00",
        lead_days=(30, 7, 1, 0),
        quiet_start=None,
        quiet_end=None,
        active=True,
        created_at=settings.created_at,
    )
    assert settings.created_at.startswith("2026-11-25T09:0")
    assert settings.created_at.endswith("+00:00")
    assert store.chat(ALICE) == settings


def test_a_known_chat_keeps_its_settings_but_follows_its_title_kind_and_return(store: Store) -> None:
    store.ensure_chat(GROUP, "group", "Sellers", "zh-hans")
    store.update_settings(GROUP, time_zone="Europe/Berlin")
    store.set_active(GROUP, False)
    assert store.chats() == []

    again = store.ensure_chat(GROUP, "supergroup", "Sellers EU", "en")

    assert (again.language, again.time_zone) == ("zh", "Europe/Berlin")
    assert (again.kind, again.title, again.active) == ("supergroup", "Sellers EU", True)
    assert store.chats() == [again]


def test_chats_lists_active_ones_unless_asked_for_all(store: Store) -> None:
    store.ensure_chat(BOB, "private", None, "en")
    store.ensure_chat(ALICE, "private", None, "en")
    store.ensure_chat(GROUP, "group", "Sellers", "en")
    store.set_active(BOB, False)
    assert [chat.chat_id for chat in store.chats()] == [GROUP, ALICE]
    assert [chat.chat_id for chat in store.chats(active_only=False)] == [GROUP, ALICE, BOB]


def test_an_unknown_chat_kind_is_refused(store: Store) -> None:
    with pytest.raises(InvalidSetting, match="kind") as caught:
        store.ensure_chat(ALICE, "sender", None, "en")
    assert caught.value.setting == "kind"
    assert store.chat(ALICE) is None


def test_an_unknown_chat_is_a_key_error_naming_the_chat(store: Store) -> None:
    assert store.chat(ALICE) is None
    for call in (
        lambda: store.update_settings(ALICE, language="zh"),
        lambda: store.set_active(ALICE, False),
        lambda: store.subscriptions(ALICE),
        lambda: store.subscribe(ALICE, [Subscription("amazon")]),
        lambda: store.unsubscribe(ALICE),
    ):
        with pytest.raises(UnknownChat) as caught:
            call()
        assert isinstance(caught.value, KeyError)
        assert str(caught.value) == f"unknown chat {ALICE}"


# --- settings ---


def test_settings_change_and_lead_days_are_sorted_and_unique(store: Store) -> None:
    store.ensure_chat(ALICE, "private", None, "en")
    settings = store.update_settings(
        ALICE,
        language="zh",
        time_zone="America/Los_Angeles",
        reminder_time="18:30",
        lead_days=[1, 14, 0, 14, 3],
        quiet_start="22:00",
        quiet_end="07:00",
    )
    assert settings.language == "zh"
    assert settings.time_zone == "America/Los_Angeles"
    assert settings.reminder_time == "18:30"
    assert settings.lead_days == (14, 3, 1, 0)
    assert (settings.quiet_start, settings.quiet_end) == ("22:00", "07:00")
    assert store.chat(ALICE) == settings


def test_an_update_without_values_changes_nothing(store: Store) -> None:
    before = store.ensure_chat(ALICE, "private", None, "en")
    assert store.update_settings(ALICE) == before


@pytest.mark.parametrize(
    ("values", "setting", "words"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "IANA"),
        ({"time_zone": "America"}, "time_zone", "IANA"),  # a folder of zones, not a zone
        ({"time_zone": "zone.tab"}, "time_zone", "IANA"),
        ({"reminder_time": "25:00"}, "reminder_time", "HH:MM"),
        ({"reminder_time": "9:00"}, "reminder_time", "HH:MM"),
        ({"lead_days": [7, 400]}, "lead_days", "400"),
        ({"lead_days": [-1]}, "lead_days", "-1"),
        ({"lead_days": []}, "lead_days", "at least one"),
        ({"lead_days": [True]}, "lead_days", "whole number"),
        ({"language": "fr"}, "language", "'fr'"),
        ({"quiet_start": "22:00"}, "quiet_end", "end"),
        ({"quiet_end": "07:00"}, "quiet_start", "start"),
        ({"quiet_start": "22:00", "quiet_end": None}, "quiet_end", "end"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "quiet_end", "empty"),
        ({"quiet_start": "22:00", "quiet_end": "7am"}, "quiet_end", "HH:MM"),
    ],
)
def test_a_bad_setting_is_refused_by_name_and_nothing_changes(
    store: Store, values: dict[str, object], setting: str, words: str
) -> None:
    before = store.ensure_chat(ALICE, "private", None, "en")
    with pytest.raises(InvalidSetting) as caught:
        # With a good value beside the bad one: it must not be written either.
        store.update_settings(ALICE, **{"reminder_time": "20:00", **values})  # type: ignore[arg-type]
    assert caught.value.setting == setting
    assert str(caught.value).startswith(f"{setting}: ")
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert store.chat(ALICE) == before


def test_quiet_hours_are_cleared_with_none_and_changed_one_end_at_a_time(store: Store) -> None:
    store.ensure_chat(ALICE, "private", None, "en")
    store.update_settings(ALICE, quiet_start="22:00", quiet_end="07:00")

    # One end alone pairs with the stored other end.
    settings = store.update_settings(ALICE, quiet_end="08:00")
    assert (settings.quiet_start, settings.quiet_end) == ("22:00", "08:00")

    # Other settings leave quiet hours alone: None means "unchanged" for them.
    settings = store.update_settings(ALICE, language="zh")
    assert (settings.quiet_start, settings.quiet_end) == ("22:00", "08:00")

    with pytest.raises(InvalidSetting, match="quiet_end"):
        store.update_settings(ALICE, quiet_end=None)

    settings = store.update_settings(ALICE, quiet_start=None, quiet_end=None)
    assert (settings.quiet_start, settings.quiet_end) == (None, None)


# --- subscriptions ---


def test_subscribe_ignores_duplicates_and_lists_sorted(store: Store) -> None:
    store.ensure_chat(ALICE, "private", None, "en")
    added = store.subscribe(
        ALICE,
        [
            Subscription("temu", "*", "*"),
            Subscription("amazon", "US", "fees"),
            Subscription("amazon", "US", "fees"),  # the same one twice in one call
            Subscription("amazon", "*", "deposit"),
        ],
    )
    assert added == 3
    assert store.subscribe(ALICE, [Subscription("amazon", "US", "fees"), Subscription("amazon", "UK")]) == 1
    assert store.subscriptions(ALICE) == [
        Subscription("amazon", "*", "deposit"),
        Subscription("amazon", "UK", "*"),
        Subscription("amazon", "US", "fees"),
        Subscription("temu", "*", "*"),
    ]


def test_unsubscribe_counts_what_it_removed(store: Store) -> None:
    store.ensure_chat(ALICE, "private", None, "en")
    store.ensure_chat(BOB, "private", None, "en")
    store.subscribe(ALICE, [Subscription("amazon", "US"), Subscription("amazon", "UK"), Subscription("temu")])
    store.subscribe(BOB, [Subscription("amazon")])

    assert store.unsubscribe(ALICE, "amazon") == 2
    assert store.unsubscribe(ALICE, "amazon") == 0
    assert store.subscriptions(ALICE) == [Subscription("temu")]
    assert store.unsubscribe(ALICE) == 1
    assert store.subscriptions(ALICE) == []
    assert store.subscriptions(BOB) == [Subscription("amazon")]


@pytest.mark.parametrize(
    ("subscription", "setting"),
    [
        (Subscription("Amazon"), "platform"),
        (Subscription("amazon", "ALL"), "marketplace"),  # a rule's word; a subscription says "*"
        (Subscription("amazon", "us"), "marketplace"),
        (Subscription("amazon", "US", "weather"), "topic"),
    ],
)
def test_a_bad_subscription_is_refused_and_none_of_the_batch_is_added(
    store: Store, subscription: Subscription, setting: str
) -> None:
    store.ensure_chat(ALICE, "private", None, "en")
    with pytest.raises(InvalidSetting) as caught:
        store.subscribe(ALICE, [Subscription("temu"), subscription])
    assert caught.value.setting == setting
    assert store.subscriptions(ALICE) == []


def test_subscribers_match_stars_all_and_skip_inactive_chats(store: Store) -> None:
    chats = {
        1: [Subscription("amazon", "US", "fees")],
        2: [Subscription("amazon", "*", "fees")],
        3: [Subscription("amazon", "UK", "*")],
        4: [Subscription("amazon", "*", "*")],
        5: [Subscription("temu", "*", "*")],
        6: [Subscription("amazon", "*", "*")],  # blocked the bot
        7: [Subscription("amazon", "US", "deposit")],
        # Two matching subscriptions still make one recipient.
        8: [Subscription("amazon", "US", "*"), Subscription("amazon", "*", "fees")],
    }
    for chat_id, subscriptions in chats.items():
        store.ensure_chat(chat_id, "private", None, "en")
        store.subscribe(chat_id, subscriptions)
    store.set_active(6, False)

    assert store.subscribers("amazon", ["US"], "fees") == [1, 2, 4, 8]
    assert store.subscribers("amazon", ["UK", "DE"], "fees") == [2, 3, 4, 8]
    assert store.subscribers("amazon", ["ALL"], "fees") == [1, 2, 3, 4, 8]
    assert store.subscribers("amazon", ("JP",), "deposit") == [4]
    assert store.subscribers("amazon", ["US"], "deposit") == [4, 7, 8]
    assert store.subscribers("amazon", [], "fees") == [2, 4, 8]
    assert store.subscribers("shein", ["ALL"], "fees") == []

    store.set_active(6, True)
    assert store.subscribers("amazon", ["JP"], "deposit") == [4, 6]


# --- group to supergroup ---


def test_migrate_chat_moves_settings_and_subscriptions_and_is_idempotent(store: Store) -> None:
    store.ensure_chat(GROUP, "group", "Sellers", "zh-hans")
    store.update_settings(GROUP, reminder_time="08:00", lead_days=[3], quiet_start="23:00", quiet_end="06:00")
    store.subscribe(GROUP, [Subscription("amazon", "US", "fees"), Subscription("temu")])
    before = store.chat(GROUP)
    assert before is not None

    store.migrate_chat(GROUP, SUPERGROUP)
    store.migrate_chat(GROUP, SUPERGROUP)

    assert store.chat(GROUP) is None
    moved = store.chat(SUPERGROUP)
    assert moved is not None
    assert moved.kind == "supergroup"
    assert moved == ChatSettings(**{**before.__dict__, "chat_id": SUPERGROUP, "kind": "supergroup"})
    assert store.subscriptions(SUPERGROUP) == [Subscription("amazon", "US", "fees"), Subscription("temu")]
    assert store.subscribers("temu", ["US"], "fees") == [SUPERGROUP]
    assert store.stats()["chats"] == 1


def test_migrate_chat_after_the_supergroup_talked_merges_into_it(store: Store) -> None:
    store.ensure_chat(GROUP, "group", "Sellers", "zh-hans")
    store.update_settings(GROUP, time_zone="Asia/Hong_Kong", lead_days=[10, 2])
    store.subscribe(GROUP, [Subscription("amazon", "US", "fees"), Subscription("temu")])
    # The supergroup's first message can arrive before the migration is handled.
    store.ensure_chat(SUPERGROUP, "supergroup", "Sellers", "en")
    store.subscribe(SUPERGROUP, [Subscription("temu"), Subscription("shein")])

    store.migrate_chat(GROUP, SUPERGROUP)
    store.migrate_chat(GROUP, SUPERGROUP)

    merged = store.chat(SUPERGROUP)
    assert merged is not None
    # The supergroup never changed its defaults, so the group's settings carry over.
    assert (merged.language, merged.time_zone, merged.lead_days) == ("zh", "Asia/Hong_Kong", (10, 2))
    assert store.subscriptions(SUPERGROUP) == [
        Subscription("amazon", "US", "fees"),
        Subscription("shein"),
        Subscription("temu"),
    ]
    assert store.chat(GROUP) is None


def test_migrate_chat_keeps_settings_the_supergroup_chose_itself(store: Store) -> None:
    store.ensure_chat(GROUP, "group", "Sellers", "zh-hans")
    store.update_settings(GROUP, time_zone="Asia/Hong_Kong")
    store.ensure_chat(SUPERGROUP, "supergroup", "Sellers", "en")
    store.update_settings(SUPERGROUP, time_zone="Europe/London")

    store.migrate_chat(GROUP, SUPERGROUP)

    merged = store.chat(SUPERGROUP)
    assert merged is not None
    assert (merged.language, merged.time_zone) == ("en", "Europe/London")


def test_migrate_chat_from_a_chat_never_seen_is_unknown(store: Store) -> None:
    with pytest.raises(UnknownChat):
        store.migrate_chat(GROUP, SUPERGROUP)


# --- the file: WAL, restart, migrations ---


def test_the_file_is_in_wal_mode(store: Store, path: Path) -> None:
    assert raw(path, "PRAGMA journal_mode") == [("wal",)]


def test_reopening_the_file_keeps_everything(path: Path) -> None:
    with Store(path) as first:
        first.ensure_chat(ALICE, "private", None, "zh-hans")
        settings = first.update_settings(ALICE, quiet_start="22:00", quiet_end="07:00", lead_days=[5])
        first.subscribe(ALICE, [Subscription("amazon", "US", "fees")])
        first.audit(ALICE, ALICE, "settings", "quiet hours")
        stats = first.stats()

    with Store(path) as second:
        assert second.chat(ALICE) == settings
        assert second.subscriptions(ALICE) == [Subscription("amazon", "US", "fees")]
        assert [entry["action"] for entry in second.audit_log()] == ["settings"]
        assert second.stats() == stats
        assert second.schema_versions == all_steps()


def test_two_stores_on_one_file_see_each_others_writes(path: Path) -> None:
    with Store(path) as bot, Store(path) as cli:
        bot.ensure_chat(ALICE, "private", None, "en")
        cli.subscribe(ALICE, [Subscription("temu")])
        assert bot.subscriptions(ALICE) == [Subscription("temu")]


def test_a_new_file_runs_every_migration_and_records_them(store: Store, path: Path) -> None:
    assert store.schema_versions == all_steps()
    rows = raw(path, "SELECT owner, version, name FROM owner_migrations ORDER BY owner, version")
    assert rows == sorted(
        (owner.owner, number, fn.__name__)
        for owner in registered()
        for number, fn in enumerate(owner.steps, start=1)
    )
    # The old global sequence ends with the split, so a release from before it refuses this file.
    assert raw(path, "SELECT version, name FROM schema_migrations") == [(6, "split_migrations_by_owner")]


def test_an_empty_database_at_version_0_is_upgraded(path: Path) -> None:
    path.touch()  # SQLite reads an empty file as an empty database
    with Store(path) as store:
        assert store.schema_versions == all_steps()
        store.ensure_chat(ALICE, "private", None, "en")
        store.audit(None, ALICE, "hello")


def test_a_database_at_version_1_is_upgraded_and_keeps_its_data(path: Path) -> None:
    old = Database(path)
    assert migrate(old, [Migrations("store", STORE_MIGRATIONS.steps[:1])]) == {"store": 1}
    # Written as release 1 wrote it, with SQL rather than today's Store.
    old.execute(
        "INSERT INTO chats (chat_id, kind, title, language, time_zone, reminder_time, lead_days, created_at) "
        "VALUES (?, 'group', 'Sellers', 'zh', 'Asia/Shanghai', '09:00', '[7, 1]', ?)",
        [GROUP, "2026-01-01T00:00:00+00:00"],
    )
    old.execute(
        "INSERT INTO subscriptions VALUES (?, 'amazon', '*', 'fees', '2026-01-01T00:00:00+00:00')", [GROUP]
    )
    old.close()
    assert raw(path, "SELECT max(version) FROM owner_migrations WHERE owner = 'store'") == [(1,)]

    with Store(path) as store:
        assert store.schema_versions == all_steps()
        assert store.schema_versions["store"] == len(STORE_MIGRATIONS.steps) > 1
        chat = store.chat(GROUP)
        assert chat is not None
        assert chat.lead_days == (7, 1)
        assert store.subscriptions(GROUP) == [Subscription("amazon", "*", "fees")]
        store.audit(ALICE, GROUP, "subscribe")
        assert len(store.audit_log()) == 1


def test_a_database_from_a_newer_release_is_refused_untouched(path: Path) -> None:
    Store(path).close()
    newer = len(STORE_MIGRATIONS.steps) + 1
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO owner_migrations VALUES ('store', ?, 'from_the_future', '2030-01-01')", [newer]
        )
    # A journal mode other than ours shows whether the refused open changed the file.
    connection.execute("PRAGMA journal_mode = delete")
    connection.close()

    with pytest.raises(SchemaTooNew) as caught:
        Store(path)

    assert isinstance(caught.value, StoreError)
    message = str(caught.value)
    assert f"schema version {newer}" in message
    assert f"up to version {len(STORE_MIGRATIONS.steps)}" in message
    assert "upgrade policybot" in message
    assert raw(path, "PRAGMA journal_mode") == [("delete",)]


def test_a_file_that_is_not_a_database_is_a_store_error(path: Path) -> None:
    path.write_text("policybot settings, but not SQLite\n" * 100, encoding="utf-8")
    with pytest.raises(StoreError, match="cannot open as a policybot database"):
        Store(path)


# --- audit log and stats ---


def test_the_audit_log_is_newest_first(store: Store) -> None:
    store.audit(ALICE, GROUP, "subscribe", "amazon US fees")
    store.audit(None, None, "reload")
    store.audit(BOB, ALICE, "settings")

    log = store.audit_log()
    assert [entry["action"] for entry in log] == ["settings", "reload", "subscribe"]
    assert log[2] == {
        "id": log[2]["id"],
        "at": log[2]["at"],
        "actor_id": ALICE,
        "chat_id": GROUP,
        "action": "subscribe",
        "detail": "amazon US fees",
    }
    assert str(log[2]["at"]).startswith("2026-11-25T09:0")
    assert log[1]["detail"] == ""
    assert [entry["action"] for entry in store.audit_log(limit=2)] == ["settings", "reload"]
    assert store.audit_log(limit=0) == []


def test_stats_count_chats_subscriptions_and_deliveries(store: Store, path: Path) -> None:
    assert store.stats() == {
        "chats": 0,
        "active_chats": 0,
        "private_chats": 0,
        "group_chats": 0,
        "subscriptions": 0,
    }
    assert Outbox(store).counts_by_status(SENT_AND_FAILED) == {"sent": 0, "failed": 0}
    store.ensure_chat(ALICE, "private", None, "en")
    store.ensure_chat(BOB, "private", None, "en")
    store.ensure_chat(GROUP, "group", "Sellers", "en")
    store.ensure_chat(OTHER_GROUP, "supergroup", "Buyers", "en")
    store.ensure_chat(-100777, "channel", "News", "en")
    store.set_active(BOB, False)
    store.subscribe(ALICE, [Subscription("amazon"), Subscription("temu")])
    store.subscribe(BOB, [Subscription("amazon")])

    connection = sqlite3.connect(path)
    with connection:
        connection.executemany(
            "INSERT INTO deliveries"
            " (chat_id, kind, key, lead, due_at, payload, status, created_at, updated_at)"
            " VALUES (?, 'reminder', ?, 0, '2026-01-01T00:00:00+00:00', '{}', ?, '', '')",
            [(ALICE, "a", "sent"), (ALICE, "b", "sent"), (ALICE, "c", "failed"), (ALICE, "d", "pending")],
        )
    connection.close()

    assert store.stats() == {
        "chats": 5,
        "active_chats": 4,
        "private_chats": 1,
        "group_chats": 2,
        "subscriptions": 3,
    }
    # Reminder counts are the outbox's to give, not the store's.
    assert Outbox(store).counts_by_status(SENT_AND_FAILED) == {"sent": 2, "failed": 1}
