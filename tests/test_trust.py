"""Verdicts a reviewer can trust, on real repositories with real pytest runs: coverage read per
statement, flaky tests quarantined instead of counted as kills or aborting the run."""

from __future__ import annotations

import json
import signal
import tempfile
from pathlib import Path

import duckdb
import pytest

from tests.cli import assert_bad_input, mutagate, run_json, stop_mid_run
from tests.gitrepo import GitRepo
from tests.sample_project import build_sample

pytestmark = pytest.mark.slow  # real runs end to end: verdicts at any number of workers, stopped runs, quarantine

CLAUDE = "\n\nCo-authored-by: Claude <noreply@anthropic.com>"


def _outcomes(db: Path, run_id: str) -> dict[tuple[str, str], list[tuple]]:
    """(operator, original) -> [(line, status, phase, killed_by, stmt_line, stmt_end_line), ...]"""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT operator, original, line, status, phase, killed_by, stmt_line, stmt_end_line FROM mutant_outcomes"
            " WHERE run_id = ? ORDER BY line, col", [run_id]).fetchall()
    found: dict[tuple[str, str], list[tuple]] = {}
    for operator, original, *rest in rows:
        found.setdefault((operator, original), []).append(tuple(rest))
    return found


def _run(repo: GitRepo, *flags: str) -> tuple[dict, Path]:
    db = repo.root.parent / "results.duckdb"
    return run_json(repo.root, db, *flags), db


@pytest.fixture(scope="module")
def statement_run(tmp_path_factory) -> tuple[dict, dict]:
    repo = GitRepo(tmp_path_factory.mktemp("statements") / "repo")
    repo.commit("skeleton", files={"pkg/__init__.py": "", "tests/__init__.py": "",
                                   "pyproject.toml": "[tool.mutagate]\ntimeout-floor = 5\n"})
    repo.commit("Add transforms" + CLAUDE, files={
        "pkg/transform.py": '''
            class TransformError(Exception):
                pass


            def transform(name, open_transaction):
                if open_transaction:
                    raise TransformError(
                        "Cannot transform {table} while a transaction is open: "
                        "PRAGMA foreign_keys cannot be changed inside one, "
                        "and the table is referenced".format(table=name)
                    )
                return name.upper()


            def to_fix(doc):
                return [k for k in doc
                        if isinstance(doc[k], dict)
                        and doc[k].get("b") is True]


            def load(mapping, key):
                try:
                    return mapping[key]
                except KeyError:
                    return None
            ''',
    })
    repo.commit("tests", files={"tests/test_transform.py": '''
        import pytest

        from pkg.transform import TransformError, load, to_fix, transform


        def test_a_plain_values_are_never_fixed():
            # Runs only the first line of to_fix's condition: no value is a dict.
            assert to_fix({"a": 1, "c": 2}) == []


        def test_b_message():
            with pytest.raises(TransformError) as caught:
                transform("users", True)
            assert str(caught.value) == (
                "Cannot transform users while a transaction is open: "
                "PRAGMA foreign_keys cannot be changed inside one, and the table is referenced")


        def test_c_dicts():
            assert to_fix({"x": {"b": True}}) == ["x"]


        def test_d_load():
            assert load({"a": 1}, "a") == 1
            with pytest.raises(TypeError):
                load(None, "a")
        '''})
    summary, db = _run(repo, "--every-mutant")
    return summary, _outcomes(db, summary["run_id"])


def test_every_piece_of_a_multi_line_message_is_covered(statement_run) -> None:
    _, found = statement_run
    pieces = found[("string", '"PRAGMA foreign_keys cannot be changed inside one, "')] + \
        found[("string", '"and the table is referenced"')]
    assert pieces and all(status == "killed" for _, status, *_ in pieces), pieces
    # the span coverage was read from is stored with the mutant: the whole raise statement
    line, _, _, _, stmt_line, stmt_end_line = pieces[0]
    assert stmt_line < line <= stmt_end_line and stmt_end_line - stmt_line == 4


