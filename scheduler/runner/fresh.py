"""Mode `fresh`: the suite (or some tests) in a fresh interpreter, for mutants that run at import
time (the mutated file is already on disk), and for re-running failing tests of the baseline.
Stops at the first failure unless told to run everything (`bail=False`). With a stage file beside
`out` (stages.py), the modules given hold a mutant's covering tests and its confirmation's."""

from __future__ import annotations

import json

import pytest

from .common import PYTEST_FLAGS, _Collector, cap_memory
from .stages import stage_marker, stage_spec


class _TwoStages:
    """A mutant's covering tests, then its confirmation's, chosen from the collected modules here
    (not named to pytest: a confirmation test whose id the mutant changes, a parametrize value its
    code computes, would make the whole run a usage error). A covering test not found is that usage
    error, as when it is named; a confirmation test not found is reported (`missing`). Creates the
    marker once every covering test has passed: the parent then gives the rest a timeout of its own,
    and the driver knows the verdict is the confirmation's."""

    def __init__(self, first: list[str], then: list[str], marker: str) -> None:
        self.first, self.then = first, then
        self.waiting = set(first)
        self.marker = marker
        self.failed = False
        self.missing: list[str] = []

    @pytest.hookimpl(trylast=True)  # after -k/-m and any plugin that reorders: the stages' order is final
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        found = {item.nodeid: item for item in items}
        absent = [t for t in self.first if t not in found]
        if absent:
            raise pytest.UsageError(f"not found: {absent[0]}")
        self.missing = [t for t in self.then if t not in found]
        chosen = [found[t] for t in dict.fromkeys([*self.first, *self.then]) if t in found]
        keep = {id(item) for item in chosen}
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in keep])
        items[:] = chosen

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
    stages = None
    try:
        with open(stage_spec(out)) as handle:
            spec = json.load(handle)
        stages = _TwoStages(spec["first"], spec["then"], stage_marker(out))
        plugins.append(stages)
    except FileNotFoundError:
        pass
    code = pytest.main([*pytest_args, *(["-x"] if bail else []), *PYTEST_FLAGS], plugins=plugins)
    with open(out, "w") as handle:
        json.dump({"exit_code": int(code), "failed": collector.failed, "failures": collector.failures,
                   "tests_run": len(collector.outcomes), **({"missing": stages.missing} if stages else {})}, handle)
    return 0
