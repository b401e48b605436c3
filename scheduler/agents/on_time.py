"""A stop hook answers within its budget, whatever its check does.

An agent kills a hook that outlives the hook's timeout, and then gets no answer at all. The run keeps
to its budget phase by phase, but not the costs around the phases: the interpreter's start, libcst's
parse, the snapshot's copy, and git (whose clean filter, as git-lfs's, may take seconds a file). So
the process the agent started only waits for the answer, and the check runs two forks away:

    hook (the agent's pipes) ── keeper (its own session, subreaper) ── check (its output to a file)

The check's answer comes back on a pipe as one JSON line; what it prints goes to an unlinked file that
the hook copies to its stderr as it grows. STOP_AHEAD_SECONDS before the deadline the hook asks the
keeper to stop the check, as SIGTERM stops any run: its processes ended, the user's checkout verified
and restored, what it measured stored. The hook answers when the check has ended, or at the deadline
(`late`), whichever comes first, and is free to exit; a clean-up still going on then goes on below the
keeper, away from the agent's pipes, and leaves alone what changed in the checkout after the answer
(the agent's next edits: checkout_guard.released). The keeper also stops the check when the agent
kills the hook, and kills whatever is left below it once the check has ended (or 30 s after the stop).

A timer thread in the hook's own process was tried first and taken back: it cannot preempt native
code (libcst's parse), and killing the run's processes under the run's feet let it read a killed git
as an empty success.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import select
import signal
import struct
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import IO, NoReturn

from scheduler import checkout_guard
from scheduler.agents.answer import HookAnswer
from scheduler.runner.reaper import become_subreaper, kill_strays, leave

MARGIN_SECONDS = 0.1  # kept back from the budget: writing the answer and the hook's own exit
STOP_AHEAD_SECONDS = 1.0  # the check's clean-up after a stop (0.5 s measured mid-baseline); at most a quarter of the budget
GRACE_SECONDS = 30.0  # a stopped check's clean-up past the answer; then it is killed
TICK_SECONDS = 0.05  # how often the hook copies the check's output, and the keeper looks at the check
ANSWERED, STOPPED = 0, 3  # the check's exit codes: its answer is on the pipe; a stop ended it
SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
_MOMENT = struct.Struct("d")  # the answer's time.time(), shared with the check (0: not answered yet)


def process_started() -> float:
    """When this process started (its interpreter's start and imports count against a budget too), on
    time.monotonic()'s clock; now where /proc is missing or says something unlikely."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            stat = handle.read()
        ticks = int(stat[stat.rfind(b")") + 2:].split()[19])  # field 22: start time, clock ticks after boot
        with open("/proc/uptime", "rb") as handle:
            uptime = float(handle.read().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic()
    return time.monotonic() - (age if 0.0 <= age <= 60.0 else 0.0)  # a time namespace may skew it


def answer_on_time(work: Callable[[], HookAnswer], late: Callable[[str], HookAnswer], started: float,
                   budget: float | None) -> HookAnswer:
    """`work()`'s answer, computed in a grandchild; `late(why)` if it gave none MARGIN_SECONDS before
    `budget` seconds from `started` (time.monotonic(); None: no limit), or ended without one. The
    caller's SIGTERM handler is the check's: it must stop a run as Ctrl-C does (the CLI's does)."""
    deadline = None if budget is None else started + budget - MARGIN_SECONDS
    stop_at = None if budget is None else deadline - min(STOP_AHEAD_SECONDS, budget / 4)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # nothing buffered here may be written twice by the children
    answers, answer_end = os.pipe()
    life, life_end = os.pipe()  # the hook holds the only write end: a byte asks for a stop, its closing too
    output = tempfile.TemporaryFile()
    answered_at = mmap.mmap(-1, _MOMENT.size)  # shared with both children
    before = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)  # no stop may reach the keeper before it ignores them
    keeper = os.fork()
    if keeper == 0:
        os.close(answers)
        os.close(life_end)
        _keep(life, answer_end, output, answered_at, before, work)
    signal.pthread_sigmask(signal.SIG_SETMASK, before)
    os.close(answer_end)
    os.close(life)
    reader = _Reader(answers, output)
    stopped = False
    try:
        line = reader.line(stop_at)
        if line is None and stop_at is not None:
            os.write(life_end, b"s")
            stopped = True
            line = reader.line(deadline)
    finally:
        answered_at[:] = _MOMENT.pack(time.time())  # from now on, what changes in the checkout is the agent's
        os.close(life_end)  # the keeper stops the check if it still runs
        os.close(answers)
    if deadline is None or time.monotonic() < deadline:
        reader.copy()  # the rest of what it printed, if there is time for it
    output.close()
    with contextlib.suppress(ChildProcessError):
        os.waitpid(keeper, os.WNOHANG)  # usually still at work: then init reaps it
    return _answer(line, stopped, late, budget)


def _answer(line: bytes | None, stopped: bool, late: Callable[[str], HookAnswer], budget: float | None) -> HookAnswer:
    try:
        message = json.loads(line) if line else None
    except ValueError:
        return late("the check's answer came cut short")
    ended = "nothing came back" if message is None else message.get("ended")
    if ended is None:
        return HookAnswer(message["stdout"], message["stderr"])
    if stopped and ended in ("stopped", "nothing came back"):
        cleaned = "and has cleaned up" if ended == "stopped" else "and cleans up on its own"
        return late(f"the check gave no answer within the {budget:g} s budget; it was stopped {cleaned} (what it "
                    "measured is stored)")
    return late(f"the check ended without an answer ({ended})")


class _Reader:
    """The first whole line on the answers' pipe, and the check's output copied to stderr meanwhile."""

    def __init__(self, answers: int, output: IO[bytes]) -> None:
        self.answers, self.output = answers, output
        self.received = b""
        self.copied = 0

    def line(self, until: float | None) -> bytes | None:
        """The line (b"": every writer left without one), or None if `until` (time.monotonic()) came first."""
        while True:
            wait = TICK_SECONDS if until is None else min(TICK_SECONDS, until - time.monotonic())
            if wait <= 0:
                return None
            ready, _, _ = select.select([self.answers], [], [], wait)
            self.copy()
            if not ready:
                continue
            chunk = os.read(self.answers, 1 << 16)
            if not chunk:
                return b""
            self.received += chunk
            if b"\n" in self.received:
                return self.received.split(b"\n", 1)[0]

    def copy(self) -> None:
        """What the check printed since the last copy, up to the file's size now (it may keep growing),
        while stderr takes it without blocking (`write_if_room`)."""
        end = os.fstat(self.output.fileno()).st_size
        while self.copied < end:
            chunk = os.pread(self.output.fileno(), min(select.PIPE_BUF, end - self.copied), self.copied)
            written = write_if_room(2, chunk) if chunk else 0
            if not written:
                return
            self.copied += written


def write_if_room(fd: int, data: bytes) -> int:
    """Write up to PIPE_BUF bytes of `data` to `fd` if it takes them without blocking; how many went
    (all of them, counted as gone, where `fd` is closed or broken: the answer matters more). An agent
    that reads stderr only at the end must not make the answer late: a pipe select() calls writable
    has PIPE_BUF bytes of room, and a write of at most that many then never blocks."""
    data = data[:select.PIPE_BUF]
    try:
        if not select.select([], [fd], [], 0)[1]:
            return 0
        return os.write(fd, data)
    except BlockingIOError:
        return 0
    except OSError:
        return len(data)


def _keep(life: int, answer_end: int, output: IO[bytes], answered_at: mmap.mmap, mask: set[signal.Signals],
          work: Callable[[], HookAnswer]) -> NoReturn:
    """The keeper's life, in the hook's first child, its stops held; it never returns into the caller's code."""
    try:
        os.setsid()  # out of the agent's process group: a kill of the hook's group leaves the clean-up be
        become_subreaper()  # what the check starts and leaves behind comes here, to be killed at the end
        _to_devnull(0, 1, 2)
        check = os.fork()
        if check == 0:
            os.close(life)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # the hook's own handlers: a stop stops the run
            _check(answer_end, output, answered_at, work)
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)  # it ends with the check, or with the grace
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        status = _watch(check, life, answered_at)
        kill_strays()
        if status is not None and not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == ANSWERED):
            _say(answer_end, {"ended": _how(status)})
    finally:
        os._exit(0)


