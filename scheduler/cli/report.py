"""`mutagate report`: a stored run as a PR comment, Stryker JSON, SARIF or HTML."""

from __future__ import annotations

import argparse

from results.formats import REPORT_FORMATS, RenderOptions
from results.report_data import load_report
from scheduler.cli.common import add_read_arguments, emit, read_db, thresholds


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="a run as markdown (PR comment), stryker JSON, SARIF or HTML")
    report.add_argument("--format", choices=tuple(REPORT_FORMATS), default="markdown",
                        help="; ".join(f"{f.name}: {f.help}" for f in REPORT_FORMATS.values()))
    report.add_argument("--link-base", metavar="URL",
                        help="markdown: link file:line to URL/FILE#Lline (default on GitHub Actions: the run's commit)")
    add_read_arguments(report)
    report.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    report = load_report(read_db(args), args.run)
    high, low = thresholds(args)
    emit(args.output, REPORT_FORMATS[args.format].render(report, RenderOptions(high, low, args.link_base)))
    return 0
