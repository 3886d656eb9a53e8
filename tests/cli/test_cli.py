"""The command line, run as a user runs it: `policybot ...` and `python -m bot ...` in a subprocess."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POLICIES, ROOT

from bot.cli import build_parser, main


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
        timeout=60,
        check=False,
    )


def test_ask_fees_apparel_18() -> None:
    result = run("ask", "--lang", "en", "--today", "2026-11-25", "/fees apparel 18")
    assert result.returncode == 0, result.stderr
    assert "$1.80 (10%)" in result.stdout
    assert "before it, 17% = $3.06" in result.stdout
    assert "<b>" not in result.stdout  # plain text, not HTML


def test_ask_guesses_chinese_from_the_question() -> None:
    result = run("ask", "--today", "2026-11-25", "低库存费什么时候开始收", env={"LANG": "C.UTF-8"})
    assert result.returncode == 0
    assert "低库存" in result.stdout


def test_ask_usage_error_still_exits_zero() -> None:
    result = run("ask", "--lang", "zh", "/fees apparel abc")
    assert result.returncode == 0
    assert "不是数字" in result.stdout


def test_ask_upcoming_on_today_lists_real_events() -> None:
    result = run("ask", "--lang", "en", "/upcoming 365")
    assert result.returncode == 0
    assert result.stdout.count("• ") >= 3, result.stdout


def test_policybot_now_sets_the_clock() -> None:
    result = run(
        "ask", "--lang", "en", "/fees apparel 18", env={"POLICYBOT_NOW": "2024-01-10T09:00:00+08:00"}
    )
    assert "Fee on 2024-01-10: $3.06 (17%)" in result.stdout
    bad = run("ask", "/help", env={"POLICYBOT_NOW": "yesterday"})
    assert bad.returncode == 2 and "POLICYBOT_NOW" in bad.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "--today", "2024-13-01", "/help"], "--today"),
        (["ask", "--tz", "Mars/Base", "/help"], "--tz"),
        (["ask", "--policies", "/nonexistent", "/help"], "no such directory"),
    ],
)
def test_cli_misuse_exits_2_with_a_message(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_check_prints_a_summary() -> None:
    result = run("check")
    assert result.returncode == 0, result.stderr
    assert "amazon" in result.stdout and "total" in result.stdout
    # Rules per platform and marketplace: an EU-wide rule counts under EU, a member state's under it.
    by_market = result.stdout.split("rules by marketplace", 1)[1]
    eu_line = next(line for line in by_market.splitlines() if line.startswith("eu "))
    assert re.search(r"\bEU \d+", eu_line) and re.search(r"\bIT \d+", eu_line)
    assert re.search(r"pages to watch listed in the policy files: \d+", by_market)


def test_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    for path in POLICIES.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    amazon = tmp_path / "amazon.toml"
    amazon.write_text(
        amazon.read_text(encoding="utf-8").replace("date = 2024-01-15", "date = 2024-01-15\nwhen = 1", 1)
    )
    (tmp_path / "broken.toml").write_text("x = [", encoding="utf-8")
    result = run("check", str(tmp_path))
    assert result.returncode == 1
    assert (
        "amazon.toml rule amazon-us-apparel-referral-fee-2024 field events[0].when: unknown key"
        in result.stderr
    )
    assert "broken.toml: TOML syntax" in result.stderr
    assert "2 problem(s) found" in result.stderr


def test_chat_session_switches_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = iter(["/fees apparel 18", "/lang zh", "/fees 服装 18", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    assert main(["chat", "--lang", "en", "--today", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "Fee on 2026-11-25: $1.80" in out
    assert "已切换为中文" in out
    assert "2026-11-25 的佣金：$1.80" in out


def test_chat_ends_on_end_of_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def end(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", end)
    assert main(["chat", "--lang", "en"]) == 0


def test_every_command_has_help() -> None:
    parser = build_parser()
    subcommands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, sub in subcommands.items():
        assert sub.format_help().strip(), name
        assert sub.description or name in parser.format_help()


def test_console_script_is_installed() -> None:
    script = shutil.which("policybot") or str(Path(sys.executable).parent / "policybot")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0
    assert "ask" in result.stdout and "chat" in result.stdout and "check" in result.stdout


def test_config_example_is_valid_and_used(tmp_path: Path) -> None:
    result = run("ask", "--config", "config.example.toml", "--today", "2026-11-25", "/fees apparel 18")
    assert result.returncode == 0, result.stderr
    assert "2026-11-25 的佣金：$1.80" in result.stdout  # language = "zh" from the example


def test_a_bad_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\ntime_zone = "Nowhere/Land"\nlanguag = "zh"\n', encoding="utf-8")
    result = run("ask", "--config", str(config), "/help")
    assert result.returncode == 2
    assert "defaults.time_zone" in result.stderr and "defaults.languag: unknown key" in result.stderr
    missing = run("ask", "--config", str(tmp_path / "absent.toml"), "/help")
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_export_ics_of_every_rule(tmp_path: Path) -> None:
    out = tmp_path / "all.ics"
    result = run("export-ics", "--lang", "en", "-o", str(out))
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR") and data.count(b"BEGIN:VEVENT") > 20
    assert "events)" in result.stdout


def test_export_ics_of_one_chat(tmp_path: Path) -> None:
    from bot.store import Store, Subscription

    db = tmp_path / "bot.db"
    with Store(db) as store:
        store.ensure_chat(5, "private", None, "zh-hans")
        store.subscribe(5, [Subscription("temu")])
    result = run("export-ics", "--db", str(db), "--chat", "5", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert "BEGIN:VCALENDAR" in result.stdout and "Temu" in result.stdout and "亚马逊" not in result.stdout
    missing = run("export-ics", "--db", str(db), "--chat", "6")
    assert missing.returncode == 2 and "no chat 6" in missing.stderr


def test_a_reader_that_goes_away_ends_the_output_quietly() -> None:
    """`policybot ask ... | head`: the closed pipe stops the output without a traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "/rules"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "POLICYBOT_NOW": "2026-12-01T09:00:00+08:00"},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # nobody reads: the first write meets a broken pipe
    with process.stderr:
        errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert "Traceback" not in errors and "BrokenPipe" not in errors
