"""The generated PR workflow, replayed on a clone as CI would check it out: a known-failing test left
out in the committed `[tool.mutagate]` (or pytest's own config) stays out there, so the run does not
exit 2; a deselect CI would not see (an uncommitted or ignored config, the command line) is said by
`mutagate ci`, in its output and in the workflow's header."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cli import ENTRY, PROJECT, mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

pytestmark = pytest.mark.slow  # real mutation runs from the workflow's own commands

KNOWN_BUG = "tests/test_m.py::test_known_bug"
PYPROJECT = '''[project]
name = "shop"
version = "1.0"

[project.optional-dependencies]
test = ["pytest"]
'''
DESELECTED = PYPROJECT + f'\n[tool.mutagate]\ndeselect = ["{KNOWN_BUG}"]\n'
TESTS = '''from pkg.m import total


def test_total():
    assert total([1, 2]) == 3


def test_known_bug():
    assert total([]) == 1  # filed, not fixed yet
'''


def _project(repo: GitRepo, pyproject: str, **files: str) -> None:
    repo.commit("human: project", files={"pyproject.toml": pyproject, "pkg/__init__.py": "", "tests/__init__.py": "",
                                         "tests/test_m.py": TESTS, **files})
    repo.commit(CLAUDE, files={"pkg/m.py": "def total(xs):\n    return sum(xs)\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(CLAUDE, files={"pkg/m.py": "def total(xs):\n    return sum(x for x in xs if x > 0)\n"})


def _ci(repo: GitRepo) -> str:
    done = mutagate("ci", "github", "--force", "--install", "mutagate", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _replay(repo: GitRepo, tmp_path: Path, name: str) -> int:
    """The PR workflow's run and report steps, run by bash in a fresh clone of the feature branch (what
    actions/checkout gives: committed files only), with `mutagate` this copy; the run's exit code."""
    steps = yaml.safe_load((repo.root / ".github/workflows/mutagate-pr.yml").read_text())["jobs"]["mutagate"]["steps"]
    script = {s["name"]: s["run"] for s in steps if "name" in s and "run" in s}
    clone = tmp_path / name
    subprocess.run(["git", "clone", "-q", "-b", "feature", str(repo.root), str(clone)], check=True)
    output = tmp_path / f"{name}.output"
    shell = (f'mutagate() {{ "{sys.executable}" -c "{ENTRY}" "$@"; }}\nset -e\n'
             + script["Mutation run on the lines this pull request changed"]
             + script["Reports (comment against the base, SARIF, badge)"])
    done = subprocess.run(["bash", "-c", shell], cwd=clone, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(PROJECT), "GITHUB_BASE_REF": "main",
                               "GITHUB_OUTPUT": str(output), "MUTAGATE_PROGRESS_SECONDS": "0"})
    code = int(output.read_text().split("code=")[1].split()[0])
    if code in (0, 3):
        assert done.returncode == 0, done.stderr
        assert (clone / "mutagate-comment.md").is_file() and (clone / "mutagate.sarif").is_file()
    return code


def test_a_committed_deselect_holds_in_the_replayed_workflow(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    _project(repo, DESELECTED)
    out = _ci(repo)
    assert "not in CI" not in out
    assert _replay(repo, tmp_path, "ci") in (0, 3)


def test_pytests_own_committed_config_holds_too(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    _project(repo, PYPROJECT + f'\n[tool.pytest.ini_options]\naddopts = "--deselect {KNOWN_BUG}"\n')
    assert "not in CI" not in _ci(repo)
    assert _replay(repo, tmp_path, "ci") in (0, 3)


def test_deselects_ci_would_not_see_are_said(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    _project(repo, PYPROJECT)
    # Only in the working tree: CI's checkout has no deselect, and its run exits 2 on the known bug.
    (repo.root / "pyproject.toml").write_text(DESELECTED)
    out = _ci(repo)
    assert ("not in CI: pyproject.toml has uncommitted changes ([tool.mutagate] deselect); CI checks out what is "
            "committed") in " ".join(out.split())
    header = (repo.root / ".github/workflows/mutagate-pr.yml").read_text().split("\nname:")[0]
    assert "not in CI: pyproject.toml has uncommitted changes" in header
    assert _replay(repo, tmp_path, "uncommitted") == 2  # what the line warns of

    # Only on the command line: the latest run says so, with the line to add.
    (repo.root / "pyproject.toml").write_text(PYPROJECT)
    db = repo.root / ".mutagate" / "results.duckdb"
    local = mutagate("run", "--jobs", "1", "--base", "main", "--deselect", KNOWN_BUG, "--db", str(db), cwd=repo.root)
    assert local.returncode in (0, 3), local.stderr
    out = " ".join(_ci(repo).split())
    assert f"left out {KNOWN_BUG} with --deselect on its command line" in out
    assert f'add deselect = ["{KNOWN_BUG}"] to [tool.mutagate]' in out
    # An ignored pytest.ini is not in CI's checkout either.
    (repo.root / ".gitignore").write_text("pytest.ini\n")
    (repo.root / "pytest.ini").write_text(f"[pytest]\naddopts = --deselect {KNOWN_BUG}\n")
    assert "not in CI: pytest.ini is ignored by git" in " ".join(_ci(repo).split())

    # Committed, every line goes.
    repo.commit("human: leave the known bug out", files={"pyproject.toml": DESELECTED})
    (repo.root / "pytest.ini").unlink()
    assert "not in CI" not in _ci(repo)
