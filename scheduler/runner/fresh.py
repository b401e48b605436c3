"""Mode `fresh`: the suite (or some tests) in a fresh interpreter, for mutants that run at import
time; the mutated file is already on disk. Stops at the first failure."""

from __future__ import annotations

import json

import pytest

from .common import PYTEST_FLAGS, _Collector


def fresh(out: str, pytest_args: list[str]) -> int:
    collector = _Collector()
    code = pytest.main([*pytest_args, "-x", *PYTEST_FLAGS], plugins=[collector])
    with open(out, "w") as handle:
        json.dump({"exit_code": int(code), "failed": collector.failed, "tests_run": len(collector.outcomes)}, handle)
    return 0
