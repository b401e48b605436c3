"""The loop after a first run — `runs`, `show`, `apply` — on a real repository with real runs,
real pytest and a real DuckDB file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from results.store import MutantRow, OutcomeRow, ResultStore, RunRecord
from results.mutant_text import splice
from tests.cli import PROJECT, assert_bad_input, mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE, PRICES
from tests.sample_project import PRICES_TESTS as TESTS

pytestmark = pytest.mark.slow  # the daily loop on a real run: show, apply, revert, runs

# The test that kills the boundary survivor.
BOUNDARY_TEST = '''

def test_at_the_boundary():
    assert discount(100, 0.5) == 100
'''

FILE = "pkg/prices.py"


@dataclass(frozen=True)
class Loop:
    repo: GitRepo
    db: Path
    first: dict  # `run --json` of the first run (boundary survives)
    second: dict  # after a test at the boundary was added (it is killed)


@pytest.fixture(scope="module")
def loop(tmp_path_factory) -> Loop:
    repo = GitRepo(tmp_path_factory.mktemp("loop") / "repo")
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": ""})
    repo.commit(CLAUDE, files={FILE: PRICES})
    db = repo.root.parent / "results.duckdb"
    summaries = []
    for tests in (TESTS, TESTS + BOUNDARY_TEST):
        repo.commit("human: tests", files={"tests/test_prices.py": tests})
        result = mutagate("run", "--json", "--jobs", "1", "--db", str(db), cwd=repo.root)
        assert result.returncode == 0, result.stderr
        summaries.append(json.loads(result.stdout))
    return Loop(repo, db, *summaries)


def _mutant_ids(loop: Loop, **where: str) -> list[str]:
    """Ids of the second run's mutants with these column values (of `mutant_outcomes`)."""
    clauses = " AND ".join(f"{column} = ?" for column in where)
    with duckdb.connect(str(loop.db), read_only=True) as con:
        return [r[0] for r in con.execute(f"SELECT mutant_id FROM mutant_outcomes WHERE run_id = ? AND {clauses}"
                                          " ORDER BY mutant_id", [loop.second["run_id"], *where.values()]).fetchall()]


def _boundary(loop: Loop) -> dict:
    [survivor] = [s for s in loop.first["survivors"] if s["operator"] == "comparison-boundary"]
    return survivor


