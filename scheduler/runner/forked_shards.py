"""The baseline's shards forked from one collected suite, pulling test modules as they go.

Separate shard processes each start an interpreter and collect the whole suite (2 s of CPU on
sqlite-utils, a fifth of its suite), and contiguous slices cut by count are lopsided: that suite's
first quarter holds two thirds of its time. Here one process collects, then forks `count`
children after collection; each pulls the next *module* (its tests in the suite's order, in one
process: module fixtures and state stay as in the suite) from a pipe until none is left, so
costly modules balance themselves, and more shards than cores overlap the tests that wait
(subprocesses, sleeps, disk). Each child writes its own result, as a shard process would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import sys
from collections.abc import Callable

import pytest

from .reaper import leave

_DONE = -1
_PR_SET_PDEATHSIG = 1


class ForkedShards:
    """A pytest plugin: `pytest_runtestloop` forks the children. `role` is then "child" in each
    child (`on_child(its index)` has run) and "parent" in the process that forked them, which ends
    once they have (exit code 1 if one ended without exit code 0; it returns from pytest only if
    stopped while forking, and writes nothing then); it stays "alone" where nothing was forked (no
    test or one to run, collection errors, --collect-only): that process ran what there was, as shard 0."""

    def __init__(self, count: int, on_child: Callable[[int], None]) -> None:
        self.count = count
        self.on_child = on_child
        self.role = "alone"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> object:
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            return None  # pytest's own loop reports the collection errors
        if session.config.option.collectonly or len(session.items) < 2 or self.count < 2:
            return None
        modules = _modules(session.items)
        read, write = os.pipe()
        # Every index fits in the pipe's buffer (64 KiB: 16k modules) before any child reads.
        for number in [*range(len(modules)), *([_DONE] * self.count)]:
            os.write(write, struct.pack("i", number))
        pids = []
        self.role = "parent"  # from here on, this process writes no result (a stop now must not make it shard 0)
        for index in range(self.count):
            pid = os.fork()
            if pid == 0:
                os.close(write)
                self._child(session, index, modules, read)
                return True
            pids.append(pid)
        os.close(read)
        os.close(write)
        failed = self._wait(pids)
        # Each child wrote its result: this process ran no test, and its session's end (0.15 s on
        # dateutil) and its interpreter's teardown would only keep the run waiting.
        leave(1 if failed else 0)

    def _child(self, session: pytest.Session, index: int, modules: list[list[pytest.Item]], read: int) -> None:
        _die_with_parent()
        self.role = "child"
        self.on_child(index)
        queue = _Pulled(modules, read)
        item = queue.next()
        while item is not None:
            following = queue.next()  # pulls the next module before the last test of this one ends: its
            # teardown then keeps the session's fixtures, as in one process running both in turn
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
            item = following

    def _wait(self, pids: list[int]) -> bool:
        """Until every child has ended; whether one ended without exit code 0. A stop that reaches
        only this process (the driver's SIGTERM) is passed on: each child then writes the tests it
        measured whole. The stops stay passed on (to children that are gone) until this process
        ends: a late one must not stop pytest here, whose interrupted session would write over
        the children's results."""
        def forward(signum: int, frame: object) -> None:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)

        for stop in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(stop) is not signal.SIG_IGN:
                signal.signal(stop, forward)
        failed = False
        for pid in pids:
            while True:
                try:
                    _, status = os.waitpid(pid, 0)
                    break
                except InterruptedError:
                    continue
            failed = failed or os.waitstatus_to_exitcode(status) != 0
        return failed


class _Pulled:
    """The items of the modules this child pulls, one at a time."""

    def __init__(self, modules: list[list[pytest.Item]], read: int) -> None:
        self.modules, self.read = modules, read
        self.current: list[pytest.Item] = []

    def next(self) -> pytest.Item | None:
        if not self.current:
            number = struct.unpack("i", _read_exactly(self.read, 4))[0]
            if number == _DONE:
                return None
            self.current = list(self.modules[number])
        return self.current.pop(0)


def _read_exactly(fd: int, size: int) -> bytes:
    """Writes of 4 bytes to a pipe are atomic, and so are reads of them; a signal may interrupt one."""
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return struct.pack("i", _DONE)
        data += chunk
    return data


def _modules(items: list[pytest.Item]) -> list[list[pytest.Item]]:
    """Runs of consecutive items of one test file, in the suite's order."""
    runs: list[list[pytest.Item]] = []
    last = None
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if runs and path == last:
            runs[-1].append(item)
        else:
            runs.append([item])
        last = path
    return runs


def _die_with_parent() -> None:
    """A child outlives nothing: killed outright, the parent takes its shards with it (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
