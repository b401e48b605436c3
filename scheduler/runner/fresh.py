"""Mode `fresh`: the suite (or some tests) in a fresh interpreter, for mutants that run at import
time (the mutated file is already on disk), and for re-running failing tests of the baseline.
Stops at the first failure unless told to run everything (`bail=False`)."""

from __future__ import annotations

import json

import pytest

from .common import PYTEST_FLAGS, _Collector, cap_memory
from .stages import stage_marker, stage_spec


class _FirstStage:
    """Creates the marker once every test of the first stage (a mutant's covering tests, run before
    its confirmation's) has passed: the parent then gives the rest a timeout of its own, and the
    driver knows the verdict is the confirmation's."""

    def __init__(self, tests: list[str], marker: str) -> None:
        self.waiting = set(tests)
        self.marker = marker
        self.failed = False

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.waiting:
            return
        self.failed = self.failed or report.failed
        if report.when == "teardown":
            self.waiting.discard(report.nodeid)
            if not self.waiting and not self.failed:
                open(self.marker, "w").close()


def fresh(out: str, pytest_args: list[str], bail: bool = True) -> int:
    cap_memory()  # a new interpreter (no fork_child): capped here, at its size now plus the limit
    collector = _Collector()
    plugins: list[object] = [collector]
    try:
        with open(stage_spec(out)) as handle:
            plugins.append(_FirstStage(json.load(handle), stage_marker(out)))
    except FileNotFoundError:
        pass
    code = pytest.main([*pytest_args, *(["-x"] if bail else []), *PYTEST_FLAGS], plugins=plugins)
    with open(out, "w") as handle:
        json.dump({"exit_code": int(code), "failed": collector.failed, "failures": collector.failures,
                   "tests_run": len(collector.outcomes)}, handle)
    return 0
