"""`mutagate blame`: the AI-attributed lines, as a table or as JSON (the contract docs/attribution.md shows)."""

from __future__ import annotations

import argparse

from mutator.attribution import Attribution, attribute
from scheduler.cli.common import add_scope_arguments, print_json, print_warnings, scope_from_args, target_repo
from scheduler.cli.display import print_blame_tables
from scheduler.run_request import moved_summary


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
    shown = {
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
    if attribution.merge_base:  # --base scope: what the moved-not-changed rule left out, as `run` says it
        shown["moved_not_changed"] = moved_summary(attribution.moved_lines)
    return shown
