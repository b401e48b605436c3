"""The "what is coming" forecast is priced from what the baseline measured (docs/performance.md#forecasts)."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli import mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

pytestmark = pytest.mark.slow  # a real run

# Every pytest process of this suite sleeps this long while it collects (the human's conftest).
COLLECTION_SLEEP = 0.4

MODULE = """RATE = 3
LIMIT = 10


def charge(n):
    return n * RATE


def capped(n):
    if n > LIMIT:
        return LIMIT
    return n
"""

TESTS = """from pkg.mod import capped, charge


def test_charge():
    assert charge(2) == 6


def test_capped():
    assert capped(12) == 10
    assert capped(3) == 3
"""


def test_import_time_mutants_are_priced_a_fresh_collection_each_and_the_workers_one(repo: GitRepo) -> None:
    """A mutant of a module constant runs in a fresh pytest process (once more for its confirmation
    if it survives); a function's mutant in a fork of the worker's server, which collected the suite
    once. Both are priced by the collection the baseline measured: here at least the conftest's sleep."""
    repo.commit("human: a suite whose collection is slow",
                files={"pkg/__init__.py": "", "tests/__init__.py": "",
                       "tests/conftest.py": f"import time\n\ntime.sleep({COLLECTION_SLEEP})\n"})
    repo.commit(CLAUDE, files={"pkg/mod.py": MODULE, "tests/test_mod.py": TESTS})
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode in (0, 3), result.stderr
    line = re.search(r"mutagate: \d+ mutants to run \((\d+) in the fork server, (\d+) import-time: a fresh "
                     r"interpreter each\), 0 settled without running; about (\d+\.\d|\d+) s on 1 worker"
                     r"( \(likely .+ to .+, as many survive\))?$",
                     result.stderr, re.MULTILINE)
    assert line, result.stderr
    patched, fresh = int(line[1]), int(line[2])
    assert patched >= 3 and fresh >= 2  # n * RATE, n > LIMIT, return n ...; RATE = 3, LIMIT = 10
    coming = json.loads(result.stdout)["forecast"]
    start, seconds = coming["start"], coming["seconds"]
    assert coming["workers"] == 1
    assert start >= COLLECTION_SLEEP  # measured, not a constant: the conftest's sleep is in it
    # Each import-time mutant at least one fresh start (a kill) and at most two (a survivor and its
    # confirmation); a function's mutant no start at all (its tests here take microseconds: 0.1 s each
    # is far above its fork and its tests); the worker's own start is not waited for: its server
    # started during the baseline.
    assert coming["waits"] == 0.0
    assert fresh * start <= seconds <= 2 * fresh * start + 0.1 * (patched + fresh), (coming, result.stderr)
    assert abs(float(line[3]) - seconds) <= 0.06  # the line says the same figure, in tenths under 10 s
