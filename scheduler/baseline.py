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
    if result["failed"]:
        shown = ", ".join(result["failed"][:5]) + (" ..." if len(result["failed"]) > 5 else "")
        raise BadInput(
            f"{len(result['failed'])} test(s) fail before any mutation: {shown} "
            "(fix them, or exclude them with --deselect NODEID or deselect = [...] in [tool.mutagate])"
        )
    if result["exit_code"] == 5 or not result["tests"]:
        raise BadInput("pytest collected no tests: mutagate needs a test suite to measure")
    if result["exit_code"] not in (0,):
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
    durations = {t: v["duration"] for t, v in result["tests"].items()}  # in the order they ran
    return Baseline(durations, line_tests, frozenset(import_lines), sum(durations.values()), tuple(durations),
                    frozenset(result.get("observers", ())))
