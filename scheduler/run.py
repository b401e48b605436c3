"""One mutation run, start to finish: workload -> baseline -> plan -> select -> confirm -> store.

Verdicts are not returned: they stream to the store as they arrive, and every reader (the run's
own summary and gate included) reads them back through `results.report_data.load_report`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from mutator.errors import BadInput
from mutator.mutant import Mutant
from mutator.workload import Workload
from results.shards import ShardPlan
from results.status import Phase, RunStatus, Status
from results.store import MutantRow, OutcomeRow, ResultStore, RunRecord, attribution_rows
from scheduler.baseline import Baseline
from scheduler.baseline_place import BaselinePlace
from scheduler.baseline_reuse import BaselineSource, map_key, measure_baseline
from scheduler.budget import Budget, BudgetSpent
from scheduler.executor import Executor
from scheduler.hot_split import combined, split_hot
from scheduler.plan import (PlannedMutant, TimeoutPolicy, confirmation_task, confirmed_in_child, plan_mutants, probe_ranges,
                            whole_suite_task)
from scheduler.provenance import TOOL_VERSION, current_branch, new_run_id
from scheduler.runtime import Runtime, make_runtime
from scheduler import checkout_guard
from scheduler.held_signals import held_signals
from scheduler.runner.reaper import become_subreaper, children, kill_strays
from scheduler.scratch import new_scratch, remove_scratch
from scheduler.workcopy import make_snapshot, restore_if_dirty
from scheduler.worker import FollowUps, Outcome, Task

_T = TypeVar("_T")


@dataclass(frozen=True)
class RunResult:
    """How the run went; what it found is in the store under `run_id`."""

    run_id: str
    reused: int
    executor: str
    baseline_seconds: float
    wall_seconds: float
    workers: tuple[str, ...] = field(default_factory=tuple)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase
    flaky: dict[str, str] = field(default_factory=dict)  # quarantined tests -> their failure line
    confirmation: Confirmation | None = None
    baseline: BaselineSource | None = None
    forecast: Forecast | None = None  # what the run said was coming before its mutants ran


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation of survivors cost and changed: what a survivor of this run means."""

    policy: str  # smart | full | off
    checked: int  # survivors of their covering tests that were confirmed
    flipped: int  # of those, detected by the rest of the suite


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
    run_id: str | None = None  # chosen by the caller, so it can read the run back even if it stops early
    confirm: str = "smart"  # smart | full | off: how survivors are confirmed (mutator.config.CONFIRM_POLICIES)
    fresh_baseline: bool = False  # measure the whole suite, whatever baseline is stored
    budget: Budget | None = None  # --budget: mutants past it are stored as not_run
    coverage_map: bool = False  # baseline under coverage, its map of every line stored for later runs (else probes)
    survival: dict[str, float] = field(default_factory=dict)  # operator -> survival rate in stored runs (forecasts)
    timeouts: dict[str, float] = field(default_factory=dict)  # operator -> timeout rate in stored runs (forecasts)
    plan: ShardPlan | None = None  # --shard K/N: the part this run is, of which whole run (stored with it)
    # Where the baseline's shards run (a Ray run's: on the cluster's workers, see baseline_ray.py); None:
    # processes on this machine, one per core.
    baseline_place: Callable[[Runtime, Path], BaselinePlace] | None = None


class Progress:
    """What the run tells its caller as it goes (the CLI draws a rich progress bar)."""

    def phase(self, name: str, total: int, seconds: float = 0.0, start: float = 0.0, workers: int = 1) -> None:
        """A phase of `total` mutants begins; `seconds`: their expected cost, summed (0: unknown), on
        `workers` after `start` seconds (the workers' own start, at once)."""

    def advance(self, verdict_status: str, seconds: float = 0.0, spent: float | None = None) -> None:
        """A mutant of the phase is done; `seconds`: its part of the phase's expected cost; `spent`: its
        cost by the same model given its verdict (None: `seconds`)."""
    def plan(self, text: str) -> None:
        """What is coming, once the baseline has run: how many mutants, how, and about how long."""


