"""Import and impact over 50,000 SKUs against the shipped catalog: prints seconds and peak memory.

    python bench/impact.py [--skus 50000]

Targets (issue #11): import under 5 s, the impact of one change under 1 s, peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.catalog.load import load_catalog  # noqa: E402
from bot.skus.impact import FeeModel, fee_changes, impact_of  # noqa: E402
from bot.skus.personal import ImpactLineCache  # noqa: E402
from bot.skus.read import read_sku_file  # noqa: E402
from bot.skus.records import SkuRecords  # noqa: E402
from bot.store import Store  # noqa: E402

HEADER = (
    "sku\tfnsku\tasin\tproduct-name\tproduct-group\tbrand\tfulfilled-by\tyour-price\tsales-price\t"
    "longest-side\tmedian-side\tshortest-side\tlength-and-girth\tunit-of-dimension\titem-package-weight\t"
    "unit-of-weight\tproduct-size-tier\tcurrency\testimated-fee-total\testimated-referral-fee-per-unit\t"
    "expected-fulfillment-fee-per-unit\tmonthly-units"
)
GROUPS = ["Apparel", "Beauty", "Baby Product", "Grocery", "Jewelry", "Electronics", "Home", "Toy"]


def fee_preview(count: int, seed: int = 11, variants: int = 1) -> bytes:
    """`count` SKUs with random prices, sizes and weights; with variants > 1, products of that many
    variations (same price, size and weight, own SKU and monthly units), as many real catalogs are."""
    rng = random.Random(seed)
    lines = [HEADER]
    for n in range(count):
        if n % variants:  # a further variation of the product before
            _, rest = lines[-1].split("\t", 1)
            lines.append(f"SKU-{n}\t" + rest.rsplit("\t", 1)[0] + f"\t{rng.randint(0, 500)}")
            continue
        price = f"{rng.choice([9.99, 10.00, 14.99, 15.00, 15.01, 19.99, 20.00, 24.99, 49.99, 50.00, 79.00])}"
        # Mostly standard-size goods, as a cross-border seller's catalog is; a few bulky ones.
        top = 18 if rng.random() < 0.9 else 40
        sides = sorted((round(rng.uniform(0.3, top), 1) for _ in range(3)), reverse=True)
        weight = round(rng.uniform(0.05, 3 if top == 18 else 30), 2)
        lines.append(
            f"SKU-{n}\tX{n}\tB{n:09d}\tItem {n}\t{rng.choice(GROUPS)}\tBrand\tAmazon\t{price}\t{price}\t"
            f"{sides[0]}\t{sides[1]}\t{sides[2]}\t0\tinches\t{weight}\tpounds\tLarge Standard\tUSD\t0\t0\t0\t"
            f"{rng.randint(0, 500)}"
        )
    return ("\n".join(lines) + "\n").encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each impact (the machine may be busy)")
    parser.add_argument(
        "--variants", type=int, default=1, help="SKUs per product sharing price, size and weight (default 1)"
    )
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "policies")
    data = fee_preview(args.skus, variants=args.variants)
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "bench.sqlite3") as store:
        started, cpu = time.perf_counter(), time.process_time()
        parsed = read_sku_file(data, "fee-preview.txt")
        SkuRecords(store).replace(1, parsed, "fee-preview.txt")
        imported, imported_cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"file: {len(data) / 1e6:.1f} MB, {len(parsed.rows):,} SKUs, {args.variants} per product")
        del parsed  # as in the bot: the parsed file goes once it is in SQLite
        print(f"import (parse + one transaction): {imported:.2f} s wall, {imported_cpu:.2f} s CPU")
        started, cpu = time.perf_counter(), time.process_time()
        rows = SkuRecords(store).rows(1)
        print(f"load SKUs from SQLite: {time.perf_counter() - started:.2f} s")
        changes = {c.day: c for c in fee_changes(catalog)}
        for day in (dt.date(2026, 1, 15), dt.date(2026, 4, 17)):
            walls, cpus = [], []
            for _ in range(args.repeat):
                model = FeeModel(catalog)  # a fresh model each time: no warm caches
                started, cpu = time.perf_counter(), time.process_time()
                result = impact_of(model, changes[day], rows)
                walls.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu)
            total = result.monthly_total.get("USD").amount
            print(
                f"impact of {day} (best of {args.repeat}): {min(walls):.2f} s wall, {min(cpus):.2f} s CPU "
                f"(median {statistics.median(walls):.2f} s wall); {len(result.affected):,} SKUs affected, "
                f"{total:+,.2f} USD/month, {len(result.crossings):,} band crossings"
            )
        del rows, result  # as in the bot: the reminder's render loads the chat's SKUs itself
        # A reminder's impact line as the dispatcher renders it: the first render computes, later ones
        # (other reminders and alerts of the change) read the cache.
        cache, rule = ImpactLineCache(), changes[dt.date(2026, 1, 15)].rules[0].id
        for label in ("first", "cached"):
            started = time.perf_counter()
            lines = cache.lines_for(store, catalog, 1, "en", dt.date(2026, 1, 8))
            assert lines is not None and lines(rule, dt.date(2026, 1, 15)) is not None
            print(f"reminder impact line, {label} render: {time.perf_counter() - started:.4f} s")
            del lines  # the first render's SKUs go with it (not timed: the dispatcher does it after sending)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of the process, catalog and file included): {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
