"""`mutagate import-mutmut` on a real mutmut 3 run over a real repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.cli import assert_bad_input, mutagate
from tests.gitrepo import GitRepo

pytestmark = pytest.mark.slow  # a real mutmut run imported

CLAUDE = "Add calc\n\nCo-Authored-By: Claude <noreply@anthropic.com>"

CALC = '''\
def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return high
    return x


class Meter:
    def __init__(self, scale=2):
        self.scale = scale

    def reading(self, value):
        return value * self.scale + 1
'''

UTIL = '''\
def greet(name):
    return "hello " + name
'''

TESTS = '''\
from pkg.calc import Meter, clamp
from pkg.util import greet


def test_clamp():
    assert clamp(5, 0, 3) == 3
    assert clamp(-1, 0, 3) == 0


def test_meter():
    assert Meter().reading(2) == 5


def test_greet():
    assert greet("ada")
'''

PYPROJECT = '''\
[tool.mutmut]
source_paths = ["pkg"]

[tool.pytest.ini_options]
testpaths = ["tests"]
'''


@pytest.fixture(scope="module")
def mutmut_repo(tmp_path_factory) -> GitRepo:
    repo = GitRepo(tmp_path_factory.mktemp("mutmut") / "repo")
    repo.commit("human: util", files={"pyproject.toml": PYPROJECT, ".gitignore": "mutants/\n", "pkg/__init__.py": "",
                                      "pkg/util.py": UTIL, "tests/__init__.py": ""})
    repo.commit(CLAUDE, files={"pkg/calc.py": CALC, "tests/test_calc.py": TESTS})
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    done = subprocess.run([mutmut, "run", "--max-children", "2"], cwd=repo.root, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    subprocess.run([mutmut, "export-cicd-stats"], cwd=repo.root, check=True, capture_output=True)
    return repo


def test_imported_results_match_mutmut_and_carry_agents(mutmut_repo: GitRepo) -> None:
    stats = json.loads((mutmut_repo.root / "mutants" / "mutmut-cicd-stats.json").read_text())
    db = mutmut_repo.root.parent / "imported.duckdb"
    result = mutagate("import-mutmut", "--db", str(db), "--json", cwd=mutmut_repo.root)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["mutants"] == stats["total"] > 0
    assert summary["statuses"].get("killed", 0) == stats["killed"]
    assert summary["statuses"].get("survived", 0) == stats["survived"]
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT file, line, original, agent FROM mutants WHERE run_id = ?",
                           [summary["run_id"]]).fetchall()
        by_agent = dict(con.execute("SELECT agent, mutants FROM kill_rate_by_agent WHERE run_id = ?",
                                    [summary["run_id"]]).fetchall())
    # every mutant sits on the line whose text it changed, in the file mutmut mutated
    for file, line, original, agent in rows:
        assert (mutmut_repo.root / file).read_text().splitlines()[line - 1].strip() == original
        assert agent == ("claude-code" if file == "pkg/calc.py" else "human")
    assert by_agent["claude-code"] == sum(1 for r in rows if r[0] == "pkg/calc.py") > 0
    assert by_agent["human"] == sum(1 for r in rows if r[0] == "pkg/util.py") > 0
    # and the reports read an imported run like any other
    report = mutagate("report", "--format", "markdown", "--db", str(db), cwd=mutmut_repo.root)
    assert report.returncode == 0 and "| claude-code |" in report.stdout


def test_no_mutmut_results_is_bad_input(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: x", files={"pkg/x.py": "def f():\n    return 1\n"})
    assert_bad_input(mutagate("import-mutmut", "--db", str(tmp_path / "r.duckdb"), cwd=repo.root), "no mutmut results")
