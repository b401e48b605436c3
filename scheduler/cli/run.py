"""`mutagate run`: the mutation run, with a live progress bar, a summary, and the score gate."""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from collections import Counter

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from mutator.config import CONFIRM_POLICIES
from mutator.errors import BadInput
from results.errors import ResultsError
from results.report_data import RunReport, load_report
from results.status import Status
from scheduler.cli import github_actions
from scheduler.cli.common import (EXIT_BELOW_THRESHOLD, EXIT_FAULT, add_db_argument, add_scope_arguments,
                                  add_selection_arguments, job_count, percent, print_json,
                                  print_warnings, scope_from_args, stdout_console, target_repo)
from scheduler.run import Progress as RunProgress, RunResult, execute_run
# The run as plain values lives below the command line; these names stay importable from here.
from scheduler.run_request import (PreparedRun, RunRequest, conclude_run, nothing_to_measure,  # noqa: F401
                                   prepare_run, summarise)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="the mutation run: mutate AI lines, run the tests that cover them")
    add_scope_arguments(parser)
    add_selection_arguments(parser)
    parser.add_argument("--executor", choices=("local", "ray"), default="local", help="where mutants run")
    parser.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster (default: a private local one)")
    parser.add_argument("--ray-shared-path", action="store_true",
                        help="every Ray node reads the run's snapshot at the driver's path (a shared file system) "
                             "instead of receiving it as the actors' runtime_env working_dir")
    parser.add_argument("--jobs", type=job_count, metavar="N",
                        help="parallel workers (default: this machine's cores; with Ray, the cluster's CPUs)")
    add_db_argument(parser)
    parser.add_argument("--fail-under", type=percent, metavar="PERCENT", help="exit 3 if the score is below this")
    parser.add_argument("--no-bail", action="store_true", default=None,
                        help="run every covering test of a killed mutant, to record every killer (nightly)")
    parser.add_argument("--confirm", choices=CONFIRM_POLICIES, default=None,
                        help="how survivors are confirmed: smart (default: the covering tests' classes or modules, "
                             "and tests that start processes), full (the whole suite), off (not at all: cheapest)")
    parser.add_argument("--fresh-baseline", action="store_true",
                        help="measure the whole suite under coverage, not only what changed since a stored baseline")
    parser.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                        help="leave out a known-failing test (repeatable)")
    parser.add_argument("--python", metavar="PATH", help="the target's interpreter (default: this one)")
    parser.add_argument("--budget", type=budget_seconds, metavar="SECONDS",
                        help="the whole run's time (baseline included): mutants run best first while they fit, "
                             "the rest are not run (default: [tool.mutagate] budget, else no limit)")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    retest = parser.add_mutually_exclusive_group()
    retest.add_argument("--survivors", action="store_true",
                        help="retest only the undetected mutants of a run (--run, default the latest) against "
                             "the current tests, and say which are fixed")
    retest.add_argument("--mutant", action="append", default=[], metavar="ID",
                        help="run only this mutant (a unique prefix of its id is enough; repeatable)")
    parser.add_argument("--run", dest="of_run", metavar="ID", help="with --survivors: the run whose survivors to retest")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="limit to these files or folders")
    parser.set_defaults(handler=run_command)


