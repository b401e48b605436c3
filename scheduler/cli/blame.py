"""`mutagate blame`: the AI-attributed lines, as a table or as JSON (the contract README shows)."""

from __future__ import annotations

import argparse
import itertools

from rich.table import Table
from rich.text import Text

from mutator.attribution import Attribution, attribute
from scheduler.cli.common import add_scope_arguments, print_json, print_warnings, scope_from_args, stdout_console, target_repo


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("blame", help="AI-attributed lines of the Python files at HEAD")
    add_scope_arguments(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--evidence", action="store_true", help="show the signal behind each attribution")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="limit to these files or folders")
    parser.set_defaults(handler=run_blame)


def run_blame(args: argparse.Namespace) -> int:
    repo = target_repo(args)
    attribution = attribute(repo, scope_from_args(args, repo))
    print_warnings(attribution.warnings)
    if args.json:
        print_json(blame_json(attribution))
    else:
        print_blame_tables(attribution, evidence=args.evidence)
    return 0


def blame_json(attribution: Attribution) -> dict:
    return {
        "lines": [
            {
                "file": line.file,
                "line": line.line,
                "agent": line.agent,
                "commit": line.commit,
                "evidence": line.evidence,
                "agents": list(line.agents),
            }
            for line in attribution.lines
        ],
        "agents": attribution.agents(),
    }


def print_blame_tables(attribution: Attribution, evidence: bool) -> None:
    console = stdout_console()
    if not attribution.lines:
        console.print("No AI-attributed lines in scope.")
        return
    for file, lines in itertools.groupby(attribution.lines, key=lambda line: line.file):
        table = Table(title=Text(file), title_justify="left", show_edge=False)
        table.add_column("lines", justify="right")
        table.add_column("agent")
        table.add_column("commit")
        if evidence:
            table.add_column("evidence")
        for start, end, first in _runs(list(lines)):
            # Agent names and evidence are commit text (`claude[bot]`): never read as markup.
            row = [Text(f"{start}" if start == end else f"{start}-{end}"), Text(first.agent), Text(first.commit[:10])]
            if evidence:
                row.append(Text(first.evidence))
            table.add_row(*row)
        console.print(table)
        console.print()
    summary = Table(title="By agent", title_justify="left", show_edge=False)
    summary.add_column("agent")
    summary.add_column("lines", justify="right")
    for agent, count in attribution.agents().items():
        summary.add_row(Text(agent), str(count))
    console.print(summary)


def _runs(lines: list) -> list:
    """Consecutive lines with the same agent, commit and evidence, as (start, end, first line)."""
    runs = []
    for line in lines:
        if runs:
            start, end, first = runs[-1]
            same = (first.agent, first.commit, first.evidence) == (line.agent, line.commit, line.evidence)
            if same and line.line == end + 1:
                runs[-1] = (start, line.line, first)
                continue
        runs.append((line.line, line.line, line))
    return runs
