"""`mutagate import-mutmut`: mutmut 3's results for this tree, stored with per-agent attribution."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import replace
from pathlib import Path

from mutator.attribution import Scope, attribute
from results.import_mutmut import read_mutmut
from results.status import RunStatus
from results.store import ResultStore, RunRecord, attribution_rows
from scheduler.cli.common import add_db_argument, print_json, target_repo
from scheduler.provenance import TOOL_VERSION, current_branch, new_run_id
from scheduler.results_db import default_db


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("import-mutmut", help="store mutmut 3's results with per-agent attribution")
    parser.add_argument("--mutants", type=Path, metavar="DIR", help="mutmut's folder (default: <repo>/mutants)")
    add_db_argument(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    parser.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    repo = target_repo(args)
    root = repo.root
    mutants, skipped = read_mutmut(root, args.mutants or root / "mutants")
    # Every author's lines: a mutmut run mutates them all, and human lines are the comparison.
    attribution = attribute(repo, Scope(all_authors=True))
    owner = {(line.file, line.line): line for line in attribution.lines}
    db = default_db(args.db, repo)
    store = ResultStore(db)
    run_id = new_run_id()
    rows, outcomes, by_agent = [], [], Counter()
    for row, outcome in mutants:
        line = owner.get((row.file, row.line))
        if line:
            row = replace(row, agent=line.agent, commit=line.commit)
        by_agent[row.agent] += 1
        rows.append(row)
        outcomes.append(outcome)
    lines = attribution_rows(attribution.lines)
    store.start_run(RunRecord(run_id, str(root), attribution.head, None, None, current_branch(root), TOOL_VERSION,
                              {"imported_from": "mutmut"}, "mutmut (imported)", 0, "imported"), rows, lines)
    store.record_outcomes(run_id, outcomes)
    store.finish_run(run_id, RunStatus.FINISHED, None)
    summary = {"run_id": run_id, "mutants": len(mutants), "by_agent": dict(sorted(by_agent.items())),
               "statuses": dict(Counter(outcome.status for outcome in outcomes)), "skipped": dict(skipped)}
    if args.json:
        print_json(summary)
    else:
        agents = ", ".join(f"{a} {n}" for a, n in summary["by_agent"].items())
        reasons = ", ".join(f"{k}: {v}" for k, v in skipped.items())
        skipped_text = f"; skipped {sum(skipped.values())} ({reasons})" if skipped else ""
        # Plain print: agent names and skip reasons are the user's text, not Rich markup.
        print(f"imported {len(mutants)} mutmut mutants as run {run_id} ({agents}){skipped_text}")
    return 0
