"""`policybot ask --json`: the reply a seller sees, and the rules it rests on for tools (#17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT


def ask_json(*args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1  # one JSON object on one line
    found = json.loads(result.stdout)
    assert isinstance(found, dict)
    assert set(found) == {"text", "rules", "buttons"}
    return found


def test_a_question_prints_text_rules_in_order_and_buttons() -> None:
    found = ask_json("--today", "2026-12-01", "temu 卖家保证金")
    text = found["text"]
    assert isinstance(text, str) and text.startswith("Temu 没有记录与此相关的规则。")
    assert "<b>" not in text and "tiktok-shop" not in text  # plain, and no ids for sellers
    assert found["rules"] == ["tiktok-shop-us-deposit-1500-2025", "tiktok-shop-full-managed-deposit-2024"]
    buttons = found["buttons"]
    assert isinstance(buttons, list) and buttons
    assert {"label", "data"} == set(buttons[0]) and buttons[0]["data"].startswith("ask:")


def test_a_command_in_english_with_its_rule() -> None:
    found = ask_json("--lang", "en", "--today", "2026-11-25", "/fees apparel 18")
    assert "$1.80 (10%)" in str(found["text"])
    assert found["rules"] == ["amazon-us-apparel-referral-fee-2024"]
    assert found["buttons"] == []


def test_a_bad_input_is_still_one_object_with_no_rules() -> None:
    found = ask_json("--lang", "zh", "/fees apparel abc")
    assert "不是数字" in str(found["text"]) and found["rules"] == []
