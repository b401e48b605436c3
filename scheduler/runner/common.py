"""What the modes share: the outcome collector, pytest's common arguments, the protocol streams, and
forking a child into its own process group and temporary folder, then killing and reaping it."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import os
import select
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

import pytest

from .stages import StagedDeadline

# Every mode's: no .pytest_cache written into the work copy, quiet output, the suite in its own
# order (pytest-randomly off) and in this process (pytest-xdist's `-n 0`, when it is installed:
# `-p no:xdist` would make a `-n auto` in the project's addopts an error).
PYTEST_FLAGS = ("-p", "no:cacheprovider", "-q", "-p", "no:randomly",
                *(("-n", "0") if importlib.util.find_spec("xdist") is not None else ()))


def failure_line(report: pytest.TestReport) -> str:
    """A failed test's reason in one line: the exception's message as pytest shows it."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[0] if lines else "failed")[:300]


class _Collector:
    """Collects per-test outcomes and durations through pytest's public hooks."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.outcomes: dict[str, str] = {}
        self.durations: dict[str, float] = {}
        self.failures: dict[str, str] = {}  # node id -> its first failure's line
        self.current_failed = False

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if report.failed:
            self.current_failed = True
            self.outcomes[report.nodeid] = "failed"
            if report.nodeid not in self.failed:
                self.failed.append(report.nodeid)
                self.failures[report.nodeid] = failure_line(report)
        elif report.when == "call" or (report.skipped and report.nodeid not in self.outcomes):
            self.outcomes.setdefault(report.nodeid, report.outcome)


def _installed_modules() -> list[str]:
    """Modules the suite imported from the standard library and site-packages: what a fresh run
    imports again but no mutant can change, so a zygote may import them once."""
    prefixes = tuple({os.path.realpath(p) + os.sep for p in (sys.base_prefix, sys.prefix)})
    names = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path).startswith(prefixes) and not name.startswith("__"):
            names.append(name)
    return sorted(names)


# --- the protocol --------------------------------------------------------------------------------


def private_streams() -> tuple[TextIO, TextIO]:
    """The requests and the protocol stream: private copies of stdin and stdout, because pytest
    captures sys.stdin, and whatever pytest or the tests print must not reach the protocol stream.
    Afterwards fd 1 is stderr and fd 0 reads nothing."""
    requests = os.fdopen(os.dup(0), "r")
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    return requests, protocol


def send(protocol: TextIO, message: dict) -> None:
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


def read_requests(requests: Iterable[str]) -> Iterator[dict]:
    """One request per non-blank line, until the driver closes stdin."""
    for line in requests:
        if not line.strip():
            continue
        yield json.loads(line)


# --- forked children -----------------------------------------------------------------------------


def freeze_heap() -> None:
    """Everything alive now is shared with every child: keep the collector off those pages, so
    forking copies as little memory as possible."""
    gc.collect()
    gc.freeze()


def fork_child(body: Callable[[int], int]) -> tuple[int, int]:
    """Fork a child that runs `body(write_end)` and exits with its result (3 if it raises), in its
    own session and process group (the timeout kills whatever the tests started too) and its own
    temporary folder. Returns the child's pid and the read end of its pipe: EOF there means the
    child, and every process holding the pipe, is gone."""
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            os.setsid()
            _die_with(parent)
            os.close(read_end)
            _use_own_tmp()
            cap_memory()
            code = body(write_end)
        finally:
            os._exit(code)  # never back into the parent's loop, pytest's teardown or atexit
    os.close(write_end)
    return pid, read_end


MEMORY_LIMIT_ENV = "MUTAGATE_MEMORY_LIMIT_MB"  # set by the scheduler (Runtime.env), from `memory-limit-mb`


def cap_memory() -> None:
    """Cap this process's address space (RLIMIT_AS) at its size now plus MUTAGATE_MEMORY_LIMIT_MB: a mutant
    that allocates without bound (one reached 2.25 GiB in 5 s) gets MemoryError, not the machine's OOM
    killer. The cap is growth over the fork's inherited size, so a large pre-imported server is no
    reason for a false kill. Never raises a limit someone else set; where rlimits are missing, no cap."""
    text = os.environ.get(MEMORY_LIMIT_ENV, "")
    try:
        import resource

        growth = int(float(text) * 1024 * 1024)
    except (ImportError, ValueError):
        return
    if growth <= 0:
        return
    with contextlib.suppress(OSError, ValueError):
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = _address_space() + growth
        for limit in (soft, hard):
            if limit != resource.RLIM_INFINITY:
                cap = min(cap, limit)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _address_space() -> int:
    """This process's virtual size in bytes (Linux /proc), 0 where unknown."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def hit_memory_cap(failures: Iterable[str]) -> bool:
    """Whether a failure line says the mutant ran into the cap (MemoryError, raised by the allocator)."""
    return any("MemoryError" in line for line in failures)


