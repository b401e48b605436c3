"""Runs inside the *target's* interpreter; needs only the standard library, pytest and coverage
(and runner_patch.py, copied beside it).

Four modes, each started as `python pytest_runner.py MODE ...` in a work copy:

- `baseline`: the whole suite once under coverage.py, switching the coverage context to each test's
  node id for its setup, call and teardown. Writes which tests ran each line, each test's
  duration and outcome, and which tests start processes or read a mutated file.
- `serve`: a fork server. Collects the suite once (importing the target and its tests), then for each
  mutant sent on stdin forks; the child swaps the mutated function's code object (or its default
  values) into the live function objects (so `from mod import f` references see it too; see
  runner_patch.py) and runs the chosen tests in order,
  stopping at the first failure. The parent enforces the timeout by killing the child's process
  group, so infinite loops, crashes, `sys.exit` and `os._exit` cannot hang or break the server.
- `fresh`: the suite (or some tests) in a fresh interpreter, for mutants that run at import time;
  the mutated file is already on disk.
- `zygote`: imports pytest, its plugins and the installed modules the baseline saw (never the
  target), then forks a `fresh` run per request: an interpreter start and those imports paid once.

Protocol of `serve`: one JSON object per line on stdin (a mutant) and on the original stdout (its
result); everything the tests print goes to stderr.
"""

from __future__ import annotations

import gc
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time

import pytest

try:  # the copy beside this one in a run's scratch, never a module of the target's that shares a name
    from mutagate_runner_patch import Patch, Patcher, live_functions
except ImportError:  # imported as part of mutagate (its tests)
    from scheduler.runner_patch import Patch, Patcher, live_functions

DONE = "__done__"


