"""`mutagate mutants`: the mutants a run would test, without running anything."""

from __future__ import annotations

import argparse
from collections import Counter

from rich.syntax import Syntax
from rich.text import Text

from mutator.config import load_config
from mutator.workload import collect_workload
from results.mutant_text import file_diff
from scheduler.cli.common import (add_scope_arguments, add_selection_arguments, print_json, print_warnings,
                                  scope_from_args, stdout_console, target_repo)
from scheduler.run_request import moved_summary, moved_text

JSON_FIELDS = ("id", "file", "line", "end_line", "column", "end_column", "operator", "original",
               "replacement", "agent", "qualname")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("mutants", help="the mutants a run would test, without running anything")
    add_scope_arguments(parser)
    add_selection_arguments(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="limit to these files or folders")
    parser.set_defaults(handler=run_mutants)


def run_mutants(args: argparse.Namespace) -> int:
    repo = target_repo(args)
    workload = collect_workload(repo, scope_from_args(args, repo), load_config(repo.root), args.one_per_line)
    print_warnings(workload.attribution.warnings)
    if args.json:
        listed: dict = {"mutants": [{k: m.to_json()[k] for k in JSON_FIELDS} for m in workload.mutants]}
        if workload.attribution.merge_base:  # --base scope: the rule is said even when it left nothing out
            listed["moved_not_changed"] = moved_summary(workload.attribution.moved_lines)
        print_json(listed)
        return 0
    console = stdout_console()
    sources = workload.attribution.sources
    for mutant in workload.mutants:
        console.print(Text.assemble((mutant.id, "bold"), f"  {mutant.operator}  {mutant.agent}  {mutant.file}:{mutant.line}"))
        diff = file_diff(mutant.file, sources[mutant.file], mutant, context=1) or ""
        console.print(Syntax(diff, "diff", background_color="default"))
    counts = Counter(m.agent for m in workload.mutants)
    summary = ", ".join(f"{agent} {n}" for agent, n in sorted(counts.items())) or "none"
    mode = "one per line" if workload.one_per_line else "every mutant"
    console.print(Text(f"{len(workload.mutants)} mutants ({mode}) on {len(workload.attribution.lines)} AI lines: {summary}"))
    if workload.attribution.moved_lines:  # --base scope: what the moved-not-changed rule left out
        console.print(Text(f"scope: {moved_text(workload.attribution.moved_lines)}"), soft_wrap=True)
    return 0
