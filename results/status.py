"""The names of a mutant's fate, of the phase that decided it and of a run's state, in one place; and
the one table of how an undetected mutant is worded wherever it is shown.

They are stored as these strings, and the in-target runner (which may import nothing of ours)
speaks the same string values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    KILLED = "killed"  # a test failed (or the interpreter died) with the mutant in place
    TIMEOUT = "timeout"  # the tests ran past their deadline: detected, as Stryker counts it
    SURVIVED = "survived"  # every test that could detect it passed
    NO_COVERAGE = "no_coverage"  # no test ran its code
    NOT_RUN = "not_run"  # left out by the run's time budget: not measured, never counted as killed or in a score


DETECTED = (Status.KILLED, Status.TIMEOUT)
UNDETECTED = (Status.SURVIVED, Status.NO_COVERAGE)


class Phase(StrEnum):
    SELECT = "select"  # the tests that covered the mutated code
    CONFIRM = "confirm"  # a survivor against every test that could detect it (or a whole-suite run)
    NONE = "none"  # nothing to run: no test covers it
    IMPORTED = "imported"  # decided by another tool (import-mutmut)


class RunStatus(StrEnum):
    """A stored run's state (runs.status)."""

    RUNNING = "running"  # started, its owner still alive (or not yet known dead)
    FINISHED = "finished"  # every planned mutant settled (budget-cut ones stored as not_run)
    INTERRUPTED = "interrupted"  # stopped early (Ctrl-C, SIGTERM, an error): what was measured is kept
    ABANDONED = "abandoned"  # its owner process died without saying so
    REFUSED = "refused"  # stopped for bad input (a failing baseline, no tests): nothing measured to resume


@dataclass(frozen=True)
class Undetected:
    """How one kind of undetected mutant is worded, per place it is shown."""

    label: str  # a terminal line, the markdown report, the comparison: "survived"
    title: str  # an annotation's title: "survived"
    reason: str  # an annotation or a code-quality issue: "no test failed"
    finding: str  # a SARIF result: "the tests still pass"
    instruction: str  # what an agent is told after "`x` became `y` and ": "every test still passed: ..."


WHY_UNDETECTED: dict[str, Undetected] = {
    Status.SURVIVED: Undetected(
        label="survived", title="survived", reason="no test failed", finding="the tests still pass",
        instruction="every test still passed: add a test that fails on it"),
    Status.NO_COVERAGE: Undetected(
        label="no test covers it", title="not covered", reason="no test runs this code",
        finding="no test covers this line", instruction="no test runs this line: add a test that runs it and fails on it"),
}
