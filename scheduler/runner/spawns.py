"""What the processes a baseline's test starts run of the probed statements.

Probes record in the process they are compiled into, so a test that starts processes (`python -m
pkg`, a console script) used to watch every mutant: its confirmation ran it for every survivor,
wherever the mutant was (sqlite-utils: three such tests, 2.7 s, in each of its 12 survivors'
confirmations). In the baseline, the Python processes a test starts load spawn_site/sitecustomize.py,
which compiles the same probes into them and writes a log: first who it is (the test, its pid, its
parent's, how it was started), then at exit how many processes it started itself, which probed
lines it ran, and whether it opened a probed file other than to import it. A test whose processes all
wrote a whole log, down the tree, one per process counted, watches the lines they ran and nothing
else. One that started anything that did not (a program that is not Python, `python -I`, an
environment without ours, a process killed or ended by `os._exit`), whose processes read a mutated
file (`python pkg/mod.py`, `runpy`, a linter, a traceback's source line), or that started
multiprocessing's workers (started without an audit event, so never counted) still watches every
mutant.

Standard library only, and `os`/`sys` only at import: spawn_site executes this file in the processes
the tests start, and must not import what they may check is not imported.
"""

from __future__ import annotations

import os
import sys

TEST_VAR = "MUTAGATE_SPAWN_TEST"  # the test running, set by the baseline's runner around each test
LOG_VAR = "MUTAGATE_SPAWN_LOG"  # the folder the logs go to
PROBES_VAR = "MUTAGATE_SPAWN_PROBES"  # the probes' spec: JSON {file: [[first, last], ...]}
FILES_VAR = "MUTAGATE_SPAWN_FILES"  # the probed files' real paths, os.pathsep-separated
RUNNER_VAR = "MUTAGATE_SPAWN_RUNNER"  # the runner package's folder (probes.py, this file)

# Audit events that start a process. subprocess.Popen raises its own and, where it uses posix_spawn,
# os.posix_spawn for the same process (from Popen._posix_spawn): counted once. multiprocessing's
# workers are started by _posixsubprocess.fork_exec, which raises none: their logs say so (`started_by`).
SPAWNS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                    "os.forkpty", "pty.spawn"})
_MULTIPROCESSING = ("multiprocessing", "--multiprocessing-fork")


class SpawnCount:
    """The processes an audit hook saw started, one per process."""

    def __init__(self) -> None:
        self.count = 0

    def saw(self, event: str) -> bool:
        """Whether `event` starts a process (counted unless it is subprocess.Popen's own posix_spawn,
        told by the function that raised it: a flag set by Popen could be left set by a Popen that
        used fork_exec or failed, and hide a later posix_spawn)."""
        if event not in SPAWNS:
            return False
        if event == "os.posix_spawn" and _called_from_popen():
            return True
        self.count += 1
        return True


def _called_from_popen() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_posix_spawn" and frame.f_code.co_filename.endswith("subprocess.py"):
            return True
        frame = frame.f_back
    return False


def log_path(folder: str) -> str:
    """A log of its own for this process (a pid can be used again within one baseline)."""
    return os.path.join(folder, f"{os.getpid()}-{os.urandom(8).hex()}.jsonl")


def write_start(path: str, test: str) -> None:
    import json

    started_by = "multiprocessing" if any(m in arg for arg in getattr(sys, "orig_argv", sys.argv)
                                          for m in _MULTIPROCESSING) else ""
    with open(path, "w") as handle:
        handle.write(json.dumps({"test": test, "pid": os.getpid(), "ppid": os.getppid(),
                                 "started_by": started_by}) + "\n")


def write_end(path: str, spawns: int, read: bool, lines: dict[str, dict[str, list[str]]]) -> None:
    import json

    ran = [[file, int(line)] for file, by_line in lines.items() for line in by_line]
    with open(path, "a") as handle:
        handle.write(json.dumps({"spawns": spawns, "read": read, "lines": ran}) + "\n")


class _Process:
    def __init__(self, start: dict, end: dict | None) -> None:
        self.pid: int = start["pid"]
        self.ppid: int = start["ppid"]
        self.sound = end is not None and not end.get("read") and not start.get("started_by")
        self.spawns: int = end["spawns"] if end is not None else 0
        self.lines = [(file, line) for file, line in end["lines"]] if end is not None else []


def watched_lines(folder: str, spawned: dict[str, tuple[int, int]]) -> tuple[dict[str, set[tuple[str, int]]], set[str]]:
    """For each test in `spawned` (test -> the pid that ran it and the processes it started) whose
    process tree wrote whole logs, every probed (real path, line) its processes ran; the others are
    left out (they watch every line). And the tests that are not in `spawned` but whose processes
    logged: they started them in a way no audit event tells (multiprocessing's workers), and watch
    every line."""
    import json

    by_test: dict[str, list[_Process]] = {}
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        try:
            with open(os.path.join(folder, name)) as handle:
                records = [json.loads(line) for line in handle if line.strip()]
        except (OSError, ValueError):
            records = []  # cut mid-line: counted as a process that said nothing whole
        if records and "test" in records[0]:
            by_test.setdefault(records[0]["test"], []).append(_Process(records[0], records[1] if len(records) > 1 else None))
        elif records:
            return {}, set()  # a log we cannot read for whom: no test can be told whole
    watched: dict[str, set[tuple[str, int]]] = {}
    for test, (pid, started) in spawned.items():
        processes = by_test.get(test, [])
        if _whole(pid, started, processes, depth=0):
            watched[test] = {line for process in processes for line in process.lines}
    return watched, set(by_test) - set(spawned)


def _whole(pid: int, started: int, processes: list[_Process], depth: int) -> bool:
    """`pid` started exactly as many processes as logged with it as their parent, and each of those
    wrote a whole, sound log, and so did theirs."""
    children = [p for p in processes if p.ppid == pid]
    if len(children) != started or depth > 50:
        return False
    return all(child.sound and _whole(child.pid, child.spawns, processes, depth + 1) for child in children)
