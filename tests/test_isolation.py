"""Hostile mutants on real repositories: a run's verdicts, processes and the user's checkout hold
against code that forks, daemonizes, writes by absolute path or eats memory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.cli import PROJECT, mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE
from tests.test_run import verdicts

LAUNCHER = '''import os
import subprocess
import sys
import time

PIDS = {pids!r}


def _record(pid):
    with open(PIDS, "a") as handle:
        handle.write(f"{{pid}}\\n")


def launch(label):
    # A process in a session of its own: a process-group kill never reaches it.
    _record(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True).pid)
    child = os.fork()
    if child == 0:  # a double-forked daemon; it keeps the forked test's file descriptors open
        if os.fork() == 0:
            os.setsid()
            _record(os.getpid())
            time.sleep(60)
        os._exit(0)
    os.waitpid(child, 0)
    return label.upper()
'''

LAUNCHER_TEST = '''from pkg.launcher import launch


def test_launch():
    assert launch("a") == "A"
'''


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def test_forked_sleepers_neither_turn_a_pass_into_a_timeout_nor_outlive_the_run(repo: GitRepo, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    repo.commit(CLAUDE, files={"pyproject.toml": "[tool.mutagate]\ntimeout-floor = 3\ntimeout-multiplier = 2\n",
                               "pkg/__init__.py": "", "tests/__init__.py": "",
                               "pkg/launcher.py": LAUNCHER.format(pids=str(pids)), "tests/test_launcher.py": LAUNCHER_TEST})
    try:
        result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
        assert result.returncode == 0, result.stderr
        found = verdicts(json.loads(result.stdout), repo.root / ".mutagate" / "results.duckdb")
        # start_new_session=True -> False changes nothing a test sees: pytest says `1 passed`, and so must
        # the verdict, although the daemon holds the result pipe open for a minute.
        assert found[("launch", "boolean-constant", "True")][0] == "survived", found
        assert "timeout" not in {status for status, _ in found.values()}, found
        started = [int(line) for line in pids.read_text().split()]
        assert len(started) >= 4  # the baseline's and at least one mutant's: a session leader and a daemon each
        assert [pid for pid in started if _alive(pid)] == []
    finally:
        for pid in [int(line) for line in pids.read_text().split()] if pids.exists() else []:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)  # left by a failing run: started by this test


WRITER = '''TARGET = {target!r}  # a path constant into the user's own checkout


def store(x):
    if x < 5:  # `<=` or 6 make store(5) write
        with open(TARGET, "w") as handle:
            handle.write("corrupted by a mutant")
        with open(TARGET + ".planted", "w") as handle:
            handle.write("new file")
    return x
'''


def _writer_repo(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/data.txt": "committed\n",
                               "pkg/writer.py": WRITER.format(target=str(repo.root / "pkg" / "data.txt")),
                               "tests/test_writer.py": "from pkg.writer import store\n\n\n"
                                                       "def test_store():\n    assert store(5) == 5\n"})
    (repo.root / "pkg" / "data.txt").write_text("the user's uncommitted edit\n")  # dirty: git alone cannot restore it
    (repo.root / "notes.txt").write_text("untracked\n")


def test_a_mutant_writing_into_the_checkout_cannot_change_it(repo: GitRepo) -> None:
    """Where the platform allows (root here) the checkout is read-only to the target: the write fails."""
    from tests.test_run import checkout_state

    _writer_repo(repo)
    before = checkout_state(repo.root)
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    assert checkout_state(repo.root) == before
    if os.geteuid() == 0:  # sealed: the write raised, the test failed, the mutant is killed
        survivors = {s["operator"] for s in json.loads(result.stdout)["survivors"]}
        assert "comparison-boundary" not in survivors, result.stdout


def test_a_checkout_changed_by_a_mutant_is_restored_byte_for_byte_and_the_mutant_named(repo: GitRepo) -> None:
    """Without the read-only mount (not root, no namespaces): fingerprint before, verify and restore after."""
    from tests.test_run import checkout_state

    _writer_repo(repo)
    before = checkout_state(repo.root)
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root, env={"MUTAGATE_READONLY_CHECKOUT": "0"})
    assert result.returncode == 0, result.stderr
    assert checkout_state(repo.root) == before
    writers = [s["id"] for s in json.loads(result.stdout)["survivors"] if s["operator"] == "comparison-boundary"]
    assert writers, result.stdout  # the write went through: nothing in the test sees it
    warning = [line for line in result.stderr.splitlines() if "wrote to your checkout" in line]
    assert len(warning) == 1 and writers[0] in warning[0] and "pkg/data.txt" in warning[0], result.stderr


def test_workers_never_outnumber_the_mutants_and_absurd_jobs_are_refused(repo: GitRepo) -> None:
    import duckdb

    from tests.cli import assert_bad_input

    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "",
                               "pkg/m.py": "def inc(x):\n    return x + 1\n",
                               "tests/test_m.py": "from pkg.m import inc\n\n\ndef test_inc():\n    assert inc(1) == 2\n"})
    assert_bad_input(mutagate("run", "--jobs", "100000", cwd=repo.root), "--jobs", "at most 1024")
    result = mutagate("run", "--json", "--jobs", "200", "--confirm", "off", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    with duckdb.connect(str(repo.root / ".mutagate" / "results.duckdb"), read_only=True) as con:
        executor = con.execute("SELECT executor FROM runs WHERE run_id = ?", [summary["run_id"]]).fetchone()[0]
    workers = int(executor.split(":")[1].split()[0])
    assert 1 <= workers <= summary["mutants"] < 200, executor


HOARDER = '''def hoard(n):
    blocks, count = [], 0
    while count != n:  # `count -= 1` or `count = 1` never gets there: 64 MB more each time round
        blocks.append(bytearray(64 << 20))
        count += 1
    return len(blocks)
'''


def test_a_mutant_that_eats_memory_is_stopped_by_the_cap_and_counted_killed(repo: GitRepo) -> None:
    """Without a cap the runaway mutant grows until the timeout or the OOM killer (the timeout here is
    long: a timeout would stand in for the cap); capped at 256 MB it gets MemoryError, which kills it."""
    import duckdb

    repo.commit(CLAUDE, files={"pyproject.toml": "[tool.mutagate]\nmemory-limit-mb = 256\ntimeout-floor = 60\n",
                               "pkg/__init__.py": "", "tests/__init__.py": "", "pkg/hoard.py": HOARDER,
                               "tests/test_hoard.py": "from pkg.hoard import hoard\n\n\n"
                                                      "def test_hoard():\n    assert hoard(2) == 2\n"})
    result = mutagate("run", "--json", "--jobs", "1", cwd=repo.root)
    assert result.returncode in (0, 3), result.stderr
    summary = json.loads(result.stdout)
    with duckdb.connect(str(repo.root / ".mutagate" / "results.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT m.operator, m.replacement, o.status, o.detail, o.seconds FROM mutants m"
                           " JOIN outcomes o USING (run_id, mutant_id) WHERE run_id = ? AND m.operator LIKE 'augmented%'",
                           [summary["run_id"]]).fetchall()
    assert rows, summary
    for operator, replacement, status, detail, seconds in rows:
        assert (status, detail) == ("killed", "memory limit"), (operator, replacement, status, detail)
        assert seconds < 30, (operator, seconds)  # stopped by the cap, long before the 60 s timeout


def test_a_subreaper_lists_its_children_and_adopted_orphans_as_a_scan_of_every_process_does() -> None:
    # The fork server reads its threads' `children` lists after every mutant; a scan of /proc is the
    # fallback (kernels without the lists) and the reference.
    code = """
import json, os, subprocess, sys, time
from scheduler.runner.reaper import _listed_children, _scanned_children, become_subreaper, children, kill_strays
assert become_subreaper()
sleeper = subprocess.Popen(["sleep", "60"])
subprocess.run(["sh", "-c", "sleep 60 & exit 0"])  # its sleep is orphaned, and adopted here
time.sleep(0.2)
me = os.getpid()
found = {"listed": sorted(_listed_children(me)), "scanned": sorted(_scanned_children(me)), "sleeper": sleeper.pid}
found["killed"] = sorted(kill_strays())
found["after"] = sorted(children())
print(json.dumps(found))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["listed"] == found["scanned"] == found["killed"]
    assert len(found["listed"]) == 2 and found["sleeper"] in found["listed"]  # the Popen and the orphan
    assert found["after"] == []