def _watch(check: int, life: int, answered_at: mmap.mmap) -> int | None:
    """The check's wait status once it ended; None if it outlived GRACE_SECONDS after its stop (then it
    is killed with the rest). A byte from the hook, or the hook's end, sends the check its SIGTERM; the
    hook's end marks the checkout the agent's again if the hook could not (killed by the agent)."""
    stopped_at: float | None = None
    hook_alive = True
    while True:
        pid, status = os.waitpid(check, os.WNOHANG)
        if pid:
            return status
        if stopped_at is not None and time.monotonic() - stopped_at > GRACE_SECONDS:
            return None
        if not hook_alive:
            time.sleep(TICK_SECONDS)
            continue
        if not select.select([life], [], [], TICK_SECONDS)[0]:
            continue
        if not os.read(life, 1):
            hook_alive = False
            if not _MOMENT.unpack(answered_at[:])[0]:
                answered_at[:] = _MOMENT.pack(time.time())
        if stopped_at is None:
            stopped_at = time.monotonic()
            with contextlib.suppress(ProcessLookupError):
                os.kill(check, signal.SIGTERM)  # a check that answered ignores it


def _check(answer_end: int, output: IO[bytes], answered_at: mmap.mmap, work: Callable[[], HookAnswer]) -> NoReturn:
    """The check's life, in the keeper's child: the hook's own signal handlers (SIGTERM stops the run
    as Ctrl-C does), its output to the shared file, and a checkout that is the agent's again once the
    hook has answered."""
    code = 1
    try:
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
        checkout_guard.released = lambda: _MOMENT.unpack(answered_at[:])[0] or None
        answer = work()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # answered: the keeper's stop is for a check still at work
        _say(answer_end, {"stdout": answer.stdout, "stderr": answer.stderr})
        code = ANSWERED
    except KeyboardInterrupt:  # stopped (the run cleaned up as it unwound): the keeper says so
        code = STOPPED
    except BaseException:  # noqa: BLE001 - the keeper says it ended without an answer; this says why
        traceback.print_exc()
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
    code = os.waitstatus_to_exitcode(status)
    return "stopped" if code == STOPPED else f"exit code {code}"
