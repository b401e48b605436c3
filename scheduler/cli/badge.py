"""`mutagate badge`: the mutation-score badge, as SVG or shields.io endpoint JSON."""

from __future__ import annotations

import argparse

from results.formats import BADGE_FORMATS, RenderOptions
from results.report_data import load_report
from scheduler.cli.common import add_read_arguments, agent_name, emit, read_db, thresholds


def register(commands: argparse._SubParsersAction) -> None:
    badge = commands.add_parser("badge", help="the mutation-score badge: SVG or shields.io endpoint JSON")
    badge.add_argument("--format", choices=tuple(BADGE_FORMATS), default="svg")
    badge.add_argument("--agent", metavar="NAME", type=agent_name, help="the score of this agent's mutants only (label names it)")
    add_read_arguments(badge)
    badge.set_defaults(handler=run_badge)


def run_badge(args: argparse.Namespace) -> int:
    report = load_report(read_db(args), args.run)
    high, low = thresholds(args)
    agent = args.agent.lower() if args.agent else None  # agent ids are lower-case
    emit(args.output, BADGE_FORMATS[args.format].render(report, RenderOptions(high, low, agent=agent)))
    return 0
