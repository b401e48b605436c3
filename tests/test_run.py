"""`mutagate run` end to end on real repositories with real pytest runs and a real DuckDB file."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import tempfile
from pathlib import Path

import duckdb
import pytest

from tests.cli import assert_bad_input, mutagate, run_process, stop_mid_run
from tests.gitrepo import GitRepo
from tests.sample_project import build_sample

pytestmark = pytest.mark.slow  # real mutation runs end to end


def verdicts(summary: dict, db: Path) -> dict[tuple[str, str, str], tuple[str, list[str]]]:
    """(function, operator, original) -> (status, killed_by) of its first occurrence, read back
    from the DuckDB file."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT m.qualname, m.operator, m.original, o.status, o.killed_by FROM mutants m"
            " JOIN outcomes o USING (run_id, mutant_id) WHERE run_id = ? ORDER BY m.line, m.col DESC",
            [summary["run_id"]],
        ).fetchall()
    found: dict[tuple[str, str, str], tuple[str, list[str]]] = {}
    for q, op, orig, status, killed in rows:
        found.setdefault((q, op, orig), (status, list(killed or [])))
    return found


def checkout_state(root: Path) -> tuple[str, dict[str, bytes]]:
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=root, capture_output=True, text=True).stdout
    status = "".join(line for line in status.splitlines(keepends=True) if ".mutagate/" not in line)  # our results
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
             if p.is_file() and ".git" not in p.parts and ".mutagate" not in p.parts}
    return status, files


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[GitRepo, dict, dict, tuple]:
    repo = build_sample(GitRepo(tmp_path_factory.mktemp("sample") / "repo"))
    before = checkout_state(repo.root)
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    return repo, summary, verdicts(summary, repo.root / ".mutagate" / "results.duckdb"), before


def test_kills_crashes_exits_and_timeouts(sample_run) -> None:
    _, _, found, _ = sample_run
    assert found[("countdown", "augmented-assignment", "-=")][0] == "timeout"  # loops forever
    assert found[("countdown", "augmented-to-plain", "-=")][0] == "timeout"
    assert found[("countdown", "comparison-boundary", ">")] == ("killed", ["tests/test_behaviours.py::test_countdown"])
    assert found[("segfault_guard", "number", "0")] == ("killed", ["tests/test_behaviours.py::test_segfault_guard"])
    assert found[("exit_guard", "number", "0")] == ("killed", ["tests/test_behaviours.py::test_exit_guard"])
    assert found[("hard_exit_guard", "number", "0")] == ("killed", ["tests/test_behaviours.py::test_hard_exit_guard"])


def test_no_coverage_and_survivors(sample_run) -> None:
    _, summary, found, _ = sample_run
    assert found[("untested", "arithmetic", "-")] == ("no_coverage", [])
    assert found[("tail", "number", "0")][0] == "survived"  # an equivalent mutant
    survivors = {(s["operator"], s["original"], s["status"]) for s in summary["survivors"]}
    assert ("arithmetic", "-", "no_coverage") in survivors and ("number", "0", "survived") in survivors


def test_survivors_are_confirmed_against_the_whole_suite(sample_run) -> None:
    _, _, found, _ = sample_run
    # `x * 2` -> `x / 2` passes test_double (0 / 2 == 0); only the subprocess test sees it.
    assert found[("double", "arithmetic", "*")] == ("killed", ["tests/test_behaviours.py::test_double_in_a_subprocess"])


def test_a_file_written_by_a_mutant_does_not_leak(sample_run) -> None:
    repo, _, found, before = sample_run
    # The mutant that writes the file is caught by the suite's own check ...
    assert found[("note", "boolean-constant", "False")] == ("killed", ["tests/test_behaviours.py::test_zz_nothing_leaked"])
    # ... but the mutants run after it on the same worker did not see the file (they survive),
    assert found[("tail", "number", "0")][0] == "survived"
    # and the user's checkout is exactly as it was.
    assert checkout_state(repo.root) == before
    assert not (repo.root / "MUTANT_WAS_HERE.txt").exists()


