"""`mutagate run`: the mutation run, with a live progress bar, a summary, and the score gate."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections import Counter, defaultdict
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mutator.errors import BadInput
from mutator.git import open_repo
from results.report_data import tally
from results.store import ResultStore
from scheduler.cli_common import EXIT_BELOW_THRESHOLD, add_scope_arguments, print_json, repo_path
from scheduler.executor import LocalExecutor
from scheduler.run import Progress as RunProgress, RunOptions, RunResult, Verdict, execute_run
from scheduler.targets import add_selection_arguments, collect_targets

DEFAULT_DB = Path(".mutagate") / "results.duckdb"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="the mutation run: mutate AI lines, run the tests that cover them")
    add_scope_arguments(parser)
    add_selection_arguments(parser)
    parser.add_argument("--executor", choices=("local", "ray"), default="local", help="where mutants run")
    parser.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster (default: a private local one)")
    parser.add_argument("--ray-shared-path", action="store_true",
                        help="every Ray node reads the run's snapshot at the driver's path (a shared file system) "
                             "instead of receiving it as the actors' runtime_env working_dir")
    parser.add_argument("--jobs", type=_positive_int, metavar="N",
                        help="parallel workers (default: this machine's cores; with Ray, the cluster's CPUs)")
    parser.add_argument("--db", type=Path, metavar="PATH", help=f"results database (default: <repo>/{DEFAULT_DB})")
    parser.add_argument("--fail-under", type=_percent, metavar="PERCENT", help="exit 3 if the score is below this")
    parser.add_argument("--no-bail", action="store_true", default=None,
                        help="run every covering test of a killed mutant, to record every killer (nightly)")
    parser.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                        help="leave out a known-failing test (repeatable)")
    parser.add_argument("--python", metavar="PATH", help="the target's interpreter (default: this one)")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="limit to these files or folders")
    parser.set_defaults(handler=run_command)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


def default_db(args: argparse.Namespace, create: bool = True) -> Path:
    """--db, or the repository's own; `create` makes its folder (git-ignored) for a writer."""
    if args.db:
        return args.db
    root = open_repo(repo_path(args)).root
    folder = root / DEFAULT_DB.parent
    if create:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# written by mutagate: results stay out of git\n*\n")
    return root / DEFAULT_DB


def executor_factory(args: argparse.Namespace):
    if args.executor == "ray":
        from scheduler.executor_ray import make_ray_executor  # optional extra

        return lambda runtime, snapshot: make_ray_executor(runtime, snapshot, args.jobs, args.ray_address,
                                                           args.ray_shared_path)
    return lambda runtime, snapshot: LocalExecutor(runtime, snapshot, args.jobs or os.cpu_count() or 1)


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


def run_command(args: argparse.Namespace) -> int:
    if args.executor == "ray":
        _require_ray(args.ray_address)
    db = default_db(args)
    history = ResultStore(db).operator_survival()
    targets = collect_targets(args, priority=history)
    config = targets.config
    no_bail = args.no_bail if args.no_bail is not None else config.no_bail
    options = RunOptions(db=db, jobs=args.jobs or os.cpu_count() or 1, no_bail=no_bail, python=args.python,
                         deselect=tuple(args.deselect), executor_factory=executor_factory(args), base_ref=args.base)
    errors = Console(stderr=True)
    for warning in targets.attribution.warnings:
        errors.print(f"[yellow]warning:[/] {warning}")
    progress = _RichProgress(errors)
    with progress.bar:
        result = execute_run(targets, options, progress)
    summary = summarise(result)
    if args.json:
        print_json(summary)
    else:
        print_summary(result, summary)
    threshold = args.fail_under if args.fail_under is not None else config.fail_under
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


def _counts(verdicts: list[Verdict]) -> dict:
    return tally(verdicts).as_dict()


def summarise(result: RunResult) -> dict:
    verdicts = list(result.verdicts)
    by_agent: dict[str, list[Verdict]] = defaultdict(list)
    by_file: dict[str, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        by_agent[verdict.mutant.agent].append(verdict)
        by_file[verdict.mutant.file].append(verdict)
    return {
        "run_id": result.run_id,
        **_counts(verdicts),
        "score_covered": round(tally(verdicts).covered_score, 2),
        "reused": result.reused,
        "executor": result.executor,
        "seconds": round(result.wall_seconds, 2),
        "timings": {phase: round(seconds, 3) for phase, seconds in result.timings.items()},
        "workers": list(result.workers),
        "by_agent": {agent: _counts(vs) for agent, vs in sorted(by_agent.items())},
        "by_file": {file: _counts(vs) for file, vs in sorted(by_file.items())},
        "survivors": [
            {"id": v.mutant.id, "file": v.mutant.file, "line": v.mutant.line, "operator": v.mutant.operator,
             "original": v.mutant.original, "replacement": v.mutant.replacement, "agent": v.mutant.agent,
             "status": v.status}
            for v in verdicts
            if v.status in ("survived", "no_coverage")
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