def execute_run(workload: Workload, options: RunOptions, progress: Progress = Progress()) -> RunResult:
    started = time.perf_counter()
    attribution, config = workload.attribution, workload.config
    store = ResultStore(options.db)
    run_id = options.run_id or new_run_id()
    commit_of = {(line.file, line.line): line.commit for line in attribution.lines}
    store.start_run(
        RunRecord(
            run_id=run_id,
            repo=str(attribution.root),
            head_commit=attribution.head,
            base_ref=options.base_ref,
            merge_base=attribution.merge_base,
            branch=current_branch(attribution.root),
            tool_version=TOOL_VERSION,
            # deselect: the command line's only ([tool.mutagate]'s are in the repository): what `mutagate ci` warns of
            config={"jobs": options.jobs, "no_bail": options.no_bail, "one_per_line": workload.one_per_line,
                    "confirm": options.confirm, "deselect": list(options.deselect)},
            executor="pending",
            jobs=options.jobs,
            mode="pr" if workload.one_per_line else "nightly",
            budget_seconds=options.budget.seconds if options.budget else None,
            plan=options.plan,
        ),
        [_mutant_row(m, commit_of.get((m.file, m.line), "")) for m in workload.mutants],
        attribution_rows(attribution.lines),
    )
    if not workload.mutants:
        store.finish_run(run_id, RunStatus.FINISHED, "none")
        return RunResult(run_id, 0, "none", 0.0, time.perf_counter() - started)

    # Orphans of the target's processes (the baseline's, a fresh run's) come to this process, which
    # kills them when the run ends; what it ran before the run stays.
    become_subreaper()
    own_children = children()
    scratch = new_scratch("mutagate-run-")
    status, description = RunStatus.INTERRUPTED, None
    timings: dict[str, float] = {}
    # Verified, and restored, when the run ends; a --db inside the checkout is the run's own output.
    checkout = checkout_guard.take(attribution.root, checkout_guard.own_paths(attribution.root, (options.db,)))
    checkout_guard.current = checkout_guard.Watch(checkout)
    warm: Executor | None = None  # the mutants' executor, started during the baseline
    try:
        snapshot = make_snapshot(attribution, scratch / "snapshot")
        runtime = make_runtime(scratch, options.python, config.test_command, config.deselect + options.deselect,
                               config.memory_limit_mb)
        runtime = replace(runtime, sealed=checkout_guard.readonly_prefix(attribution.root, scratch))
        runtime.seed_bytecode(snapshot)
        # Every source file, not only the mutated ones: the map is stored for later runs to reuse.
        files = sorted(set(attribution.source_files) | {m.file for m in workload.mutants})
        key = map_key(TOOL_VERSION, runtime.python, runtime.pytest_args, attribution.source.roots)
        progress.phase("baseline", 1)
        baseline_started = time.perf_counter()
        probes = None if options.coverage_map else probe_ranges(list(workload.mutants))
        place = options.baseline_place(runtime, snapshot) if options.baseline_place else None  # joins Ray: budgeted
        deadline = options.budget.left() * BASELINE_SHARE if options.budget else None
        # On this machine, the workers' fork servers start while the baseline runs (LocalExecutor.warm);
        # not under a budget: a budget spent in the baseline would wait for them to start, only to stop them.
        warm = options.executor_factory(runtime, snapshot) if place is None and options.budget is None else None
        if hasattr(warm, "warm"):
            warm.warm(min(options.jobs, len(workload.mutants)))
        try:
            baseline, baseline_source = measure_baseline(runtime, snapshot, files,
                                                         place.shards if place else baseline_shards(options.jobs),
                                                         options.db, key, run_id, reuse=not options.fresh_baseline,
                                                         probes=probes, deadline=deadline, run_shards=place)
        except BaseException:
            if place is not None:
                place.close(ending=True)  # no executor comes after it: a Ray this run started ends here
            raise
        if place is not None:
            place.close()
            baseline_source = replace(baseline_source, shards=tuple(sorted(place.runs, key=lambda r: (r.shard, r.attempt))))
        timings["baseline"] = time.perf_counter() - baseline_started
        store.record_test_durations(run_id, baseline.durations)
        restore_if_dirty(snapshot)
        if baseline.flaky:  # never run again in this run, so they cannot pass for a kill
            deselect = tuple(arg for test in baseline.flaky for arg in ("--deselect", test))
            runtime = replace(runtime, pytest_args=runtime.pytest_args + deselect)
            if warm is not None and hasattr(warm, "use"):  # its servers ran the suite with them
                warm.use(runtime)
        policy = TimeoutPolicy(config.timeout_multiplier, config.timeout_floor, baseline.startup)
        planned = plan_mutants(list(workload.mutants), baseline, replace(config, confirm=options.confirm), policy,
                               snapshot, TOOL_VERSION,
                               runtime.pytest_args, options.no_bail)
        ledger = Ledger(store, run_id)
        phases = Phases(planned, baseline, policy, ledger, progress, options.budget,
                        Expectation(baseline, policy, options.survival, options.confirm,
                                    timeouts=options.timeouts), options.jobs,
                        getattr(warm, "warming", 0) > 0)
        try:
            to_run = phases.settle_without_running(store)
            if options.confirm == "smart" and options.budget is None:
                # Smart confirmation in the mutant's own child; not where a budget may stop a task
                # mid-confirmation (the survivor would lose its verdict of the covering tests).
                to_run = [confirmed_in_child(task, baseline, policy) for task in to_run]
            progress.plan(baseline_source.describe())
            phases.expected = phases.expected.sharing_controls(to_run, options.jobs)
            coming = forecast(to_run, len(planned) - len(to_run), phases.expected, options.jobs, phases.warm)
            progress.plan(coming.text())
            executor = warm or options.executor_factory(runtime, snapshot)
            warm = None
            try:
                timings["mutants"], survivors = _timed(lambda: phases.select(executor, to_run))
                if options.confirm != "off":
                    timings["confirm"], partial = _timed(lambda: phases.confirm(executor, survivors, options.confirm))
                    partial = phases.detected_by_part + partial
                    timings["confirm"] += _timed(lambda: phases.recheck(executor, partial))[0]
                description = executor.describe()
            finally:
                executor.close()
        finally:
            ledger.flush()  # whatever was measured before a stop
            flaky = {**baseline.flaky, **phases.flaky}
            store.record_flaky_tests(run_id, flaky)
        status = RunStatus.FINISHED
        return RunResult(run_id, phases.reused, description, baseline.seconds, time.perf_counter() - started,
                         tuple(sorted(w for w in phases.workers if w)), timings, flaky,
                         Confirmation(options.confirm, phases.checked + len(survivors) if options.confirm != "off" else 0,
                                      phases.flipped), baseline_source, coming)
    except BadInput:
        status = RunStatus.REFUSED  # the input's fault (a failing baseline, no tests): nothing was interrupted
        raise
    finally:
        with held_signals():  # a stop that lands now waits for the checkout and the store to be whole
            if warm is not None:  # stopped before the mutants' phase took it over
                warm.close()
            kill_strays(own_children)
            _guard_checkout(checkout)
            store.finish_run(run_id, status, description, timings)
            if not options.keep_scratch:
                remove_scratch(scratch)


