"""`mutagate run`: the mutation run, with a live progress bar, a summary, and the score gate."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mutator.attribution import Scope
from mutator.config import load_config
from mutator.errors import BadInput
from mutator.git import Repo
from mutator.workload import collect_workload
from results.report_data import RunReport, load_report
from results.status import UNDETECTED
from results.store import ResultStore
from scheduler.cli.common import (EXIT_BELOW_THRESHOLD, add_db_argument, add_scope_arguments,
                                  add_selection_arguments, default_db, percent, positive_int, print_json,
                                  scope_from_args, target_repo)
from scheduler.executor import executor_factory
from scheduler.run import Progress as RunProgress, RunOptions, RunResult, execute_run


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="the mutation run: mutate AI lines, run the tests that cover them")
    add_scope_arguments(parser)
    add_selection_arguments(parser)
    parser.add_argument("--executor", choices=("local", "ray"), default="local", help="where mutants run")
    parser.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster (default: a private local one)")
    parser.add_argument("--ray-shared-path", action="store_true",
                        help="every Ray node reads the run's snapshot at the driver's path (a shared file system) "
                             "instead of receiving it as the actors' runtime_env working_dir")
    parser.add_argument("--jobs", type=positive_int, metavar="N",
                        help="parallel workers (default: this machine's cores; with Ray, the cluster's CPUs)")
    add_db_argument(parser)
    parser.add_argument("--fail-under", type=percent, metavar="PERCENT", help="exit 3 if the score is below this")
    parser.add_argument("--no-bail", action="store_true", default=None,
                        help="run every covering test of a killed mutant, to record every killer (nightly)")
    parser.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                        help="leave out a known-failing test (repeatable)")
    parser.add_argument("--python", metavar="PATH", help="the target's interpreter (default: this one)")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="limit to these files or folders")
    parser.set_defaults(handler=run_command)


class _RichProgress(RunProgress):
    def __init__(self, console: Console) -> None:
        # Drawn only on a terminal: CI logs and scripts reading stderr get the summary alone.
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[tally]}"), TimeElapsedColumn(), console=console,
                            disable=not console.is_terminal)
        self.task = None
        self.tally: Counter[str] = Counter()

    def phase(self, name: str, total: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=self.bar.tasks[self.task].total)
        self.tally = Counter()
        self.task = self.bar.add_task(name, total=total, tally="")

    def advance(self, status: str) -> None:
        self.tally[status] += 1
        text = " ".join(f"{k} {v}" for k, v in sorted(self.tally.items()))
        self.bar.update(self.task, advance=1, tally=text)


@dataclass(frozen=True)
class RunRequest:
    """Everything `mutagate run` needs, as plain values: what the CLI (or the demo) builds once."""

    repo: Repo
    scope: Scope
    one_per_line: bool | None = None
    executor: str = "local"
    jobs: int | None = None
    ray_address: str | None = None
    ray_shared_path: bool = False
    db: Path | None = None
    fail_under: float | None = None
    no_bail: bool | None = None
    deselect: tuple[str, ...] = ()
    python: str | None = None
    json: bool = False


def run_command(args: argparse.Namespace) -> int:
    repo = target_repo(args)
    return perform_run(RunRequest(
        repo=repo, scope=scope_from_args(args, repo), one_per_line=args.one_per_line, executor=args.executor,
        jobs=args.jobs, ray_address=args.ray_address, ray_shared_path=args.ray_shared_path, db=args.db,
        fail_under=args.fail_under, no_bail=args.no_bail, deselect=tuple(args.deselect), python=args.python,
        json=args.json))


def perform_run(request: RunRequest) -> int:
    """The run, its summary on stdout and the gate's exit code."""
    if request.executor == "ray":
        _require_ray(request.ray_address)
    db = default_db(request.db, request.repo)
    config = load_config(request.repo.root)
    history = ResultStore(db).operator_survival()
    workload = collect_workload(request.repo, request.scope, config, request.one_per_line, priority=history)
    no_bail = request.no_bail if request.no_bail is not None else config.no_bail
    options = RunOptions(db=db, jobs=request.jobs or os.cpu_count() or 1, no_bail=no_bail, python=request.python,
                         deselect=request.deselect,
                         executor_factory=executor_factory(request.executor, request.jobs, request.ray_address,
                                                           request.ray_shared_path),
                         base_ref=request.scope.base)
    errors = Console(stderr=True)
    for warning in workload.attribution.warnings:
        errors.print(f"[yellow]warning:[/] {warning}")
    progress = _RichProgress(errors)
    with progress.bar:
        result = execute_run(workload, options, progress)
    summary = summarise(result, load_report(db, result.run_id))
    if request.json:
        print_json(summary)
    else:
        print_summary(result, summary)
    threshold = request.fail_under if request.fail_under is not None else config.fail_under
    if threshold is not None and summary["score"] < threshold:
        print(f"mutagate: score {summary['score']:.1f}% is below --fail-under {threshold:g}%", file=sys.stderr)
        return EXIT_BELOW_THRESHOLD
    return 0


