"""Mode `serve`: the fork server. Collects the suite once, then runs each mutant sent on stdin in a
forked child that patches the live functions (see patch.py) and runs the chosen tests in order,
stopping at the first failure; the parent enforces the timeout by killing the child's process group.

The child reports on a pipe, one JSON object per line: each test as it ends, then `__done__`; or
why the patch did not apply, or what escaped the tests. The parent answers the driver with one
JSON object per mutant: its status, the tests that killed it, how many ran, the seconds taken.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import time
from typing import TextIO

import pytest

from .common import (PYTEST_FLAGS, ChildExit, _Collector, end_child, fork_child, freeze_heap, hit_memory_cap, private_streams,
                     read_requests, send)
from .patch import Patch, Patcher, live_functions
from .reaper import become_subreaper, children, kill_strays

DONE = "__done__"


class _Server:
    def __init__(self, requests: TextIO, protocol: TextIO, root: str) -> None:
        self.requests = requests
        self.protocol = protocol
        self.root = root
        self.collector = _Collector()
        self.keep: set[int] = set()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        items = {item.nodeid: item for item in session.items}
        index = live_functions(self.root)
        patcher = Patcher(index)
        # A child only needs pass/fail: one-line failure reports cost a third of a long traceback,
        # and nobody reads the progress dots.
        session.config.option.tbstyle = "line"
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            session.config.pluginmanager.unregister(reporter)
        # Orphans of a mutant's processes come to this server, which kills them after each mutant;
        # what the server itself started while collecting (a conftest's helper) stays.
        become_subreaper()
        self.keep = children()
        freeze_heap()
        send(self.protocol, {"ready": True, "tests": len(items), "functions": len(index)})
        for request in read_requests(self.requests):
            send(self.protocol, self._run_mutant(request, items, patcher, session.items))
        return True

    def _run_mutant(self, request: dict, items: dict[str, pytest.Item], patcher: Patcher,
                    session_items: list[pytest.Item]) -> dict:
        started = time.perf_counter()
        if request.get("full_suite"):
            excluded = set(request.get("exclude", ()))  # quarantined as flaky
            tests = [item for item in session_items if item.nodeid not in excluded]
            if request.get("until") in items:  # a control run: the suite up to the mutant's last killer
                tests = tests[: tests.index(items[request["until"]]) + 1] if items[request["until"]] in tests else tests
        else:
            tests = [items[t] for t in request["tests"] if t in items]
        # A control run: the same tests on the unmutated code, to tell a kill from a flaky test.
        patch = _Unpatched() if request.get("control") else patcher.prepare(request)
        if isinstance(patch, str):
            return {"status": "unpatchable", "detail": patch, "killed_by": [], "tests_run": 0,
                    "seconds": time.perf_counter() - started}
        pid, read_end = fork_child(lambda write_end: self._child(request, tests, patch, write_end))
        # A task with its confirmation in the same child (`then`): the tests after the first `stage_one`
        # get their own timeout, counted from when they start.
        stage_one = int(request.get("stage_one", len(tests)))
        stages = [(stage_one, float(request.get("then_timeout") or 0.0))] if stage_one < len(tests) else []
        finished, failed, ran, note, why = self._watch(pid, read_end, request["timeout"], list(stages))
        kill_strays(self.keep)  # a Popen(start_new_session=True), a double-forked daemon
        seconds = time.perf_counter() - started
        running = [t.nodeid for t in tests[len(ran):len(ran) + 1]]
        # Past its covering tests, all passed: the verdict is its confirmation's.
        reached = stages and len(ran) >= stage_one and not set(failed) & set(ran[:stage_one])
        confirmed = {"confirmed_in_child": True} if reached and not note.startswith("unpatchable") else {}
        if note == "timeout":
            return {"status": "timeout", "killed_by": running, "tests_run": len(ran) + 1, "seconds": seconds,
                    **confirmed}
        if note.startswith("unpatchable"):
            return {"status": "unpatchable", "detail": note, "killed_by": [], "tests_run": 0, "seconds": seconds}
        if failed:
            capped = {"detail": "memory limit"} if hit_memory_cap(why.values()) else {}
            return {"status": "killed", "killed_by": failed, "tests_run": len(ran), "seconds": seconds,
                    "failures": why, **capped, **confirmed}
        if not finished:  # died mid-test: segfault, os._exit, MemoryError outside a test, ...
            return {"status": "killed", "killed_by": running, "tests_run": len(ran) + 1, "seconds": seconds,
                    "detail": "memory limit" if hit_memory_cap([note]) else note, **confirmed}
        return {"status": "survived", "killed_by": [], "tests_run": len(ran), "seconds": seconds, **confirmed}

    def _child(self, request: dict, tests: list[pytest.Item], patch: Patch, write_end: int) -> int:
        """Runs in the forked child; returns its exit status."""
        out = os.fdopen(write_end, "w", buffering=1)
        code = 0
        try:
            try:
                patch.apply()
            except ValueError as exc:  # a code object the function cannot take
                out.write(json.dumps({"unpatchable": str(exc)}) + "\n")
            else:
                for position, item in enumerate(tests):
                    self.collector.current_failed = False
                    nextitem = tests[position + 1] if position + 1 < len(tests) else None
                    item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                    failed = self.collector.current_failed
                    why = self.collector.failures.get(item.nodeid, "") if failed else ""
                    out.write(json.dumps({"test": item.nodeid, "failed": failed, "why": why}) + "\n")
                    if self.collector.current_failed and request.get("bail", True):
                        break
                out.write(json.dumps({DONE: True}) + "\n")
        except BaseException as exc:  # noqa: BLE001 - anything escaping the tests ends this child
            try:
                out.write(json.dumps({"crash": f"{type(exc).__name__}: {exc}"}) + "\n")
            except BaseException:  # noqa: BLE001
                pass
            code = 3
        with contextlib.suppress(BaseException):  # the child ends with `code` whatever flushing raises
            out.flush()
        return code

    def _watch(self, pid: int, read_end: int, timeout: float, stages: list[tuple[int, float]]
               ) -> tuple[bool, list[str], list[str], str, dict[str, str]]:
        """The child's messages until it is done, ends, or runs out of time. The verdict is the
        child's own: its `__done__` line, or its exit. EOF on the pipe is not waited for, since a
        process the tests forked (a sleeping child) holds the pipe open long after the test passed.
        `stages`: (tests passed, seconds): once that many tests have passed, a new deadline that far
        ahead (a confirmation's timeout does not add to a looping mutant's first one)."""
        deadline = time.monotonic() + timeout
        buffer = b""
        finished, failed, ran, note = False, [], [], ""
        why: dict[str, str] = {}
        timed_out = False
        ended = False
        exited = ChildExit(pid)
        try:
            while not finished and not note:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                ready, _, _ = select.select([read_end, *exited.fds], [], [], exited.poll_interval(remaining))
                if read_end in ready:
                    chunk = os.read(read_end, 65536)
                else:
                    ended = exited.ended()
                    if not ended:
                        continue
                    chunk = _drain(read_end)  # what it wrote before it ended
                buffer += chunk
                while b"\n" in buffer and not finished:
                    raw, buffer = buffer.split(b"\n", 1)
                    message = json.loads(raw)
                    if DONE in message:
                        finished = True
                    elif "unpatchable" in message:
                        note = "unpatchable: " + message["unpatchable"]
                    elif "crash" in message:
                        note = message["crash"]
                    else:
                        ran.append(message["test"])
                        if message["failed"]:
                            failed.append(message["test"])
                            why[message["test"]] = message.get("why", "")
                        elif stages and not failed and len(ran) == stages[0][0]:
                            deadline = time.monotonic() + stages.pop(0)[1]
                if not chunk or ended:
                    break
        finally:
            exited.close()
        status = end_child(pid, read_end)
        if timed_out:
            return False, failed, ran, "timeout", why
        if not note and not finished:
            if os.WIFSIGNALED(status):
                note = f"crashed with signal {os.WTERMSIG(status)}"
            else:
                note = f"exited with status {os.WEXITSTATUS(status)}"
        return finished, failed, ran, note, why


def _drain(fd: int) -> bytes:
    """What is left in a pipe, without waiting for a writer that may never close it."""
    os.set_blocking(fd, False)
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 65536):
            data += chunk
    return data


class _Unpatched(Patch):
    def apply(self) -> None:
        pass


def serve(root: str, pytest_args: list[str]) -> int:
    requests, protocol = private_streams()
    server = _Server(requests, protocol, os.path.realpath(root) + os.sep)
    code = pytest.main([*pytest_args, *PYTEST_FLAGS], plugins=[server, server.collector])
    if code not in (0, 5):  # collection failed before the loop started
        send(protocol, {"ready": False, "error": f"pytest exited with {int(code)} before serving"})
    return 0