def test_a_multi_line_condition_is_killed_by_selection_not_confirmation(statement_run) -> None:
    _, found = statement_run
    [(_, status, phase, killed_by, *_)] = found[("boolean-operator", "and")]
    # The killing test runs before the only test that reaches the `and` line; under per-line
    # coverage it was not selected and the confirmation skipped it: a false survivor.
    assert (status, phase) == ("killed", "select")
    assert killed_by == ["tests/test_transform.py::test_a_plain_values_are_never_fixed"]


def test_an_except_clause_is_covered_by_its_try_body(statement_run) -> None:
    _, found = statement_run
    [(_, status, phase, killed_by, *_)] = found[("broaden-except", "KeyError")]
    assert (status, phase, killed_by) == ("killed", "select", ["tests/test_transform.py::test_d_load"])


def _flaky_repo(root: Path, test_body: str) -> GitRepo:
    repo = GitRepo(root)
    repo.commit("skeleton", files={"pkg/__init__.py": "", "tests/__init__.py": "",
                                   "pyproject.toml": "[tool.mutagate]\ntimeout-floor = 5\n"})
    repo.commit("Add maths" + CLAUDE, files={"pkg/maths.py": "def double(x):\n    return x * 2\n"})
    repo.commit("tests", files={"tests/test_maths.py": f'''
        import os
        from pathlib import Path

        from pkg.maths import double


        def test_double():
            assert double(3) == 6


        def test_counted():
{test_body}
        '''})
    return repo


COUNT = '''
            # fails on the executions listed in FLAKY_FAILS, counted in a file outside the repository
            counter = Path(os.environ["FLAKY_COUNTER"])
            runs = int(counter.read_text() or 0) + 1 if counter.exists() else 1
            counter.write_text(str(runs))
            assert runs not in {int(n) for n in os.environ["FLAKY_FAILS"].split(",")}, f"unlucky run {runs}"
'''