def _require_ray(address: str | None) -> None:
    """Ray importable, and a given cluster address answering: before the baseline, not after it
    (ray.init retries an unreachable address for minutes)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise BadInput("--executor ray needs Ray: pip install 'mutagate[ray]'") from None
    if not address or address == "auto" or "://" in address:
        return  # Ray resolves these itself (and fails fast when there is nothing to find)
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise BadInput(f"--ray-address {address!r} is not HOST:PORT (or auto)")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise BadInput(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc})") from None


def summarise(result: RunResult, report: RunReport) -> dict:
    """The run's JSON summary: its verdicts as the store holds them, plus how the run went."""
    total = report.total
    return {
        "run_id": result.run_id,
        **total.as_dict(),
        "score_covered": round(total.covered_score, 2),
        "reused": result.reused,
        "executor": result.executor,
        "seconds": round(result.wall_seconds, 2),
        "timings": {phase: round(seconds, 3) for phase, seconds in result.timings.items()},
        "workers": list(result.workers),
        "by_agent": {agent: t.as_dict() for agent, t in report.by("agent").items()},
        "by_file": {file: t.as_dict() for file, t in report.by("file").items()},
        "survivors": [
            {"id": m.id, "file": m.file, "line": m.line, "operator": m.operator, "original": m.original,
             "replacement": m.replacement, "agent": m.agent, "status": m.status}
            for m in report.mutants
            if m.status in UNDETECTED
        ],
    }


def print_summary(result: RunResult, summary: dict) -> None:
    console = Console(file=sys.stdout, highlight=False)
    for title, groups in (("By agent", summary["by_agent"]), ("By file", summary["by_file"])):
        table = Table(title=title, title_justify="left", show_edge=False)
        for column in ("", "mutants", "killed", "timeout", "survived", "no coverage", "score"):
            table.add_column(column, justify="left" if not column else "right")
        for name, c in groups.items():
            table.add_row(name, str(c["mutants"]), str(c["killed"]), str(c["timeout"]), str(c["survived"]),
                          str(c["no_coverage"]), f"{c['score']:.1f}%")
        console.print(table)
        console.print()
    survivors = summary["survivors"]
    if survivors:
        console.print("[bold]Undetected mutants[/] (add a test that fails on each):")
        for s in survivors:
            change = f"{_short(s['original'])} -> {_short(s['replacement'])}"
            console.print(f"  {s['id']}  {s['file']}:{s['line']}  {s['agent']}  {s['operator']}  "
                          f"[yellow]{s['status']}[/]  {change}")
        console.print()
    console.print(
        f"[bold]score {summary['score']:.1f}%[/] ({summary['score_covered']:.1f}% on covered code) — "
        f"{summary['mutants']} mutants, {summary['killed']} killed, {summary['timeout']} timeout, "
        f"{summary['survived']} survived, {summary['no_coverage']} no coverage; "
        f"{summary['reused']} reused from earlier runs; {result.executor}; {summary['seconds']:.1f} s; run {result.run_id}"
    )


def _short(text: str, limit: int = 48) -> str:
    flat = repr(text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
