"""A real project whose mutants behave in every way a run must handle."""

from __future__ import annotations

from tests.gitrepo import GitRepo

CLAUDE = "feat: behaviours\n\nCo-Authored-By: Claude <noreply@anthropic.com>"

# A small pricing module and its tests, with no test at the boundary: `price > 100` -> `price >= 100`
# survives (the daily loop and the CI replay start from it).
PRICES = '''
def discount(price, rate):
    if price > 100:
        return price * (1 - rate)
    return price
'''

PRICES_TESTS = '''
import pytest

from pkg.prices import discount


def test_big_order():
    assert discount(200, 0.5) == 100


@pytest.mark.parametrize("price", [50, 60])
def test_small_order(price):
    assert discount(price, 0.5) == price
'''

BEHAVIOURS = '''
import ctypes
import os
import sys


def double(x):
    return x * 2


def countdown(n):
    while n > 0:
        n -= 1
    return n


def segfault_guard(n):
    depth = 0
    if depth:
        ctypes.string_at(0)
    return n


def exit_guard(n):
    code = 0
    if code:
        sys.exit(3)
    return n


def hard_exit_guard(n):
    flag = 0
    if flag:
        os._exit(4)
    return n


def note(n):
    written = False
    if written:
        with open("MUTANT_WAS_HERE.txt", "w") as handle:
            handle.write("leak")
    return n


def tail(n):
    unused = 0
    return n


def untested(a, b):
    return a - b
'''

TESTS = '''
import os
import subprocess
import sys

from pkg.behaviours import countdown, double, exit_guard, hard_exit_guard, note, segfault_guard, tail


def test_double():
    assert double(0) == 0


def test_double_in_a_subprocess():
    # Coverage cannot see into this subprocess: only the whole-suite re-run of survivors catches it.
    out = subprocess.run([sys.executable, "-c", "from pkg.behaviours import double; print(double(21))"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "42"


def test_countdown():
    assert countdown(3) == 0


def test_segfault_guard():
    assert segfault_guard(5) == 5


def test_exit_guard():
    assert exit_guard(5) == 5


def test_hard_exit_guard():
    assert hard_exit_guard(5) == 5


def test_note():
    assert note(2) == 2


def test_tail():
    assert tail(2) == 2


def test_zz_nothing_leaked():
    assert not os.path.exists("MUTANT_WAS_HERE.txt")
'''

PYPROJECT = '''
[tool.mutagate]
timeout-floor = 1.5
timeout-multiplier = 2
'''


def build_sample(repo: GitRepo) -> GitRepo:
    repo.commit("human: project", files={"pyproject.toml": PYPROJECT, "pkg/__init__.py": "", "tests/__init__.py": ""})
    repo.commit(CLAUDE, files={"pkg/behaviours.py": BEHAVIOURS, "tests/test_behaviours.py": TESTS})
    return repo