def _guard_checkout(before: checkout_guard.Fingerprint) -> None:
    """Put the user's checkout back as it was, and say who changed it."""
    watch, checkout_guard.current = checkout_guard.current, None
    if watch is not None:
        watch.close()
    damage = checkout_guard.verify_and_restore(before)
    touched = [*damage.changed, *damage.created, *damage.unrestorable]
    if not touched:
        return
    who = (f"mutant{'s' if len(watch.suspects) > 1 else ''} {', '.join(watch.suspects)}"
           if watch is not None and watch.suspects else "the run's tests")
    kept = f"; could not restore {', '.join(damage.unrestorable)}" if damage.unrestorable else ""
    print(f"mutagate: {who} wrote to your checkout ({', '.join(touched[:10])}"
          f"{', ...' if len(touched) > 10 else ''}); restored byte for byte{kept}", file=sys.stderr)


# Under a time budget the baseline may take at most this share of what is left when it starts: the
# rest is for the mutants (a hook that only measured would answer nothing).
BASELINE_SHARE = 0.5


def baseline_shards(jobs: int) -> int:
    """The baseline runs where the run starts, on at most one shard per core there (a Ray run's
    shards run on its workers instead: RunOptions.baseline_place)."""
    return max(1, min(jobs, os.cpu_count() or 1))


def _timed(action: Callable[[], _T]) -> tuple[float, _T]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