def test_a_flaky_baseline_test_is_quarantined_and_the_run_completes(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLAKY_COUNTER", str(tmp_path / "count"))
    monkeypatch.setenv("FLAKY_FAILS", "1")  # the baseline's run fails, its retry passes
    repo = _flaky_repo(tmp_path / "repo", COUNT)
    summary, db = _run(repo)
    assert summary["flaky_tests"] == [
        {"test": "tests/test_maths.py::test_counted", "failure": "AssertionError: unlucky run 1"}]
    assert summary["mutants"] and summary["killed"] == summary["mutants"]  # test_double kills them all
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT test, failure FROM flaky_tests WHERE run_id = ?", [summary["run_id"]]).fetchall()
        killers = {k for (ks,) in con.execute("SELECT killed_by FROM outcomes").fetchall() for k in ks}
    assert stored == [("tests/test_maths.py::test_counted", "AssertionError: unlucky run 1")]
    assert killers == {"tests/test_maths.py::test_double"}


def test_a_kill_by_a_test_that_fails_without_the_mutant_does_not_count(tmp_path, monkeypatch) -> None:
    # Passes the baseline (run 1), then fails the mutant's run (2) and the control run on the
    # unmutated code (3): a flaky test, not a kill. The mutant is run again without it.
    monkeypatch.setenv("FLAKY_COUNTER", str(tmp_path / "count"))
    monkeypatch.setenv("FLAKY_FAILS", "2,3")
    repo = _flaky_repo(tmp_path / "repo", COUNT + "            double(1)  # covers the mutants, checks nothing\n")
    summary, db = _run(repo, "--no-bail")
    assert [f["test"] for f in summary["flaky_tests"]] == ["tests/test_maths.py::test_counted"]
    with duckdb.connect(str(db), read_only=True) as con:
        killers = {k for (ks,) in con.execute("SELECT killed_by FROM outcomes").fetchall() for k in ks}
    assert killers == {"tests/test_maths.py::test_double"}


def test_a_retry_without_a_flaky_killer_has_its_own_kill_checked_too(tmp_path) -> None:
    # Two tests that pass only after a slower one imported a module (as Markdown's fenced-code tests
    # do): fastest first, each fails under the mutant and in its control run. The first is
    # quarantined and the mutant runs again; the second's failure there is flaky as well, not a kill.
    repo = GitRepo(tmp_path / "repo")
    repo.commit("skeleton", files={"pkg/__init__.py": "", "pkg/helper.py": "VALUE = 1\n", "tests/__init__.py": "",
                                   "pyproject.toml": "[tool.mutagate]\ntimeout-floor = 5\n"})
    repo.commit("Add maths" + CLAUDE, files={"pkg/maths.py": "def double(x):\n    return x * 2\n"})
    repo.commit("tests", files={"tests/test_order.py": """
        import time

        import pkg
        from pkg.maths import double


        def test_0_imports_the_helper():
            import pkg.helper

            time.sleep(0.2)
            double(1)


        def test_a_needs_the_helper():
            double(1)
            assert pkg.helper.VALUE == 1


        def test_b_needs_the_helper():
            double(1)
            assert pkg.helper.VALUE == 1
        """})
    summary, _ = _run(repo)
    assert summary["mutants"] >= 2 and summary["killed"] == summary["timeout"] == 0  # nothing checks double
    assert summary["survived"] == summary["mutants"]
    assert {f["test"] for f in summary["flaky_tests"]} == {"tests/test_order.py::test_a_needs_the_helper",
                                                           "tests/test_order.py::test_b_needs_the_helper"}


def test_kills_by_the_same_test_share_one_control_run_per_fork_server(tmp_path, monkeypatch) -> None:
    # The only test notes every execution: it passes on the unmutated code (the baseline, control
    # runs) and fails under each mutant. Every fork of one server starts from the same state, so the
    # same test run alone passes there once for all the kills it makes (one worker: one server).
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNS", str(runs))
    repo = GitRepo(tmp_path / "repo")
    repo.commit("skeleton", files={"pkg/__init__.py": "", "tests/__init__.py": ""})
    repo.commit("Add maths" + CLAUDE, files={"pkg/maths.py": "def double(x):\n    return x * 2\n"})
    repo.commit("tests", files={"tests/test_maths.py": '''
        import os

        from pkg.maths import double


        def test_double_noted():
            right = double(3) == 6
            with open(os.environ["RUNS"], "a") as handle:
                handle.write(f"{'pass' if right else 'fail'}\\n")
            assert right
        '''})
    summary, _ = _run(repo)
    noted = runs.read_text().splitlines()
    assert summary["killed"] == summary["mutants"] >= 2
    assert noted.count("fail") == summary["killed"]  # each mutant's own run
    assert noted.count("pass") == 2  # the baseline, and one control run for all the kills


def test_a_test_that_always_fails_is_still_bad_input_with_its_reason(tmp_path) -> None:
    repo = _flaky_repo(tmp_path / "repo", "            assert double(2) == 5, 'two doubled is not five'\n")
    result = mutagate("run", "--db", str(tmp_path / "r.duckdb"), cwd=repo.root)
    assert_bad_input(result, "tests/test_maths.py::test_counted fails before any mutation", "two doubled is not five")


def test_without_config_only_the_project_package_is_source(tmp_path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("skeleton", files={"pyproject.toml": '[project]\nname = "shop-core"\nversion = "1"\n',
                                   "shop_core/__init__.py": "", "tests/__init__.py": ""})
    repo.commit("Add pricing, docs, tooling" + CLAUDE, files={
        "shop_core/price.py": "def total(xs):\n    return sum(xs) + 1\n",
        "docs/conf.py": "project = 'shop'\nversion = '1.0'\nextensions = ['sphinx.ext.autodoc']\n",
        "noxfile.py": "SESSIONS = 3\n",
        "setup.py": "VERSION = 2\n",
    })
    repo.commit("tests", files={"tests/test_price.py": "from shop_core.price import total\n\n\ndef test_total():\n"
                                                      "    assert total([1, 2]) == 4\n"})
    listed = mutagate("mutants", "--json", cwd=repo.root)
    assert listed.returncode == 0, listed.stderr
    assert {m["file"] for m in json.loads(listed.stdout)["mutants"]} == {"shop_core/price.py"}
    summary, _ = _run(repo)
    assert summary["source"] == {"roots": ["shop_core"], "why": "the packages pyproject.toml declares"}
    # `source = [...]` overrides the choice
    repo.commit("config", files={"pyproject.toml": '[project]\nname = "shop-core"\n\n[tool.mutagate]\nsource = ["docs"]\n'})
    listed = mutagate("mutants", "--json", cwd=repo.root)
    assert {m["file"] for m in json.loads(listed.stdout)["mutants"]} == {"docs/conf.py"}


def test_a_stopped_run_is_partial_everywhere_and_fails_the_gate(tmp_path) -> None:
    repo = build_sample(GitRepo(tmp_path / "repo"))
    db = tmp_path / "r.duckdb"
    _, stopped = stop_mid_run(repo.root, db, signal.SIGTERM, "--fail-under", "0")  # what CI sends a cancelled job
    assert stopped.returncode == 3, stopped.stderr  # a partial run cannot pass a gate, even at 0
    assert "stopped" in stopped.stderr and "partial run (interrupted)" in stopped.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        [(run_id, status, timings)] = con.execute("SELECT run_id, status, timings FROM runs").fetchall()
        alive = con.execute("SELECT owner FROM runs").fetchone()[0]
    assert status == "interrupted" and json.loads(timings)["baseline"] > 0
    assert not [p for p in Path(tempfile.gettempdir()).glob("mutagate-run-*")
                if (p / "owner.pid").is_file() and (p / "owner.pid").read_text() == alive.rpartition(":")[2]]
    report = mutagate("report", "--db", str(db), cwd=repo.root).stdout
    assert report.startswith("## mutagate: partial run (interrupted): ") and "mutation score" not in report
    badge = json.loads(mutagate("badge", "--format", "endpoint", "--db", str(db), cwd=repo.root).stdout)
    assert badge["message"] == "partial"
    # without a gate it is the signal's own exit status; resuming then finishes the run
    _, again = stop_mid_run(repo.root, tmp_path / "other.duckdb", signal.SIGTERM)
    assert again.returncode == 143, again.stderr
    finished = mutagate("run", "--json", "--jobs", "2", "--db", str(db), cwd=repo.root)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout)
    assert summary["reused"] >= 3 and summary["run_id"] != run_id
    report = mutagate("report", "--db", str(db), cwd=repo.root).stdout
    assert report.startswith("## mutagate: mutation score")  # readers now take the finished run


def test_no_ai_line_changed_passes_with_a_line_not_a_score(tmp_path) -> None:
    repo = build_sample(GitRepo(tmp_path / "repo"))
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("human: docs", files={"NOTES.md": "nothing to mutate\n"})
    result = mutagate("run", "--base", "main", "--fail-under", "90", "--db", str(tmp_path / "r.duckdb"), cwd=repo.root)
    assert result.returncode == 0, result.stderr
    assert "Nothing to measure: no AI-attributed lines changed since" in result.stdout
    assert "score" not in result.stdout
    as_json = json.loads(mutagate("run", "--base", "main", "--json", "--db", str(tmp_path / "r.duckdb"),
                                  cwd=repo.root).stdout)
    assert as_json["score"] is None and as_json["mutants"] == 0 and "no AI-attributed lines" in as_json["note"]


def test_the_same_verdicts_at_any_number_of_workers(tmp_path) -> None:
    repo = build_sample(GitRepo(tmp_path / "repo"))
    verdicts = []
    for jobs in ("1", "2", "4"):
        db = tmp_path / f"jobs{jobs}.duckdb"
        result = mutagate("run", "--json", "--no-bail", "--jobs", jobs, "--db", str(db), cwd=repo.root)
        assert result.returncode == 0, result.stderr
        with duckdb.connect(str(db), read_only=True) as con:
            verdicts.append(con.execute("SELECT mutant_id, status, list_sort(killed_by) FROM outcomes"
                                        " ORDER BY mutant_id").fetchall())
    assert verdicts[0] == verdicts[1] == verdicts[2]
    assert {status for _, status, _ in verdicts[0]} >= {"killed", "survived", "timeout"}
