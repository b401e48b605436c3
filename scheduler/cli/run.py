"""`mutagate run`: the mutation run, with a live progress bar, a summary, and the score gate."""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from mutator.attribution import Scope
from mutator.config import CONFIRM_POLICIES, load_config
from mutator.errors import BadInput
from mutator.git import Repo
from mutator.source_roots import SourceChoice
from mutator.workload import Workload, collect_workload, keep_mutants
from results.errors import ResultsError
from results.report_data import RunReport, load_report
from results.status import DETECTED, UNDETECTED, Status
from results.store import ResultStore
from scheduler.cli.common import (EXIT_BELOW_THRESHOLD, EXIT_FAULT, add_db_argument, add_scope_arguments,
                                  add_selection_arguments, default_db, percent, positive_int, print_json,
                                  print_warnings, scope_from_args, stdout_console, target_repo)
from scheduler.executor import executor_factory
from scheduler.provenance import new_run_id
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
    parser.add_argument("--confirm", choices=CONFIRM_POLICIES, default=None,
                        help="how survivors are confirmed: smart (default: every test that could detect them), "
                             "full (the whole suite), off (not at all: cheapest)")
    parser.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                        help="leave out a known-failing test (repeatable)")
    parser.add_argument("--python", metavar="PATH", help="the target's interpreter (default: this one)")
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


def _seconds(variable: str, default: float) -> float:
    try:
        return float(os.environ.get(variable, default))
    except ValueError:
        raise BadInput(f"{variable} must be a number of seconds, not {os.environ[variable]!r}") from None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


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
    mutants: tuple[str, ...] = ()  # only these mutant ids (or unique prefixes)
    survivors_of: str | None = None  # retest the undetected mutants of this run ("" = the latest finished)
    confirm: str | None = None  # smart | full | off; None: [tool.mutagate] confirm, else smart


def run_command(args: argparse.Namespace) -> int:
    repo = target_repo(args)
    return perform_run(RunRequest(
        repo=repo, scope=scope_from_args(args, repo), one_per_line=args.one_per_line, executor=args.executor,
        jobs=args.jobs, ray_address=args.ray_address, ray_shared_path=args.ray_shared_path, db=args.db,
        fail_under=args.fail_under, no_bail=args.no_bail, deselect=tuple(args.deselect), python=args.python,
        json=args.json, mutants=tuple(args.mutant), confirm=args.confirm,
        survivors_of=(args.of_run or "") if args.survivors else None))


def perform_run(request: RunRequest) -> int:
    """The run, its summary on stdout and the gate's exit code."""
    if request.executor == "ray":
        _require_ray(request.ray_address)
    if request.python is not None and shutil.which(request.python) is None:  # before any work, not as a crash in it
        reason = "not an executable file" if Path(request.python).exists() else "no such file or command"
        raise BadInput(f"--python {request.python}: {reason}")
    # Everything that can refuse the input runs before the results database is created: a refused
    # run leaves no empty database (nor .mutagate/ folder) behind.
    config = load_config(request.repo.root)
    db = default_db(request.db, request.repo, create=False)
    history = ResultStore(db).operator_survival() if db.is_file() else {}
    retest = _retest_plan(request, db)
    if retest is not None or request.mutants:
        # Named mutants may sit on any line, human ones too: every mutant of their files, then only them.
        scope = replace(request.scope, base=None, all_authors=True,
                        paths=tuple(sorted({m.file for m in retest.undetected})) if retest else request.scope.paths)
        workload = collect_workload(request.repo, scope, config, one_per_line=False)
        wanted = tuple(m.id for m in retest.undetected) if retest else request.mutants
        workload, missing = keep_mutants(workload, wanted, prefixes=retest is None)
        if missing and retest is None:
            raise BadInput(f"no mutant {missing[0]!r} in the current code (see `mutagate mutants`)")
    else:
        workload = collect_workload(request.repo, request.scope, config, request.one_per_line, priority=history)
    progress = ProgressDisplay(Console(stderr=True))  # reads MUTAGATE_PROGRESS_SECONDS: refused here too
    db = default_db(request.db, request.repo)
    no_bail = request.no_bail if request.no_bail is not None else config.no_bail
    options = RunOptions(db=db, jobs=request.jobs or os.cpu_count() or 1, no_bail=no_bail, python=request.python,
                         deselect=request.deselect,
                         executor_factory=executor_factory(request.executor, request.jobs, request.ray_address,
                                                           request.ray_shared_path),
                         base_ref=request.scope.base, confirm=request.confirm or config.confirm)
    print_warnings(workload.attribution.warnings)
    threshold = request.fail_under if request.fail_under is not None else config.fail_under
    options = replace(options, run_id=new_run_id())
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
    report = load_report(db, result.run_id)
    summary = summarise(result, report, workload.attribution.source,
                        None if workload.mutants else nothing_to_measure(workload))
    if retest is not None:
        summary["retest"] = _retest_outcome(retest, report)
    if request.json:
        print_json(summary)
    else:
        print_summary(result, summary, report, ran=progress.totals.get("mutants", 0))
    if retest is not None and not request.json:
        outcome = summary["retest"]
        print(f"retested the {len(retest.undetected)} undetected mutants of run {retest.run_id}: "
              f"{len(outcome['fixed'])} fixed, {len(outcome['still_undetected'])} still undetected, "
              f"{len(outcome['gone'])} gone (their code changed)")
    if not workload.mutants:
        return 0  # nothing to measure passes, and the summary said so without a score
    if not report.mutants:
        print(f"mutagate: internal error: none of {len(workload.mutants)} mutants could be run", file=sys.stderr)
        return EXIT_FAULT
    total = report.total
    if threshold is not None and total.score < threshold:  # the exact score: a rounded one could pass
        print(f"mutagate: score {total.score_text()} ({total.killed + total.timeout} of {total.mutants} mutants "
              f"detected) is below --fail-under {threshold:g}%", file=sys.stderr)
        return EXIT_BELOW_THRESHOLD
    return 0


