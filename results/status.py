"""The names of a mutant's fate and of the phase that decided it, in one place.

They are stored as these strings, and the in-target runner (which may import nothing of ours)
speaks the same string values.
"""

from __future__ import annotations

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