def test_summary_contract(sample_run) -> None:
    repo, summary, _, _ = sample_run
    assert {"run_id", "score", "mutants", "killed", "survived", "no_coverage", "timeout", "by_agent", "by_file",
            "survivors"} <= set(summary)
    with duckdb.connect(str(repo.root / ".mutagate" / "results.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM outcomes WHERE run_id = ?", [summary["run_id"]]).fetchone()[0]
    assert summary["mutants"] == stored
    assert summary["killed"] + summary["survived"] + summary["no_coverage"] + summary["timeout"] == summary["mutants"]
    detected = summary["killed"] + summary["timeout"]
    assert summary["score"] == round(100 * detected / summary["mutants"], 2)
    assert set(summary["by_agent"]) == {"claude-code"}
    assert summary["by_file"]["pkg/behaviours.py"]["mutants"] == summary["mutants"]


def test_second_run_reuses_every_verdict_and_a_test_change_invalidates(sample_run) -> None:
    repo, first, found, _ = sample_run
    again = json.loads(mutagate("run", "--json", "--jobs", "2", cwd=repo.root).stdout)
    assert again["reused"] == again["mutants"] == first["mutants"]
    db = repo.root / ".mutagate" / "results.duckdb"
    assert verdicts(again, db) == found
    # Editing a test file re-runs the mutants that file's tests decide; the rest are reused.
    path = repo.root / "tests" / "test_behaviours.py"
    path.write_text(path.read_text() + "\n\ndef test_extra():\n    assert True\n")
    repo.commit("human: one more test")
    third = json.loads(mutagate("run", "--json", "--jobs", "2", cwd=repo.root).stdout)
    no_coverage = third["no_coverage"]
    assert third["reused"] == no_coverage  # every covered mutant's tests live in the edited file
    assert verdicts(third, db) == found


def test_fail_under_gate(sample_run) -> None:
    repo, summary, _, _ = sample_run
    low = mutagate("run", "--fail-under", "99", cwd=repo.root)
    assert low.returncode == 3, low.stderr
    assert "below --fail-under 99" in low.stderr
    assert mutagate("run", "--fail-under", "1", cwd=repo.root).returncode == 0
    assert_bad_input(mutagate("run", "--fail-under", "150", cwd=repo.root), "--fail-under")


def test_interrupted_run_loses_nothing_and_resumes(tmp_path: Path) -> None:
    repo = build_sample(GitRepo(tmp_path / "repo"))
    db = tmp_path / "r.duckdb"
    pid, _ = stop_mid_run(repo.root, db, signal.SIGKILL, measured=4)  # worse than Ctrl-C: no chance to clean up
    left = [p for p in Path(tempfile.gettempdir()).glob("mutagate-run-*")
            if (p / "owner.pid").is_file() and (p / "owner.pid").read_text() == str(pid)]
    assert len(left) == 1  # its scratch folder
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM outcomes WHERE status != 'no_coverage'").fetchone()[0]
        assert con.execute("SELECT count(*) FROM runs WHERE finished IS NULL").fetchone()[0] == 1
    assert stored >= 4
    resumed = mutagate("run", "--json", "--jobs", "2", "--db", str(db), cwd=repo.root)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["reused"] >= stored - 1  # an unconfirmed survivor is measured again
    assert not left[0].exists()  # the next run removed the killed one's scratch
    assert summary["killed"] + summary["timeout"] + summary["survived"] + summary["no_coverage"] == summary["mutants"]


def test_failing_baseline_is_bad_input_and_can_be_deselected(repo: GitRepo) -> None:
    repo.commit(
        "feat\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        files={
            "pkg/__init__.py": "",
            "pkg/m.py": "def inc(x):\n    return x + 1\n",
            "tests/test_m.py": "from pkg.m import inc\n\n\ndef test_inc():\n    assert inc(1) == 2\n\n\n"
                               "def test_broken():\n    assert False\n",
        },
    )
    assert_bad_input(mutagate("run", cwd=repo.root), "fails before any mutation", "tests/test_m.py::test_broken")
    with duckdb.connect(str(repo.root / ".mutagate" / "results.duckdb"), read_only=True) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("refused",)]  # not `interrupted`
    ok = mutagate("run", "--json", "--deselect", "tests/test_m.py::test_broken", cwd=repo.root)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["killed"] >= 2


def test_no_tests_is_bad_input(repo: GitRepo) -> None:
    repo.commit("feat\n\nCo-Authored-By: Claude <noreply@anthropic.com>", files={"pkg/m.py": "X = 1 + 2\n"})
    assert_bad_input(mutagate("run", cwd=repo.root), "no tests")