def _retest_plan(request: RunRequest, db: Path) -> RunReport | None:
    """With --survivors: the run whose undetected mutants are retested."""
    if request.survivors_of is None:
        return None
    if not db.is_file():
        raise BadInput(f"--survivors: no results database at {db} (run `mutagate run` first)")
    report = load_report(db, request.survivors_of or None)
    if not report.undetected:
        raise BadInput(f"--survivors: run {report.run_id} has no undetected mutant to retest")
    return report


def _retest_outcome(before: RunReport, now: RunReport) -> dict:
    """Which of a run's undetected mutants the current tests detect: by stable id."""
    status = {m.id: m.status for m in now.mutants}
    ids = [m.id for m in before.undetected]
    return {"of_run": before.run_id,
            "fixed": [i for i in ids if status.get(i) in DETECTED],
            "still_undetected": [i for i in ids if status.get(i) in UNDETECTED],
            "gone": [i for i in ids if i not in status]}


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


def nothing_to_measure(workload: Workload) -> str:
    """Why a run has no mutant: no AI line in scope, or AI lines with nothing worth mutating."""
    lines = len(workload.attribution.lines)
    if lines:
        return f"{lines} AI-attributed lines, none of them with code to mutate"
    scope = workload.attribution
    if scope.merge_base:
        return f"no AI-attributed lines changed since {scope.merge_base[:12]} (the merge-base)"
    return "no AI-attributed lines in scope"


def summarise(result: RunResult, report: RunReport, source: SourceChoice | None = None,
              nothing: str | None = None) -> dict:
    """The run's JSON summary: its verdicts as the store holds them, plus how the run went. With
    nothing to measure the score is null (no mutant: not a score of 100) and `note` says why."""
    total = report.total
    return {
        "run_id": result.run_id,
        **total.as_dict(),
        **({"source": {"roots": list(source.roots), "why": source.why}} if source else {}),
        "score_covered": round(total.covered_score, 2),
        **({"score": None, "score_covered": None, "note": nothing} if nothing else {}),
        "reused": result.reused,
        "executor": result.executor,
        "seconds": round(result.wall_seconds, 2),
        "timings": {phase: round(seconds, 3) for phase, seconds in result.timings.items()},
        "workers": list(result.workers),
        "flaky_tests": [{"test": test, "failure": why} for test, why in sorted(result.flaky.items())],
        **({"confirmation": asdict(result.confirmation)} if result.confirmation else {}),
        "by_agent": {agent: t.as_dict() for agent, t in report.by("agent").items()},
        "by_file": {file: t.as_dict() for file, t in report.by("file").items()},
        "survivors": [
            {"id": m.id, "file": m.file, "line": m.line, "operator": m.operator, "original": m.original,
             "replacement": m.replacement, "agent": m.agent, "status": m.status}
            for m in report.mutants
            if m.status in UNDETECTED
        ],
    }


def print_summary(result: RunResult, summary: dict, report: RunReport, ran: int | None = None) -> None:
    """The run for a person: tables by agent and by file, each undetected mutant on one line (its whole
    line before and after), and the score. Every figure comes from the exact counts in `report`;
    `ran`: how many mutants ran now (the others were settled without running)."""
    console = stdout_console()
    if "note" in summary:
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
