"""`mutagate weak-tests`, `mutagate report`, `mutagate badge`: reads of the results store."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mutator.config import load_config
from mutator.errors import BadInput
from mutator.git import open_repo
from results.badge import badge_endpoint, badge_svg
from results.report_data import load_report
from results.report_html import html_report
from results.report_markdown import render_markdown
from results.report_sarif import sarif_report
from results.report_stryker import stryker_report
from results.weak_tests import weak_tests
from scheduler.cli_common import print_json, repo_path
from scheduler.commands_run import DEFAULT_DB, default_db


def _add_common(parser: argparse.ArgumentParser, output: bool = True) -> None:
    parser.add_argument("--db", type=Path, metavar="PATH", help=f"results database (default: <repo>/{DEFAULT_DB})")
    parser.add_argument("--run", metavar="ID", help="the run to read (default: the latest)")
    if output:
        parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here instead of stdout")


def register(commands: argparse._SubParsersAction) -> None:
    weak = commands.add_parser("weak-tests", help="tests that cover AI mutants but kill few of them")
    _add_common(weak, output=False)
    weak.add_argument("--limit", type=int, default=20, metavar="N", help="rows to show (default: 20)")
    weak.add_argument("--json", action="store_true", help="machine-readable output")
    weak.set_defaults(handler=run_weak_tests)

    report = commands.add_parser("report", help="a run as markdown (PR comment), stryker JSON, SARIF or HTML")
    report.add_argument("--format", choices=("markdown", "stryker", "sarif", "html"), default="markdown")
    report.add_argument("--link-base", metavar="URL",
                        help="markdown: link file:line to URL/FILE#Lline (default on GitHub Actions: the run's commit)")
    _add_common(report)
    report.set_defaults(handler=run_report)

    badge = commands.add_parser("badge", help="the mutation-score badge: SVG or shields.io endpoint JSON")
    badge.add_argument("--format", choices=("svg", "endpoint"), default="svg")
    _add_common(badge)
    badge.set_defaults(handler=run_badge)


def _thresholds(args: argparse.Namespace) -> tuple[float, float]:
    """[tool.mutagate] thresholds of the repository, when there is one to read."""
    try:
        config = load_config(open_repo(repo_path(args)).root)
    except BadInput:
        if args.db:  # reading a DB from outside any repository: Stryker's defaults
            return 80.0, 60.0
        raise
    return config.threshold_high, config.threshold_low


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.output is None:
        sys.stdout.write(text)
        return
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {args.output}: {exc.strerror}") from None


def run_report(args: argparse.Namespace) -> int:
    report = load_report(default_db(args, create=False), args.run)
    high, low = _thresholds(args)
    if args.format == "markdown":
        text = render_markdown(report, args.link_base)
    elif args.format == "stryker":
        text = json.dumps(stryker_report(report, round(high), round(low))) + "\n"
    elif args.format == "sarif":
        text = json.dumps(sarif_report(report), indent=2) + "\n"
    else:
        text = html_report(report, round(high), round(low))
    _emit(args, text)
    return 0


def run_badge(args: argparse.Namespace) -> int:
    report = load_report(default_db(args, create=False), args.run)
    high, low = _thresholds(args)
    if args.format == "svg":
        _emit(args, badge_svg(report, high, low))
    else:
        _emit(args, json.dumps(badge_endpoint(report, high, low)) + "\n")
    return 0


def run_weak_tests(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise BadInput("--limit must be at least 1")
    run_id, rows = weak_tests(default_db(args, create=False), args.run, args.limit)
    if args.json:
        print_json({"run_id": run_id, "weak_tests": [row.__dict__ for row in rows]})
        return 0
    console = Console()
    if not rows:
        console.print(f"No weak tests in run {run_id}: every test that covers AI mutants kills them.")
        return 0
    table = Table(title=f"Weak tests, run {run_id}: they run AI mutants that survive")
    table.add_column("test", overflow="fold")
    for column in ("covers", "kills", "survive"):
        table.add_column(column, justify="right")
    table.add_column("first survivor to catch", overflow="fold")
    for row in rows:
        first = row.survivors[0]
        table.add_row(row.test, str(row.covered_mutants), str(row.killed_mutants), str(row.surviving_mutants),
                      f"{first['file']}:{first['line']} {first['operator']} {first['original']!r} -> {first['replacement']!r}")
    console.print(table)
    return 0