class Ledger:
    """Each mutant's latest verdict, in memory for the next phase and streamed to the store in
    short batches: a run stopped at any point keeps what it measured, and a reader waiting on
    the database never waits long."""

    FLUSH_SECONDS = 0.5
    FLUSH_ROWS = 200
    # A flush (a connection opened and closed: 30-140 ms on 2 busy cores) takes at most this share of
    # the time between flushes: at 0.5 s apart, semver's 18 s mutant phase spent 4.9 s of the
    # driver's CPU storing outcomes, on cores its workers' tests needed.
    FLUSH_SHARE = 0.05

    def __init__(self, store: ResultStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.rows: dict[str, OutcomeRow] = {}
        self._pending: list[OutcomeRow] = []
        self._last_flush = time.monotonic()
        self._interval = self.FLUSH_SECONDS

    def record(self, row: OutcomeRow) -> None:
        self.rows[row.mutant_id] = row
        self._pending.append(row)
        if time.monotonic() - self._last_flush > self._interval or len(self._pending) >= self.FLUSH_ROWS:
            self.flush()

    def note(self, row: OutcomeRow) -> None:
        """Update the verdict in memory only: a step that is not yet a verdict of its own."""
        self.rows[row.mutant_id] = row

    def flush(self) -> None:
        started = time.monotonic()
        if self._pending:
            self.store.record_outcomes(self.run_id, self._pending)
            self._pending.clear()
            self._interval = max(self.FLUSH_SECONDS, (time.monotonic() - started) / self.FLUSH_SHARE)
        self._last_flush = time.monotonic()


class Phases:
    """The run's phases, one method each, sharing the plan and the ledger."""

    def __init__(self, planned: list[PlannedMutant], baseline: Baseline, policy: TimeoutPolicy, ledger: Ledger,
                 progress: Progress, budget: Budget | None = None, expected: Expectation | None = None,
                 jobs: int = 1, warm: bool = False) -> None:
        self.by_id = {p.mutant.id: p for p in planned}
        self.planned = planned
        self.baseline = baseline
        self.policy = policy
        self.ledger = ledger
        self.progress = progress
        self.workers: set[str] = set()
        self.flaky: dict[str, str] = {}  # found by control runs of kills
        self.flipped = 0  # survivors of selection that confirmation found detected
        self.checked = 0  # survivors of selection confirmed in the same child (Task.then)
        self.detected_by_part: list[PlannedMutant] = []  # for the whole suite's recheck
        self.reused = 0
        self.budget = budget
        self.expected = expected or Expectation(baseline, policy, {}, "smart")
        self.jobs = jobs  # workers: the ETA's, and what a hot survivor's tests are spread over (hot_split.py)
        self.warm = warm  # the workers' servers started during the baseline: the ETA waits for no start

    def _record(self, outcome: Outcome, phase: Phase, tests_run: int, seconds: float) -> None:
        self.flaky.update(outcome.flaky)
        p = self.by_id[outcome.mutant_id]
        # A verdict reached without a test quarantined in this run is not reusable under the usual key, nor
        # one planned from a baseline a budget cut (its covering tests may be some of them).
        key = "" if outcome.flaky or self.baseline.cut else p.cache_key
        self.ledger.record(OutcomeRow(p.mutant.id, outcome.status, outcome.killed_by, tests_run, p.covering,
                                      seconds, False, key, phase, outcome.detail))

    def settle_without_running(self, store: ResultStore) -> list[Task]:
        """Verdicts stored by earlier runs under the same cache key, and mutants no test covers;
        returns the tasks left to run."""
        reusable = store.reusable_verdicts([p.cache_key for p in self.planned])
        to_run = []
        for p in self.planned:
            stored = reusable.get(p.cache_key)
            if stored is not None:
                self.ledger.record(replace(stored, mutant_id=p.mutant.id, covering_tests=p.covering, reused=True))
                self.reused += 1
            elif self.baseline.cut and (p.task is None or p.task.full_suite):
                # Its tests may be among those the budget left unmeasured; the whole suite does not fit either.
                self.ledger.record(OutcomeRow(p.mutant.id, Status.NOT_RUN, (), 0, p.covering, 0.0, False, "", Phase.NONE,
                                              "its tests were not measured within the time budget"))
            elif p.task is None:
                self.ledger.record(OutcomeRow(p.mutant.id, Status.NO_COVERAGE, (), 0, (), 0.0, False, p.cache_key,
                                              Phase.NONE))
            else:
                to_run.append(p.task)
        return to_run

    def select(self, executor: Executor, tasks: list[Task]) -> list[PlannedMutant]:
        """Each mutant against the tests that covered it, fastest first; returns the survivors
        that still need confirming (a whole-suite run's survivor is already confirmed, as is one
        whose task confirmed it in the same child: plan.confirmed_in_child). What such a
        confirmation detects waits for the whole suite (`detected_by_part`)."""
        survivors: list[PlannedMutant] = []

        def selected(outcome: Outcome) -> None:
            self.workers.add(outcome.worker)
            p = self.by_id[outcome.mutant_id]
            whole_suite = bool(p.task and p.task.full_suite)
            confirmed_here = outcome.phase == Phase.CONFIRM and not whole_suite
            self.checked += confirmed_here
            if confirmed_here and outcome.status != Status.SURVIVED:
                # Its covering tests passed; a part of the suite detected it: a survivor until the
                # whole suite, in its order, says otherwise (recheck).
                self._record(replace(outcome, status=Status.SURVIVED, killed_by=(), detail=""), Phase.SELECT,
                             outcome.tests_run, outcome.seconds)
                self.detected_by_part.append(p)
            else:
                self._record(outcome, Phase.CONFIRM if whole_suite or confirmed_here else Phase.SELECT,
                             outcome.tests_run, outcome.seconds)
            if outcome.status == Status.SURVIVED and not whole_suite and not confirmed_here:
                survivors.append(p)
            task = by_id[outcome.mutant_id]
            self.progress.advance(outcome.status, weights[task.mutant.id], self.expected.spent(task, outcome))
            self._check_budget()

        if self.budget is not None and tasks:
            tasks = self._within_budget(tasks, self.budget)
        by_id = {task.mutant.id: task for task in tasks}
        weights = {task.mutant.id: self.expected.seconds(task, later=False) for task in tasks}
        self.progress.phase("mutants", len(tasks), sum(weights.values()), 0.0 if self.warm else self.expected.start,
                            max(1, min(self.jobs, len(tasks))))
        # Not under a budget: a mutant stopped between its head and its parts would have no verdict.
        splits = {} if self.budget is not None else {
            task.mutant.id: split for task in tasks
            if (split := split_hot(task, self.baseline, self.policy, self.jobs)) is not None}
        heads: dict[str, Outcome] = {}
        parts: dict[str, list[Outcome]] = {}
        waiting: dict[str, int] = {}  # a passed head's follow-ups still to answer
        unanswered = set(weights)

        def split_or_selected(outcome: Outcome) -> tuple[Task, ...]:
            split = splits.get(outcome.mutant_id)
            if split is not None and outcome.mutant_id not in heads:
                if outcome.status == Status.SURVIVED:  # a likely survivor: the rest of its tests follow
                    heads[outcome.mutant_id], parts[outcome.mutant_id] = outcome, []
                    others = sum(weights[m] for m in unanswered if m != outcome.mutant_id)
                    follow = split.follow_up(others, self.jobs)
                    waiting[outcome.mutant_id] = len(follow)
                    return follow
            elif split is not None:
                parts[outcome.mutant_id].append(outcome)
                waiting[outcome.mutant_id] -= 1
                if waiting[outcome.mutant_id]:
                    return ()
                outcome = combined(heads[outcome.mutant_id], parts[outcome.mutant_id], split.confirms)
            unanswered.discard(outcome.mutant_id)
            selected(outcome)
            return ()

        # The hot mutants' heads first: a passed one's parts then find workers free sooner.
        ordered = sorted(tasks, key=lambda t: t.mutant.id not in splits)
        self._run_within_budget(executor, [splits[t.mutant.id].head if t.mutant.id in splits else t
                                           for t in ordered], split_or_selected)
        self.ledger.flush()
        return survivors

    @property
    def _stop_at(self) -> float | None:
        return self.budget.ends if self.budget is not None else None

    def _check_budget(self) -> None:
        if self.budget is not None and self.budget.left() <= 0:
            raise BudgetSpent

    def _run_within_budget(self, executor: Executor, tasks: list[Task], on_outcome: Callable[[Outcome], FollowUps]) -> None:
        """The executor's run, stopped when the budget is spent (estimates can be wrong: a budget
        holds anyway); the mutants it had not answered for are stored as not_run."""
        try:
            executor.run(tasks, on_outcome, stop_at=self._stop_at)
        except BudgetSpent:
            for task in tasks:
                if task.mutant.id not in self.ledger.rows:
                    p = self.by_id[task.mutant.id]
                    self.ledger.record(OutcomeRow(p.mutant.id, Status.NOT_RUN, (), 0, p.covering, 0.0, False, "",
                                                  Phase.NONE, "past the time budget"))

    def _within_budget(self, tasks: list[Task], budget: Budget) -> list[Task]:
        """The tasks that fit in what is left of the budget, best first; the rest are stored as
        not_run (never a verdict, never reused)."""
        fit = budget.fit(tasks, lambda task: task_seconds(task, self.baseline, self.policy))
        for task in fit.left_out:
            p = self.by_id[task.mutant.id]
            self.ledger.record(OutcomeRow(p.mutant.id, Status.NOT_RUN, (), 0, p.covering, 0.0, False, "", Phase.NONE,
                                          "past the time budget"))
        self.ledger.flush()
        self.progress.plan(fit.text(budget))
        return list(fit.run)

    def confirm(self, executor: Executor, survivors: list[PlannedMutant], policy: str = "smart") -> list[PlannedMutant]:
        """Survivors against the tests `smart` picks (see Baseline.confirming) or the whole suite (`full`);
        returns those detected by a part of the suite, which only the whole suite may confirm (see
        `recheck`)."""
        tasks = [whole_suite_task(p, self.baseline, self.policy) if policy == "full"
                 else confirmation_task(p, self.baseline, self.policy) for p in survivors]
        if self.budget is not None:  # a survivor not confirmed in time stays a survivor of its covering tests
            tasks = list(self.budget.fit(tasks, lambda task: task_seconds(task, self.baseline, self.policy)).run)
        partial_ids = {task.mutant.id for task in tasks if not task.full_suite}
        detected_by_part: list[PlannedMutant] = []

        def confirmed(outcome: Outcome) -> None:
            self.workers.add(outcome.worker)
            previous = self.ledger.rows[outcome.mutant_id]
            tests_run, seconds = previous.tests_run + outcome.tests_run, previous.seconds + outcome.seconds
            if outcome.status != Status.SURVIVED and outcome.mutant_id in partial_ids:
                # Detected by a part of the suite: only the whole suite, in its order, may say so.
                detected_by_part.append(self.by_id[outcome.mutant_id])
                self.ledger.note(replace(previous, tests_run=tests_run, seconds=seconds))
                return
            self._record(outcome, Phase.CONFIRM, tests_run, seconds)
            self.flipped += outcome.status != Status.SURVIVED
            self.progress.advance(outcome.status, weights.get(outcome.mutant_id, 0.0))
            self._check_budget()

        weights = {task.mutant.id: self.expected.seconds(task) for task in tasks}
        self.progress.phase("survivors vs the rest of the suite", len(tasks), sum(weights.values()), 0.0,
                            max(1, min(self.jobs, len(tasks))))
        try:
            executor.run(tasks, confirmed, stop_at=self._stop_at)
        except BudgetSpent:
            pass  # the survivors not confirmed in time stay survivors of their covering tests
        self.ledger.flush()
        return detected_by_part

    def recheck(self, executor: Executor, planned: list[PlannedMutant]) -> None:
        """The whole suite, in its own order, has the last word on a partial detection."""

        def rechecked(outcome: Outcome) -> None:
            self.workers.add(outcome.worker)
            previous = self.ledger.rows[outcome.mutant_id]
            self._record(outcome, Phase.CONFIRM, previous.tests_run + outcome.tests_run,
                         previous.seconds + outcome.seconds)
            self.flipped += outcome.status != Status.SURVIVED
            self.progress.advance(outcome.status)
            self._check_budget()

        tasks = [whole_suite_task(p, self.baseline, self.policy) for p in planned]
        if self.budget is not None:  # not rechecked in time: a survivor of its covering tests, as selected
            tasks = list(self.budget.fit(tasks, lambda task: task_seconds(task, self.baseline, self.policy)).run)
        try:
            executor.run(tasks, rechecked, stop_at=self._stop_at)
        except BudgetSpent:
            pass
        self.ledger.flush()


# A forked mutant's own cost beyond its tests (fork, first test's page faults, exit), measured on semver.
FORK_SECONDS = 0.01

# pytest's own cost per test run in a forked child or a fresh run, which the baseline's test durations
# (setup + call + teardown) leave out: its hooks and reports, a child's first touch of the server's
# memory. Measured on survivors, (child's seconds - their tests' durations) / tests: 0.16 ms (dateutil),
# 0.12 ms (sqlite-utils), 0.4-0.6 ms (Markdown).
PER_TEST_SECONDS = 0.0003


# The share of mutants killed, where no stored run says otherwise for their operator (semver, dateutil
# and sqlite-utils: 80-93 %; Markdown's registration tables 74 %: benchmarks/bench_forecast.json).
DEFAULT_KILL_RATE = 0.8


@dataclass(frozen=True)
class Expectation:
    """What a mutant is expected to cost, all phases together: killed (most often by its first test:
    they run fastest first; then the same test again on the unmutated code, the kill's control run,
    made once per worker's server for kills by the same first test: `control_share`),
    or a survivor that runs every covering test and then its confirmation, or a timeout that costs its
    timeout, weighed by its operator's survival and timeout rates in stored runs. Each pytest process
    costs `start` (a fresh run: an import-time mutant, twice if it survives), each test its duration in
    the baseline plus PER_TEST_SECONDS. The
    forecast and the ETA add these up; the budget keeps the pessimistic `task_seconds` (it must not
    start what cannot finish)."""

    baseline: Baseline
    policy: TimeoutPolicy
    survival: dict[str, float]
    confirm: str  # smart | full | off
    control_share: dict[str, float] = field(default_factory=dict)  # first test -> kills that pay a control run
    # operator -> its mutants' timeout rate in stored runs: a looping mutant costs its whole timeout
    # (sqlite-utils' PR: 2-3 of them at 2 s each, which the forecast left out).
    timeouts: dict[str, float] = field(default_factory=dict)

    def sharing_controls(self, tasks: list[Task], jobs: int) -> Expectation:
        """Of n kills whose first test is t, about min(jobs, n) make a control run (worker.py keeps
        one per server for the same tests): semver, 368 such kills by 65 tests."""
        firsts: dict[str, int] = {}
        for task in tasks:
            if task.tests and not task.full_suite:
                firsts[task.tests[0]] = firsts.get(task.tests[0], 0) + 1
        return replace(self, control_share={test: min(jobs, n) / n for test, n in firsts.items()})

    @property
    def start(self) -> float:
        """A pytest process's configuration and collection of the suite, as the baseline measured it:
        a worker's fork server pays it once, a fresh run (forked from the zygote, which imported
        pytest and the installed modules but not the target) each time. A baseline that did not
        measure it (a stored map reused whole) gives its wall-clock start, interpreter included."""
        return self.baseline.collection or self.baseline.startup

    def seconds(self, task: Task, later: bool = True) -> float:
        """`later`: with a survivor's confirmation that runs after the mutant phase (not in its own
        child): the forecast's, not the mutant phase's ETA."""
        return sum(chance * cost for chance, cost in self.outcomes(task, later))

    def outcomes(self, task: Task, later: bool = True) -> tuple[tuple[float, float], ...]:
        """What `task` may cost, each with its chance: killed, survived (with its confirmation when
        `later`), timed out."""
        if task.phase == Phase.CONFIRM:  # a survivor against the rest of the suite: most stay survivors
            return ((1.0, self._run(task, task.tests if not task.full_suite else self.baseline.order)),)
        survives = self.survival.get(task.mutant.operator, 1.0 - DEFAULT_KILL_RATE)
        tests = task.tests if not task.full_suite else self.baseline.order
        killed = self._run(task, tests[:1]) + self._control(tests[:1])
        confirmation = self._confirmation(task) if later and not task.full_suite else 0.0
        survived = self._run(task, tests + task.then) + confirmation
        times_out = min(self.timeouts.get(task.mutant.operator, 0.0), 1.0 - survives)
        return ((1.0 - survives - times_out, killed), (survives, survived), (times_out, task.timeout))

    def spent(self, task: Task, outcome: Outcome) -> float:
        """What `task` cost by this model, now that its verdict is known (the ETA's pace): a kill in its
        covering tests, a timeout its timeout, else every test it ran."""
        if outcome.status == Status.TIMEOUT:
            return task.timeout
        if outcome.status == Status.SURVIVED or outcome.phase != task.phase or task.phase == Phase.CONFIRM:
            return self._run(task, (task.tests if not task.full_suite else self.baseline.order) + task.then)
        first = task.tests[:1] if not task.full_suite else self.baseline.order[:1]
        return self._run(task, first) + self._control(first)

    def _control(self, first: tuple[str, ...]) -> float:
        """A kill's control run, its share of it where kills by the same test share one."""
        share = self.control_share.get(first[0], 1.0) if first else 1.0
        return share * (FORK_SECONDS + self._tests(first))

    def _run(self, task: Task, tests: tuple[str, ...]) -> float:
        """One pytest run of `tests` with the mutant: in a fork of the server, or a fresh run."""
        return (self.start if task.mode == "fresh" else FORK_SECONDS) + self._tests(tests)

    def _tests(self, tests: tuple[str, ...]) -> float:
        return self.baseline.duration(tests) + PER_TEST_SECONDS * len(tests)

    def _confirmation(self, task: Task) -> float:
        """A survivor's confirmation, when its task does not run it (`then`): another run, fresh for
        an import-time mutant."""
        if self.confirm == "off" or task.then:
            return 0.0
        if self.confirm == "full":
            return self._run(task, self.baseline.order)
        return self._run(task, self.baseline.confirming(task.tests, from_start=task.mode == "fresh",
                                                        mutant=task.mutant))


@dataclass(frozen=True)
class Forecast:
    """What is coming, said once the baseline is in: the mutants' expected costs spread over the
    workers, after each worker's start (its fork server collects the suite once)."""

    seconds: float
    workers: int
    start: float  # one pytest process's start (the baseline's collection), as priced
    patched: int  # mutants to run in the fork server
    fresh: int  # import-time mutants: a fresh run each
    settled: int  # settled without running (stored verdicts, no coverage)
    waits: float = 0.0  # the workers' own start it waits for (none when they started during the baseline)
    likely: tuple[float, float] | None = None  # where it ends 9 times in 10, as far as survival decides

    def text(self) -> str:
        """`51 mutants to run (45 in the fork server, 6 import-time: a fresh interpreter each), 1 settled
        without running; about 12 s on 2 workers (likely 8 s to 20 s, as many survive)`, the range said
        where it reaches past 30 % of the point either way."""
        how = f"{self.patched} in the fork server" + (
            f", {self.fresh} import-time: a fresh interpreter each" if self.fresh else "")
        said = (f"{self.patched + self.fresh} mutants to run ({how}), {self.settled} settled without running; "
                f"{_about(_rough(self.seconds))} on {self.workers} worker{'s' if self.workers != 1 else ''}")
        if self.likely is not None and self.likely[1] >= 0.5:  # a sub-second point may still range far
            low, high = self.likely
            if low < self.seconds * 0.7 or high > self.seconds * 1.3:
                said += f" (likely {_rough(low)} to {_rough(high)}, as many survive)"
        return said


# Where a forecast's range is drawn: 9 runs in 10 end inside it, if survival is as likely as assumed.
LIKELY_Z = 1.645


def forecast(tasks: list[Task], settled: int, expected: Expectation, jobs: int, warm: bool = False) -> Forecast:
    """`warm`: the workers' servers started during the baseline (LocalExecutor.warm): no start to wait for.
    The point is the expected cost; the range, which mutants survive, each its own chance (a PR of
    five mutants whose survivors each run most of the suite ends far from its point either way)."""
    fresh = sum(t.mode == "fresh" for t in tasks)
    workers = max(1, min(jobs, len(tasks)))
    waits = 0.0 if warm else expected.start
    mean = variance = least = most = 0.0
    for task in tasks:
        outcomes = [(chance, cost) for chance, cost in expected.outcomes(task) if chance > 0]
        expected_cost = sum(chance * cost for chance, cost in outcomes)
        mean += expected_cost
        variance += sum(chance * cost * cost for chance, cost in outcomes) - expected_cost ** 2
        least += min(cost for _, cost in outcomes)
        most += max(cost for _, cost in outcomes)
    spread = LIKELY_Z * max(0.0, variance) ** 0.5
    likely = (waits + max(least, mean - spread) / workers, waits + min(most, mean + spread) / workers)
    return Forecast(waits + mean / workers, workers, expected.start, len(tasks) - fresh, fresh, settled, waits, likely)


def _about(rough: str) -> str:
    return rough if rough.startswith("under") else f"about {rough}"


def task_seconds(task: Task, baseline: Baseline, policy: TimeoutPolicy) -> float:
    """One mutant's estimated cost, as if it survived its covering tests: the forecast's and the budget's."""
    if task.mode != "fresh":
        return baseline.duration(task.tests) + FORK_SECONDS
    return policy.startup + (baseline.seconds if task.full_suite else baseline.duration(task.tests))


def _rough(seconds: float) -> str:
    if seconds < 0.5:
        return "under 1 s"  # not "about 0 s": that reads as nothing to do
    if seconds < 9.95:  # whole seconds would be 30-50 % off here (1.4 s is not "about 1 s")
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s" if seconds < 180 else f"{seconds / 60:.0f} min"  # 90 s and 150 s are not both "2 min"


def _mutant_row(m: Mutant, commit: str) -> MutantRow:
    return MutantRow(m.id, m.file, m.line, m.end_line, m.column, m.end_column, m.operator, m.original,
                     m.replacement, m.agent, commit, m.qualname, *m.coverage_lines, represents=m.represents,
                     table_line=m.table_line or None)