class ProgressDisplay(RunProgress):
    """The run's progress on stderr. On a terminal, a live bar. Elsewhere (a CI log) a plain line every
    `interval` seconds (MUTAGATE_PROGRESS_SECONDS, default 10) and when a phase ends, so a long run is
    never silent until its end. Nothing is printed before the first tick: a run refused early (a failing
    baseline) still ends in its one line of bad input. Use it as a context manager."""

    def __init__(self, console: Console, interval: float | None = None) -> None:
        self.console = console
        self.live = console.is_terminal
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[tally]}"), TimeElapsedColumn(), TextColumn("eta"),
                            TimeRemainingColumn(), console=console,
                            disable=not self.live)
        self.interval = interval if interval is not None else _seconds("MUTAGATE_PROGRESS_SECONDS", 10.0)
        self.task: TaskID | None = None
        self.tally: Counter[str] = Counter()
        self.totals: dict[str, int] = {}  # phase -> how many it had to do ("mutants": how many ran)
        self.name, self.total, self.done, self.started = "", 0, 0, time.monotonic()
        self.printed = False  # any plain line yet
        self._lock = threading.Lock()  # outcomes arrive on the executor's threads
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="mutagate-progress", daemon=True)

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            self.bar.start()
        elif self.interval > 0:
            self._ticker.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        self._stop.set()
        if self.live:
            self.bar.stop()
        else:
            with self._lock:
                self._finish_phase(complete=exc_type is None)

    def phase(self, name: str, total: int) -> None:
        with self._lock:
            if self.live and self.task is not None:
                self.bar.update(self.task, completed=self.bar.tasks[self.task].total)
            self._finish_phase(complete=True)
            self.tally = Counter()
            self.name, self.total, self.done, self.started = name, total, 0, time.monotonic()
            self.totals[name] = self.totals.get(name, 0) + total
            if self.live:
                self.task = self.bar.add_task(name, total=total, tally="")

    def plan(self, text: str) -> None:
        with self._lock:
            if self.live:
                self.console.print(Text(text))
            else:
                self.console.file.write(f"mutagate: {text}\n")
                self.console.file.flush()

    def advance(self, status: str) -> None:
        with self._lock:
            self.tally[status] += 1
            self.done += 1
            if self.live and self.task is not None:
                text = " ".join(f"{k} {v}" for k, v in sorted(self.tally.items()))
                self.bar.update(self.task, advance=1, tally=text)

    def _finish_phase(self, complete: bool) -> None:
        """The last line of a phase, on a log. A phase that gives way to the next is complete (as the
        bar shows it); one ended by an error or Ctrl-C says how far it got."""
        if not self.live and self.name and (complete or self.printed):
            self._line(final=True, complete=complete)
        self.name = ""

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self.name and not self._stop.is_set():
                    self._line()

    def _line(self, final: bool = False, complete: bool = True) -> None:
        """`mutagate: mutants 12/51, killed 9, survived 3; 40 s so far, about 1 min 20 s left`: plain
        text (no markup, no terminal codes) for a log."""
        elapsed = time.monotonic() - self.started
        done = self.total if final and complete else self.done
        counts = Counter({"killed": 0, "survived": 0, **self.tally}) if self.tally else {}
        tally = "".join(f", {status} {n}" for status, n in sorted(counts.items()))
        if final:
            timing = f"; {'done in' if complete else 'stopped after'} {_duration(elapsed)}"
        elif 0 < done < self.total:
            timing = f"; {_duration(elapsed)} so far, about {_duration(elapsed / done * (self.total - done))} left"
        else:
            timing = f"; {_duration(elapsed)} so far"
        self.console.file.write(f"mutagate: {self.name} {done}/{self.total}{tally}{timing}\n")
        self.console.file.flush()
        self.printed = True


def budget_seconds(text: str) -> float:
    """--budget: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _seconds(variable: str, default: float) -> float:
    try:
        return float(os.environ.get(variable, default))
    except ValueError:
        raise BadInput(f"{variable} must be a number of seconds, not {os.environ[variable]!r}") from None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def run_command(args: argparse.Namespace) -> int:
    repo = target_repo(args)
    return perform_run(RunRequest(
        repo=repo, scope=scope_from_args(args, repo), one_per_line=args.one_per_line, executor=args.executor,
        jobs=args.jobs, ray_address=args.ray_address, ray_shared_path=args.ray_shared_path, db=args.db,
        fail_under=args.fail_under, no_bail=args.no_bail, deselect=tuple(args.deselect), python=args.python,
        json=args.json, mutants=tuple(args.mutant), confirm=args.confirm, budget=args.budget,
        fresh_baseline=args.fresh_baseline,
        survivors_of=(args.of_run or "") if args.survivors else None))


def perform_run(request: RunRequest) -> int:
    """The run, its summary on stdout and the gate's exit code."""
    started = time.monotonic()
    progress = ProgressDisplay(Console(stderr=True))  # reads MUTAGATE_PROGRESS_SECONDS: refused before any work
    prepared = prepare_run(request, started)
    workload, options, threshold, retest = prepared.workload, prepared.options, prepared.threshold, prepared.retest
    db = options.db
    print_warnings(workload.attribution.warnings)
    try:
        with progress:
            result = execute_run(workload, options, progress)
    except KeyboardInterrupt:
        # Stopped early (Ctrl-C, SIGTERM): what was measured is stored; say how far it got, never a score.
        try:
            report = load_report(db, options.run_id)
            print(f"mutagate: run {report.run_id} stopped: {report.partial_text()}; run again to resume",
                  file=sys.stderr)
        except ResultsError:  # stopped before the run was stored
            print("mutagate: stopped before anything was measured", file=sys.stderr)
        if threshold is not None:
            print("mutagate: a partial run cannot pass --fail-under", file=sys.stderr)
            return EXIT_BELOW_THRESHOLD
        raise
    report, summary = conclude_run(prepared, result)
    if request.json:
        print_json(summary)
    else:
        print_summary(result, summary, report, ran=progress.totals.get("mutants", 0))
    if retest is not None and not request.json:
        outcome = summary["retest"]
        print(f"retested the {len(retest.undetected)} undetected mutants of run {retest.run_id}: "
              f"{len(outcome['fixed'])} fixed, {len(outcome['still_undetected'])} still undetected, "
              f"{len(outcome['gone'])} gone (their code changed)")
    # Inside GitHub Actions: job summary and annotations (on stderr under --json, which owns stdout).
    github_actions.publish(report, summary.get("note"), out=sys.stderr if request.json else None)
    if not workload.mutants:
        return 0  # nothing to measure passes, and the summary said so without a score
    if not report.mutants and report.not_run:
        if threshold is None:
            return 0
        print(f"mutagate: {report.budget_text()}: a gate cannot pass on nothing measured", file=sys.stderr)
        return EXIT_BELOW_THRESHOLD
    if not report.mutants:
        print(f"mutagate: internal error: none of {len(workload.mutants)} mutants could be run", file=sys.stderr)
        return EXIT_FAULT
    total = report.total
    if threshold is not None and report.not_run:  # the gate judges what ran, and says so
        print(f"mutagate: {report.budget_text()}: the gate judges the {total.mutants} mutants run", file=sys.stderr)
    if threshold is not None and total.score < threshold:  # the exact score: a rounded one could pass
        print(f"mutagate: score {total.score_text()} ({total.killed + total.timeout} of {total.mutants} mutants "
              f"detected) is below --fail-under {threshold:g}%", file=sys.stderr)
        return EXIT_BELOW_THRESHOLD
    return 0