def _pytest(repo: GitRepo, nodeid: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", nodeid], cwd=repo.root,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(repo.root)})


# -- show ---------------------------------------------------------------------------------------

def test_show_a_survivor_names_its_covering_tests_and_its_history(loop) -> None:
    survivor = _boundary(loop)
    assert survivor["status"] == "survived"
    first, second = loop.first["run_id"], loop.second["run_id"]
    shown = mutagate("show", survivor["id"][:8], "--run", first, "--db", str(loop.db), cwd=loop.repo.root)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.startswith(survivor["id"]) and "comparison-boundary" in out and "survived" in out
    assert f"{FILE}:2" in out and "in discount" in out and "agent claude-code" in out
    assert "co-author: Claude <noreply@anthropic.com>" in out  # the evidence that made the line Claude's
    assert "-    if price > 100:\n" in out and "+    if price >= 100:\n" in out and " def discount(price, rate):\n" in out
    # brackets of parametrized ids survive (Text, never markup)
    assert "tests/test_prices.py::test_small_order[50]" in out and "tests/test_prices.py::test_big_order" in out
    assert "killed by: none" in out and "coverage read from line 2" in out
    history = out[out.index("history"):]
    assert history.index(second) < history.index(first)  # newest run first

    data = json.loads(mutagate("show", survivor["id"], "--run", first, "--json", "--db", str(loop.db),
                               cwd=loop.repo.root).stdout)
    assert data["id"] == survivor["id"] and data["status"] == "survived" and data["killed_by"] == []
    assert set(data["covering_tests"]) == {"tests/test_prices.py::test_big_order",
                                           "tests/test_prices.py::test_small_order[50]",
                                           "tests/test_prices.py::test_small_order[60]"}
    assert (data["file"], data["line"], data["stmt_line"], data["stmt_end_line"]) == (FILE, 2, 2, 2)
    assert data["agent"] == "claude-code" and len(data["commit"]) == 40
    assert [e["evidence"] for e in data["evidence"]] == ["co-author: Claude <noreply@anthropic.com>"]
    assert "+    if price >= 100:" in data["diff"]
    # the same stable id in both runs: killed once the boundary is tested
    assert [(h["run_id"], h["status"]) for h in data["history"]] == [(second, "killed"), (first, "survived")]

    # without --run: the latest finished run, where the new test kills it
    latest = json.loads(mutagate("show", survivor["id"], "--json", "--db", str(loop.db), cwd=loop.repo.root).stdout)
    assert latest["run_id"] == second and latest["killed_by"] == ["tests/test_prices.py::test_at_the_boundary"]


def test_show_lists_the_first_covering_tests_and_a_count_and_all_on_request(tmp_path) -> None:
    """A hot line is covered by hundreds of tests: `show` prints the first few and how many more."""
    repo = GitRepo(tmp_path / "repo")
    cases = list(range(12))
    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", FILE: PRICES,
                               "tests/test_prices.py": "import pytest\n\nfrom pkg.prices import discount\n\n\n"
                               f"@pytest.mark.parametrize('price', {cases})\n"
                               "def test_small(price):\n    discount(price, 0.5)  # asserts nothing: all survive\n"})
    db = tmp_path / "results.duckdb"
    summary = json.loads(mutagate("run", "--json", "--jobs", "1", "--db", str(db), cwd=repo.root).stdout)
    [survivor] = [s for s in summary["survivors"] if s["operator"] == "comparison-boundary"]
    short = mutagate("show", survivor["id"], "--db", str(db), cwd=repo.root)
    assert short.returncode == 0, short.stderr
    listed = [line.strip() for line in short.stdout.splitlines() if line.startswith("  tests/test_prices.py::")]
    assert "covered by (12):" in short.stdout and len(listed) == 5
    assert "  … and 7 more (--all lists every one)" in short.stdout
    every = mutagate("show", survivor["id"], "--all", "--db", str(db), cwd=repo.root).stdout
    assert {line.strip() for line in every.splitlines() if line.startswith("  tests/test_prices.py::")} == {
        f"tests/test_prices.py::test_small[{n}]" for n in cases}
    assert "more (--all" not in every and set(listed) < {f"tests/test_prices.py::test_small[{n}]" for n in cases}


def test_an_unknown_id_or_an_ambiguous_prefix_is_bad_input(loop) -> None:
    ids = sorted(_mutant_ids(loop, agent="claude-code"))
    # the longest prefix two ids share (possibly "": every id then matches)
    shared = max((os.path.commonprefix(pair) for pair in zip(ids, ids[1:])), key=len)
    matching = [i for i in ids if i.startswith(shared)]
    ambiguous = mutagate("show", shared, "--db", str(loop.db), cwd=loop.repo.root)
    assert_bad_input(ambiguous, "ambiguous", *matching[:5])
    unknown = mutagate("show", "ffffffffffff0", "--db", str(loop.db), cwd=loop.repo.root)
    assert_bad_input(unknown, "no mutant 'ffffffffffff0'")
    assert_bad_input(mutagate("apply", "ffffffffffff0", "--db", str(loop.db), cwd=loop.repo.root), "no mutant")
    assert_bad_input(mutagate("show", ids[0], "--run", "nope", "--db", str(loop.db), cwd=loop.repo.root), "no run 'nope'")


# -- apply --------------------------------------------------------------------------------------

def test_apply_makes_the_killing_test_fail_and_revert_restores_the_file_byte_for_byte(loop) -> None:
    [killed] = _mutant_ids(loop, operator="arithmetic", original="-")  # 1 - rate -> 1 + rate
    path = loop.repo.root / FILE
    before, mode = path.read_bytes(), path.stat().st_mode
    assert _pytest(loop.repo, "tests/test_prices.py::test_big_order").returncode == 0  # bytecode cached first
    applied = mutagate("apply", killed[:7], "--db", str(loop.db), cwd=loop.repo.root)
    assert applied.returncode == 0, applied.stderr
    try:
        assert applied.stdout.strip() == (f"applied {killed} to {FILE}:3 (`-` → `+`); revert with: "
                                          f"mutagate apply --revert {killed} --db {loop.db}")
        assert path.read_bytes() == before.replace(b"(1 - rate)", b"(1 + rate)")
        failing = _pytest(loop.repo, "tests/test_prices.py::test_big_order")
        assert failing.returncode == 1 and "1 failed" in failing.stdout, failing.stdout
        # another mutant on a file that holds one already: refused, nothing written
        [other] = _mutant_ids(loop, operator="return-value", line=4)
        assert_bad_input(mutagate("apply", other, "--db", str(loop.db), cwd=loop.repo.root), "uncommitted changes")
    finally:
        reverted = mutagate("apply", "--revert", killed, "--db", str(loop.db), cwd=loop.repo.root)
    assert reverted.returncode == 0, reverted.stderr
    assert reverted.stdout.strip() == f"reverted {killed}: {FILE} is as HEAD has it again"
    assert path.read_bytes() == before and path.stat().st_mode == mode
    assert loop.repo.git("status", "--porcelain", "--", FILE) == ""
    # the restored code runs, not a cached copy of the mutant of the same size
    assert _pytest(loop.repo, "tests/test_prices.py::test_big_order").returncode == 0
    again = mutagate("apply", "--revert", killed, "--db", str(loop.db), cwd=loop.repo.root)
    assert again.returncode == 0 and "nothing to revert" in again.stdout