def test_corrupt_and_foreign_databases_are_bad_input(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("feat\n\nCo-Authored-By: Claude <noreply@anthropic.com>", files={"pkg/m.py": "X = 1 + 2\n"})
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    assert_bad_input(mutagate("run", "--db", str(junk), cwd=repo.root), str(junk))
    foreign = tmp_path / "foreign.duckdb"
    with duckdb.connect(str(foreign)) as con:
        con.execute("CREATE TABLE sales (x INTEGER)")
    assert_bad_input(mutagate("run", "--db", str(foreign), cwd=repo.root), "not a mutagate", str(foreign))


def module_level_run(repo: GitRepo, config: str, module: str, test: str) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """Claude writes `pkg/mod.py` and its test; one worker runs it. (operator, original) -> verdict."""
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={"pyproject.toml": f"[tool.mutagate]\n{config}\n", "pkg/__init__.py": "",
                               "tests/__init__.py": "", "pkg/mod.py": module, "tests/test_mod.py": test})
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    found = verdicts(json.loads(result.stdout), repo.root / ".mutagate" / "results.duckdb")
    return {(op, orig): verdict for (_, op, orig), verdict in found.items()}


def test_cached_bytecode_never_stands_in_for_a_mutant(repo: GitRepo) -> None:
    """Two import-time mutants of the same size, run back to back by one worker within a second:
    timestamp-and-size .pyc validation alone would run the second with the first one's bytecode."""
    found = module_level_run(repo, 'disable-operators = ["assign-none"]',
                             "FIRST = 3\nSECOND = 5\n\n\ndef first():\n    return FIRST\n",
                             "from pkg.mod import first\n\n\ndef test_first():\n    assert first() == 3\n")
    assert found[("number", "3")] == ("killed", ["tests/test_mod.py::test_first"])
    assert found[("number", "5")] == ("survived", [])  # SECOND is unused: nothing can see 5 -> 6


def test_an_import_time_mutant_that_never_finishes_importing_times_out(repo: GitRepo) -> None:
    """Fresh runs fork from the zygote: its deadline and process-group kill must hold there too."""
    found = module_level_run(repo, "timeout-floor = 1.5\ntimeout-multiplier = 2",
                             "ROWS = []\nn = 3\nwhile n > 0:\n    ROWS.append(n)\n    n -= 1\n",
                             "from pkg.mod import ROWS\n\n\ndef test_rows():\n    assert ROWS == [3, 2, 1]\n")
    assert found[("augmented-assignment", "-=")][0] == "timeout"  # n += 1: the import never ends
    assert found[("comparison-boundary", ">")][0] == "killed"  # n >= 0: one row too many


CONFIRMED_MODULE = """LOG = []


def double(x):
    return x * 2


def triple(x):
    return x * 3


def remember(x):
    LOG.append(x)
    return x
"""

# In the suite's order. A survivor's confirmation skips the tests before its first covering test,
# except those that start processes; a kill by that part of the suite is re-checked by the whole.
CONFIRMING_TESTS = """import subprocess
import sys

from pkg import mod


def test_prefix_sets_state():
    mod.PREFIX_RAN = True


def test_double_in_a_subprocess():
    out = subprocess.run([sys.executable, "-c", "from pkg.mod import double; print(double(21))"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "42"


def test_triple():
    assert mod.triple(0) == 0


def test_needs_the_prefix():
    assert getattr(mod, "PREFIX_RAN", False)


def test_double():
    assert mod.double(0) == 0


def test_remember():
    assert mod.remember(5) == 5


def test_log_after_remember():
    assert mod.LOG == [5]
"""


def test_confirmation_runs_every_test_that_could_detect_a_survivor(repo: GitRepo) -> None:
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/mod.py": CONFIRMED_MODULE,
                               "tests/test_mod.py": CONFIRMING_TESTS})
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    found = verdicts(json.loads(result.stdout), repo.root / ".mutagate" / "results.duckdb")
    # Before double's only covering test, yet in its confirmation: it starts a process.
    assert found[("double", "arithmetic", "*")] == ("killed", ["tests/test_mod.py::test_double_in_a_subprocess"])
    # remember's covering test passes without the append; a later test sees the state it left.
    assert found[("remember", "remove-call", "LOG.append(x)")] == (
        "killed", ["tests/test_mod.py::test_log_after_remember"])
    # test_needs_the_prefix fails in triple's confirmation only because test_prefix_sets_state, before
    # triple's first covering test, was skipped: the whole suite, re-run for it, says the mutant survives.
    assert found[("triple", "arithmetic", "*")] == ("survived", [])


