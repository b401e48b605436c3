"""A stored baseline stands in for the next run's: only the tests a change can have moved run again
under coverage, and the verdicts are the ones a whole fresh baseline gives."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.cli import run_json
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

pytestmark = pytest.mark.slow  # real runs that store a baseline and reuse it

PRICES = """def net(price, tax):
    if price < 0:
        raise ValueError("negative")
    return price + price * tax
"""

STOCK = """def restock(level, minimum):
    return level < minimum
"""

TESTS_PRICES = """from pkg.prices import net


def test_net():
    assert net(100, 0.5) == 150.0


def test_net_zero():
    assert net(0, 0.5) == 0
"""

TESTS_STOCK = """from pkg.stock import restock


def test_restock():
    assert restock(1, 5)
"""


def _run(repo: GitRepo, db: Path, *flags: str, probes: bool = False) -> dict:
    """A nightly-like run that stores its coverage map (`probes`: a PR-like one, with probes)."""
    # --no-bail: every killer, so that the verdicts compare whatever order equal-time tests ran in
    flags = flags if probes else ("--coverage-map", *flags)
    return run_json(repo.root, db, "--every-mutant", "--no-bail", *flags, jobs=None, codes=(0, 3))


def _measured(reused_from: str | None, measured: int, tests: int, changed_files: int) -> dict:
    """A coverage baseline's summary (no probes, not cut by a budget)."""
    return {"reused_from": reused_from, "measured": measured, "tests": tests, "changed_files": changed_files,
            "probes": None, "cut": False, "resumed": False}


def _verdicts(db: Path, run_id: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT mutant_id, status, list_sort(killed_by) FROM outcomes WHERE run_id = ?"
                           " ORDER BY mutant_id", [run_id]).fetchall()


def test_a_stored_baseline_measures_only_what_changed_and_gives_the_same_verdicts(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "",
                                         "tests/test_prices.py": TESTS_PRICES, "tests/test_stock.py": TESTS_STOCK})
    repo.commit(CLAUDE, files={"pkg/prices.py": PRICES, "pkg/stock.py": STOCK})
    db = tmp_path / "history.duckdb"

    first = _run(repo, db)
    assert first["baseline"] == _measured(None, 3, 3, 0)

    # The agent changes stock.py: only the test that ran it is measured again.
    repo.commit(CLAUDE, files={"pkg/stock.py": STOCK.replace("level < minimum", "level <= minimum")})
    second = _run(repo, db)
    assert second["baseline"] == _measured(first["run_id"], 1, 3, 1)
    fresh_db = tmp_path / "fresh.duckdb"
    fresh = _run(repo, fresh_db)
    assert fresh["baseline"]["reused_from"] is None
    assert _verdicts(db, second["run_id"]) == _verdicts(fresh_db, fresh["run_id"])
    assert any(status == "killed" for _, status, _ in _verdicts(db, second["run_id"]))

    # A run with probes (the default) gives the same verdicts, with or without a map to reuse, and
    # stores no map of its own (the third run below reuses the second's).
    probed = _run(repo, db, probes=True)
    assert probed["baseline"]["reused_from"] == second["run_id"] and probed["baseline"]["probes"] > 0
    assert _verdicts(db, probed["run_id"]) == _verdicts(fresh_db, fresh["run_id"])
    alone_db = tmp_path / "probes.duckdb"
    alone = _run(repo, alone_db, probes=True)
    assert alone["baseline"]["reused_from"] is None and alone["baseline"]["measured"] == 3
    assert _verdicts(alone_db, alone["run_id"]) == _verdicts(fresh_db, fresh["run_id"])

    # A new test in a test file: that file runs again, and the new test covers and kills.
    repo.commit("human: test the boundary", files={"tests/test_stock.py": TESTS_STOCK + (
        "\n\ndef test_restock_at_the_minimum():\n    assert restock(5, 5)\n")})
    third = _run(repo, db)
    assert third["baseline"] == _measured(second["run_id"], 2, 4, 1)
    boundary = [s for s in second["survivors"] if s["file"] == "pkg/stock.py" and s["original"] == "<="]
    assert boundary and not [s for s in third["survivors"] if s["id"] == boundary[0]["id"]]

    # A conftest.py can change any test: the map cannot stand in, the whole suite is measured.
    repo.commit("human: fixtures", files={"tests/conftest.py": "import pytest\n"})
    fourth = _run(repo, db)
    assert fourth["baseline"]["reused_from"] is None and fourth["baseline"]["measured"] == 4

    # --fresh-baseline ignores what is stored.
    fifth = _run(repo, db, "--fresh-baseline")
    assert fifth["baseline"]["reused_from"] is None
    assert _verdicts(db, fifth["run_id"]) == _verdicts(db, fourth["run_id"])


def test_a_change_to_what_a_module_does_at_import_measures_the_whole_suite(tmp_path: Path) -> None:
    """test_ok never runs a line of limits.py (LIMIT is read through check.py), yet LIMIT's value
    moves it: a change to a module's import shape cannot be placed in the map, nor one to a function
    the suite calls while it is collected (half, in a parametrize). A change inside a function body
    only the tests call can: only the tests that ran it are measured again."""
    check = "from pkg.limits import LIMIT\n\n\ndef ok(n):\n    return n <= LIMIT\n\n\ndef half(n):\n    return n // 2\n"
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: project", files={
        "pkg/__init__.py": "", "tests/__init__.py": "", "pkg/check.py": check,
        "tests/test_check.py": "import pytest\n\nfrom pkg.check import half, ok\n\n\n"
                               "@pytest.mark.parametrize('n', [half(4)])\ndef test_param(n):\n    assert n > 0\n\n\n"
                               "def test_ok():\n    assert ok(1)\n"})
    repo.commit(CLAUDE, files={"pkg/limits.py": "LIMIT = 3\n"})
    db = tmp_path / "history.duckdb"
    assert _run(repo, db)["baseline"]["reused_from"] is None

    repo.commit(CLAUDE, files={"pkg/limits.py": "LIMIT = 2\n"})
    second = _run(repo, db)
    assert second["baseline"] == _measured(None, 2, 2, 0)

    repo.commit("human: a body", files={"pkg/check.py": check.replace("n <= LIMIT", "0 <= n <= LIMIT")})
    third = _run(repo, db)
    assert third["baseline"] == _measured(second["run_id"], 1, 2, 1)

    repo.commit("human: the body of a function collection calls", files={
        "pkg/check.py": check.replace("n <= LIMIT", "0 <= n <= LIMIT").replace("n // 2", "n >> 1")})
    assert _run(repo, db)["baseline"]["reused_from"] is None