class _Collector:
    """Collects per-test outcomes and durations through pytest's public hooks."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.outcomes: dict[str, str] = {}
        self.durations: dict[str, float] = {}
        self.current_failed = False

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if report.failed:
            self.current_failed = True
            self.outcomes[report.nodeid] = "failed"
            if report.nodeid not in self.failed:
                self.failed.append(report.nodeid)
        elif report.when == "call" or (report.skipped and report.nodeid not in self.outcomes):
            self.outcomes.setdefault(report.nodeid, report.outcome)


# --- baseline ------------------------------------------------------------------------------------


_SPAWNS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                     "os.forkpty", "pty.spawn"})


class _Observers:
    """An audit hook naming the tests that may see a mutant without running its line in this
    process, where coverage cannot follow: they start processes (which import the target from
    disk) or open a mutated file (to read its text)."""

    def __init__(self, files: list[str]) -> None:
        self.files = {os.path.realpath(f) for f in files}
        self.names = {os.path.basename(f) for f in self.files}
        self.current: str | None = None
        self.found: set[str] = set()

    def __call__(self, event: str, args: tuple) -> None:
        test = self.current
        if test is None or test in self.found:
            return
        try:
            if event in _SPAWNS:
                self.found.add(test)
            elif event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
                path = os.fsdecode(args[0])
                if os.path.basename(path) in self.names and os.path.realpath(path) in self.files:
                    self.found.add(test)
        except Exception:  # noqa: BLE001 - an audit hook must never break the code it watches
            pass


class _ContextSwitcher:
    def __init__(self, cov, observers: _Observers) -> None:
        self.cov = cov
        self.observers = observers

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.cov.switch_context(item.nodeid)
        self.observers.current = item.nodeid
        yield
        self.observers.current = None
        self.cov.switch_context("")


def baseline(out: str, include: list[str], pytest_args: list[str]) -> int:
    import coverage

    # Data in memory: with a data file, every switch of context writes to SQLite on disk.
    cov = coverage.Coverage(data_file=None, include=include or None, config_file=False)
    collector = _Collector()
    observers = _Observers(include)
    sys.addaudithook(observers)
    cov.start()
    try:
        code = pytest.main([*pytest_args, "-p", "no:cacheprovider", "-q", "-p", "no:randomly"],
                           plugins=[collector, _ContextSwitcher(cov, observers)])
    finally:
        cov.stop()
    data = cov.get_data()
    lines: dict[str, dict[str, list[str]]] = {}
    for path in data.measured_files():
        by_line = data.contexts_by_lineno(path)
        lines[os.path.realpath(path)] = {str(n): sorted(set(ctx)) for n, ctx in by_line.items()}
    result = {
        "exit_code": int(code),
        "tests": {
            nodeid: {"outcome": collector.outcomes.get(nodeid, "passed"), "duration": duration}
            for nodeid, duration in collector.durations.items()
        },
        "failed": collector.failed,
        "observers": sorted(observers.found),
        "lines": lines,
        "modules": _installed_modules(),
    }
    with open(out, "w") as handle:
        json.dump(result, handle)
    return 0


# --- fork server ---------------------------------------------------------------------------------


class _Server:
    def __init__(self, requests, protocol, root: str) -> None:
        self.requests = requests
        self.protocol = protocol
        self.root = root
        self.collector = _Collector()

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
        # Everything alive now is shared with every child: keep the collector off those pages, so
        # forking copies as little memory as possible.
        gc.collect()
        gc.freeze()
        self._send({"ready": True, "tests": len(items), "functions": len(index)})
        for line in self.requests:
            if not line.strip():
                continue
            request = json.loads(line)
            self._send(self._run_mutant(request, items, patcher, session.items))
        return True

    def _send(self, message: dict) -> None:
        self.protocol.write(json.dumps(message) + "\n")
        self.protocol.flush()

    def _run_mutant(self, request: dict, items: dict, patcher: Patcher, session_items: list) -> dict:
        started = time.perf_counter()
        if request.get("full_suite"):
            tests = list(session_items)
        else:
            tests = [items[t] for t in request["tests"] if t in items]
        patch = patcher.prepare(request)
        if isinstance(patch, str):
            return {"status": "unpatchable", "detail": patch, "killed_by": [], "tests_run": 0,
                    "seconds": time.perf_counter() - started}
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _use_own_tmp()
            self._child(request, tests, patch, write_end)
        os.close(write_end)
        finished, failed, ran, note = self._watch(pid, read_end, request["timeout"])
        _remove_own_tmp(pid)  # the child and its process group are gone
        seconds = time.perf_counter() - started
        running = [t.nodeid for t in tests[len(ran):len(ran) + 1]]
        if note == "timeout":
            return {"status": "timeout", "killed_by": running, "tests_run": len(ran) + 1, "seconds": seconds}
        if note.startswith("unpatchable"):
            return {"status": "unpatchable", "detail": note, "killed_by": [], "tests_run": 0, "seconds": seconds}
        if failed:
            return {"status": "killed", "killed_by": failed, "tests_run": len(ran), "seconds": seconds}
        if not finished:  # died mid-test: segfault, os._exit, ...
            return {"status": "killed", "killed_by": running, "tests_run": len(ran) + 1, "seconds": seconds,
                    "detail": note}
        return {"status": "survived", "killed_by": [], "tests_run": len(ran), "seconds": seconds}

    def _child(self, request: dict, tests: list, patch: Patch, write_end: int) -> None:
        os.setsid()  # one process group: the timeout kills whatever the tests started too
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
                    out.write(json.dumps({"test": item.nodeid, "failed": self.collector.current_failed}) + "\n")
                    if self.collector.current_failed and request.get("bail", True):
                        break
                out.write(json.dumps({DONE: True}) + "\n")
        except BaseException as exc:  # noqa: BLE001 - anything escaping the tests ends this child
            try:
                out.write(json.dumps({"crash": f"{type(exc).__name__}: {exc}"}) + "\n")
            except BaseException:  # noqa: BLE001
                pass
            code = 3
        finally:
            try:
                out.flush()
            finally:
                os._exit(code)

    def _watch(self, pid: int, read_end: int, timeout: float) -> tuple[bool, list[str], list[str], str]:
        deadline = time.monotonic() + timeout
        buffer = b""
        finished, failed, ran, note = False, [], [], ""
        timed_out = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
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
        os.close(read_end)
        try:
            os.killpg(pid, signal.SIGKILL)  # the child and anything it started
        except (ProcessLookupError, PermissionError):
            pass
        _, status = os.waitpid(pid, 0)
        if timed_out:
            return False, failed, ran, "timeout"
        if not note and not finished:
            if os.WIFSIGNALED(status):
                note = f"crashed with signal {os.WTERMSIG(status)}"
            else:
                note = f"exited with status {os.WEXITSTATUS(status)}"
        return finished, failed, ran, note


def serve(root: str, pytest_args: list[str]) -> int:
    # The protocol keeps private copies of stdin and stdout: pytest captures sys.stdin, and
    # whatever pytest or the tests print must not reach the protocol stream.
    requests = os.fdopen(os.dup(0), "r")
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    server = _Server(requests, protocol, os.path.realpath(root) + os.sep)
    code = pytest.main([*pytest_args, "-p", "no:cacheprovider", "-q", "-p", "no:randomly"],
                       plugins=[server, server.collector])
    if code not in (0, 5):  # collection failed before the loop started
        protocol.write(json.dumps({"ready": False, "error": f"pytest exited with {int(code)} before serving"}) + "\n")
        protocol.flush()
    return 0


# --- fresh interpreter ---------------------------------------------------------------------------


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


def fresh(out: str, pytest_args: list[str]) -> int:
    collector = _Collector()
    code = pytest.main([*pytest_args, "-x", "-p", "no:cacheprovider", "-q", "-p", "no:randomly"], plugins=[collector])
    with open(out, "w") as handle:
        json.dump({"exit_code": int(code), "failed": collector.failed, "tests_run": len(collector.outcomes)}, handle)
    return 0


# --- zygote: fresh runs forked from a pre-imported interpreter ------------------------------------


def _preload(root: str, modules_file: str) -> str | None:
    """Import pytest's plugins and the installed modules the baseline saw; None if it is then safe
    to fork fresh runs from here, else why not."""
    import importlib
    import importlib.metadata
    import threading

    names = [ep.module for ep in importlib.metadata.entry_points(group="pytest11")]
    try:
        with open(modules_file) as handle:
            names += json.load(handle).get("modules", [])
    except (OSError, ValueError):
        pass
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a module that cannot be preloaded is imported fresh
            continue
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path).startswith(root):
            return f"preloading imported the target ({name})"
    if threading.active_count() > 1:
        return "preloading started threads: forking would be unsafe"
    return None


def zygote(root: str, modules_file: str, pytest_args: list[str]) -> int:
    requests = os.fdopen(os.dup(0), "r")
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    problem = _preload(os.path.realpath(root) + os.sep, modules_file)
    protocol.write(json.dumps({"ready": problem is None, "error": problem}) + "\n")
    protocol.flush()
    if problem:
        return 0
    gc.collect()
    gc.freeze()
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.setsid()
            os.close(read_end)
            code = 3
            try:
                _use_own_tmp()
                code = fresh(request["out"], [*pytest_args, *request["tests"]])
            finally:
                os._exit(code)
        os.close(write_end)
        ready, _, _ = select.select([read_end], [], [], request["timeout"])  # EOF when the child ends
        os.close(read_end)
        try:
            os.killpg(pid, signal.SIGKILL)  # the child and whatever its tests started
        except (ProcessLookupError, PermissionError):
            pass
        _, status = os.waitpid(pid, 0)
        _remove_own_tmp(pid)
        protocol.write(json.dumps({"timeout": not ready, "status": status}) + "\n")
        protocol.flush()
    return 0


_TMP = tempfile.gettempdir()  # the run's own (see runtime.py), shared by every child's folder


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


def main(argv: list[str]) -> int:
    mode, rest = argv[0], argv[1:]
    split = rest.index("--") if "--" in rest else len(rest)
    options, pytest_args = rest[:split], rest[split + 1 :]
    if mode == "baseline":
        return baseline(options[0], [p for p in options[1:]], pytest_args)
    if mode == "serve":
        return serve(options[0], pytest_args)
    if mode == "fresh":
        return fresh(options[0], pytest_args)
    if mode == "zygote":
        return zygote(options[0], options[1], pytest_args)
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