BOUNDARY_MODULE = """def describe(x):
    if x > 100:
        return "big"
    return "small"
"""

BOUNDARY_TESTS = """from pkg import mod


def test_small():
    assert mod.describe(1) == "small"


def test_zero():
    assert mod.describe(0) == "small"


def test_negative():
    assert mod.describe(-5) == "small"


def test_unrelated_a():
    assert True


def test_unrelated_b():
    assert True
"""


def test_a_survivor_is_confirmed_in_the_same_child_and_its_covering_tests_run_once(repo: GitRepo) -> None:
    """`--confirm smart` without a budget: the tests confirmation adds run in the survivor's own child
    after its covering tests, so those run once (3 + 2 tests, not 3 and then 3 + 2 again)."""
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/mod.py": BOUNDARY_MODULE,
                               "tests/test_mod.py": BOUNDARY_TESTS})
    db = repo.root / "results.duckdb"
    # The database inside the checkout, as a user may put it: the run's own writes are not a mutant's.
    result = run_process(repo.root, db, "--every-mutant")
    assert result.returncode == 0, result.stderr
    assert "wrote to your checkout" not in result.stderr
    summary = json.loads(result.stdout)
    with duckdb.connect(str(db), read_only=True) as con:
        survivors = con.execute("SELECT m.original, m.replacement, o.tests_run, o.phase FROM mutants m JOIN outcomes o"
                                " USING (run_id, mutant_id) WHERE run_id = ? AND o.status = 'survived'",
                                [summary["run_id"]]).fetchall()
    boundary = [row for row in survivors if (row[0], row[1]) == (">", ">=")]
    assert boundary, survivors
    assert {(tests_run, phase) for _, _, tests_run, phase in survivors} == {(5, "confirm")}
    assert summary["confirmation"]["checked"] == len(survivors)
    assert summary["confirmation"]["flipped"] == 0


def test_an_import_time_survivor_is_confirmed_in_the_same_fresh_run(repo: GitRepo, tmp_path: Path) -> None:
    """A module constant's mutant runs in a fresh interpreter; its confirmation runs in that same run
    once its covering tests passed (one interpreter, its covering tests once: not a second fresh run)."""
    from tests.sample_project import CLAUDE

    runs = tmp_path / "runs"
    tests = ("import os\n\nfrom pkg import limits\n\n\n"
             "def note(name):\n    with open(os.environ['RUNS'], 'a') as handle:\n"
             "        handle.write(f'{name} {limits.LIMIT}\\n')\n\n\n"
             "def test_far_above():\n    note('far_above')\n    assert limits.over(1000)\n\n\n"
             "def test_far_below():\n    note('far_below')\n    assert not limits.over(-1000)\n\n\n"
             "def test_unrelated():\n    note('unrelated')\n")
    repo.commit("human: limits", files={"pkg/__init__.py": "", "tests/__init__.py": "", "tests/test_limits.py": tests,
                                        "pkg/limits.py": "LIMIT = 1\n\n\ndef over(x):\n    return x > LIMIT\n"})
    repo.commit(CLAUDE, files={"pkg/limits.py": "LIMIT = 10\n\n\ndef over(x):\n    return x > LIMIT\n"})
    db = tmp_path / "results.duckdb"
    result = run_process(repo.root, db, "--every-mutant", env={"RUNS": str(runs)})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    with duckdb.connect(str(db), read_only=True) as con:
        survivors = con.execute("SELECT m.replacement, o.tests_run, o.phase FROM mutants m JOIN outcomes o"
                                " USING (run_id, mutant_id) WHERE run_id = ? AND o.status = 'survived'",
                                [summary["run_id"]]).fetchall()
    assert survivors and {(tests_run, phase) for _, tests_run, phase in survivors} == {(3, "confirm")}
    noted = runs.read_text().splitlines()
    for value, _, _ in survivors:
        # its covering tests once, then the test confirmation adds: one run, in that order
        assert [line for line in noted if line.endswith(f" {value}")] == [
            f"far_above {value}", f"far_below {value}", f"unrelated {value}"] or \
            [line for line in noted if line.endswith(f" {value}")] == [
            f"far_below {value}", f"far_above {value}", f"unrelated {value}"], noted
    assert summary["confirmation"]["checked"] == len(survivors) and summary["confirmation"]["flipped"] == 0