def test_apply_a_survivor_and_its_covering_tests_still_pass(loop) -> None:
    survivor = _boundary(loop)
    path = loop.repo.root / FILE
    before = path.read_bytes()
    assert mutagate("apply", survivor["id"], "--run", loop.first["run_id"], "--db", str(loop.db),
                    cwd=loop.repo.root).returncode == 0
    try:
        assert _pytest(loop.repo, "tests/test_prices.py::test_small_order").returncode == 0
        assert _pytest(loop.repo, "tests/test_prices.py::test_at_the_boundary").returncode == 1  # the new test
    finally:
        # applied from the first run, reverted with the latest's record of the same stable id
        reverted = mutagate("apply", "--revert", survivor["id"], "--db", str(loop.db), cwd=loop.repo.root)
    assert reverted.returncode == 0, reverted.stderr
    assert path.read_bytes() == before


def test_apply_refuses_a_dirty_file_and_revert_refuses_an_edited_one(loop) -> None:
    [mutant] = _mutant_ids(loop, operator="arithmetic", original="*")
    path = loop.repo.root / FILE
    before = path.read_bytes()
    try:
        path.write_bytes(before + b"# my own edit\n")
        assert_bad_input(mutagate("apply", mutant, "--db", str(loop.db), cwd=loop.repo.root), FILE, "uncommitted changes")
        assert path.read_bytes() == before + b"# my own edit\n"
        path.write_bytes(before)
        assert mutagate("apply", mutant, "--db", str(loop.db), cwd=loop.repo.root).returncode == 0
        edited = path.read_bytes() + b"# edited after apply\n"
        path.write_bytes(edited)
        assert_bad_input(mutagate("apply", "--revert", mutant, "--db", str(loop.db), cwd=loop.repo.root),
                         f"{FILE} is not HEAD's text with {mutant} applied")
        assert path.read_bytes() == edited  # nothing written over the user's edit
    finally:
        loop.repo.git("checkout", "--", FILE)


def test_apply_refuses_a_file_that_no_longer_holds_the_original(loop, tmp_path) -> None:
    clone = GitRepo(tmp_path / "clone")  # the shared repository keeps its HEAD
    clone.git("pull", "-q", str(loop.repo.root), "main")
    survivor = _boundary(loop)
    # `>` still sits at the mutant's column, but the line is no longer the one the run mutated
    for changed in (PRICES.replace("> 100", ">= 100"), "# moved down a line\n" + PRICES.lstrip("\n")):
        clone.commit("human: a change", files={FILE: changed})
        refused = mutagate("apply", survivor["id"], "--db", str(loop.db), cwd=clone.root)
        assert_bad_input(refused, f"{FILE}:2 no longer holds the mutant's original `>`")
        assert (clone.root / FILE).read_text() == textwrap.dedent(changed).lstrip("\n")


# -- runs ---------------------------------------------------------------------------------------

ABANDON = """
import sys
from results.store import ResultStore, RunRecord
ResultStore(sys.argv[1]).start_run(RunRecord("abandoned-run", "/repo", "cd" * 20, None, None, "main", "0", {}, "local", 1,
                                             "pr"), [], [])
"""  # then the process ends without finishing it: killed outright, as far as the store can tell


