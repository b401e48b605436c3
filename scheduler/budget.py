"""A run's time budget: which mutants fit, best first, in the seconds the run has left.

The clock starts with the command, so attribution, the baseline and the set-up all count. Each
mutant's cost is the run's own estimate (`scheduler.run.task_seconds`: its covering tests' baseline
time, as if it survived them), spread over the workers. Mutants go in PR mode's priority order
(`mutator.generate.operator_preference`: AI-failure operators and the operators that survived most
in stored runs first); one that would not fit is left out — stored as `not_run`, never as a verdict —
and cheaper ones after it still get their turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from mutator.generate import operator_preference
from scheduler.worker import Task


WRAP_UP_SECONDS = 1.5
WRAP_UP_SHARE = 0.05


class BudgetSpent(Exception):
    """The time budget ran out in the middle of a phase: what is still running is abandoned."""


@dataclass(frozen=True)
class Budget:
    seconds: float  # the whole run's allowance
    started: float  # time.monotonic() when the command began
    jobs: int = 1  # workers sharing the mutants
    priority: Mapping[str, float] = field(default_factory=dict)  # operator -> survival rate in stored runs

    @property
    def wrap_up(self) -> float:
        """Seconds kept back for what follows the last phase (stopping the workers, storing, the
        answer) and for the interpreter's start before the clock started: a budget is the whole
        command's, and an agent's hook that answers late is killed with nothing said
        (benchmarks/bench_hook.json: 1-2 s past the budget without it)."""
        return WRAP_UP_SECONDS + WRAP_UP_SHARE * self.seconds

    @property
    def ends(self) -> float:
        """When the phases must have stopped, on time.monotonic()'s clock."""
        return self.started + self.seconds - self.wrap_up

    def left(self, now: float | None = None) -> float:
        """Seconds of wall time the run's phases have left (never below zero)."""
        return max(0.0, self.ends - (time.monotonic() if now is None else now))

    def fit(self, tasks: Sequence[Task], cost: Callable[[Task], float], now: float | None = None) -> BudgetFit:
        """The tasks that fit in what is left, best first by priority; the others are left out. Both
        keep the plan's order."""
        left = self.left(now)
        capacity = left * max(1, self.jobs)  # worker-seconds: the estimate spreads over the workers
        preference = operator_preference(self.priority)
        best_first = sorted(range(len(tasks)), key=lambda i: preference(tasks[i].mutant.operator), reverse=True)
        spent, keep = 0.0, set()
        for index in best_first:
            seconds = cost(tasks[index])
            if spent + seconds <= capacity:
                keep.add(index)
                spent += seconds
        return BudgetFit(tuple(t for i, t in enumerate(tasks) if i in keep),
                         tuple(t for i, t in enumerate(tasks) if i not in keep), left)


@dataclass(frozen=True)
class BudgetFit:
    run: tuple[Task, ...]
    left_out: tuple[Task, ...]
    seconds_left: float  # when the fit was made (after the baseline)

    def text(self, budget: Budget) -> str:
        """What the run says before its mutant phase."""
        total = len(self.run) + len(self.left_out)
        return (f"budget: {len(self.run)} of {total} mutants to run fit in the {self.seconds_left:.0f} s left of "
                f"{budget.seconds:g} s; {len(self.left_out)} not run")