def print_summary(result: RunResult, summary: dict, report: RunReport, ran: int | None = None) -> None:
    """The run for a person: tables by agent and by file, each undetected mutant on one line (its whole
    line before and after), and the score. Every figure comes from the exact counts in `report`;
    `ran`: how many mutants ran now (the others were settled without running)."""
    console = stdout_console()
    if "note" in summary:
        if report.not_run:  # there were mutants, and the budget left no time for any
            console.print(Text(f"Nothing measured: {summary['note']}; run {result.run_id}."), soft_wrap=True)
        else:
            console.print(Text(f"Nothing to measure: {summary['note']}. The run passes; run {result.run_id}."))
        return
    for title, groups in (("By agent", report.by("agent")), ("By file", report.by("file"))):
        table = Table(title=title, title_justify="left", show_edge=False)
        for column in ("", "mutants", "killed", "timeout", "survived", "no coverage", "score"):
            table.add_column(column, justify="left" if not column else "right")
        for name, t in groups.items():
            table.add_row(Text(name), str(t.mutants), str(t.killed), str(t.timeout), str(t.survived),
                          str(t.no_coverage), t.score_text())
        console.print(table)
        console.print()
    undetected = report.undetected
    if undetected:
        console.print(Text.assemble(("Undetected mutants", "bold"), " (add a test that fails on each):"))
        changed = report.changed_lines(undetected)
        for m in undetected:
            before, after = changed[m.id]
            status = "survived" if m.status == Status.SURVIVED else "no test covers it"
            # One line each, never wrapped nor cut, whatever the width: a CI log keeps it whole and greppable.
            console.print(Text.assemble(f"  {m.file}:{m.line}  {m.operator}  {_one_line(before)} → {_one_line(after)}  ",
                                        (f"({m.agent}, {status})", "yellow"), f"  {m.id}"), soft_wrap=True)
        console.print()
    if result.flaky:
        console.print(Text.assemble(("Flaky tests", "bold"), " (quarantined: they failed, then passed without a change):"))
        for test, why in sorted(result.flaky.items()):
            console.print(Text(f"  {test}  {why}"), soft_wrap=True)
        console.print()
    if result.confirmation is not None:
        c = result.confirmation
        said = ("off: a survivor means its covering tests pass" if c.policy == "off" else
                f"{c.policy}: {c.checked} survivors of their covering tests checked, {c.flipped} detected by the rest")
        console.print(Text(f"confirmation {said}"), soft_wrap=True)
    if "source" in summary:
        source = summary["source"]
        console.print(Text(f"source: {', '.join(source['roots'])} ({source['why']})"), soft_wrap=True)
    if report.budget_seconds is not None:
        console.print(Text(report.budget_text() or ""), soft_wrap=True)
    total = report.total
    reused = summary["reused"]
    how = f"{reused} reused from earlier runs"
    if ran is not None:
        how = f"{ran} run, {how}, {total.mutants - ran - reused} not run (no test covers them)"
    console.print(Text.assemble(
        (f"score {total.score_text()}", "bold"), f" ({total.score_text(covered=True)} on covered code) — "
        f"{total.mutants} mutants: {total.killed} killed, {total.timeout} timeout, {total.survived} survived, "
        f"{total.no_coverage} no coverage; {how}; {result.executor}; {summary['seconds']:.1f} s; run {result.run_id}"
    ), soft_wrap=True)


def _one_line(lines: tuple[str, ...]) -> str:
    """Source lines as one line: each stripped, joined by a visible return mark."""
    return " ↵ ".join(line.strip() for line in lines)