def _die_with(parent: int) -> None:
    """The child has a session of its own (its group is what a timeout kills), so killing the server's
    group would not reach it: a mutant looping forever would outlive a server stopped by its driver.
    Linux ends it with its parent (PR_SET_PDEATHSIG); a parent already gone means exit now."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(3)


class ChildExit:
    """Tells when a forked child has ended, whoever else holds its pipe: a pidfd to select on
    (Linux 5.3+), else a short poll of waitpid."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.fds: list[int] = []
        with contextlib.suppress(AttributeError, OSError):
            self.fds.append(os.pidfd_open(pid))

    def poll_interval(self, remaining: float) -> float:
        return remaining if self.fds else min(remaining, 0.05)

    def ended(self) -> bool:
        """Whether the child has ended; it is left for end_child to reap, so its pid (and process
        group id) cannot be reused before its group is killed."""
        found = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return found is not None and found.si_pid == self.pid

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []


def wait_child(pid: int, timeout: float, marker: str | None = None, then_timeout: float = 0.0) -> bool:
    """Whether the child ended before the deadline (not reaped: end_child does that). `marker`: a
    file the child creates once its first stage of tests passed (fresh.py); from then on the
    deadline is `then_timeout` away (a loop in the first stage keeps the first stage's timeout)."""
    exited = ChildExit(pid)
    deadline = StagedDeadline(timeout, marker, then_timeout)
    try:
        while True:
            if exited.ended():
                return True
            remaining = deadline.remaining()
            if remaining <= 0:
                return False
            select.select(exited.fds, [], [], exited.poll_interval(deadline.wait(remaining)))
    finally:
        exited.close()


def end_child(pid: int, read_end: int) -> int:
    """Kill the child's process group (the child and anything it started), reap the child, remove
    its temporary folder; returns its wait status."""
    os.close(read_end)
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group may be gone already
        os.killpg(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    _remove_own_tmp(pid)  # the child and its process group are gone
    return status


# The run's own temporary folder (the driver points TMPDIR into the run's scratch), shared by every
# child's folder.
_TMP = tempfile.gettempdir()


def _own_tmp(pid: int) -> str:
    return os.path.join(_TMP, f"child-{pid}")


def _use_own_tmp() -> None:
    """A forked child's own temporary folder: what one mutant's tests leave there, the next never
    sees. Named by the child's pid, so the parent removes it once the child's group is dead."""
    directory = _own_tmp(os.getpid())
    try:
        os.mkdir(directory)
    except FileExistsError:
        shutil.rmtree(directory, ignore_errors=True)
        os.mkdir(directory)
    os.environ["TMPDIR"] = directory
    tempfile.tempdir = directory


def _remove_own_tmp(pid: int) -> None:
    try:
        os.rmdir(_own_tmp(pid))  # most tests write nothing there
    except FileNotFoundError:
        pass
    except OSError:
        shutil.rmtree(_own_tmp(pid), ignore_errors=True)
