"""`mutagate merge SHARD.duckdb... [--db PATH] [--allow-partial] [--fail-under PERCENT] [--json]`: one run
from the N shard files of `mutagate run --shard K/N`, stored in the results database as any run; then the
gate, as `mutagate run` applies it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.text import Text

from mutator.config import load_config
from mutator.errors import BadInput
from mutator.git import open_repo
from results.gate import Decision, judge, judge_interrupted
from results.merge import check_shards, merge_shards, read_shard
from results.report_data import load_report
from results.status import UNDETECTED
from scheduler.ci import github_actions
from scheduler.cli.common import (EXIT_BELOW_THRESHOLD, EXIT_FAULT, EXIT_OK, add_db_argument, percent, print_json,
                                  stdout_console)
from scheduler.provenance import new_run_id
from scheduler.results_db import default_db


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("merge", help="one run from the shard files of `mutagate run --shard K/N`")
    parser.add_argument("shards", nargs="+", type=Path, metavar="SHARD.duckdb",
                        help="every shard's results file (each written by `mutagate run --shard K/N --db FILE`)")
    add_db_argument(parser)
    parser.add_argument("--allow-partial", action="store_true",
                        help="merge shards stopped early or cut by a time budget too (the merged run is then partial)")
    parser.add_argument("--fail-under", type=percent, metavar="PERCENT",
                        help="exit 3 if the merged score is below this (default: [tool.mutagate] fail-under)")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    parser.set_defaults(handler=merge_command)


def merge_command(args: argparse.Namespace) -> int:
    shards = [read_shard(path) for path in args.shards]
    check_shards(shards, args.allow_partial)
    target = default_db(args.db, Path(args.repo))
    run_id = new_run_id()
    merge_shards(shards, target, run_id)
    report = load_report(target, run_id)
    threshold = args.fail_under if args.fail_under is not None else _configured_gate(Path(args.repo))
    if args.json:
        total = report.total
        print_json({"run_id": run_id, "status": report.status, **total.as_dict(),
                    **({"score": None} if not report.planned else {}), "planned": report.planned,
                    "not_run": len(report.not_run),
                    "shards": [{"shard": str(s.plan.shard), "file": str(s.path), "run_id": s.run_id, "status": s.status,
                                "partial": s.partial()} for s in shards],
                    "survivors": [{"id": m.id, "file": m.file, "line": m.line, "operator": m.operator,
                                   "agent": m.agent, "status": m.status} for m in report.mutants if m.status in UNDETECTED]})
    else:
        # Never a score of 100 for nothing measured: shards of a run with no mutant merge into an empty run.
        what = (report.partial_text() if report.partial else "nothing to measure" if not report.planned
                else f"score {report.total.score_text()}")
        count = f"{len(shards)} shard{'s' if len(shards) != 1 else ''}"
        stdout_console().print(Text(f"merged {count} into run {run_id} ({target}): {what}; "
                                    f"{report.total.mutants} mutants, {len(report.undetected)} undetected"),
                               soft_wrap=True)
    nothing = None if report.planned else "none of the shards had a mutant to measure"
    github_actions.publish(report, nothing, out=sys.stderr if args.json else None)
    verdict = judge_interrupted(threshold) if report.partial else judge(report, threshold, report.planned)
    if verdict is None:
        return EXIT_OK
    for note in verdict.notes:
        print(f"mutagate: {note}", file=sys.stderr)
    if verdict.reason is not None:
        print(f"mutagate: {verdict.reason}", file=sys.stderr)
    return {Decision.PASS: EXIT_OK, Decision.FAIL: EXIT_BELOW_THRESHOLD, Decision.FAULT: EXIT_FAULT}[verdict.decision]


def _configured_gate(root: Path) -> float | None:
    """[tool.mutagate] fail-under of the repository merging, if it is run in one."""
    try:
        return load_config(open_repo(root).root).fail_under
    except BadInput:
        return None
