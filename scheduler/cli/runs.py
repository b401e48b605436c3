"""`mutagate runs`: the stored runs, newest first."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from results.runs import RunRow, list_runs
from results.status import RunStatus
from scheduler.cli.common import add_db_argument, positive_int, print_json, read_db, stdout_console

STATUS_STYLES = {RunStatus.FINISHED: "green", RunStatus.INTERRUPTED: "yellow", RunStatus.ABANDONED: "red",
                 RunStatus.RUNNING: "cyan", RunStatus.REFUSED: "red"}


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("runs", help="the stored runs, newest first")
    add_db_argument(parser)
    parser.add_argument("--limit", type=positive_int, default=20, metavar="N", help="runs to show (default: 20)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run_runs)


def run_runs(args: argparse.Namespace) -> int:
    rows = list_runs(read_db(args), args.limit)
    if args.json:
        print_json({"runs": [row.as_json() for row in rows]})
        return 0
    console = stdout_console()
    if not rows:
        console.print(Text("No runs stored yet (run `mutagate run`)."))
        return 0
    table = Table()
    for column, justify in (("run", "left"), ("started", "left"), ("branch", "left"), ("commit", "left"),
                            ("mode", "left"), ("status", "left"), ("mutants", "right"), ("measured", "right"),
                            ("score", "right"), ("duration", "right")):
        table.add_column(column, justify=justify)
    for row in rows:
        # Branch names are the user's text (`fix/[wip]`): Text, never markup.
        table.add_row(Text(row.run_id), row.started[:19], Text(row.branch or "-"), row.head_commit[:10],
                      Text(row.mode or "-"), Text(row.status, style=STATUS_STYLES.get(row.status, "")),
                      str(row.mutants), str(row.measured), _score(row), _duration(row.seconds))
    console.print(table)
    return 0


def _score(row: RunRow) -> Text:
    if row.status != RunStatus.FINISHED:
        return Text("partial", style="yellow")  # a stopped run's numbers cover part of it: no score
    if not row.measured:
        return Text("-")  # nothing measured: never a 100 for nothing
    return Text(row.tally.score_text())


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m {rest:02d}s"
