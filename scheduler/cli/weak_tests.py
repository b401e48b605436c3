"""`mutagate weak-tests`: the tests that run AI mutants and let them survive."""

from __future__ import annotations

import argparse
import textwrap

from rich import box
from rich.table import Table
from rich.text import Text

from mutator.errors import BadInput
from results.mutant_text import EDIT_CHARS, edit_text
from results.weak_tests import WeakTest, weak_tests_of_run
from scheduler.cli.common import add_read_arguments, print_json, read_db, stdout_console

LOG_WIDTH = 100  # the notes below the table, piped: a log has no window, and prose reads best short

# What the columns mean, read below the table.
COUNTS_EXACT = ("survive: AI mutants this test runs that every covering test let through.",
                "kills: the mutants this test fails on (this run ran every covering test: --no-bail).",
                "covers: the AI mutants on lines this test runs.")
COUNTS_FIRST_KILL = ("survive: AI mutants this test runs that every covering test let through (exact).",
                     "first kills: the mutants this test was the first to fail on. This run stopped each mutant at its "
                     "first failing test (fastest first), so a slower test that would fail too never ran on it and "
                     "counts none: 0 here is not a weak test, and rows rank by survivors, then coverage. "
                     "`mutagate run --no-bail` counts every kill.",
                     "covers: the AI mutants on lines this test runs.")


def register(commands: argparse._SubParsersAction) -> None:
    weak = commands.add_parser("weak-tests", help="tests that cover AI mutants but kill few of them")
    add_read_arguments(weak, output=False)
    weak.add_argument("--limit", type=int, default=20, metavar="N", help="rows to show (default: 20)")
    weak.add_argument("--json", action="store_true", help="machine-readable output")
    weak.set_defaults(handler=run_weak_tests)


def run_weak_tests(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise BadInput("--limit must be at least 1")
    read = weak_tests_of_run(read_db(args), args.run, args.limit)
    if args.json:
        print_json({"run_id": read.run_id, "first_kill_only": read.first_kill_only,
                    "weak_tests": [row.as_json() for row in read.rows]})
        return 0
    console = stdout_console()
    if not read.rows:
        console.print(Text(f"No weak tests in run {read.run_id}: every test that covers AI mutants kills them."))
        return 0
    console.print(Text(f"Weak tests, run {read.run_id}: they run AI mutants that survive (best place for an assertion "
                       "first)"), soft_wrap=False)
    # Narrow columns first and the test with its first survivor below it, the one wide cell: a terminal
    # folds only that cell, and a log gets lines as wide as a test id, not a row of five columns.
    kills = "first kills" if read.first_kill_only else "kills"
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("survive", kills, "covers"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("test ↳ its first survivor to catch", overflow="fold")
    for row in read.rows:
        table.add_row(str(row.surviving_mutants), str(row.killed_mutants), str(row.covered_mutants), _cell(row))
    console.print(table)
    width = console.width if console.is_terminal else LOG_WIDTH
    for note in COUNTS_FIRST_KILL if read.first_kill_only else COUNTS_EXACT:
        console.print(Text(textwrap.fill(note, width, subsequent_indent="  "), style="dim"), soft_wrap=True)
    return 0


def _cell(row: WeakTest) -> Text:
    # Test ids and code are the user's text: `test_x[args0]` or `row[b]` must not be read as markup.
    first = row.survivors[0]
    more = len(row.survivors) - 1
    change = (f"↳ {first.file}:{first.line} {first.operator}: {edit_text(first.original, EDIT_CHARS)} → "
              f"{edit_text(first.replacement, EDIT_CHARS)}  ({first.id}{f'; {more} more' if more else ''})")
    return Text.assemble(row.test, "\n", (change, "dim"))

