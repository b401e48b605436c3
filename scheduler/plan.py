"""The plan: for each mutant, which tests to run, in which order, how, and for how long."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from mutator.config import Config
from mutator.mutant import DefaultsOf, Mutant
from results.status import Phase
from scheduler.baseline import Baseline
from scheduler.likely import SuiteSources, likeliest_first
from scheduler.worker import Task


@dataclass(frozen=True)
class PlannedMutant:
    mutant: Mutant
    covering: tuple[str, ...]  # tests that ran the mutated lines in the baseline, fastest first
    task: Task | None  # None: nothing covers it (no_coverage)
    cache_key: str


@dataclass(frozen=True)
class TimeoutPolicy:
    multiplier: float
    floor: float
    startup: float  # a fresh interpreter's start and collection, measured in the baseline

    def for_tests(self, seconds: float, fresh: bool) -> float:
        return self.multiplier * seconds + self.floor + (2 * self.startup if fresh else 0.0)


def plan_mutants(
    mutants: list[Mutant],
    baseline: Baseline,
    config: Config,
    policy: TimeoutPolicy,
    snapshot: Path,
    tool_version: str,
    test_args: tuple[str, ...],
    no_bail: bool,
) -> list[PlannedMutant]:
    hasher = _ContentHashes(snapshot)
    sources = SuiteSources(snapshot)
    all_tests = baseline.ordered(frozenset(baseline.durations))
    planned = []
    for mutant in mutants:
        # Coverage is read from the mutant's statement: coverage.py reports only some lines of a
        # statement spread over several (see mutator/statements.py).
        first, last = mutant.coverage_lines
        # A table row's likeliest killers first (scheduler/likely.py): a kill stops at the first failure.
        covering = likeliest_first(mutant, baseline.ordered(baseline.covering(mutant.file, first, last)), sources)
        import_time = not mutant.in_function or baseline.runs_at_import(mutant.file, first, last)
        if mutant.defaults_of is not None and defaults_patchable(mutant.file, mutant.defaults_of, baseline):
            # Computed at import, used only by calls: the tests that ran the body made the calls.
            body = mutant.defaults_of
            tests = baseline.ordered(baseline.covering(mutant.file, body.body_first_line, body.body_last_line))
            seconds = baseline.duration(tests)
            task = Task(mutant, tests, policy.for_tests(seconds, fresh=False), "patch", not no_bail) if tests else None
        elif import_time and (reached := covering if mutant.in_function else _reached(mutant, baseline)):
            # Only a fresh interpreter sees the mutant where it runs at import, but the tests that use
            # it are known: for a class attribute or a module constant, the tests that ran the code
            # that reads it; for a function that also runs while the suite is imported and collected
            # (a parametrize value, a constant built by a call), the tests that ran its statement.
            # Fastest first, stop at the first kill; a survivor is confirmed as any other (run.py).
            tests = likeliest_first(mutant, reached, sources)
            seconds = baseline.duration(tests)
            task = Task(mutant, tests, policy.for_tests(seconds, fresh=True), "fresh", not no_bail)
        elif import_time:
            # Code that runs when the module is imported, and that no test is known to use: every
            # test that imports it could see it, and only a fresh interpreter imports the mutated
            # module: run the whole suite there.
            tests = all_tests
            seconds = baseline.seconds
            task = Task(mutant, tests, policy.for_tests(seconds, fresh=True), "fresh", not no_bail, full_suite=True)
        elif covering:
            tests = covering
            seconds = baseline.duration(tests)
            task = Task(mutant, tests, policy.for_tests(seconds, fresh=False), "patch", not no_bail)
        else:
            tests, task = (), None
        key = cache_key(mutant, tests, hasher, tool_version, test_args, no_bail, config.confirm)
        planned.append(PlannedMutant(mutant, tests, task, key))
    return planned


def probe_ranges(mutants: list[Mutant]) -> dict[str, list[tuple[int, int]]]:
    """Every line range `plan_mutants` reads the baseline's map at, per file: each mutant's
    statement, the body of a function whose defaults it changes, the code its value reaches. A
    baseline that measures only these (with probes) plans exactly as one that measured every line."""
    ranges: dict[str, set[tuple[int, int]]] = {}
    for mutant in mutants:
        ranges.setdefault(mutant.file, set()).update(mutant.probed_ranges)
    return {file: sorted(r) for file, r in ranges.items()}


def _reached(mutant: Mutant, baseline: Baseline) -> tuple[str, ...]:
    """The tests that ran the code an import-time value reaches (a class attribute: its class's
    lines; a module constant: the functions that read it), fastest first; empty when that is
    unknown or no test ran it (then: the whole suite)."""
    tests = frozenset().union(*(baseline.covering(mutant.file, *lines) for lines in mutant.reach_lines))
    return baseline.ordered(tests)


# Decorators known to call the function itself, so that they see its live defaults. Others may
# copy the signature when they run (validators, CLI builders): their defaults need a fresh import.
TRANSPARENT_DECORATORS = frozenset({"staticmethod", "classmethod"})


def defaults_patchable(file: str, defaults: DefaultsOf, baseline: Baseline) -> bool:
    """Whether new default values set on the live function, after collection, act as a fresh
    import would: nothing called it while the suite was being imported and collected, and no
    decorator may have taken a copy of them."""
    return (set(defaults.decorators) <= TRANSPARENT_DECORATORS
            and not baseline.runs_at_import(file, defaults.body_first_line, defaults.body_last_line))


def confirmation_task(planned: PlannedMutant, baseline: Baseline, policy: TimeoutPolicy) -> Task:
    """A survivor of its selected tests, re-run against the tests `--confirm smart` picks (see
    Baseline.confirming): catches what test selection misses (code run in subprocesses, side effects
    a later test of the same module detects, coverage the tracer could not see). A function's
    mutant runs in a fork of the server with the mutant also on disk for subprocesses, which sees
    what a fresh interpreter would; an import-time one in a fresh interpreter again."""
    fresh = planned.task is not None and planned.task.mode == "fresh"
    # The covering tests run again too: their side effects may be what a later test detects.
    tests = baseline.confirming(planned.covering, from_start=fresh, mutant=planned.mutant)
    if len(tests) >= len(baseline.order):
        return whole_suite_task(planned, baseline, policy)
    seconds = baseline.duration(tests)
    return Task(planned.mutant, tests, policy.for_tests(seconds, fresh=fresh), "fresh" if fresh else "patch",
                bail=True, phase=Phase.CONFIRM)


def confirmed_in_child(task: Task, baseline: Baseline, policy: TimeoutPolicy) -> Task:
    """`task` with its `--confirm smart` confirmation run in the same child once its covering
    tests all pass (`Task.then`): the tests `confirmation_task` adds to the covering ones, in the
    suite's order, so every one of them still runs after the covering tests' side effects. The
    covering tests then run once, not twice (in a survivor of a hot statement they are most of
    its price), and the confirmation gets its own timeout. An import-time mutant's fresh run the
    same (worker.Stages): one interpreter's start and collection fewer per survivor, whose tests
    then come from the suite's start (the mutant ran before any test). A mutant that bails only."""
    if task.full_suite or not task.bail or task.then:
        return task
    covering = set(task.tests)
    then = tuple(t for t in baseline.confirming(task.tests, from_start=task.mode == "fresh", mutant=task.mutant)
                 if t not in covering)
    if not then:
        return task
    return replace(task, then=then, then_timeout=policy.for_tests(baseline.duration(then), fresh=False))


