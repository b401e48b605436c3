"""`mutagate weak-tests`: the tests that run AI mutants and let them survive."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from mutator.errors import BadInput
from results.weak_tests import weak_tests
from scheduler.cli.common import add_read_arguments, print_json, read_db, stdout_console


def register(commands: argparse._SubParsersAction) -> None:
    weak = commands.add_parser("weak-tests", help="tests that cover AI mutants but kill few of them")
    add_read_arguments(weak, output=False)
    weak.add_argument("--limit", type=int, default=20, metavar="N", help="rows to show (default: 20)")
    weak.add_argument("--json", action="store_true", help="machine-readable output")
    weak.set_defaults(handler=run_weak_tests)


def run_weak_tests(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise BadInput("--limit must be at least 1")
    run_id, rows = weak_tests(read_db(args), args.run, args.limit)
    if args.json:
        print_json({"run_id": run_id, "weak_tests": [row.__dict__ for row in rows]})
        return 0
    console = stdout_console()
    if not rows:
        console.print(Text(f"No weak tests in run {run_id}: every test that covers AI mutants kills them."))
        return 0
    table = Table(title=Text(f"Weak tests, run {run_id}: they run AI mutants that survive"))
    table.add_column("test", overflow="fold")
    for column in ("covers", "kills", "survive"):
        table.add_column(column, justify="right")
    table.add_column("first survivor to catch", overflow="fold")
    for row in rows:
        first = row.survivors[0]
        # Test ids and code are the user's text: `test_x[args0]` or `row[b]` must not be read as markup.
        change = f"{first['file']}:{first['line']} {first['operator']} {first['original']!r} -> {first['replacement']!r}"
        table.add_row(Text(row.test), str(row.covered_mutants), str(row.killed_mutants), str(row.surviving_mutants),
                      Text(change))
    console.print(table)
    return 0
