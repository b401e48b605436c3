"""A survivor of a hot statement, spread over the workers instead of run on one.

A statement covered by hundreds of tests makes its survivor run all of them, and its confirmation,
in one child: on sqlite-utils' PR one such (equivalent) mutant is 9 of its 10 seconds of mutants,
while the other worker idles. Most mutants die on their first tests (they run fastest first), so
such a task first runs a *head*: its fastest covering tests, a twentieth of their cost. Only a head
that passes, a likely survivor, and only if it would be the run's tail, is then split into *parts*,
one per worker, that the free workers take at once:
whole test groups each (a class, or a module for plain test functions: confirmation's unit, whose
tests share fixtures and state), each part its groups' covering tests fastest first and then their
confirmation tests in the suite's order, as the unsplit task would in one child. The verdict is the
parts' together: a covering test that fails kills it, a confirmation test that fails is a part of
the suite's word (rechecked by the whole suite), all passing is a confirmed survivor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from results.status import Phase, Status
from scheduler.baseline import Baseline, test_group
from scheduler.plan import TimeoutPolicy
from scheduler.worker import Outcome, Task

# A task whose tests, if it survives, cost at least this much is split (seconds of baseline time):
# below it, a part's fork and the head's tests run again cost more than the parallelism saves.
HOT_SECONDS = 2.0
HEAD_SHARE = 0.05  # of the covering tests' cost, fastest first: where most kills happen


@dataclass(frozen=True)
class Split:
    whole: Task  # the task unsplit: what follows a passed head while other work keeps the workers busy
    head: Task  # run first, in the usual round
    parts: tuple[Task, ...]  # what follows a passed head when it would be the run's tail
    seconds: float  # the whole task's cost if it survives (baseline time)
    confirms: bool  # the unsplit task confirmed in its child (Task.then): a pass of every part does too

    def follow_up(self, others_left: float, workers: int) -> tuple[Task, ...]:
        """After a passed head: the parts if this survivor would still run when the other mutants'
        expected work (`others_left`, seconds) is spread over the workers, else the whole task in
        one child (every worker has work: a split would only add forks and the head's tests again)."""
        return self.parts if self.seconds > others_left / max(1, workers) else (self.whole,)


def split_hot(task: Task, baseline: Baseline, policy: TimeoutPolicy, workers: int) -> Split | None:
    """The head and parts of a hot task, or None where a split does not pay (one worker, a cheap
    task, one group) or does not apply (import-time mutants, whole-suite runs, --no-bail)."""
    if workers < 2 or task.mode != "patch" or task.full_suite or not task.bail or not task.tests:
        return None
    seconds = baseline.duration(task.tests) + baseline.duration(task.then)
    if seconds < HOT_SECONDS:
        return None
    covering = set(task.tests)
    groups: dict[str, list[str]] = {}
    for test in (*task.tests, *task.then):
        groups.setdefault(test_group(test), []).append(test)
    with_covering = [tests for tests in groups.values() if covering.intersection(tests)]
    if len(with_covering) < 2:
        return None
    loads = _balanced(with_covering, [t for t in groups.values() if not covering.intersection(t)],
                      min(workers, len(with_covering)), baseline)
    position = {test: index for index, test in enumerate(baseline.order)}
    parts = []
    for tests in loads:
        mine = set(tests)
        first = tuple(t for t in task.tests if t in mine)  # fastest first, as planned
        then = tuple(sorted((t for t in tests if t not in covering), key=lambda t: position.get(t, len(position))))
        parts.append(replace(task, tests=first, timeout=policy.for_tests(baseline.duration(first), fresh=False),
                             then=then, then_timeout=policy.for_tests(baseline.duration(then), fresh=False)
                             if then else 0.0))
    head = replace(task, tests=_head(task.tests, baseline), then=(), then_timeout=0.0)
    head = replace(head, timeout=policy.for_tests(baseline.duration(head.tests), fresh=False))
    return Split(task, head, tuple(parts), seconds, bool(task.then))


def _head(tests: tuple[str, ...], baseline: Baseline) -> tuple[str, ...]:
    budget = HEAD_SHARE * baseline.duration(tests)
    spent, head = 0.0, []
    for test in tests:
        if head and spent + baseline.durations.get(test, 0.0) > budget:
            break
        head.append(test)
        spent += baseline.durations.get(test, 0.0)
    return tuple(head)


def _balanced(covering_groups: list[list[str]], other_groups: list[list[str]], count: int,
              baseline: Baseline) -> list[list[str]]:
    """Groups dealt to `count` parts, the costliest first to the lightest part (every part gets a
    group with covering tests: a part of confirmation tests alone would have nothing to kill with)."""
    parts: list[list[str]] = [[] for _ in range(count)]
    load = [0.0] * count

    def cost(tests: list[str]) -> float:
        return baseline.duration(tuple(tests))

    for index, tests in enumerate(sorted(covering_groups, key=cost, reverse=True)):
        to = index if index < count else min(range(count), key=load.__getitem__)
        parts[to].extend(tests)
        load[to] += cost(tests)
    for tests in sorted(other_groups, key=cost, reverse=True):
        to = min(range(count), key=load.__getitem__)
        parts[to].extend(tests)
        load[to] += cost(tests)
    return parts


def combined(head: Outcome, parts: list[Outcome], confirms: bool) -> Outcome:
    """One verdict from the head and the parts: a part a covering test failed in; else one whose
    confirmation detected the mutant (a partial detection); else
    a survivor, confirmed in the children if the unsplit task would have been."""
    parts = sorted(parts, key=lambda p: (p.killed_by, p.status))  # they end in any order: be reproducible
    tests_run = head.tests_run + sum(p.tests_run for p in parts)
    seconds = head.seconds + sum(p.seconds for p in parts)
    flaky = tuple(sorted({f for o in (head, *parts) for f in o.flaky}))
    killed = [p for p in parts if p.status != Status.SURVIVED and p.phase != Phase.CONFIRM]
    detected = [p for p in parts if p.status != Status.SURVIVED and p.phase == Phase.CONFIRM]
    chosen = (killed or detected or [replace(parts[0], status=Status.SURVIVED, killed_by=(), detail="",
                                             phase=Phase.CONFIRM if confirms else Phase.SELECT)])[0]
    return replace(chosen, tests_run=tests_run, seconds=seconds, flaky=flaky)
