"""`mutagate weak-tests` for a person: a table that fits the terminal, and counts that say what they
mean when the run stopped each mutant at its first kill. Real repository, real runs, a real terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import ENTRY, PROJECT, mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

CODE = '''
def shipping(weight, express):
    cost = weight * 2
    if express:
        cost = cost + 5
    return round(cost, 2)
'''

# test_quick kills the `weight * 2` mutants first (it is the fastest); the slow test would kill them too,
# but a bailing run never runs it on them. Whole costs round alike to 2 or 3 places: `round(cost, 2)` ->
# `round(cost, 3)` survives both.
TESTS = '''
import time

from pkg.ship import shipping


def test_quick():
    assert shipping(3, False) == 6


def test_slow_but_long_named_so_that_a_sixty_column_terminal_has_to_fold_it():
    time.sleep(0.3)
    assert shipping(4, False) == 8
'''

SLOW = "tests/test_ship.py::test_slow_but_long_named_so_that_a_sixty_column_terminal_has_to_fold_it"


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> GitRepo:
    repo = GitRepo(tmp_path_factory.mktemp("weak") / "repo")
    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/ship.py": CODE,
                               "tests/test_ship.py": TESTS})
    return repo


def _run(repo: GitRepo, db: Path, *flags: str) -> None:
    result = mutagate("run", "--json", "--jobs", "1", "--db", str(db), *flags, cwd=repo.root)
    assert result.returncode == 0, result.stderr


def test_a_bailing_run_says_its_kills_are_first_kills(repo, tmp_path) -> None:
    db = tmp_path / "bail.duckdb"
    _run(repo, db)
    data = json.loads(mutagate("weak-tests", "--json", "--db", str(db), cwd=repo.root).stdout)
    assert data["first_kill_only"] is True
    slow = next(row for row in data["weak_tests"] if row["test"] == SLOW)
    assert slow["killed_mutants"] == 0 and slow["surviving_mutants"] > 0  # "kills 0": it never ran on them
    shown = mutagate("weak-tests", "--db", str(db), cwd=repo.root).stdout
    assert "first kills" in shown
    prose = " ".join(shown.split())
    assert "0 here is not a weak test, and rows rank by survivors, then coverage." in prose
    assert "`mutagate run --no-bail` counts every kill." in prose
    # ranked by survivors, then coverage: not the slow test first for a kill rate it could not earn
    rows = [row["test"] for row in data["weak_tests"]]
    assert rows.index("tests/test_ship.py::test_quick") < rows.index(SLOW)

    db = tmp_path / "every.duckdb"
    _run(repo, db, "--no-bail")
    data = json.loads(mutagate("weak-tests", "--json", "--db", str(db), cwd=repo.root).stdout)
    assert data["first_kill_only"] is False
    slow_every = next(row for row in data["weak_tests"] if row["test"] == SLOW)
    assert slow_every["killed_mutants"] > 0  # the same test, every kill counted
    assert slow_every["surviving_mutants"] == slow["surviving_mutants"]  # survivors are exact either way
    shown = mutagate("weak-tests", "--db", str(db), cwd=repo.root).stdout
    assert "first kills" not in shown and "kills: the mutants this test fails on" in shown
    quick = next(row for row in data["weak_tests"] if row["test"] == "tests/test_ship.py::test_quick")
    assert slow_every["killed_mutants"] == quick["killed_mutants"]  # the slow test is no weaker than the quick one


def _in_a_terminal(args: list[str], cwd: Path, columns: int) -> str:
    """The command's output as a terminal `columns` wide gets it (a real pty with that window size)."""
    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([sys.executable, "-c", ENTRY, *args], cwd=cwd, stdout=follower, stderr=follower,
                               env={**env, "PYTHONPATH": str(PROJECT), "TERM": "xterm"})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the command closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    text = b"".join(chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)  # colours off: the characters a person sees


def test_the_table_fits_the_terminal_and_a_log_keeps_whole_test_ids(repo, tmp_path) -> None:
    db = tmp_path / "results.duckdb"
    _run(repo, db)
    seen = _in_a_terminal(["weak-tests", "--db", str(db)], repo.root, columns=60)
    lines = seen.splitlines()
    assert "first kills" in seen and max(len(line) for line in lines) <= 60, seen
    piped = mutagate("weak-tests", "--db", str(db), cwd=repo.root).stdout
    assert SLOW in piped  # a log has no width to fit: the test id stays whole, one line
    assert max(len(line) for line in piped.splitlines()) < len(SLOW) + 40, piped
