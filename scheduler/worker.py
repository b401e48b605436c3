"""One worker: a private work copy, a fork server that imported the suite once, and fresh runs.

Executors (the local pool, Ray actors) each drive Workers; a Worker runs one task at a time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from mutator.mutant import Mutant, apply_mutant
from results.status import Phase
from scheduler import checkout_guard
from scheduler.runner.stages import StagedDeadline, stage_marker, stage_spec
from scheduler.runtime import Runtime
from scheduler.workcopy_guard import WorkCopyGuard


@dataclass(frozen=True)
class Task:
    mutant: Mutant
    tests: tuple[str, ...]  # in the order to run them; empty with full_suite = the whole suite
    timeout: float
    mode: str  # "patch": hot-swap in a forked child; "fresh": mutated file on disk, new interpreter
    bail: bool = True  # stop at the first failing test
    full_suite: bool = False
    phase: Phase = Phase.SELECT  # the covering tests, or CONFIRM: a survivor against the rest
    # Its confirmation in the same child (`--confirm smart`, patched mutants): the tests to run once
    # every test above passed, with their own timeout from when they start. A kill among them is
    # only a part of the suite's word (see Phases.select); a pass confirms the survivor.
    then: tuple[str, ...] = ()
    then_timeout: float = 0.0


@dataclass(frozen=True)
class Outcome:
    mutant_id: str
    status: str  # killed | survived | timeout
    killed_by: tuple[str, ...]
    tests_run: int
    seconds: float
    phase: Phase
    mode: str
    detail: str = ""
    worker: str = ""
    # Tests whose failure was not the mutant's doing: they failed again on the unmutated code.
    # The mutant was re-run without them; they stay out of this worker's later tasks.
    flaky: tuple[tuple[str, str], ...] = ()  # (node id, its failure line)


# What an executor's `on_outcome` may return: tasks to run in the same run, as soon as a worker is
# free (a hot survivor's parts, hot_split.py); None for none.
FollowUps = Iterable[Task] | None


class ServerDied(Exception):
    pass


@dataclass(frozen=True)
class Stages:
    """A fresh run's deadlines: `timeout` for its covering tests; once they all passed (the run
    creates `marker`), `then_timeout` for its confirmation's tests, from then."""

    timeout: float
    then_timeout: float = 0.0
    marker: Path | None = None


