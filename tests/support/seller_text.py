"""What a seller must never read: rule ids, research references, English sentences in a Chinese chat (#17)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Research references: "R-A1", "N-4", "G-H", "referral-fees.md".
RESEARCH_REF = re.compile(r"\b(?:R-[A-Z]+\d+|N-\d+|G-[A-Z])\b|\b[\w-]+\.md\b")
# A sentence: four or more words in a row, three of them lower-case ("when does the fee start").
# Names are capitalised ("Prime Big Deal Days", "One Big Beautiful Bill Act") or codes ("US/DE/FR").
WORD_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,]+[A-Za-z][A-Za-z'’]*){3,}")
LOWER_WORD = re.compile(r"\b[a-z]{2,}\b")
LINK = re.compile(r"https?://\S+|\b[\w-]+(?:\.[\w-]+)+\b")


def english_sentences(text: str) -> list[str]:
    runs = (m.group(0) for m in WORD_RUN.finditer(LINK.sub(" ", text)))
    return [run for run in runs if len(LOWER_WORD.findall(run)) >= 3]


def seller_problems(text: str, rule_ids: Iterable[str], lang: str) -> list[str]:
    """Each rule id, research reference or (in Chinese) English sentence found in a reply's plain text."""
    problems = [f"rule id {rule_id!r}" for rule_id in rule_ids if rule_id in text]
    problems += [f"research reference {m.group(0)!r}" for m in RESEARCH_REF.finditer(text)]
    if lang == "zh":
        problems += [f"English {run!r}" for run in english_sentences(text)]
    return problems