DEFAULTS_MODULE = """import functools


def greet(name, greeting="hello"):
    return greeting + " " + name


def tag(name, *, marker="#"):
    return marker + name


@functools.lru_cache(maxsize=None)
def cached(n, step=1):
    return n + step


def banner(text, width=5):
    return text.center(width)


BANNER = banner("x")
"""

DEFAULTS_TESTS = """from pkg.mod import BANNER, cached, greet, tag


def test_greet():
    assert greet("bob") == "hello bob"


def test_tag():
    assert tag("a") == "#a"


def test_cached():
    assert cached(1) == 2


def test_banner():
    assert BANNER == "  x  "
"""


def test_default_values_are_patched_into_live_functions_unless_a_fresh_import_is_needed(repo: GitRepo) -> None:
    """A default is computed at import but matters only in calls: set on the live function, it runs
    the tests that ran the body, in a fork. Not when the body ran during import (BANNER kept the
    old default's result), nor behind a decorator that might have copied the defaults."""
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/mod.py": DEFAULTS_MODULE,
                               "tests/test_mod.py": DEFAULTS_TESTS})
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(repo.root / ".mutagate" / "results.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT m.original, m.replacement, o.status, o.killed_by, o.phase FROM mutants m"
                           " JOIN outcomes o USING (run_id, mutant_id) WHERE m.operator = 'default-argument'").fetchall()
    found = {original: (status, killed_by, phase) for original, _, status, killed_by, phase in rows}
    # "select": run patched against the covering tests; "confirm": a fresh import against the whole suite.
    assert found['"hello"'] == ("killed", ["tests/test_mod.py::test_greet"], "select")
    assert found['"#"'] == ("killed", ["tests/test_mod.py::test_tag"], "select")  # keyword-only
    assert found["1"] == ("killed", ["tests/test_mod.py::test_cached"], "confirm")  # behind lru_cache
    assert found["5"] == ("killed", [], "confirm")  # banner ran at import: center(None) breaks the import


def test_mutants_temporary_files_stay_inside_the_run(repo: GitRepo) -> None:
    """Every forked mutant and fresh run gets its own temporary folder inside the run's scratch,
    removed when it ends: nothing is left in the system's temporary folder."""
    module = ("import os\nimport tempfile\n\nLIMIT = 3\n\n\ndef spill(n):\n"
              "    path = os.path.join(tempfile.mkdtemp(), 'spilled.txt')\n"
              "    with open(path, 'w') as handle:\n        handle.write(str(n))\n    return n + 1\n")
    test = "from pkg.mod import LIMIT, spill\n\n\ndef test_spill():\n    assert spill(1) == 2 and LIMIT == 3\n"
    system_tmp = Path(tempfile.gettempdir())
    before = set(system_tmp.iterdir())
    found = module_level_run(repo, "", module, test)
    assert found[("number", "3")][0] == "killed"  # a fresh run (import time)
    assert found[("arithmetic", "+")][0] == "killed"  # a forked one
    assert set(system_tmp.iterdir()) - before == set()


def test_the_confirmation_policy_is_the_users_price_to_choose(repo: GitRepo) -> None:
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/mod.py": CONFIRMED_MODULE,
                               "tests/test_mod.py": CONFIRMING_TESTS})
    seen = {}
    for policy in ("off", "smart", "full"):
        result = mutagate("run", "--json", "--jobs", "1", "--confirm", policy, cwd=repo.root)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        found = verdicts(summary, repo.root / ".mutagate" / "results.duckdb")
        seen[policy] = (found[("remember", "remove-call", "LOG.append(x)")][0], summary["confirmation"])
        # said before the mutant phase: what is coming and about how long
        assert re.search(r"mutagate: \d+ mutants to run \(\d+ in the fork server", result.stderr), result.stderr
    # Off: a survivor means "its covering tests pass"; the later test that sees the missing append never runs.
    assert seen["off"] == ("survived", {"policy": "off", "checked": 0, "flipped": 0})
    for policy in ("smart", "full"):
        status, confirmation = seen[policy]
        assert status == "killed" and confirmation["policy"] == policy
        assert confirmation["checked"] >= 1 and confirmation["flipped"] >= 1
    repo.commit("human: config", files={"pyproject.toml": '[tool.mutagate]\nconfirm = "sometimes"\n'})
    assert_bad_input(mutagate("run", cwd=repo.root), "confirm must be one of smart, full, off")


