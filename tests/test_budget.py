"""`--budget SECONDS`: mutants best first while they fit (baseline included), the rest stored as
not_run — never killed, never in a score, never reused — on real repositories with a deliberately
slow suite, real pytest and real DuckDB. Counts are asserted, never wall-clock times."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from mutator.attribution import Scope
from mutator.config import load_config
from mutator.generate import operator_preference
from mutator.git import open_repo
from mutator.workload import collect_workload
from results.badge import badge_endpoint
from results.report_data import load_report
from results.report_markdown import render_markdown
from results.runs import list_runs
from scheduler.budget import Budget
from scheduler.worker import Task
from tests.cli import assert_bad_input, mutagate, run_process
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

pytestmark = pytest.mark.slow  # real runs against a slow suite under a time budget

STATS = '''
def biggest(xs):
    return max(xs)


def first(xs):
    return xs[0]


def shifted(x):
    return x + 1


def both(a, b):
    return a and b


def label(n):
    return "big" if n > 10 else "small"
'''

# One slow test covers every line: each mutant's estimate is that test's baseline time (SLEEP).
SLEEP = 1.0
SLOW_TESTS = f'''
import time

from pkg.stats import biggest, both, first, label, shifted


def test_everything():
    assert biggest([1, 3, 2]) == 3
    assert first([4, 5]) == 4
    assert shifted(1) == 2
    assert both(True, False) is False
    assert label(11) == "big" and label(10) == "small"
    time.sleep({SLEEP})
'''


def _slow_repo(root: Path) -> GitRepo:
    repo = GitRepo(root)
    # conftest.py notes every pytest process that starts, where a test asks (PYTEST_STARTED).
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "", "tests/conftest.py":
                                         "import os\n\nif os.environ.get('PYTEST_STARTED'):\n"
                                         "    open(os.environ['PYTEST_STARTED'], 'a').write('x')\n"})
    repo.commit(CLAUDE, files={"pkg/stats.py": STATS, "tests/test_stats.py": SLOW_TESTS})
    return repo


def _run(repo: GitRepo, db: Path, *flags: str, env: dict[str, str] | None = None):
    return run_process(repo.root, db, "--one-per-line", *flags, env=env)


def _statuses(db: Path, run_id: str) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute("SELECT mutant_id, status FROM outcomes WHERE run_id = ?", [run_id]).fetchall())


@pytest.fixture(scope="module")
def slow(tmp_path_factory) -> GitRepo:
    return _slow_repo(tmp_path_factory.mktemp("budget") / "repo")


def test_a_budget_runs_the_best_mutants_that_fit_and_stores_the_rest_as_not_run(slow, tmp_path) -> None:
    db = tmp_path / "results.duckdb"
    # The baseline alone sleeps SLEEP s of a 4 s budget, so at most 2 mutants (SLEEP s each) can fit.
    result = _run(slow, db, "--budget", "4")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    statuses = _statuses(db, summary["run_id"])
    total = len(statuses)
    not_run = [m for m, s in statuses.items() if s == "not_run"]
    measured = total - len(not_run)
    assert total >= 5 and len(not_run) >= total - 2
    assert summary["budget"] == {"seconds": 4.0, "mutants": total, "run": measured, "not_run": len(not_run)}
    assert summary["mutants"] == measured  # the score is of the mutants run
    assert summary["killed"] + summary["timeout"] + summary["survived"] + summary["no_coverage"] == measured
    assert "budget: " in result.stderr and f"{len(not_run)} not run" in result.stderr
    # Equal estimates: the mutants that ran are the best by PR mode's operator ranking.
    with duckdb.connect(str(db), read_only=True) as con:
        operator = dict(con.execute("SELECT mutant_id, operator FROM mutants WHERE run_id = ?",
                                    [summary["run_id"]]).fetchall())
        by_file = con.execute("SELECT mutants, not_run FROM kill_rate_by_file WHERE run_id = ?",
                              [summary["run_id"]]).fetchone()
        weak = con.execute("SELECT coalesce(sum(covered_mutants), 0) FROM weak_tests WHERE run_id = ?",
                           [summary["run_id"]]).fetchone()[0]
    preference = operator_preference({})
    ran = [preference(operator[m]) for m, s in statuses.items() if s != "not_run"]
    left = [preference(operator[m]) for m in not_run]
    assert not ran or min(ran) >= max(left)
    # The views count what was measured; not_run has a column of its own and no weak test counts it.
    assert by_file == (measured, len(not_run)) and weak == measured

    # Without a budget, nothing of the budgeted run's not_run is reused: those mutants run now.
    again = _run(slow, db, "--jobs", "2")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert "budget" not in second and second["mutants"] == total
    assert second["reused"] == measured
    assert "not_run" not in _statuses(db, second["run_id"]).values()
    assert second["killed"] == total  # every mutant of this suite is killed: none was counted as one before


def test_a_budget_the_baseline_uses_up_measures_nothing_and_no_gate_passes_on_it(slow, tmp_path) -> None:
    db = tmp_path / "results.duckdb"
    started = tmp_path / "pytest-started"
    result = _run(slow, db, "--budget", "0.5", "--fail-under", "0", env={"PYTEST_STARTED": str(started)})
    assert result.returncode == 3, (result.stdout, result.stderr)
    # Less than a pytest process takes to start was left for the baseline: none was started, so the
    # answer is not held up past the budget waiting for one to stop.
    assert not started.exists()
    summary = json.loads(result.stdout)
    statuses = _statuses(db, summary["run_id"])
    assert statuses and set(statuses.values()) == {"not_run"}
    assert summary["score"] is None and summary["mutants"] == 0 and "budget: 0 of" in summary["note"]
    assert "a gate cannot pass on nothing measured" in result.stderr
    report = load_report(db)
    assert badge_endpoint(report)["message"] == "not run"  # never a score for nothing measured
    assert render_markdown(report).startswith(f"## mutagate: budget: 0 of {len(statuses)} mutants")
    [row] = list_runs(db)
    assert row.measured == 0 and row.score is None


def test_a_gate_on_a_budgeted_run_judges_the_mutants_run_and_says_so(slow, tmp_path) -> None:
    db = tmp_path / "results.duckdb"
    result = mutagate("run", "--one-per-line", "--jobs", "1", "--db", str(db), "--budget", "4", "--fail-under", "100",
                      cwd=slow.root)
    statuses = _statuses(db, json.loads(mutagate("runs", "--json", "--db", str(db), cwd=slow.root).stdout)
                         ["runs"][0]["run_id"])
    measured = sum(s != "not_run" for s in statuses.values())
    if measured:  # every mutant that ran was killed: the gate passes on them, and says what it judged
        assert result.returncode == 0, result.stderr
        assert f"the gate judges the {measured} mutants run" in result.stderr
        assert f"budget: {measured} of {len(statuses)} mutants" in result.stdout
    else:  # a machine slow enough that nothing fitted: no gate passes on nothing
        assert result.returncode == 3


def test_budget_input_is_checked(slow, tmp_path) -> None:
    for bad in ("0", "nan"):
        assert_bad_input(mutagate("run", "--budget", bad, "--db", str(tmp_path / "x.duckdb"), cwd=slow.root),
                         "--budget")
    repo = GitRepo(tmp_path / "configured")
    repo.commit("human: project", files={"pyproject.toml": "[tool.mutagate]\nbudget = -5\n", "pkg/__init__.py": "",
                                         "pkg/a.py": "def f(x):\n    return x + 1\n"})
    assert_bad_input(mutagate("run", "--db", str(tmp_path / "y.duckdb"), cwd=repo.root), "budget must be a positive number")
    assert not (tmp_path / "y.duckdb").exists()


# -- the fit itself, on real mutants and a plain cost table ---------------------------------------

def _tasks(tmp_path: Path) -> list[Task]:
    repo = _slow_repo(tmp_path / "repo")
    workload = collect_workload(open_repo(repo.root), Scope(), load_config(repo.root), one_per_line=True)
    return [Task(m, ("tests/test_stats.py::test_everything",), 10.0, "patch") for m in workload.mutants]


def test_the_fit_goes_best_first_and_skips_what_does_not_fit(tmp_path) -> None:
    tasks = _tasks(tmp_path)
    preference = operator_preference({})
    best = max(tasks, key=lambda t: preference(t.mutant.operator))
    cost = {t.mutant.id: (5.0 if t is best else 1.0) for t in tasks}
    budget = Budget(seconds=10.0, started=100.0, jobs=1)
    # The phases end early enough for the command to wrap up (stop workers, store, answer) in its budget.
    wrap = budget.wrap_up
    assert 1.0 <= wrap < 5.0 and budget.left(now=100.0) == 10.0 - wrap
    # 4 s left: the best mutant (5 s) does not fit; every cheaper one after it still gets its turn.
    fit = budget.fit(tasks, lambda t: cost[t.mutant.id], now=106.0 - wrap)
    assert fit.left_out == (best,) if len(tasks) <= 5 else best in fit.left_out
    assert len(fit.run) == min(4, len(tasks) - 1)
    assert [t for t in tasks if t in fit.run] == list(fit.run)  # the plan's order is kept
    # 6 s left: the best one fits first, then one cheap one.
    fit = budget.fit(tasks, lambda t: cost[t.mutant.id], now=104.0 - wrap)
    assert best in fit.run and len(fit.run) == 2
    # Two workers share the wall time: twice the work fits.
    assert len(Budget(10.0, 100.0, jobs=2).fit(tasks, lambda t: 1.0, now=108.0 - wrap).run) == min(4, len(tasks))
    # Nothing left: nothing runs.
    assert Budget(10.0, 100.0).fit(tasks, lambda t: 0.5, now=120.0).run == ()


def test_history_puts_the_operators_that_survived_most_first(tmp_path) -> None:
    tasks = _tasks(tmp_path)
    operators = sorted({t.mutant.operator for t in tasks})
    last = min((o for o in operators if o != "string"), key=operator_preference({}))  # last without history
    budget = Budget(10.0, 100.0, priority={last: 1.0})
    fit = budget.fit(tasks, lambda t: 1.0, now=109.0 - budget.wrap_up)
    assert [t.mutant.operator for t in fit.run] == [last]


NEAR = '''
def double(x):
    return x * 2
'''

FAR = '''
def triple(x):
    return x * 3
'''


def test_a_baseline_that_cannot_fit_measures_the_tests_nearest_the_change_first(tmp_path: Path) -> None:
    """The suite (30 tests of 0.5 s, in an order that puts the change's tests last) cannot run in
    the budget's share for the baseline: the tests whose module imports a changed module run first,
    the rest are cut, the changed module's mutants get verdicts, and the mutants of a changed module
    no measured test reached are not_run (not no_coverage: an unmeasured test may cover them)."""
    slow = "import time\n\nfrom pkg.other import triple\n\n" + "".join(
        f"\n\ndef test_slow_{i}():\n    time.sleep(0.5)\n    assert triple(1) == 3\n" for i in range(30))
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/other.py": FAR,
                                         "tests/test_a_slow.py": slow})
    repo.commit(CLAUDE, files={"pkg/near.py": NEAR, "pkg/far.py": FAR, "tests/test_z_near.py":
                               "from unittest.mock import call  # answers every attribute: the nearness check must cope\n"
                               "from pkg.near import double\n\n\ndef test_double():\n    assert double(2) == 4\n"})
    db = tmp_path / "results.duckdb"
    result = _run(repo, db, "--budget", "8")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["baseline"]["cut"] is True
    assert 1 < summary["baseline"]["measured"] < 31
    statuses = _statuses(db, summary["run_id"])
    with duckdb.connect(str(db), read_only=True) as con:
        files = dict(con.execute("SELECT mutant_id, file FROM mutants WHERE run_id = ?", [summary["run_id"]]).fetchall())
    near = {statuses[m] for m, f in files.items() if f == "pkg/near.py"}
    assert near and near <= {"killed", "survived"} and "killed" in near
    assert {statuses[m] for m, f in files.items() if f == "pkg/far.py"} == {"not_run"}
    assert summary["no_coverage"] == 0


def test_a_long_test_is_cut_at_the_baselines_share_not_waited_for(tmp_path: Path) -> None:
    """A test that alone outlasts the baseline's share of the budget is cut in the middle (its sleep
    never ends: it writes no mark) and left out of the map, with the tests not run; the test that ended
    in time counts, its mutants get verdicts, and the mutants only the cut test reaches are not_run."""
    mark = tmp_path / "the long test ended"
    long = ("import time\n\nfrom pkg.other import triple\n\n\ndef test_long():\n    assert triple(1) == 3\n"
            f"    time.sleep(60)\n    open({str(mark)!r}, 'w').close()\n")
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/other.py": FAR,
                                         "tests/test_a_long.py": long})
    repo.commit(CLAUDE, files={"pkg/near.py": NEAR, "pkg/far.py": FAR, "tests/test_z_near.py":
                               "from pkg.near import double\n\n\ndef test_double():\n    assert double(2) == 4\n"})
    db = tmp_path / "results.duckdb"
    result = _run(repo, db, "--budget", "8")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert not mark.exists()
    assert summary["baseline"]["cut"] is True and summary["baseline"]["measured"] == 1
    statuses = _statuses(db, summary["run_id"])
    with duckdb.connect(str(db), read_only=True) as con:
        files = dict(con.execute("SELECT mutant_id, file FROM mutants WHERE run_id = ?", [summary["run_id"]]).fetchall())
    assert "killed" in {statuses[m] for m, f in files.items() if f == "pkg/near.py"}
    assert {statuses[m] for m, f in files.items() if f == "pkg/far.py"} == {"not_run"}
