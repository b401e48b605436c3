"""A run stopped during its baseline (Ctrl-C, SIGKILL of the whole job, a time budget) keeps the
tests it measured whole, and the next run measures only the others, with the verdicts of a run never
stopped; and stopped runs' partial maps never evict the newest complete map."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from results.baseline_maps import KEEP_PER_KEY, latest_map
from tests.cli import ENTRY, PROJECT, run_json
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE
from tests.test_baseline_reuse import PRICES, STOCK  # the same two modules, mutated the same way

pytestmark = pytest.mark.slow  # real runs stopped mid-baseline and resumed

# Every test marks that it ran (MARKS) and, when asked (SLOW), takes a while: the stopped run's
# baseline is slow enough to stop midway, the others are not.
CONFTEST = """import os
import time

import pytest


@pytest.fixture(autouse=True)
def _mark(request):
    yield
    time.sleep(float(os.environ.get("SLOW", "0")))
    if os.environ.get("MARKS"):
        with open(os.environ["MARKS"], "a") as marks:
            marks.write(request.node.nodeid + "\\n")
"""

TESTS_PRICES = """import pytest

from pkg.prices import net


@pytest.mark.parametrize("price", [0, 1, 2, 3, 4, 5, 6, 7, 10, 100])
def test_net(price):
    assert net(price, 0.5) == price * 1.5


def test_negative():
    with pytest.raises(ValueError):
        net(-1, 0.5)
"""

TESTS_STOCK = """from pkg.stock import restock


def test_low():
    assert restock(1, 5)


def test_high():
    assert not restock(9, 5)


def test_at_minimum():
    assert not restock(5, 5)


def test_zero():
    assert restock(0, 1)
"""

SUITE = 15  # tests in the project above


def _project(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "", "tests/conftest.py": CONFTEST,
                                         "tests/test_prices.py": TESTS_PRICES, "tests/test_stock.py": TESTS_STOCK})
    repo.commit(CLAUDE, files={"pkg/prices.py": PRICES, "pkg/stock.py": STOCK})
    return repo


def _run(repo: GitRepo, db: Path, *flags: str, env: dict[str, str] | None = None) -> dict:
    # --no-bail: every killer, so that verdicts compare whatever order equal-time tests ran in
    return run_json(repo.root, db, "--every-mutant", "--no-bail", *flags, codes=(0, 3), env=env)


def _verdicts(db: Path, run_id: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT mutant_id, status, list_sort(killed_by) FROM outcomes WHERE run_id = ?"
                           " ORDER BY mutant_id", [run_id]).fetchall()


def _stop_mid_baseline(repo: GitRepo, db: Path, tmp_path: Path, stop: int | None, *flags: str,
                       after: int = 4, settle: float = 0.0, group: bool = False) -> tuple[str, set[str]]:
    """Start a real `mutagate run` in a session of its own, its tests slow; once `after` tests have
    run (and `settle` seconds more), send `stop` to the run process alone (SIGINT, as `kill -INT`)
    or to its whole process group (`group`: Ctrl-C in a terminal reaches the shards too), or SIGKILL
    to the group (`stop` None: a CI job killed outright). Returns the run's id and the tests that
    had run."""
    marks = tmp_path / f"marks-{time.monotonic_ns()}"
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "MARKS": str(marks), "SLOW": "0.4",
           "MUTAGATE_BASELINE_SAVE_SECONDS": "0.5"}
    process = subprocess.Popen([sys.executable, "-c", ENTRY, "run", "--jobs", "1", "--db", str(db), "--every-mutant",
                                "--no-bail", *flags], cwd=repo.root, env=env, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if marks.is_file() and len(marks.read_text().splitlines()) >= after:
            break
        time.sleep(0.05)
    time.sleep(settle)
    assert process.poll() is None, ("the run ended before it could be stopped", process.stderr.read())
    if stop is None or group:
        os.killpg(process.pid, signal.SIGKILL if stop is None else stop)
    else:
        process.send_signal(stop)
    _, err = process.communicate(timeout=60)
    if stop is None:
        time.sleep(0.5)  # the group is gone; nothing of it writes any more
    else:
        assert "Traceback" not in err, err
        # Stopped mid-baseline, it still removed its scratch folder (issue 25 item 9).
        assert not [p for p in Path(tempfile.gettempdir()).glob("mutagate-run-*")
                    if (p / "owner.pid").is_file() and (p / "owner.pid").read_text() == str(process.pid)]
    ran = set(marks.read_text().splitlines())
    assert after <= len(ran) < SUITE, ran  # stopped midway through the baseline
    with duckdb.connect(str(db), read_only=True) as con:
        (run_id,) = con.execute("SELECT run_id FROM runs ORDER BY started DESC LIMIT 1").fetchone()
        assert con.execute("SELECT count(*) FROM outcomes WHERE run_id = ?", [run_id]).fetchone()[0] == 0
    return run_id, ran


def test_a_run_stopped_by_ctrl_c_mid_baseline_resumes_without_measuring_again(tmp_path: Path) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to the run and its shards at once."""
    repo = _project(tmp_path)
    reference_db = tmp_path / "reference.duckdb"
    reference = _run(repo, reference_db, "--coverage-map")
    assert reference["baseline"]["measured"] == SUITE

    db = tmp_path / "history.duckdb"
    stopped, ran = _stop_mid_baseline(repo, db, tmp_path, signal.SIGINT, "--coverage-map", group=True)
    resumed = _run(repo, db, "--coverage-map")
    source = resumed["baseline"]
    assert source["reused_from"] == stopped and source["resumed"] is True
    # Every test that ran whole before the stop stands (the one running when it came may not have).
    assert source["tests"] == SUITE and SUITE - len(ran) <= source["measured"] <= SUITE - len(ran) + 1
    assert _verdicts(db, resumed["run_id"]) == _verdicts(reference_db, reference["run_id"])
    assert any(status == "killed" for _, status, _ in _verdicts(db, resumed["run_id"]))
    # The resumed run stored a whole map: the next run measures nothing.
    assert _run(repo, db, "--coverage-map")["baseline"]["measured"] == 0


