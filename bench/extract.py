"""Benchmark of the value extractor (issue #21): quality on the labelled page diffs, and time per diff.

What it does:
  1. loads tests/watch/extract_cases.toml (page diffs in Chinese, English, German and Japanese, labelled
     by hand before the extractor existed);
  2. runs `diff_values(old, new)` on each and scores the added / removed / changed values against the
     labels: precision and recall per kind (date, percent, money) and overall, and per language;
  3. times `diff_values` per diff over --rounds rounds after one warm-up round (cn2an loads its tables on
     first use), and prints p50 and p99.
With --misses it lists, per case, what was extracted but not labelled (+) and labelled but missed (-).
The last line is `cases=<n> precision=<p> recall=<r> p50_ms=<x> p99_ms=<y>` against the targets
(precision >= 0.9, recall >= 0.8, under 20 ms per diff). Nothing is asserted: the times move with load.

Scores recorded (python bench/extract.py, 2 shared cores):
  first working extractor (41 diffs, 117 values): precision 0.983, recall 0.991 (date 0.957 / 0.978,
    percent 1.000 / 1.000, money 1.000 / 1.000); p50 0.28 ms, p99 2.03 ms per diff. One miss: a date
    moved on a line rewritten beyond the 0.5 likeness ("starts on 1 July" -> "is postponed to
    1 October ...") read as removed + added instead of changed.
  second batch (10 harder diffs, 24 values, written after the score above and before running on them):
    the first extractor scored precision 1.000, recall 0.750 on them (missed 2026.3.12, 3/4/2026,
    令和8年4月1日, "15 percent"); all 51 diffs: precision 0.985, recall 0.950.
  final (general rules added: Y.M.D and US M/D/YYYY dates, Japanese era years, "percent"/"Prozent", a
    line replaced by one line is that line edited): 51 diffs, 141 values, precision 1.000, recall 1.000
    for every kind and language; p50 0.17 ms, p99 8.53 ms per diff (load average 4 on 2 cores; the
    slowest case's median is 0.6 ms); a 200-line page with one change 0.79 ms, with all 51 changes at
    once 31 ms. A perfect score on labels written by the extractor's author says more about the set's
    reach than about pages in the wild.

Run from the repository root:
    python bench/extract.py [--rounds 20] [--misses]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "watch"))

from extract_labels import KINDS, Score, diff_items, load_cases  # noqa: E402

from bot.watch.extract import diff_values  # noqa: E402

TARGET_PRECISION = 0.9
TARGET_RECALL = 0.8
TARGET_MS = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds over every case (default 20)")
    parser.add_argument("--misses", action="store_true", help="list wrong and missed values per case")
    args = parser.parse_args()

    cases = load_cases()
    overall = Score.empty()
    by_lang: dict[str, Score] = {}
    for case in cases:
        got = diff_items(diff_values(case.old, case.new, year=case.year))
        overall.add(case.items, got)
        by_lang.setdefault(case.lang, Score.empty()).add(case.items, got)
        if args.misses and got != case.items:
            print(f"{case.id}:")
            for item in sorted((got - case.items).elements()):
                print(f"  + {item}")
            for item in sorted((case.items - got).elements()):
                print(f"  - {item}")

    print(f"{len(cases)} labelled diffs; {overall.labelled['all']} labelled values")
    print(f"{'kind':<8} {'labelled':>8} {'extracted':>9} {'right':>6} {'precision':>9} {'recall':>7}")
    for kind in (*KINDS, "all"):
        print(
            f"{kind:<8} {overall.labelled[kind]:>8} {overall.extracted[kind]:>9} {overall.right[kind]:>6}"
            f" {overall.precision(kind):>9.3f} {overall.recall(kind):>7.3f}"
        )
    for lang, score in sorted(by_lang.items()):
        print(f"lang {lang}: precision {score.precision():.3f} recall {score.recall():.3f}")

    for case in cases:  # warm-up: cn2an and the regexes load on first use
        diff_values(case.old, case.new, year=case.year)
    times_ms: list[float] = []
    for _ in range(args.rounds):
        for case in cases:
            start = time.perf_counter()
            diff_values(case.old, case.new, year=case.year)
            times_ms.append((time.perf_counter() - start) * 1000)
    times_ms.sort()
    p50 = statistics.median(times_ms)
    p99 = times_ms[min(len(times_ms) - 1, int(len(times_ms) * 0.99))]
    print(
        f"time per diff over {len(times_ms)} diffs:"
        f" p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {times_ms[-1]:.2f} ms"
    )
    # Long pages: every case's text one after the other, changed in one case's place, then in all.
    long_old = "\n".join(case.old for case in cases)
    one_change = "\n".join([cases[0].new, *(case.old for case in cases[1:])])
    every_change = "\n".join(case.new for case in cases)
    for label, long_new in (("one change", one_change), ("every case changed", every_change)):
        long_ms = []
        for _ in range(max(3, args.rounds // 4)):
            start = time.perf_counter()
            long_diff = diff_values(long_old, long_new)
            long_ms.append((time.perf_counter() - start) * 1000)
        items = len(long_diff.added) + len(long_diff.removed) + len(long_diff.changed)
        print(
            f"long page, {label} ({len(long_old.splitlines())} -> {len(long_new.splitlines())} lines,"
            f" {items} items): median {statistics.median(long_ms):.2f} ms"
        )

    met = overall.precision() >= TARGET_PRECISION and overall.recall() >= TARGET_RECALL and p99 < TARGET_MS
    print(
        f"cases={len(cases)} precision={overall.precision():.3f} recall={overall.recall():.3f}"
        f" p50_ms={p50:.2f} p99_ms={p99:.2f} target={'met' if met else 'missed'}"
    )


if __name__ == "__main__":
    main()
