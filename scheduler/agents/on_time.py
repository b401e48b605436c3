"""A stop hook answers within its budget, whatever its check does.

An agent kills a hook that outlives the hook's timeout, and then gets no answer at all. The run keeps
to its budget phase by phase, but not the costs around the phases: the interpreter's start, libcst's
parse, the snapshot's copy, and git (whose clean filter, as git-lfs's, may take seconds a file). So
the process the agent started only waits for the answer, and the check runs two forks away:

    hook (the agent's pipes) ── keeper (its own session, subreaper) ── check (its output to a file)

The check's answer comes back on a pipe as one JSON line; what it prints goes to an unlinked file that
the hook copies to its stderr as it grows. At the deadline the hook answers without it (`late`) and
is free to exit. The keeper sees the hook gone (its pipe's end: also when the agent killed the hook)
and stops the check as SIGTERM stops any run — what was measured stored, the user's checkout verified
and restored, the run's processes ended — then kills whatever is left below it. Neither holds the
agent's pipes, so that clean-up does not keep the agent waiting.

A timer thread in the hook's own process was tried first and taken back: it cannot preempt native
code (libcst's parse), and killing the run's processes under the run's feet let it read a killed git
as an empty success.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from typing import IO, NoReturn

from scheduler.agents.answer import HookAnswer
from scheduler.runner.reaper import become_subreaper, kill_strays, leave

MARGIN_SECONDS = 0.1  # kept back from the deadline: writing the answer and the hook's own exit
GRACE_SECONDS = 30.0  # a stopped check's clean-up (well under a second when measured); then it is killed
TICK_SECONDS = 0.05  # how often the hook copies the check's output, and the keeper looks at the check
ANSWERED = 0  # the check's exit code once its answer is on the pipe


def process_started() -> float:
    """When this process started (its interpreter's start and imports count against a budget too), on
    time.monotonic()'s clock; now where /proc is missing."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            stat = handle.read()
        ticks = int(stat[stat.rfind(b")") + 2:].split()[19])  # field 22: start time, clock ticks after boot
        with open("/proc/uptime", "rb") as handle:
            uptime = float(handle.read().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic()
    return time.monotonic() - max(0.0, age)


def answer_on_time(work: Callable[[], HookAnswer], late: Callable[[str], HookAnswer], started: float,
                   budget: float | None) -> HookAnswer:
    """`work()`'s answer, computed in a grandchild; `late(why)` if it gave none MARGIN_SECONDS before
    `budget` seconds from `started` (time.monotonic(); None: no limit), or ended without one. The
    caller's SIGTERM handler is the check's: it must stop a run as Ctrl-C does (the CLI's does)."""
    deadline = None if budget is None else started + budget - MARGIN_SECONDS
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # nothing buffered here may be written twice by the children
    answers, answer_end = os.pipe()
    life, life_end = os.pipe()  # the hook holds the only write end: the keeper reads its closing
    output = tempfile.TemporaryFile()
    keeper = os.fork()
    if keeper == 0:
        os.close(answers)
        os.close(life_end)
        _keep(life, answer_end, output, work)
    os.close(answer_end)
    os.close(life)
    try:
        line, copied = _first_line(answers, output, deadline)
    finally:
        os.close(life_end)  # answered or given up: the keeper stops the check if it still runs
        os.close(answers)
    _copy(output, copied)
    output.close()
    with contextlib.suppress(ChildProcessError):
        os.waitpid(keeper, os.WNOHANG)  # usually still at work: then init reaps it
    if line is None:
        return late(f"the check gave no answer within the {budget:g} s budget; it was stopped, and stores what it "
                    "measured and cleans up on its own")
    message = json.loads(line) if line else {"ended": "its keeper ended"}
    if "ended" in message:
        return late(f"the check ended without an answer ({message['ended']})")
    return HookAnswer(message["stdout"], message["stderr"])


def _first_line(answers: int, output: IO[bytes], deadline: float | None) -> tuple[bytes | None, int]:
    """The first whole line on `answers` (b"": every writer left without one; None: the deadline came
    first), copying the check's output to stderr meanwhile; and how much of it was copied."""
    received, copied = b"", 0
    while True:
        wait = TICK_SECONDS if deadline is None else min(TICK_SECONDS, deadline - time.monotonic())
        if wait <= 0:
            return None, copied
        ready, _, _ = select.select([answers], [], [], wait)
        copied = _copy(output, copied)
        if not ready:
            continue
        chunk = os.read(answers, 1 << 16)
        if not chunk:
            return b"", copied
        received += chunk
        if b"\n" in received:
            return received.split(b"\n", 1)[0], copied


def _copy(output: IO[bytes], copied: int) -> int:
    """What the check printed since `copied`, onto this process's stderr; the new offset."""
    while chunk := os.pread(output.fileno(), 1 << 16, copied):
        with contextlib.suppress(OSError):  # the person's terminal gone: the answer still matters
            os.write(2, chunk)
        copied += len(chunk)
    return copied


def _keep(life: int, answer_end: int, output: IO[bytes], work: Callable[[], HookAnswer]) -> NoReturn:
    """The keeper's life, in the hook's first child; it never returns into the caller's code."""
    try:
        os.setsid()  # out of the agent's process group: a kill of the hook's group leaves the clean-up be
        become_subreaper()  # what the check starts and leaves behind comes here, to be killed at the end
        _to_devnull(0, 1, 2)
        check = os.fork()
        if check == 0:
            os.close(life)
            _check(answer_end, output, work)
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)  # it ends with the check, or with the grace
        status = _watch(check, life)
        kill_strays()
        if status is not None and not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == ANSWERED):
            _say(answer_end, {"ended": _how(status)})
    finally:
        os._exit(0)


def _watch(check: int, life: int) -> int | None:
    """The check's wait status once it ended; None if it outlived GRACE_SECONDS after the hook's end
    (then it is killed with the rest). The hook's end (answered, or gone) sends the check a SIGTERM."""
    stopped_at: float | None = None
    while True:
        pid, status = os.waitpid(check, os.WNOHANG)
        if pid:
            return status
        if stopped_at is None:
            ready, _, _ = select.select([life], [], [], TICK_SECONDS)
            if ready and not os.read(life, 1):
                stopped_at = time.monotonic()
                with contextlib.suppress(ProcessLookupError):
                    os.kill(check, signal.SIGTERM)  # a check that answered ignores it
        elif time.monotonic() - stopped_at > GRACE_SECONDS:
            return None
        else:
            time.sleep(TICK_SECONDS)


def _check(answer_end: int, output: IO[bytes], work: Callable[[], HookAnswer]) -> NoReturn:
    """The check's life, in the keeper's child: the hook's own signal handlers (SIGTERM stops the run
    as Ctrl-C does) and its output to the shared file."""
    code = 1
    try:
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
        answer = work()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # answered: the keeper's stop is for a check still at work
        _say(answer_end, {"stdout": answer.stdout, "stderr": answer.stderr})
        code = ANSWERED
    except BaseException:  # noqa: BLE001 - stopped at the deadline (the run cleaned up): nobody to answer
        pass
    finally:
        leave(code)


def _say(answer_end: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    with contextlib.suppress(OSError):  # the hook already answered without it, and left
        while data:
            data = data[os.write(answer_end, data):]


def _to_devnull(*fds: int) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in fds:
        os.dup2(null, fd)
    os.close(null)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