CLASS_TABLE_MODULE = """class Rates:
    TABLE = {"a": 1, "b": 2}

    def get(self, key):
        return self.TABLE[key]


def describe():
    return "b=%d" % Rates.TABLE["b"]
"""

CLASS_TABLE_TESTS = """from pkg.rates import Rates, describe


def test_a_describe():  # reads the table from outside the class: not one of the class's own tests
    assert describe() == "b=2"


def test_get():
    assert Rates().get("a") == 1
"""


def test_a_class_attribute_runs_the_tests_of_its_class_then_the_whole_suite(repo: GitRepo) -> None:
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/rates.py": CLASS_TABLE_MODULE,
                               "tests/test_rates.py": CLASS_TABLE_TESTS})
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    db = repo.root / ".mutagate" / "results.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        rows = {(orig, op): (status, list(killed), phase, tests_run) for orig, op, status, killed, phase, tests_run in
                con.execute("SELECT original, operator, status, killed_by, phase, tests_run FROM mutant_outcomes"
                            " WHERE run_id = ? AND qualname = 'Rates' AND line = 2", [summary["run_id"]]).fetchall()}
    # The class's own test kills it in a fresh interpreter, without the rest of the suite.
    assert rows[("1", "number")] == ("killed", ["tests/test_rates.py::test_get"], "select", 1)
    # Read from outside the class: its class's tests pass, the whole suite (fresh) finds it.
    assert rows[("2", "number")][:3] == ("killed", ["tests/test_rates.py::test_a_describe"], "confirm")
    off = json.loads(mutagate("run", "--json", "--jobs", "1", "--confirm", "off", "--db",
                              str(repo.root.parent / "off.duckdb"), cwd=repo.root).stdout)
    assert any(s["original"] == "2" and s["operator"] == "number" for s in off["survivors"])


CONSTANT_MODULE = """import re

WORD = re.compile("[a-z]+")
LIMIT = 3
EXPORTED = 5


def short_words(text):
    return [w for w in WORD.findall(text) if len(w) <= LIMIT]


def unrelated():
    return 1
"""

CONSTANT_TESTS = """from pkg.words import EXPORTED, short_words, unrelated


def test_unrelated():
    assert unrelated() == 1


def test_short_words():
    assert short_words("a bb cccc ddd") == ["a", "bb", "ddd"]


def test_exported():  # reads the value from outside its module: no reader inside it
    assert EXPORTED == 5
"""


def test_a_module_constant_runs_the_tests_of_the_functions_that_read_it(repo: GitRepo) -> None:
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/words.py": CONSTANT_MODULE,
                               "tests/test_words.py": CONSTANT_TESTS})
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    db = repo.root / ".mutagate" / "results.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        rows = {(line, orig, op): (status, list(killed), phase, list(selected)) for line, orig, op, status, killed, phase,
                selected in con.execute("SELECT line, original, operator, status, killed_by, phase, covering_tests"
                                        " FROM mutant_outcomes WHERE run_id = ? AND qualname = '<module>'",
                                        [summary["run_id"]]).fetchall()}
    # Read by short_words only: its test alone, in a fresh interpreter, decides it.
    short = ["tests/test_words.py::test_short_words"]
    assert rows[(4, "3", "number")] == ("killed", short, "select", short)
    assert rows[(3, '"[a-z]+"', "string")] == ("killed", short, "select", short)
    # Not read inside its module: the whole suite, fresh, from the start.
    assert rows[(5, "5", "number")][:2] == ("killed", ["tests/test_words.py::test_exported"])
    assert len(rows[(5, "5", "number")][3]) == 3


