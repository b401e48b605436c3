"""The baseline: one run of the target's suite under coverage with a context per test."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from mutator.errors import BadInput
from scheduler.runtime import Runtime

IMPORT_TIME = ""  # coverage's context for code run outside any test (imports, collection)


@dataclass(frozen=True)
class Baseline:
    durations: dict[str, float]  # node id -> seconds (setup + call + teardown)
    line_tests: dict[tuple[str, int], frozenset[str]]  # (file, line) -> tests that ran it
    import_lines: frozenset[tuple[str, int]] = field(default_factory=frozenset)  # ran at import time
    seconds: float = 0.0
    order: tuple[str, ...] = ()  # the suite's own order, as the baseline ran it
    observers: frozenset[str] = frozenset()  # tests that start processes or read a mutated file
    flaky: dict[str, str] = field(default_factory=dict)  # quarantined: failed, then passed on a retry

    def covering(self, file: str, first: int, last: int) -> frozenset[str]:
        tests: set[str] = set()
        for line in range(first, last + 1):
            tests.update(self.line_tests.get((file, line), ()))
        return frozenset(tests)

    def runs_at_import(self, file: str, first: int, last: int) -> bool:
        return any((file, line) in self.import_lines for line in range(first, last + 1))

    def could_observe(self, covering: tuple[str, ...]) -> tuple[str, ...]:
        """Every test that could detect a mutant these tests cover, in the suite's order.

        A test that runs before the first covering one, in one process, runs exactly as in the
        baseline: no mutated line has run yet, so nothing it sees has changed. It is left out
        unless it starts processes or reads the mutated file, where coverage cannot follow. Every
        later test stays in: the covering tests' side effects may be what one of them detects."""
        first = min((self._positions[t] for t in covering if t in self._positions), default=0)
        return tuple(t for index, t in enumerate(self.order) if index >= first or t in self.observers)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {test: index for index, test in enumerate(self.order)}

    def duration(self, tests: tuple[str, ...]) -> float:
        return sum(self.durations.get(t, 0.0) for t in tests)

    def ordered(self, tests: frozenset[str]) -> tuple[str, ...]:
        """Fastest first; ties by name so that plans are reproducible."""
        return tuple(sorted(tests, key=lambda t: (self.durations.get(t, 0.0), t)))


def run_baseline(runtime: Runtime, workdir: Path, files: list[str]) -> Baseline:
    out = runtime.scratch / "baseline.json"
    include = [str(workdir / f) for f in files]
    command = [runtime.python, str(runtime.runner), "baseline", str(out), *include, "--", *runtime.pytest_args]
    proc = subprocess.run(command, cwd=workdir, env=runtime.env(workdir), capture_output=True, text=True)
    if not out.is_file():
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise BadInput(f"the test suite could not run: {detail[-1] if detail else f'exit code {proc.returncode}'}")
    result = json.loads(out.read_text())
    if result["exit_code"] == 5 or not result["tests"]:
        raise BadInput("pytest collected no tests: mutagate needs a test suite to measure")
    flaky = _classify_failures(runtime, workdir, result) if result["failed"] else {}
    if result["exit_code"] not in (0, 1) or (result["exit_code"] == 1 and not result["failed"]):
        raise BadInput(f"the baseline pytest run exited with code {result['exit_code']} (collection errors?)")
    prefix = os.path.realpath(workdir) + os.sep
    line_tests: dict[tuple[str, int], frozenset[str]] = {}
    import_lines: set[tuple[str, int]] = set()
    for path, lines in result["lines"].items():
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix):].replace(os.sep, "/")
        for line, contexts in lines.items():
            key = (rel, int(line))
            tests = frozenset(c for c in contexts if c != IMPORT_TIME)
            if tests:
                line_tests[key] = tests
            if IMPORT_TIME in contexts:
                import_lines.add(key)
    durations = {t: v["duration"] for t, v in result["tests"].items() if t not in flaky}  # in the order they ran
    if flaky:  # quarantined: never selected, never trusted to kill
        line_tests = {key: tests - flaky.keys() for key, tests in line_tests.items() if tests - flaky.keys()}
    return Baseline(durations, line_tests, frozenset(import_lines), sum(durations.values()), tuple(durations),
                    frozenset(result.get("observers", ())) - flaky.keys(), flaky)


def _classify_failures(runtime: Runtime, workdir: Path, result: dict) -> dict[str, str]:
    """The baseline's failing tests, run again alone and then in the suite's order: one that passes
    on a retry is flaky (returned with its failure line, to be quarantined); one that fails every
    time is an error the user must fix or deselect."""
    failures: dict[str, str] = result.get("failures") or {}
    failed = list(result["failed"])
    alone = _rerun(runtime, workdir, "alone", failed)
    still = [t for t in failed if t in alone]
    if still:  # maybe it needs the tests before it: the whole suite again, in order
        in_order = _rerun(runtime, workdir, "in-order", [], expected=still)
        still = [t for t in still if t in in_order]
    if still:
        first = still[0]
        why = failures.get(first) or alone.get(first) or "failed"
        more = f" and {len(still) - 1} more" if len(still) > 1 else ""
        raise BadInput(
            f"{first} fails before any mutation ({why}){more}; fix it, or leave it out with --deselect NODEID "
            "or deselect = [...] in [tool.mutagate]"
        )
    return {t: failures.get(t, "") for t in failed}


def _rerun(runtime: Runtime, workdir: Path, name: str, tests: list[str],
           expected: list[str] | None = None) -> dict[str, str]:
    """Failing tests (node id -> failure line) of a plain run of `tests` (all: the whole suite); a
    run that died counts as every `expected` test failing again (never as a pass)."""
    out = runtime.scratch / f"baseline-{name}.json"
    command = [runtime.python, str(runtime.runner), "fresh", str(out), "--no-bail", "--", *runtime.pytest_args, *tests]
    subprocess.run(command, cwd=workdir, env=runtime.env(workdir), capture_output=True, text=True)
    if not out.is_file():
        return {t: "the test run did not finish" for t in (expected if expected is not None else tests)}
    rerun = json.loads(out.read_text())
    return {t: (rerun.get("failures") or {}).get(t, "") for t in rerun["failed"]}