def test_runs_lists_runs_newest_first_with_scores_and_partial_runs(loop, tmp_path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(loop.db, db)
    store = ResultStore(db)
    # An interrupted run, stored as a stopped `mutagate run` stores it: some mutants measured, then stopped.
    mutants = [MutantRow(f"m{i}", FILE, 2, 2, 14, 15, "comparison-boundary", ">", ">=", "claude-code", "ab" * 20,
                         "discount", 2, 2) for i in range(3)]
    store.start_run(RunRecord("interrupted-run", "/repo", "ab" * 20, None, None, "feature/[wip]", "0", {}, "local", 1,
                              "nightly"), mutants, [])
    store.record_outcomes("interrupted-run", [OutcomeRow("m0", "killed", ("t",), 1, ("t",), 0.1, False, "k", "select")])
    store.finish_run("interrupted-run", "interrupted", "local: 1 worker")
    done = subprocess.run([sys.executable, "-c", ABANDON, str(db)], env={**os.environ, "PYTHONPATH": str(PROJECT)},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    listed = mutagate("runs", "--json", "--db", str(db), cwd=loop.repo.root)
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)["runs"]
    assert [r["run_id"] for r in runs] == ["abandoned-run", "interrupted-run", loop.second["run_id"], loop.first["run_id"]]
    assert [r["status"] for r in runs] == ["abandoned", "interrupted", "finished", "finished"]
    abandoned, interrupted, second, first = runs
    assert (interrupted["mutants"], interrupted["measured"], interrupted["score"]) == (3, 1, None)
    assert interrupted["branch"] == "feature/[wip]" and interrupted["seconds"] >= 0
    assert abandoned["score"] is None and abandoned["mutants"] == 0 and abandoned["mode"] == "pr"
    for row, summary in ((second, loop.second), (first, loop.first)):
        assert row["score"] == summary["score"] and row["mutants"] == row["measured"] == summary["mutants"]
        assert row["mode"] == "nightly" and row["branch"] == "main" and row["seconds"] > 0
        assert len(row["head_commit"]) == 40
    assert second["score"] > first["score"]  # the boundary test killed the survivor

    text = mutagate("runs", "--db", str(db), cwd=loop.repo.root).stdout
    lines = {line.split()[1]: line for line in text.splitlines() if "-run" in line or "Z-" in line}
    assert "interrupted" in lines["interrupted-run"] and "partial" in lines["interrupted-run"]
    assert "feature/[wip]" in lines["interrupted-run"]
    assert "abandoned" in lines["abandoned-run"] and "partial" in lines["abandoned-run"]
    first_score = f"{first['score']:.1f}%"
    assert first_score in lines[loop.first["run_id"]] and "finished" in lines[loop.first["run_id"]]
    assert list(lines) == [r["run_id"] for r in runs]
    one = json.loads(mutagate("runs", "--json", "--limit", "1", "--db", str(db), cwd=loop.repo.root).stdout)["runs"]
    assert [r["run_id"] for r in one] == ["abandoned-run"]


# -- the span arithmetic under apply and show ---------------------------------------------------

@dataclass(frozen=True)
class _Span:  # where a mutant sits and what it changes: all `splice` reads (results.mutant_text.Span)
    line: int
    end_line: int
    col: int
    end_col: int
    original: str
    replacement: str


def _span(line: int, end_line: int, col: int, end_col: int, original: str, replacement: str) -> _Span:
    return _Span(line, end_line, col, end_col, original, replacement)


def test_splice_reads_columns_as_characters_on_lines_split_at_newlines() -> None:
    text = "def f(é, x):\r\n    return é < x and (\n        x > 0)\n"
    assert splice(text, _span(2, 2, 14, 15, "<", "<=")) == "def f(é, x):\r\n    return é <= x and (\n        x > 0)\n"
    assert splice(text, _span(1, 1, 7, 8, "é", "x")) == "def f(x, x):\r\n" + text.split("\r\n", 1)[1]
    multi = splice(text, _span(2, 3, 12, 15, "é < x and (\n        x > 0)", "True"))
    assert multi == "def f(é, x):\r\n    return True\n"
    assert splice(text, _span(2, 2, 14, 15, ">", "<=")) is None  # not the original at that place
    assert splice(text, _span(9, 9, 1, 2, "<", "<=")) is None  # past the end
    # an imported mutmut mutant: the whole line without its indentation, at column 1
    assert splice(text, _span(3, 3, 1, 15, "x > 0)", "x > 1)")) == text.replace("x > 0)", "x > 1)")
