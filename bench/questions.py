"""Question-set accuracy and answer latency of the free-text path (issue #10).

Accuracy: every question of tests/questions.toml is asked through `Answers.ask` over the shipped catalog
(today = 2026-12-01). A question is right at top-1 when the rule it expects is the first rule the answer
is about and the reply holds every fact it lists; at top-3 when that rule is among the first three and the
facts are there. A question may also list `excludes` (text the reply must not hold, e.g. "Amazon" when
Walmart's fee was asked) and a `kind` (tests/questions_heldout_17.toml): the score is then printed per kind
too. Wrong ones are listed.

Latency, with `time.perf_counter_ns` around each `Answers.reply(text, ctx)` (the whole free-text path:
understanding, search, the answer and its buttons): the question set over the shipped catalog and over
the generated 2,000-rule catalog of bench/answers.py (written as TOML with the shipped words file's
intents and topics, loaded with the real loader), plus bench/answers.py's generated search questions.
It prints p50/p90/p99/max and a last line `top1=<x> top3=<y> answer_p99_ms_shipped=<a>
answer_p99_ms_<rules>=<b>` against the targets (top-1 >= 95%, p99 < 10 ms at 2,000 rules). It never
asserts anything. Tails move with other load on the machine: compare runs made on a quiet machine.

Run from the repository root:
    python bench/questions.py [--rules 2000] [--iterations 2000] [--file tests/questions.toml]
    python bench/questions.py --file tests/questions_heldout.toml --accuracy-only
    python bench/questions.py --file tests/questions_heldout_17.toml --accuracy-only
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import re
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from answers import SEED, CatalogGenerator, Stats, search_queries  # noqa: E402

from bot.answers.core import Answers, ChatContext  # noqa: E402
from bot.catalog.load import default_policies_dir, load_catalog  # noqa: E402
from bot.errors import UserInputError  # noqa: E402

TODAY = dt.date(2026, 12, 1)
TOP1_TARGET = 0.95
P99_TARGET_MS = 10.0
QUESTIONS_FILE = ROOT / "tests" / "questions.toml"


def _lang(text: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


def _ctx(text: str) -> ChatContext:
    if _lang(text) == "zh":
        return ChatContext("zh", ZoneInfo("Asia/Shanghai"), TODAY)
    return ChatContext("en", ZoneInfo("America/New_York"), TODAY)


def _expected(question: dict[str, object]) -> list[str]:
    top = question.get("top")
    return [] if top is None else [top] if isinstance(top, str) else [str(item) for item in top]  # type: ignore[union-attr]


def rank_of(answers: Answers, question: dict[str, object]) -> tuple[int | None, list[str]]:
    """(where the expected rule stands, 0 first; None when wrong or a fact is missing), the rules answered."""
    text = str(question["q"])
    try:
        answered = answers.ask(text, _ctx(text))
    except UserInputError as error:
        return None, [f"(usage line: {error.key})"]
    ids = [rule.id for rule in answered.rules]
    facts = [str(fact) for fact in question.get("contains", [])]  # type: ignore[attr-defined]
    if not all(fact in answered.reply.plain for fact in facts):
        return None, ids
    unwanted = [str(text) for text in question.get("excludes", [])]  # type: ignore[attr-defined]
    if any(text in answered.reply.plain for text in unwanted):
        return None, ids
    expected = _expected(question)
    if not expected:
        return 0, ids
    return next((i for i, rule_id in enumerate(ids) if rule_id in expected), None), ids


def measure(answers: Answers, texts: list[str], iterations: int) -> Stats:
    cases = [(text, _ctx(text)) for text in texts]
    for index in range(min(iterations, 300)):
        answers.reply(*cases[index % len(cases)])
    gc.collect()
    clock = time.perf_counter_ns
    samples: list[int] = []
    for index in range(iterations):
        text, ctx = cases[index % len(cases)]
        start = clock()
        answers.reply(text, ctx)
        samples.append(clock() - start)
    return Stats.of(samples)


def _words_for_generated(folder: Path) -> None:
    """The shipped intents and topics (product words name shipped categories, so they stay out)."""
    data = tomllib.loads((default_policies_dir() / "words.toml").read_text(encoding="utf-8"))
    lines = ["[intents]"]
    lines += [f"{intent} = {_toml_list(words)}" for intent, words in data.get("intents", {}).items()]
    lines += ["", "[topics]"]
    lines += [f"{_toml_str(topic)} = {_toml_list(words)}" for topic, words in data.get("topics", {}).items()]
    (folder / "words.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(words: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_str(word) for word in words) + "]"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _row(name: str, kind: str, stats: Stats) -> str:
    figures = (stats.p50, stats.p90, stats.p99, stats.max)
    return f"{name:<16}{kind:<10}{stats.count:>6}" + "".join(f"{value:>9.3f}" for value in figures)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rules", type=int, default=2000, help="rules in the generated catalog")
    parser.add_argument("--iterations", type=int, default=2000, help="timed replies per kind")
    parser.add_argument("--file", type=Path, default=QUESTIONS_FILE, help="the question set to score")
    parser.add_argument("--accuracy-only", action="store_true", help="score the set, time nothing")
    args = parser.parse_args(argv)
    if args.rules < 1 or args.iterations < 1:
        parser.error("--rules and --iterations must be at least 1")
    questions_file = args.file.resolve()
    questions = tomllib.loads(questions_file.read_text(encoding="utf-8"))["questions"]
    texts = [str(q["q"]) for q in questions]
    zh = sum(1 for text in texts if _ctx(text).lang == "zh")

    shipped = Answers(load_catalog(default_policies_dir()))
    ranks = [(q, *rank_of(shipped, q)) for q in questions]
    top1 = sum(1 for _, rank, _ in ranks if rank == 0) / len(ranks)
    top3 = sum(1 for _, rank, _ in ranks if rank is not None and rank < 3) / len(ranks)
    print(f"policybot question set, Python {sys.version.split()[0]}, today={TODAY}")
    print(f"questions: {len(texts)} ({zh} zh, {len(texts) - zh} en) from {_shown(questions_file)}")
    print(f"top-1: {top1:.1%}   top-3: {top3:.1%}   (target top-1 >= {TOP1_TARGET:.0%})")
    kinds = sorted({str(q["kind"]) for q in questions if "kind" in q})
    for kind in kinds:
        of_kind = [(rank, _lang(str(q["q"]))) for q, rank, _ in ranks if q.get("kind") == kind]
        zh_of_kind = sum(1 for _, lang in of_kind if lang == "zh")
        kind_top1 = sum(1 for rank, _ in of_kind if rank == 0) / len(of_kind)
        kind_top3 = sum(1 for rank, _ in of_kind if rank is not None and rank < 3) / len(of_kind)
        print(
            f"  {kind:<12} {len(of_kind):>3} ({zh_of_kind} zh, {len(of_kind) - zh_of_kind} en)"
            f"   top-1: {kind_top1:>6.1%}   top-3: {kind_top3:>6.1%}"
        )
    for question, rank, ids in ranks:
        if rank != 0:
            kind = f"[{question['kind']}] " if "kind" in question else ""
            print(f"  {'top-3' if rank is not None else 'wrong'}: {kind}{question['q']} -> {ids[:3]}")
    if args.accuracy_only:
        print(f"\ntop1={top1:.3f} top3={top3:.3f}")
        return 0
    shipped_stats = measure(shipped, texts, args.iterations)
    del shipped

    searches = search_queries(random.Random(SEED), 200)
    with tempfile.TemporaryDirectory(prefix="policybot-questions-") as directory:
        folder = Path(directory)
        CatalogGenerator(args.rules).write(folder)
        _words_for_generated(folder)
        generated = Answers(load_catalog(folder))
        generated_stats = measure(generated, texts, args.iterations)
        generated_search_stats = measure(generated, searches, args.iterations)

    print(f"\n{'catalog':<16}{'kind':<10}{'n':>6}{'p50_ms':>9}{'p90_ms':>9}{'p99_ms':>9}{'max_ms':>9}")
    print(_row("shipped", "questions", shipped_stats))
    print(_row(f"generated-{args.rules}", "questions", generated_stats))
    print(_row(f"generated-{args.rules}", "searches", generated_search_stats))
    worst = max(generated_stats.p99, generated_search_stats.p99)
    met = "target met" if worst < P99_TARGET_MS else "target missed"
    print(
        f"\ntop1={top1:.3f} top3={top3:.3f} answer_p99_ms_shipped={shipped_stats.p99:.3f} "
        f"answer_p99_ms_{args.rules}={worst:.3f} ({met}: < {P99_TARGET_MS:g} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
