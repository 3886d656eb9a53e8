"""The `policybot` command line: check, ask, chat."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.catalog import CatalogError, load_catalog


def cmd_check(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog(args.directory)
    except CatalogError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"{'platform':<14} {'rules':>5} {'events':>6} {'fee schedules':>13}")
    for platform, rules, events, schedules in catalog.summary():
        print(f"{platform:<14} {rules:>5} {events:>6} {schedules:>13}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policybot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate the policy files and print a summary")
    check.add_argument("directory", nargs="?", type=Path, default=None, help="policies folder")
    check.set_defaults(handler=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    return int(handler(args))
