"""Hostile mutants on real repositories: a run's verdicts, processes and the user's checkout hold
against code that forks, daemonizes, writes by absolute path or eats memory."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from tests.cli import mutagate
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
