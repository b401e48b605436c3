"""No process a mutant or a test starts outlives its run; and a process whose work is done ends at once.

A process group kill misses what left the group: `Popen(start_new_session=True)`, a double-forked
daemon. On Linux a process that owns mutants becomes a *child subreaper* (PR_SET_CHILD_SUBREAPER):
every orphan below it is re-parented to it instead of to PID 1, so after each mutant it kills every
child it did not start on purpose, again and again until none is left (killing one orphan hands
its own children to us).

Standard library only: the fork server and the zygote use it inside the target's interpreter, the
driver around the whole run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import time
from typing import NoReturn

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """True if orphans below this process now come to it (Linux 3.4+)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def children(of: int | None = None) -> set[int]:
    """The live (and zombie) children of a process, read from /proc; empty where there is no /proc."""
    parent = os.getpid() if of is None else of
    try:
        return _listed_children(parent)
    except (OSError, ValueError):
        return _scanned_children(parent)


def _listed_children(parent: int) -> set[int]:
    """From each of the process's threads' `children` list (Linux 3.5+ with CONFIG_PROC_CHILDREN):
    a few reads, where scanning every process on the machine cost a fork server 1.3 ms after each
    mutant (most of its own time on a fast suite). OSError where the kernel has no such list."""
    found: set[int] = set()
    for thread in os.listdir(f"/proc/{parent}/task"):
        with open(f"/proc/{parent}/task/{thread}/children", "rb") as handle:
            found.update(int(pid) for pid in handle.read().split())
    return found


def _scanned_children(parent: int) -> set[int]:
    """Every process's parent, read from /proc/PID/stat."""
    found: set[int] = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # ended while we looked
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            found.add(int(entry))
    return found


def kill_strays(keep: set[int] = frozenset(), rounds: int = 50) -> list[int]:
    """Kill and reap every child of this process not in `keep`, until none is left; returns their pids."""
    killed: list[int] = []
    for _ in range(rounds):
        strays = children() - set(keep)
        if not strays:
            break
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in strays:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            killed.append(pid)
        time.sleep(0.001)  # the killed processes' children are re-parented to us: look again
    return killed


def leave(code: int) -> NoReturn:
    """End this process now, its result written: without the interpreter's teardown (freeing a
    collected suite: 0.2-0.4 s per baseline shard on dateutil, while the run waited). The atexit
    handlers still run: they stop what the tests or conftest started (a pool, a server) and flush
    what they wrote, as at a normal exit."""
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
