"""A stop hook's last word: just before its budget runs out, it answers (the agent may stop) and
ends, whatever is still running.

The run keeps to a budget phase by phase (scheduler/budget.py), but not the fixed costs around the
phases: the interpreter's start, libcst's parse, the snapshot, the results database. On a slow
minute they alone took Markdown's 2 s hook to 2.2 s (benchmarks/bench_hook.json), and an agent kills
a hook that answers past its timeout: the agent then gets nothing. So a timer set at the budget's end,
counted from the process's own start, answers "allow" in the agent's protocol (a hook never blocks an
agent on its own fault), stops the run's processes (this process is their subreaper) and exits. What
the run stored so far stays stored; its scratch folder goes with the next run (scratch.py).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from types import TracebackType

from scheduler.runner.reaper import become_subreaper, kill_strays

GUARD_SECONDS = 0.15  # writing the answer, stopping the run's processes, exiting


def process_started() -> float:
    """When this process started, on time.monotonic()'s clock (Linux: /proc), else now."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            stat = handle.read()
        ticks = int(stat[stat.rfind(b")") + 2:].split()[19])  # field 22: start time, in clock ticks after boot
        with open("/proc/uptime", "rb") as handle:
            uptime = float(handle.read().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic()
    return time.monotonic() - max(0.0, age)


class LastWord:
    """While active (a `with` block), answers `words()` on `out` (a file descriptor) and ends the process
    GUARD_SECONDS before `budget` seconds from `started` — unless `said()` came first."""

    def __init__(self, budget: float | None, started: float, out: int, words: Callable[[], tuple[str, str]]) -> None:
        self.budget, self.started, self.out, self.words = budget, started, out, words
        self._lock = threading.Lock()
        self._done = False
        self._timer: threading.Timer | None = None

    def __enter__(self) -> LastWord:
        if self.budget is not None:
            become_subreaper()  # what the run's processes start (git's filters too) comes here to be stopped
            wait = max(0.0, self.started + self.budget - GUARD_SECONDS - time.monotonic())
            self._timer = threading.Timer(wait, self._speak)
            self._timer.daemon = True
            self._timer.start()
        return self

    def said(self) -> None:
        """The run's own answer is coming: the timer may no longer speak. If it already is, this
        waits for the process to end. The block's end releases what this holds."""
        self._lock.acquire()
        self._done = True
        if self._timer is not None:
            self._timer.cancel()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if not self._done:
            self.said()
        self._lock.release()

    def _speak(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # the run's own answer is being written
        if self._done:
            self._lock.release()
            return
        try:
            stdout, stderr = self.words()
            if stdout:
                os.write(self.out, stdout.encode())
            os.write(2, (stderr + "\n").encode())
            kill_strays()
        finally:
            os._exit(0)
