"""Mode `fresh`: the suite (or some tests) in a fresh interpreter, for mutants that run at import
time (the mutated file is already on disk), and for re-running failing tests of the baseline.
Stops at the first failure unless told to run everything (`bail=False`)."""

from __future__ import annotations

import json

import pytest

from .common import PYTEST_FLAGS, _Collector, cap_memory


def fresh(out: str, pytest_args: list[str], bail: bool = True) -> int:
    cap_memory()  # a new interpreter (no fork_child): capped here, at its size now plus the limit
    collector = _Collector()
    code = pytest.main([*pytest_args, *(["-x"] if bail else []), *PYTEST_FLAGS], plugins=[collector])
    with open(out, "w") as handle:
        json.dump({"exit_code": int(code), "failed": collector.failed, "failures": collector.failures,
                   "tests_run": len(collector.outcomes)}, handle)
    return 0
