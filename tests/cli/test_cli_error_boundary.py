"""The command line's one error boundary (#15): every expected error (PolicyBotError) ends as one line on
stderr, `policybot: ...`, with exit status 2 and no traceback; a user's bad input speaks their language."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import POLICIES

from bot.cli import main
from bot.errors import PolicyBotError, UserInputError
from bot.i18n import t, to_plain_text

SKUS = "sku,category,price\nA-1,apparel,18\n"


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run `policybot args`, which must fail as expected; return its one error line."""
    assert main(list(args)) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) >= 1 and lines[0].startswith("policybot: "), captured.err
    return captured.err.strip().removeprefix("policybot: ")


def test_every_expected_error_is_a_policybot_error() -> None:
    from bot.catalog.load import CatalogError
    from bot.cli import CliError
    from bot.clock import ClockError
    from bot.config import ConfigError
    from bot.monitoring.backup import BackupError
    from bot.skus.read import SkuFileError
    from bot.store import StoreError

    for error in (CatalogError, CliError, ClockError, ConfigError, BackupError, StoreError, UserInputError):
        assert issubclass(error, PolicyBotError), error
    assert issubclass(SkuFileError, UserInputError)
    assert issubclass(UserInputError, ValueError) and issubclass(ConfigError, ValueError)  # as before


def test_config_catalog_store_backup_and_clock_errors_exit_2_with_their_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nlanguag = "zh"\n', encoding="utf-8")
    assert "defaults.languag: unknown key" in fails(capsys, "ask", "--config", str(config), "/help")
    assert "no such directory" in fails(capsys, "ask", "--policies", str(tmp_path / "none"), "/help")
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("these are notes, not a database\n" * 100, encoding="utf-8")
    assert str(not_a_database) in fails(capsys, "skus", "show", "--chat", "1", "--db", str(not_a_database))
    missing = tmp_path / "missing.db"
    assert "missing.db" in fails(capsys, "backup", str(tmp_path / "copy.db"), "--db", str(missing))
    monkeypatch.setenv("POLICYBOT_NOW", "yesterday-ish")
    assert "POLICYBOT_NOW" in fails(capsys, "ask", "--policies", str(POLICIES), "/help")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_users_bad_input_is_told_in_their_language(
    lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skus = tmp_path / "skus.csv"
    skus.write_text(SKUS, encoding="utf-8")
    message = fails(capsys, "impact", str(skus), "--rule", "NO-SUCH-RULE", "--lang", lang)
    unknown = to_plain_text(t(lang, "impact_unknown_change", query="NO-SUCH-RULE", dates="\0"))
    assert message.startswith(unknown.split("\0")[0]), message  # up to the dates, which move with today

    bad = tmp_path / "bad.csv"
    bad.write_text("name,colour\nshirt,red\n", encoding="utf-8")
    message = fails(capsys, "impact", str(bad), "--lang", lang)
    failed = to_plain_text(t(lang, "skus_import_failed", reason=""))
    assert message.startswith(failed.strip()), message  # the SKU file's reason, inside the import message


def test_a_misuse_of_the_command_line_still_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "--today" in fails(capsys, "ask", "--today", "2024-13-01", "/help")
    assert "cannot read" in fails(capsys, "impact", str(tmp_path / "absent.csv"))