class Worker:
    def __init__(self, runtime: Runtime, workdir: Path, name: str) -> None:
        self.runtime = runtime
        self.workdir = workdir
        self.name = name
        self._server: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None
        self._writes = 0
        self._zygote: subprocess.Popen | bool | None = None  # False: tried, not usable here
        self._guard = WorkCopyGuard(workdir)
        runtime.seed_bytecode(workdir)
        self._written_back: Path | None = None  # the mutant's file, put on disk for a task and written back
        self.quarantine: dict[str, str] = {}  # flaky tests found by this worker -> failure line
        # Control runs that passed in the running server, by what they ran: every fork of one server
        # starts from the same state, so the same tests in the same order pass again. A new server, a new record.
        self._passed_controls: set[tuple[str, ...]] = set()

    # -- the fork server ---------------------------------------------------------------------------

    def _start_server(self) -> subprocess.Popen:
        self._passed_controls = set()
        self._log = open(self.runtime.scratch / f"{self.name}.log", "ab")
        command = self.runtime.command("serve", str(self.workdir), "--", *self.runtime.pytest_args)
        server = subprocess.Popen(command, cwd=self.workdir, env=self.runtime.env(self.workdir),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                  text=True, bufsize=1, start_new_session=True)
        hello = server.stdout.readline()
        if not hello or not json.loads(hello).get("ready"):
            server.kill()
            raise ServerDied(f"fork server did not start: {hello.strip() or 'no answer'}")
        return server

    def warm(self) -> None:
        """The fork server started ahead of the first task; a server that cannot start is tried
        again, and reported, by that task."""
        try:
            if self._server is None or self._server.poll() is not None:
                self._server = self._start_server()
        except (ServerDied, OSError, ValueError):
            self._server = None

    def _ask_server(self, task: Task) -> dict:
        mutant = task.mutant
        return self._ask_server_raw({
            "file": os.path.realpath(self.workdir / mutant.file), "qualname": mutant.qualname,
            "defaults_of": mutant.defaults_of.qualname if mutant.defaults_of else None,
            "start": mutant.start, "end": mutant.end, "replacement": mutant.replacement,
            "tests": [t for t in (*task.tests, *task.then) if t not in self.quarantine],
            "stage_one": len([t for t in task.tests if t not in self.quarantine]), "then_timeout": task.then_timeout,
            "timeout": task.timeout, "bail": task.bail, "full_suite": task.full_suite, "exclude": sorted(self.quarantine)})

    def _ask_server_raw(self, request: dict) -> dict:
        if self._server is None or self._server.poll() is not None:
            self._server = self._start_server()
        try:
            self._server.stdin.write(json.dumps(request) + "\n")
            self._server.stdin.flush()
            answer = self._server.stdout.readline()
        except (BrokenPipeError, OSError):
            answer = ""
        if not answer:
            self._stop_processes()
            raise ServerDied("fork server ended unexpectedly")
        return json.loads(answer)

    # -- running a task ----------------------------------------------------------------------------

    def run(self, task: Task) -> Outcome:
        """The task's verdict. A kill counts only if the killing tests pass on the unmutated code
        (a control run in a fork of the server, same tests, same order; once per server for the
        same tests, as every fork starts from the server's state): a test that fails there too is
        flaky, is quarantined, and the mutant runs again without it — and a kill in that run is checked
        the same way (Markdown: two tests that each fail unless an earlier one imported a module;
        the second killed the retry unchecked). Each round quarantines a test more, so it ends."""
        outcome = self._run_once(task)
        found: dict[str, str] = {}
        tests_run, seconds = outcome.tests_run, outcome.seconds
        while flaky := self._flaky_killers(task, outcome):
            self.quarantine.update(flaky)
            found.update(flaky)
            task = replace(task, tests=tuple(t for t in task.tests if t not in self.quarantine))
            outcome = self._run_once(task)
            tests_run, seconds = tests_run + outcome.tests_run, seconds + outcome.seconds
        if not found:
            return outcome
        return replace(outcome, tests_run=tests_run, seconds=seconds, flaky=tuple(sorted(found.items())))

    def _run_once(self, task: Task) -> Outcome:
        watch = checkout_guard.current
        if watch is not None:
            watch.started(task.mutant.id)
        try:
            if task.mode == "patch":
                answer = self._run_patched(task)
                if answer["status"] != "unpatchable":
                    return self._outcome(task, answer, "patch")
            return self._outcome(task, self._run_fresh(task), "fresh")
        finally:
            # What a mutant wrote must not reach the next one; the mutant on disk was written back.
            self._guard.restore(written_back=self._written_back)
            self._written_back = None
            if watch is not None:
                watch.finished(task.mutant.id)  # did it reach the user's checkout?

    def _flaky_killers(self, task: Task, outcome: Outcome) -> dict[str, str]:
        """Killing tests that also fail without the mutant, with their failure lines."""
        if outcome.status != "killed" or not outcome.killed_by or outcome.detail:
            return {}  # a crash or an import error: the mutant's own doing, nothing to re-run
        if outcome.phase != task.phase:
            return {}  # killed in its confirmation: the whole suite, rechecked, has the last word
        # The same tests in the same order as the mutant's run, up to its last killer: a test may
        # need the state the tests before it leave (alone it could fail for that reason only).
        control = {"control": True, "timeout": task.timeout, "bail": False, "exclude": sorted(self.quarantine)}
        if task.full_suite:
            control.update(full_suite=True, tests=[], until=outcome.killed_by[-1])
            ran = ("<suite until>", outcome.killed_by[-1], *control["exclude"])
        else:
            control.update(full_suite=False,
                           tests=[t for t in task.tests if t not in self.quarantine][: outcome.tests_run])
            ran = tuple(control["tests"])
        # Most kills are by a mutated function's fastest test, run first: one control run per test
        # and server instead of one per kill (semver: 65 distinct first killers of 368 such kills).
        if ran in self._passed_controls:
            return {}
        try:
            answer = self._ask_server_raw(control)
        except ServerDied:
            return {}
        finally:
            self._guard.restore()  # what the control run wrote must not reach the retry or the next task
        failures = answer.get("failures") or {}
        if not answer.get("killed_by") and answer.get("status") == "survived":
            self._passed_controls.add(ran)  # in the server that answered (a restart cleared the record)
        return {t: failures.get(t, "") for t in answer.get("killed_by", ()) if t in outcome.killed_by}

    def _run_patched(self, task: Task) -> dict:
        """In a fork of the server. A confirmation also puts the mutant on disk, for tests that
        run the target in a subprocess."""
        try:
            if self._server is None or self._server.poll() is not None:
                # The server reads the sources it patches when it starts: before any mutant is on disk.
                self._server = self._start_server()
            if task.phase != Phase.CONFIRM and not task.then:
                return self._ask_server(task)
            with self._mutant_on_disk(task.mutant):
                return self._ask_server(task)
        except ServerDied:
            return {"status": "unpatchable", "detail": "fork server died"}

    @contextmanager
    def _mutant_on_disk(self, mutant: Mutant) -> Iterator[None]:
        """The mutant in the work copy for as long as the block runs, then the original back, mtime
        included. The mutant gets an mtime no earlier write had: a .pyc cached for another version
        of the file (keyed by mtime and size) can never match it."""
        target = self.workdir / mutant.file
        original, stat = target.read_bytes(), target.stat()
        self._writes += 1
        try:
            target.write_text(apply_mutant(original, mutant), encoding="utf-8")
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns - self._writes * 1_000_000_000))
            yield
        finally:
            target.write_bytes(original)
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            self._written_back = target

    def _outcome(self, task: Task, answer: dict, mode: str) -> Outcome:
        return Outcome(
            mutant_id=task.mutant.id,
            status=answer["status"],
            killed_by=tuple(answer.get("killed_by", ())),
            tests_run=int(answer.get("tests_run", 0)),
            seconds=float(answer.get("seconds", 0.0)),
            phase=Phase.CONFIRM if answer.get("confirmed_in_child") else task.phase,
            mode=mode,
            detail=answer.get("detail", ""),
            worker=self.name,
        )

    def _run_fresh(self, task: Task) -> dict:
        """An import-time mutant's tests in a fresh interpreter: its covering tests, then (`Task.then`)
        its confirmation's in the same run, with a timeout of their own from when they start."""
        out = self.runtime.scratch / f"{self.name}-fresh.json"
        marker, spec = Path(stage_marker(str(out))), Path(stage_spec(str(out)))
        for stale in (out, marker, spec):
            stale.unlink(missing_ok=True)
        tests = [] if task.full_suite else [t for t in task.tests if t not in self.quarantine]
        then = [] if task.full_suite else [t for t in task.then if t not in self.quarantine]
        named = tests
        if then:  # the run picks both stages from their modules (runner/fresh.py)
            spec.write_text(json.dumps({"first": tests, "then": then}))
            named = list(dict.fromkeys(t.split("::", 1)[0] for t in (*tests, *then)))
        stages = Stages(task.timeout, task.then_timeout, marker if then else None)
        args = named + [arg for test in sorted(self.quarantine) for arg in ("--deselect", test)]
        started = time.perf_counter()
        with self._mutant_on_disk(task.mutant):
            exit_note = self._fresh_in_zygote(out, args, stages)
            if exit_note is None:
                exit_note = self._fresh_in_new_interpreter(out, args, stages)
        # Its covering tests all passed: the verdict is its confirmation's, as in a fork's (serve.py).
        confirmed = {"confirmed_in_child": True} if then and marker.exists() else {}
        if exit_note == "timeout":
            return {"status": "timeout", "killed_by": [], "tests_run": 0, "seconds": time.perf_counter() - started,
                    **confirmed}
        seconds = time.perf_counter() - started
        if not out.is_file():
            return {"status": "killed", "killed_by": [], "tests_run": 0, "seconds": seconds,
                    "detail": f"test process died ({exit_note})", **confirmed}
        result = json.loads(out.read_text())
        if result["failed"]:
            capped = any("MemoryError" in line for line in result.get("failures", {}).values())  # the runner's cap
            return {"status": "killed", "killed_by": result["failed"], "tests_run": result["tests_run"], "seconds": seconds,
                    **({"detail": "memory limit"} if capped else {}), **confirmed}
        if result["exit_code"] not in (0, 5):
            return {"status": "killed", "killed_by": [], "tests_run": result["tests_run"], "seconds": seconds,
                    "detail": f"pytest exited with {result['exit_code']} (import or collection error)"}
        if confirmed and result.get("missing"):
            # A confirmation test the mutant renamed (its parametrize value): a detection by a part of
            # the suite, which the whole suite rechecks, as when it was named to pytest on its own.
            return {"status": "killed", "killed_by": [], "tests_run": result["tests_run"], "seconds": seconds,
                    "detail": f"not found with the mutant: {result['missing'][0]}", **confirmed}
        return {"status": "survived", "killed_by": [], "tests_run": result["tests_run"], "seconds": seconds, **confirmed}

    def _fresh_in_new_interpreter(self, out: Path, tests: list[str], stages: Stages) -> str:
        command = self.runtime.command("fresh", str(out), "--", *self.runtime.pytest_args, *tests)
        process = subprocess.Popen(command, cwd=self.workdir, env=self.runtime.env(self.workdir),
                                   stdout=self._log_file(), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = StagedDeadline(stages.timeout, str(stages.marker) if stages.marker else None, stages.then_timeout)
        try:
            while (remaining := deadline.remaining()) > 0:
                try:
                    process.wait(timeout=deadline.wait(remaining))
                    break
                except subprocess.TimeoutExpired:
                    continue
            else:
                return "timeout"
        finally:
            _kill_group(process)  # anything the tests left running
        return f"exit {process.returncode}"

    def _fresh_in_zygote(self, out: Path, tests: list[str], stages: Stages) -> str | None:
        """A fresh run forked from the zygote; None when there is no usable zygote."""
        if self._zygote is False:
            return None
        if self._zygote is None or self._zygote.poll() is not None:
            self._zygote = self._start_zygote()
            if self._zygote is False:
                return None
        request = {"out": str(out), "tests": tests, "timeout": stages.timeout}
        if stages.marker is not None:
            request.update(marker=str(stages.marker), then_timeout=stages.then_timeout)
        try:
            self._zygote.stdin.write(json.dumps(request) + "\n")
            self._zygote.stdin.flush()
            answer = self._zygote.stdout.readline()
        except (BrokenPipeError, OSError):
            answer = ""
        if not answer:
            _kill_group(self._zygote)
            self._zygote = None
            return None
        reply = json.loads(answer)
        return "timeout" if reply["timeout"] else f"wait status {reply['status']}"

    def _start_zygote(self) -> subprocess.Popen | bool:
        command = self.runtime.command("zygote", str(self.workdir), str(self.runtime.installed_modules), "--",
                                       *self.runtime.pytest_args)
        zygote = subprocess.Popen(command, cwd=self.workdir, env=self.runtime.env(self.workdir),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log_file(),
                                  text=True, bufsize=1, start_new_session=True)
        hello = zygote.stdout.readline()
        if not hello or not json.loads(hello).get("ready"):
            _kill_group(zygote)
            return False  # fresh runs start new interpreters from now on
        return zygote

    def _log_file(self) -> IO[bytes]:
        if self._log is None:
            self._log = open(self.runtime.scratch / f"{self.name}.log", "ab")
        return self._log

    def close(self) -> None:
        self._guard.close()
        self._stop_processes()

    def use(self, runtime: Runtime) -> None:
        """Run later tasks with `runtime` (more deselected tests): its servers start again with it."""
        self._stop_processes()
        self.runtime = runtime

    def _stop_processes(self) -> None:
        if self._server is not None:
            _kill_group(self._server)
            self._server = None
        if isinstance(self._zygote, subprocess.Popen):
            _kill_group(self._zygote)
        self._zygote = None


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
