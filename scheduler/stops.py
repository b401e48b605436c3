"""SIGTERM and SIGHUP stop a command as Ctrl-C does: `Stopped` is raised wherever the main thread is.

Where it lands inside a library that turns it into its own error (DuckDB raises `RuntimeError: Query
interrupted` when a signal handler raised during a query), the stop is still known here: `received()`
says whether one came, so the command ends as stopped (128 + the signal's number) and a stop hook's
check as stopped, never as an internal error.
"""

from __future__ import annotations

import signal

STOPS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """SIGTERM (what CI sends a cancelled or timed-out job) or SIGHUP: stopped as Ctrl-C stops a
    run — workers and their process groups ended, what was measured kept, the run stored as
    interrupted, scratch removed — then exit 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[Stopped] = []


def stop(signum: int, _frame: object) -> None:
    """The handler: the first stop raises; a second must not cut the clean-up short."""
    for other in STOPS:
        signal.signal(other, signal.SIG_IGN)
    _received.append(Stopped(signum))
    raise _received[-1]


def handle_stops() -> None:
    for signum in STOPS:
        signal.signal(signum, stop)


def received() -> Stopped | None:
    """The stop this process got, if any (even one a library swallowed into an error of its own)."""
    return _received[0] if _received else None
