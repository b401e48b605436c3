"""What the processes a baseline's test starts run of the probed statements.

Probes record in the process they are compiled into, so a test that starts processes (`python -m
pkg`, a console script) used to watch every mutant: its confirmation ran it for every survivor,
wherever the mutant was (sqlite-utils: three such tests, 2.7 s, in each of its 12 survivors'
confirmations). In the baseline, the Python processes a test starts load spawn_site/sitecustomize.py,
which compiles the same probes into them and writes a log: first who it is (the test, its pid, its
parent's), then at exit how many processes it started itself and which probed lines it ran. A test
whose processes all wrote a whole log, down the tree, watches the lines they ran and nothing else.
One that started anything that did not (a program that is not Python, `python -I`, an environment
without ours, a process killed or ended by `os._exit`) still watches every mutant.

Standard library only: spawn_site loads this file by its path into the processes the tests start.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

TEST_VAR = "MUTAGATE_SPAWN_TEST"  # the test running, set by the baseline's runner around each test
LOG_VAR = "MUTAGATE_SPAWN_LOG"  # the folder the logs go to
PROBES_VAR = "MUTAGATE_SPAWN_PROBES"  # the probes' spec: JSON {file: [[first, last], ...]}
RUNNER_VAR = "MUTAGATE_SPAWN_RUNNER"  # the runner package's folder (probes.py, this file)

# Audit events that start a process. subprocess.Popen raises its own and, where it uses posix_spawn,
# os.posix_spawn for the same process: counted once.
SPAWNS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                    "os.forkpty", "pty.spawn"})


class SpawnCount:
    """The processes an audit hook saw started, one per process."""

    def __init__(self) -> None:
        self.count = 0
        self._after_popen = False

    def saw(self, event: str) -> bool:
        """Whether `event` starts a process (counted unless it is Popen's own posix_spawn)."""
        if event not in SPAWNS:
            return False
        if event == "os.posix_spawn" and self._after_popen:
            self._after_popen = False
            return True
        self._after_popen = event == "subprocess.Popen"
        self.count += 1
        return True


def log_path(folder: str) -> str:
    """A log of its own for this process (a pid can be used again within one baseline)."""
    return os.path.join(folder, f"{os.getpid()}-{time.monotonic_ns()}.jsonl")


def write_start(path: str, test: str) -> None:
    with open(path, "w") as handle:
        handle.write(json.dumps({"test": test, "pid": os.getpid(), "ppid": os.getppid()}) + "\n")


def write_end(path: str, spawns: int, lines: dict[str, dict[str, list[str]]]) -> None:
    ran = [[file, int(line)] for file, by_line in lines.items() for line in by_line]
    with open(path, "a") as handle:
        handle.write(json.dumps({"spawns": spawns, "lines": ran}) + "\n")


@dataclass
class _Process:
    pid: int
    ppid: int
    ended: bool = False
    spawns: int = 0
    lines: list[tuple[str, int]] = field(default_factory=list)


def watched_lines(folder: str, spawned: dict[str, tuple[int, int]]) -> dict[str, set[tuple[str, int]]]:
    """For each test in `spawned` (test -> the pid that ran it and the processes it started) whose
    process tree wrote whole logs, every probed (real path, line) its processes ran; the others are
    left out (they watch every line)."""
    by_test: dict[str, list[_Process]] = {}
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        try:
            with open(os.path.join(folder, name)) as handle:
                records = [json.loads(line) for line in handle if line.strip()]
        except (OSError, ValueError):
            continue  # unreadable, or cut mid-line: that process's test keeps watching every line
        if not records or "test" not in records[0]:
            continue
        process = _Process(records[0]["pid"], records[0]["ppid"])
        if len(records) > 1:
            process.ended, process.spawns = True, records[1]["spawns"]
            process.lines = [(file, line) for file, line in records[1]["lines"]]
        by_test.setdefault(records[0]["test"], []).append(process)
    watched: dict[str, set[tuple[str, int]]] = {}
    for test, (pid, started) in spawned.items():
        processes = by_test.get(test, [])
        if _whole(pid, started, processes, depth=0):
            watched[test] = {line for process in processes for line in process.lines}
    return watched


def _whole(pid: int, started: int, processes: list[_Process], depth: int) -> bool:
    """Every process `pid` started wrote a whole log, and so did theirs."""
    children = [p for p in processes if p.ppid == pid]
    if len(children) < started or depth > 50:
        return False
    return all(child.ended and _whole(child.pid, child.spawns, processes, depth + 1) for child in children)