def test_a_run_killed_outright_mid_baseline_resumes_from_what_it_stored(tmp_path: Path) -> None:
    """SIGKILL to the whole job (the driver and its shards): the driver cannot clean up, but what it
    stored as the baseline went stands; a probe baseline (the default) resumes the same way."""
    repo = _project(tmp_path)
    reference_db = tmp_path / "reference.duckdb"
    reference = _run(repo, reference_db)
    db = tmp_path / "history.duckdb"
    stopped, ran = _stop_mid_baseline(repo, db, tmp_path, None, after=5, settle=1.0)
    resumed = _run(repo, db)
    source = resumed["baseline"]
    assert source["reused_from"] == stopped and source["resumed"] is True and source["probes"] > 0
    assert source["tests"] == SUITE and 0 < source["measured"] < SUITE - 3
    assert _verdicts(db, resumed["run_id"]) == _verdicts(reference_db, reference["run_id"])
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT status FROM runs WHERE run_id = ?", [stopped]).fetchone()[0] == "abandoned"
        # A probe baseline that ended whole leaves no map: probes serve only a resume of the same run.
        assert con.execute("SELECT count(*) FROM baseline_maps WHERE run_id = ?", [resumed["run_id"]]).fetchone()[0] == 0


def test_a_partial_map_from_a_changed_tree_measures_what_the_change_moved(tmp_path: Path) -> None:
    """A budget cuts the baseline (its run finishes, the rest not run); the agent then changes
    stock.py: the tests the cut baseline measured stand, but not those that ran the changed file."""
    repo = _project(tmp_path)
    db = tmp_path / "history.duckdb"
    cut = _run(repo, db, "--coverage-map", "--budget", "5", env={"SLOW": "0.3"})
    assert cut["baseline"]["cut"] is True and 0 < cut["baseline"]["measured"] < SUITE
    repo.commit(CLAUDE, files={"pkg/stock.py": STOCK.replace("level < minimum", "minimum > level")})
    resumed = _run(repo, db, "--coverage-map")
    reference_db = tmp_path / "reference.duckdb"
    reference = _run(repo, reference_db, "--coverage-map")
    assert resumed["baseline"]["reused_from"] == cut["run_id"] and resumed["baseline"]["resumed"] is True
    assert resumed["baseline"]["measured"] < SUITE
    assert _verdicts(db, resumed["run_id"]) == _verdicts(reference_db, reference["run_id"])


def test_stopped_runs_never_evict_the_newest_complete_map(tmp_path: Path) -> None:
    """More runs stopped mid-baseline than a key keeps maps for, each storing its partial map: the
    finished run's complete map stays, and a run after them starts from it or from the newest partial
    one, whichever leaves less to measure."""
    repo = _project(tmp_path)
    db = tmp_path / "history.duckdb"
    finished = _run(repo, db, "--coverage-map")
    key = _key(db, finished["run_id"])
    stopped = [_stop_mid_baseline(repo, db, tmp_path, signal.SIGINT, "--coverage-map", "--fresh-baseline",
                                  after=2)[0] for _ in range(KEEP_PER_KEY)]
    with duckdb.connect(str(db), read_only=True) as con:
        maps = dict(con.execute("SELECT run_id, partial FROM baseline_maps").fetchall())
    assert maps == {finished["run_id"]: False, **{run_id: True for run_id in stopped}}
    assert latest_map(db, key).run_id == finished["run_id"]
    after = _run(repo, db, "--coverage-map")
    assert after["baseline"]["reused_from"] == finished["run_id"] and after["baseline"]["measured"] == 0


def _key(db: Path, run_id: str) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT key FROM baseline_maps WHERE run_id = ?", [run_id]).fetchone()[0]


def test_a_stopped_run_says_so_and_leaves_no_traceback(tmp_path: Path) -> None:
    """The resumed run's text says where its baseline came from."""
    repo = _project(tmp_path)
    db = tmp_path / "history.duckdb"
    stopped, _ = _stop_mid_baseline(repo, db, tmp_path, signal.SIGINT, "--coverage-map")
    shown = subprocess.run([sys.executable, "-c", ENTRY, "run", "--jobs", "1", "--db", str(db), "--coverage-map"],
                           cwd=repo.root, env={**os.environ, "PYTHONPATH": str(PROJECT), "COLUMNS": "300"},
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode in (0, 3), shown.stderr
    assert f"baseline: resumed run {stopped}'s, stopped midway" in shown.stderr, shown.stderr