def whole_suite_task(planned: PlannedMutant, baseline: Baseline, policy: TimeoutPolicy) -> Task:
    """A survivor against the whole suite, in its own order: `--confirm full`, and the last word on
    a mutant that only a part of the suite detected (that part might fail for want of an earlier
    test's state). An import-time mutant's in a fresh interpreter: other modules may read the value."""
    fresh = planned.task is not None and planned.task.mode == "fresh"
    timeout = policy.for_tests(baseline.seconds, fresh=fresh)
    return Task(planned.mutant, (), timeout, "fresh" if fresh else "patch", bail=True, full_suite=True, phase=Phase.CONFIRM)


def cache_key(
    mutant: Mutant,
    tests: tuple[str, ...],
    hasher: _ContentHashes,
    tool_version: str,
    test_args: tuple[str, ...],
    no_bail: bool,
    confirm: str = "smart",
) -> str:
    """Same key = same verdict: the mutant, the text of its file, the tests that decide it and the
    text of their files, the test arguments, the confirmation policy and the tool version."""
    test_files = sorted({t.split("::", 1)[0] for t in tests})
    parts = [tool_version, mutant.id, hasher.of(mutant.file), " ".join(test_args), str(no_bail), *sorted(tests)]
    if confirm != "smart":  # a survivor means something else under another policy
        parts.append(f"confirm={confirm}")
    parts += [f"{f}:{hasher.of(f)}" for f in test_files]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


class _ContentHashes:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, str] = {}

    def of(self, relative: str) -> str:
        if relative not in self._cache:
            path = self.root / relative
            data = path.read_bytes() if path.is_file() else b""
            self._cache[relative] = hashlib.sha256(data).hexdigest()
        return self._cache[relative]
