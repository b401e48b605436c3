"""`mutagate show ID`: one stored mutant — its diff, who wrote the line and why we think so, its verdict
and the tests behind it, and its fate in every stored run."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from results.mutant_text import mutant_diff
from results.runs import load_mutant
from results.stored_mutant import StoredMutant
from scheduler.cli.common import add_read_arguments, print_json, read_db, stdout_console

FIRST_TESTS = 5  # a line in a hot path is covered by hundreds of tests: the first few, a count, --all for the rest
STATUS_STYLES = {"killed": "green", "timeout": "green", "survived": "red", "no_coverage": "yellow"}


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("show", help="one mutant: its diff, agent, verdict, tests and history")
    parser.add_argument("id", metavar="ID", help="a mutant id, or a unique prefix of one")
    add_read_arguments(parser, output=False)
    parser.add_argument("--all", action="store_true", dest="all_tests",
                        help=f"list every covering and killing test (default: the first {FIRST_TESTS} and a count)")
    parser.add_argument("--json", action="store_true", help="machine-readable output (always every test)")
    parser.set_defaults(handler=run_show)


def run_show(args: argparse.Namespace) -> int:
    mutant = load_mutant(read_db(args), args.id, args.run)
    diff = mutant_diff(mutant, mutant.repo, mutant.head_commit, Path(args.repo))
    if args.json:
        print_json({**mutant.as_json(), "diff": diff})
        return 0
    _print(stdout_console(), mutant, diff, None if args.all_tests else FIRST_TESTS)
    return 0


def _status_text(status: str | None) -> Text:
    if status is None:
        return Text("not measured", style="dim")
    return Text(status, style=STATUS_STYLES.get(status, ""))


def _print(console: Console, m: StoredMutant, diff: str, first: int | None) -> None:
    # Everything below is the user's text (paths, code, test ids such as `test_x[a]`): Text, never markup.
    console.print(Text.assemble((m.id, "bold"), "  ", m.operator, "  ", _status_text(m.status),
                                f"  (run {m.run_id}, {m.run_status})"))
    console.print(Text(f"{m.file}:{m.line}  in {m.qualname or '<module>'}  agent {m.agent}  commit {(m.commit or '')[:10]}"))
    for group in _evidence_groups(m):
        console.print(Text(f"  evidence: {group}"))
    console.print(Syntax(diff.rstrip("\n"), "diff", background_color="default"))
    if m.stmt_line:
        span = f"line {m.stmt_line}" if m.stmt_line == m.stmt_end_line else f"lines {m.stmt_line}-{m.stmt_end_line}"
        console.print(Text(f"coverage read from {span} (its statement)"))
    if m.status is None:
        console.print(Text("not measured: the run stopped before it"))
    else:
        how = f"{m.tests_run} test{'' if m.tests_run == 1 else 's'} run, {m.seconds:.2f}s"
        how += ", verdict reused from an earlier run" if m.reused else ""
        console.print(Text(f"verdict: {m.status} ({how})" + (f"; {m.detail}" if m.detail else "")))
    _print_tests(console, "covered by", m.covering_tests, first)
    _print_tests(console, "killed by", m.killed_by, first)
    history = Table(title=Text("history (newest run first)"), title_justify="left")
    for column in ("run", "started", "commit", "run status", "line", "status"):
        history.add_column(column)
    for h in m.history:
        history.add_row(Text(h.run_id, style="bold" if h.run_id == m.run_id else ""), h.started[:19],
                        (h.head_commit or "")[:10], h.run_status, str(h.line), _status_text(h.status))
    console.print(history)


def _evidence_groups(m: StoredMutant) -> list[str]:
    """The attribution of the mutant's lines, consecutive lines with the same evidence as one range."""
    groups: list[list] = []
    for e in m.evidence:
        if groups and groups[-1][2:] == [e.agent, e.commit, e.evidence] and groups[-1][1] == e.line - 1:
            groups[-1][1] = e.line
        else:
            groups.append([e.line, e.line, e.agent, e.commit, e.evidence])
    return [f"{'line ' + str(a) if a == b else f'lines {a}-{b}'}: {agent} {(commit or '')[:10]} — {why}"
            for a, b, agent, commit, why in groups]


def _print_tests(console: Console, label: str, tests: tuple[str, ...], first: int | None) -> None:
    """The tests in stored order (the run's: fastest first), the first `first` of them, and how many more."""
    if not tests:
        console.print(Text(f"{label}: none"))
        return
    console.print(Text(f"{label} ({len(tests)}):"))
    shown = tests if first is None else tests[:first]
    for test in shown:
        console.print(Text(f"  {test}"))
    if len(shown) < len(tests):
        console.print(Text(f"  … and {len(tests) - len(shown)} more (--all lists every one)"))
