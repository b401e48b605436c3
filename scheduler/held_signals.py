"""Clean-up that a stop must not cut in two.

SIGTERM and SIGHUP stop a run by raising `Stopped` wherever the run is (scheduler/stops.py), and the run's
clean-up then stops its processes, puts the user's checkout back and stores the run's end. A second
stop landing inside that clean-up would cut it where it stands: a file of the checkout between its
removal and its rewrite, a run left `running`. Since a stop hook stops its late check with a SIGTERM
at a moment the check's own wrap-up is planned for (scheduler/agents/on_time.py), that is not rare.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from scheduler.stops import STOPS


@contextmanager
def held_signals(signums: tuple[int, ...] = STOPS) -> Iterator[None]:
    """Inside the block, `signums` wait (blocked, so pending); they are delivered when it ends. Only
    the main thread, where Python runs signal handlers, needs it. Processes started inside inherit the
    mask, across exec too: what is started there is stopped with SIGKILL, as the reaper does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, signums)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
