"""`mutagate report`: a stored run as a PR comment, Stryker JSON, SARIF, HTML or GitLab Code Quality JSON."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from mutator.errors import BadInput
from results.compare import latest_run_on, load_comparison
from results.formats import REPORT_FORMATS, RenderOptions
from results.report_data import RunReport, load_report
from scheduler.ci.base_branch import base_branch
from scheduler.cli.common import add_read_arguments, emit, read_db, thresholds


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="a run as markdown (PR comment), stryker JSON, SARIF, HTML or "
                                                "GitLab Code Quality JSON")
    report.add_argument("--format", choices=tuple(REPORT_FORMATS), default="markdown",
                        help="; ".join(f"{f.name}: {f.help}" for f in REPORT_FORMATS.values()))
    report.add_argument("--link-base", metavar="URL",
                        help="markdown: link file:line to URL/FILE#Lline (default on GitHub Actions: the run's commit)")
    report.add_argument("--compare-to", metavar="RUN|base",
                        help="markdown: the score change overall and per agent against run RUN, or against the latest "
                             "finished run of the base branch ($GITHUB_BASE_REF, else the run's --base, else the "
                             "default branch); new undetected mutants first, then the fixed ones")
    add_read_arguments(report)
    report.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    if args.compare_to and args.format != "markdown":
        raise BadInput(f"--compare-to works with --format markdown, not {args.format}")
    db = read_db(args)
    report = load_report(db, args.run)
    high, low = thresholds(args)
    options = RenderOptions(high, low, args.link_base)
    if args.compare_to:
        options = _with_comparison(options, db, report, args.compare_to, Path(args.repo))
    emit(args.output, REPORT_FORMATS[args.format].render(report, options))
    return 0


def _with_comparison(options: RenderOptions, db: Path, report: RunReport, target: str, repo: Path) -> RenderOptions:
    if target != "base":
        return replace(options, compare=load_comparison(db, report, target))
    branch, why = base_branch(repo, report.base_ref)
    other = latest_run_on(db, branch, exclude=report.run_id)
    if other is None:
        # A first PR before any nightly: the report still goes out, and says why it compares with nothing.
        note = (f"No finished run on `{branch}` ({why}) to compare with yet: "
                f"the nightly run on `{branch}` stores one.")
        print(f"mutagate: {note}", file=sys.stderr)
        return replace(options, note=note)
    return replace(options, compare=load_comparison(db, report, other))