def test_smart_confirmation_stays_in_the_covering_tests_modules_and_full_goes_further(repo: GitRepo) -> None:
    """A side effect only a test of another module sees: `full` finds it, `smart` (cheaper) does not."""
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={
        "pkg/__init__.py": "", "tests/__init__.py": "",
        "pkg/log.py": "LOG = []\n\n\ndef remember(x):\n    LOG.append(x)\n    return x\n",
        "tests/test_a.py": "from pkg.log import remember\n\n\ndef test_remember():\n    assert remember(5) == 5\n",
        "tests/test_b.py": "from pkg.log import LOG\n\n\ndef test_log_seen_later():\n    assert LOG == [5]\n",
    })
    status = {}
    for policy in ("smart", "full"):
        db = repo.root.parent / f"{policy}.duckdb"
        result = mutagate("run", "--json", "--jobs", "1", "--confirm", policy, "--db", str(db), cwd=repo.root)
        assert result.returncode == 0, result.stderr
        found = verdicts(json.loads(result.stdout), db)
        status[policy] = found[("remember", "remove-call", "LOG.append(x)")]
    assert status["smart"] == ("survived", [])
    assert status["full"] == ("killed", ["tests/test_b.py::test_log_seen_later"])


MONEY_MODULE = """def cents(amount):
    return round(amount * 100)


def total(items):
    return sum(cents(i) for i in items)
"""

MONEY_TESTS = """import pytest

from pkg.money import cents, total


@pytest.mark.parametrize("value", [cents(1.5)])  # cents runs while the suite is collected
def test_param(value):
    assert value == 150


def test_total():
    assert total([1, 2]) == 300


def test_other():
    assert True
"""


def test_a_function_the_suite_calls_at_collection_runs_fresh_against_its_covering_tests(repo: GitRepo) -> None:
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/money.py": MONEY_MODULE,
                               "tests/test_money.py": MONEY_TESTS})
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    db = repo.root / ".mutagate" / "results.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        status, killed, phase, selected = con.execute(
            "SELECT status, killed_by, phase, covering_tests FROM mutant_outcomes WHERE run_id = ? AND qualname = 'cents'"
            " AND operator = 'arithmetic'", [json.loads(result.stdout)["run_id"]]).fetchone()
    # Not the whole suite: the one test that ran its statement, in a fresh interpreter (the
    # parametrize value computed at collection saw the mutant too).
    assert (status, phase, list(selected)) == ("killed", "select", ["tests/test_money.py::test_total"])
    assert list(killed) == ["tests/test_money.py::test_total"]


RENAMED_TESTS = """import pytest

from pkg.money import cents, total


@pytest.mark.parametrize("value", [cents(1.5)])  # its id is the value: 150, or what a mutant makes it
def test_param(value):
    assert value > 0


def test_total():
    assert total([1, 2]) > 0
"""


def test_a_confirmation_test_an_import_time_mutant_renames_leaves_the_verdict_to_the_whole_suite(repo: GitRepo) -> None:
    """`cents` runs at collection: a fresh run, its covering test (test_total) and then its confirmation
    (test_param) in the same run. With 100 -> 101, test_param[150] is test_param[152]: not a reason to
    stop before the covering test, and the whole suite, which rechecks it, passes."""
    from tests.sample_project import CLAUDE

    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/money.py": MONEY_MODULE,
                               "tests/test_money.py": RENAMED_TESTS})
    result = mutagate("run", "--json", "--jobs", "1", "--every-mutant", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    db = repo.root / ".mutagate" / "results.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        found = dict(con.execute(
            "SELECT replacement, status FROM mutant_outcomes WHERE run_id = ? AND qualname = 'cents'"
            " AND operator = 'number'", [json.loads(result.stdout)["run_id"]]).fetchall())
    assert found["101"] == "survived"


def test_smart_confirmation_picks_the_covering_tests_classes_from_the_first_covering_test_on() -> None:
    from scheduler.baseline import Baseline

    order = ("tests/t.py::TestA::test_1", "tests/t.py::TestA::test_2", "tests/t.py::TestA::test_3",
             "tests/t.py::TestB::test_1", "tests/t.py::test_plain", "tests/u.py::test_spawns", "tests/u.py::test_other")
    baseline = Baseline({t: 0.1 for t in order}, {}, order=order, observers=frozenset({"tests/u.py::test_spawns"}))
    # Covered by TestA::test_2: the rest of TestA from there on, and the test that starts processes.
    assert baseline.confirming(("tests/t.py::TestA::test_2",)) == (
        "tests/t.py::TestA::test_2", "tests/t.py::TestA::test_3", "tests/u.py::test_spawns")
    # A plain function's group is its module; at import time, from the start.
    assert baseline.confirming(("tests/u.py::test_other",), from_start=True) == (
        "tests/u.py::test_spawns", "tests/u.py::test_other")
