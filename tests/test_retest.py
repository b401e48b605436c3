"""`mutagate run --survivors` and `--mutant`: after writing a test, retest only what matters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import assert_bad_input, mutagate, run_json
from tests.gitrepo import GitRepo

pytestmark = pytest.mark.slow  # real runs retested

CLAUDE = "\n\nCo-authored-by: Claude <noreply@anthropic.com>"


def _repo(root: Path) -> GitRepo:
    repo = GitRepo(root)
    repo.commit("skeleton", files={"pkg/__init__.py": "", "tests/__init__.py": "",
                                   "pyproject.toml": "[tool.mutagate]\ntimeout-floor = 5\n"})
    repo.commit("Add shipping" + CLAUDE, files={"pkg/ship.py": (
        "def shipping(weight):\n"
        "    if weight > 10:\n"
        "        return 7\n"
        "    return 3\n")})
    repo.commit("a weak test", files={"tests/test_ship.py": (
        "from pkg.ship import shipping\n\n\n"
        "def test_light():\n"
        "    assert shipping(1) == 3\n")})
    return repo


def _run(repo: GitRepo, db: Path, *flags: str) -> dict:
    return run_json(repo.root, db, *flags)


def test_survivors_are_retested_alone_and_the_fixed_ones_named(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    db = tmp_path / "r.duckdb"
    first = _run(repo, db)
    undetected = {s["id"]: s for s in first["survivors"]}
    assert len(undetected) >= 2 and len(undetected) < first["mutants"]
    # a test that pins the heavy price kills the mutants of `return 7`, not the boundary's
    repo.commit("a better test", files={"tests/test_heavy.py": (
        "from pkg.ship import shipping\n\n\n"
        "def test_heavy():\n"
        "    assert shipping(20) == 7\n")})
    again = _run(repo, db, "--survivors")
    assert again["mutants"] == len(undetected)  # nothing else ran
    retest = again["retest"]
    assert retest["of_run"] == first["run_id"] and not retest["gone"]
    assert sorted(retest["fixed"] + retest["still_undetected"]) == sorted(undetected)
    fixed = {undetected[i]["original"] for i in retest["fixed"]}
    assert "7" in fixed  # return 7 -> return None / 8 ...
    assert all(undetected[i]["original"] not in fixed for i in retest["still_undetected"])
    # the terminal form says it in one line
    text = mutagate("run", "--jobs", "1", "--db", str(db), "--survivors", "--run", first["run_id"], cwd=repo.root)
    assert f"undetected mutants of run {first['run_id']}: {len(retest['fixed'])} fixed" in text.stdout


def test_one_mutant_by_a_prefix_of_its_id(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    db = tmp_path / "r.duckdb"
    listed = json.loads(mutagate("mutants", "--json", cwd=repo.root).stdout)["mutants"]
    target = listed[0]["id"]
    only = _run(repo, db, "--mutant", target[:7])
    assert only["mutants"] == 1
    assert_bad_input(mutagate("run", "--db", str(db), "--mutant", "ffffffffffff", cwd=repo.root), "no mutant")
    assert_bad_input(mutagate("run", "--db", str(tmp_path / "none.duckdb"), "--survivors", cwd=repo.root),
                     "no results database")
