"""One mutation run, start to finish: targets -> baseline -> plan -> execute -> confirm -> store."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mutator.git import git_text
from mutator.mutant import Mutant
from results.store import AttributionRow, MutantRow, OutcomeRow, ResultStore, RunRecord
from scheduler.baseline import Baseline, run_baseline
from scheduler.executor import Executor
from scheduler.plan import PlannedMutant, TimeoutPolicy, confirmation_task, plan_mutants, whole_suite_task
from scheduler.runtime import Runtime, make_runtime
from scheduler.scratch import new_scratch, remove_scratch
from scheduler.targets import Targets
from scheduler.workcopy import make_snapshot, restore_if_dirty
from scheduler.worker import Outcome, Task

TOOL_VERSION = "0.1.0"


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    status: str
    killed_by: tuple[str, ...]
    tests_run: int
    covering: tuple[str, ...]
    seconds: float
    reused: bool


@dataclass(frozen=True)
class RunResult:
    run_id: str
    verdicts: tuple[Verdict, ...]
    reused: int
    executor: str
    baseline_seconds: float
    wall_seconds: float
    workers: tuple[str, ...] = field(default_factory=tuple)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase


@dataclass(frozen=True)
class RunOptions:
    db: Path
    jobs: int
    no_bail: bool
    python: str | None
    deselect: tuple[str, ...]
    executor_factory: Callable[[Runtime, Path], Executor]
    base_ref: str | None = None
    keep_scratch: bool = False


class Progress:
    """What the run tells its caller as it goes (the CLI draws a rich progress bar)."""

    def phase(self, name: str, total: int) -> None: ...
    def advance(self, verdict_status: str) -> None: ...


def new_run_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def execute_run(targets: Targets, options: RunOptions, progress: Progress = Progress()) -> RunResult:
    started = time.perf_counter()
    attribution, config = targets.attribution, targets.config
    store = ResultStore(options.db)
    run_id = new_run_id()
    commit_of = {(line.file, line.line): line.commit for line in attribution.lines}
    store.start_run(
        RunRecord(
            run_id=run_id,
            repo=str(attribution.root),
            head_commit=attribution.head,
            base_ref=options.base_ref,
            merge_base=attribution.merge_base,
            branch=_branch(attribution.root),
            tool_version=TOOL_VERSION,
            config={"jobs": options.jobs, "no_bail": options.no_bail, "one_per_line": targets.one_per_line},
            executor="pending",
            jobs=options.jobs,
            mode="pr" if targets.one_per_line else "nightly",
        ),
        [_mutant_row(m, commit_of.get((m.file, m.line), "")) for m in targets.mutants],
        [AttributionRow(l.file, l.line, l.agent, l.commit, l.evidence) for l in attribution.lines],
    )
    if not targets.mutants:
        store.finish_run(run_id, "finished", "none")
        return RunResult(run_id, (), 0, "none", 0.0, time.perf_counter() - started)

    scratch = new_scratch("mutagate-run-")
    status, description = "interrupted", None
    timings: dict[str, float] = {}
    try:
        snapshot = make_snapshot(attribution, scratch / "snapshot")
        runtime = make_runtime(scratch, options.python, config.test_command, config.deselect + options.deselect)
        files = sorted({m.file for m in targets.mutants})
        progress.phase("baseline", 1)
        baseline_started = time.perf_counter()
        baseline = run_baseline(runtime, snapshot, files)
        timings["baseline"] = time.perf_counter() - baseline_started
        startup = max(0.0, timings["baseline"] - baseline.seconds)
        store.record_test_durations(run_id, baseline.durations)
        restore_if_dirty(snapshot)
        policy = TimeoutPolicy(config.timeout_multiplier, config.timeout_floor, startup)
        planned = plan_mutants(list(targets.mutants), baseline, config, policy, snapshot, TOOL_VERSION,
                               runtime.pytest_args, options.no_bail)
        result = _execute(run_id, planned, baseline, policy, store, options, runtime, snapshot, progress, timings)
        status, description = "finished", result[2]
        return RunResult(run_id, result[0], result[1], result[2], baseline.seconds,
                         time.perf_counter() - started, result[3], timings)
    finally:
        store.finish_run(run_id, status, description)
        if not options.keep_scratch:
            remove_scratch(scratch)


def _execute(
    run_id: str,
    planned: list[PlannedMutant],
    baseline: Baseline,
    policy: TimeoutPolicy,
    store: ResultStore,
    options: RunOptions,
    runtime: Runtime,
    snapshot: Path,
    progress: Progress,
    timings: dict[str, float],
) -> tuple[tuple[Verdict, ...], int, str, tuple[str, ...]]:
    by_id = {p.mutant.id: p for p in planned}
    reusable = store.reusable_verdicts([p.cache_key for p in planned])
    verdicts: dict[str, Verdict] = {}
    pending: list[OutcomeRow] = []
    last_flush = time.monotonic()

    def keep(row: OutcomeRow, flush: bool = False) -> None:
        nonlocal last_flush
        p = by_id[row.mutant_id]
        verdicts[row.mutant_id] = Verdict(p.mutant, row.status, row.killed_by, row.tests_run, p.covering,
                                          row.seconds, row.reused)
        pending.append(row)
        if flush or time.monotonic() - last_flush > 0.5 or len(pending) >= 200:
            store.record_outcomes(run_id, pending)
            pending.clear()
            last_flush = time.monotonic()

    to_run = []
    for p in planned:
        stored = reusable.get(p.cache_key)
        if stored is not None:
            keep(OutcomeRow(p.mutant.id, stored.status, stored.killed_by, stored.tests_run, p.covering,
                            stored.seconds, True, p.cache_key, stored.phase, stored.detail))
        elif p.task is None:
            keep(OutcomeRow(p.mutant.id, "no_coverage", (), 0, (), 0.0, False, p.cache_key, "none"))
        else:
            to_run.append(p.task)
    reused = sum(1 for v in verdicts.values() if v.reused)

    executor = options.executor_factory(runtime, snapshot)
    workers: set[str] = set()
    try:
        survivors: list[PlannedMutant] = []

        def selected(outcome: Outcome) -> None:
            workers.add(outcome.worker)
            p = by_id[outcome.mutant_id]
            keep(OutcomeRow(p.mutant.id, outcome.status, outcome.killed_by, outcome.tests_run, p.covering,
                            outcome.seconds, False, p.cache_key,
                            "confirm" if p.task and p.task.full_suite else "select", outcome.detail))
            if outcome.status == "survived" and not (p.task and p.task.full_suite):
                survivors.append(p)
            progress.advance(outcome.status)

        progress.phase("mutants", len(to_run))
        phase_started = time.perf_counter()
        executor.run(to_run, selected)
        timings["mutants"] = time.perf_counter() - phase_started
        store.record_outcomes(run_id, pending)
        pending.clear()

        confirmations = [confirmation_task(p, baseline, policy) for p in survivors]
        partial = {task.mutant.id for task in confirmations if not task.full_suite}  # a kill there is not final
        rechecks: list[Task] = []

        def confirmed(outcome: Outcome) -> None:
            workers.add(outcome.worker)
            p = by_id[outcome.mutant_id]
            previous = verdicts[outcome.mutant_id]
            tests_run, seconds = previous.tests_run + outcome.tests_run, previous.seconds + outcome.seconds
            if outcome.status != "survived" and p.mutant.id in partial:
                # Detected by a part of the suite: only the whole suite, in its order, may say so.
                partial.discard(p.mutant.id)
                rechecks.append(whole_suite_task(p, baseline, policy))
                verdicts[p.mutant.id] = replace(previous, tests_run=tests_run, seconds=seconds)
                return
            keep(OutcomeRow(p.mutant.id, outcome.status, outcome.killed_by, tests_run, p.covering, seconds,
                            False, p.cache_key, "confirm", outcome.detail))
            progress.advance(outcome.status)

        progress.phase("survivors vs the rest of the suite", len(survivors))
        phase_started = time.perf_counter()
        executor.run(confirmations, confirmed)
        executor.run(rechecks, confirmed)
        timings["confirm"] = time.perf_counter() - phase_started
        store.record_outcomes(run_id, pending)
        pending.clear()
        description = executor.describe()
    finally:
        if pending:
            store.record_outcomes(run_id, pending)
        executor.close()
    ordered = tuple(verdicts[p.mutant.id] for p in planned if p.mutant.id in verdicts)
    return ordered, reused, description, tuple(sorted(w for w in workers if w))


def _mutant_row(m: Mutant, commit: str) -> MutantRow:
    return MutantRow(m.id, m.file, m.line, m.end_line, m.column, m.end_column, m.operator, m.original,
                     m.replacement, m.agent, commit, m.qualname)


def _branch(root: Path) -> str | None:
    for variable in ("GITHUB_HEAD_REF", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "BRANCH_NAME"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        name = git_text(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    except Exception:  # noqa: BLE001 - a detached or odd HEAD has no branch
        return None
    return None if name == "HEAD" else name
