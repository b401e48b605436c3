"""`mutagate badge`: the mutation-score badge, as SVG or shields.io endpoint JSON."""

from __future__ import annotations

import argparse

from results.formats import BADGE_FORMATS, RenderOptions
from results.report_data import load_report
from scheduler.cli.common import add_read_arguments, emit, read_db, thresholds


def register(commands: argparse._SubParsersAction) -> None:
    badge = commands.add_parser("badge", help="the mutation-score badge: SVG or shields.io endpoint JSON")
    badge.add_argument("--format", choices=tuple(BADGE_FORMATS), default="svg")
    add_read_arguments(badge)
    badge.set_defaults(handler=run_badge)


def run_badge(args: argparse.Namespace) -> int:
    report = load_report(read_db(args), args.run)
    high, low = thresholds(args)
    emit(args.output, BADGE_FORMATS[args.format].render(report, RenderOptions(high, low)))
    return 0
