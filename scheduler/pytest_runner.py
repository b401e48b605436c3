"""Runs inside the *target's* interpreter; needs only the standard library, pytest and coverage.

Three modes, each started as `python pytest_runner.py MODE ...` in a work copy:

- `baseline`: the whole suite once under coverage.py, switching the coverage context to each test's
  node id for its setup, call and teardown. Writes which tests ran each line, each test's
  duration and outcome, and which tests start processes or read a mutated file.
- `serve`: a fork server. Collects the suite once (importing the target and its tests), then for each
  mutant sent on stdin forks; the child swaps the mutated function's code object into the live
  function objects (so `from mod import f` references see it too) and runs the chosen tests in order,
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
import types
from typing import NamedTuple

import pytest

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
            elif event == "open" and isinstance(args[0], str) and os.path.basename(args[0]) in self.names:
                if os.path.realpath(args[0]) in self.files:
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


def _normalise(qualname: str) -> str:
    return qualname.replace(".<locals>", "")


def _live_functions(root: str) -> dict[tuple[str, str], list[types.FunctionType]]:
    """Every function object defined in a file under `root`, by (file, qualified name)."""
    index: dict[tuple[str, str], list[types.FunctionType]] = {}
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType):
            code = obj.__code__
            if code.co_filename.startswith(root):
                index.setdefault((os.path.realpath(code.co_filename), _normalise(code.co_qualname)), []).append(obj)
    return index


def _find_code(code: types.CodeType, qualname: str, first_line: int) -> types.CodeType | None:
    if _normalise(code.co_qualname) == qualname and code.co_name != "<module>" and code.co_firstlineno == first_line:
        return code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found = _find_code(const, qualname, first_line)
            if found is not None:
                return found
    return None


class _Patcher:
    """Finds the live functions around an edit and compiles their mutated code.

    Compiling happens in the server, before the fork: in a forked child the compiler's allocations
    fault in copy-on-write pages and cost twice as much. Sources are read once, when the server
    starts on a clean work copy, because a survivor's confirmation puts the mutant on disk."""

    def __init__(self, index: dict) -> None:
        self.index = index
        self.sources: dict[str, bytes] = {}
        self.layouts: dict[str, _Layout] = {}
        for path, _ in index:
            if path not in self.sources:
                with open(path, "rb") as handle:
                    self.sources[path] = handle.read()
                self.layouts[path] = _Layout.of(self.sources[path])

    def prepare(self, request: dict) -> _Patch | str:
        """What to change in the live functions, or why the mutant cannot be patched."""
        path = request["file"]
        data = self.sources.get(path)
        if data is None:
            return f"no live function in {path}"
        layout = self.layouts[path]
        if request.get("defaults_of"):
            return self._prepare_defaults(request, data, layout)
        qualname = request["qualname"]
        while qualname:
            span = layout.around(qualname, request["start"], request["end"])
            # Same qualname, different functions: a property's getter and setter, redefinitions.
            functions = [f for f in self.index.get((path, qualname), ()) if span and f.__code__.co_firstlineno == span.first]
            if functions:
                break
            qualname = qualname.rpartition(".")[0]
        else:
            return f"no live function for {request['qualname']}"
        snippet = layout.function_source(data, span, request) if span.classes is not None else None
        try:
            if snippet is not None:  # the function alone, on its own lines: a fraction of the module's compile
                code = compile(snippet, path, "exec", flags=layout.future_flags, dont_inherit=True)
            else:
                mutated = data[: request["start"]] + request["replacement"].encode() + data[request["end"] :]
                code = compile(mutated, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            return f"does not compile: {exc}"
        new_code = _find_code(code, qualname, span.first)
        if new_code is None:
            return f"no code object for {qualname}"
        if new_code.co_freevars != functions[0].__code__.co_freevars:
            return "the mutation changes the closure's free variables"
        return _CodePatch(functions, new_code)

    def _prepare_defaults(self, request: dict, data: bytes, layout: _Layout) -> _Patch | str:
        """A mutant in a parameter's default value: the def's default expressions, compiled here
        and evaluated in the child where the def evaluated them (module globals, class namespace)."""
        import ast

        path, qualname = request["file"], request["defaults_of"]
        span = layout.around(qualname, request["start"], request["end"])
        if span is None or span.classes is None:
            return f"no stand-alone function {qualname} around the edit"
        functions = [f for f in self.index.get((path, qualname), ()) if f.__code__.co_firstlineno == span.first]
        snippet = layout.function_source(data, span, request)
        if not functions or snippet is None:
            return f"no live function for {qualname}"
        try:
            tree = ast.parse(snippet)
        except (SyntaxError, ValueError) as exc:
            return f"does not compile: {exc}"
        node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and min([n.lineno, *(d.lineno for d in n.decorator_list)]) == span.first), None)
        if node is None:
            return f"no definition of {qualname} in the mutated text"

        def compiled(expression: ast.expr) -> types.CodeType:
            return compile(ast.Expression(expression), path, "eval", flags=layout.future_flags, dont_inherit=True)

        try:
            positional = [compiled(e) for e in node.args.defaults]
            keyword = {a.arg: compiled(e) for a, e in zip(node.args.kwonlyargs, node.args.kw_defaults) if e is not None}
        except (SyntaxError, ValueError) as exc:
            return f"does not compile: {exc}"
        function = functions[0]
        if len(positional) != len(function.__defaults__ or ()) or set(keyword) != set(function.__kwdefaults__ or {}):
            return "the mutation changes which parameters have defaults"
        owner = sys.modules.get(function.__module__)
        for name in span.classes:  # the class whose body ran the def: its names are in scope there
            owner = getattr(owner, name, None)
        if owner is None:
            return f"cannot find the class of {qualname}"
        namespace = vars(owner) if span.classes else None
        return _DefaultsPatch(functions, positional, keyword, function.__globals__, namespace)


class _Patch:
    def apply(self) -> None:
        raise NotImplementedError


class _CodePatch(_Patch):
    """The mutated code object swapped into the live functions: every reference runs it."""

    def __init__(self, functions: list[types.FunctionType], code: types.CodeType) -> None:
        self.functions, self.code = functions, code

    def apply(self) -> None:
        for function in self.functions:
            function.__code__ = self.code


class _DefaultsPatch(_Patch):
    """The mutated default values, evaluated as the def would have (in the child: their side
    effects and objects stay there), set on the live functions."""

    def __init__(self, functions: list, positional: list, keyword: dict, globals_: dict, namespace) -> None:
        self.functions, self.positional, self.keyword = functions, positional, keyword
        self.globals, self.namespace = globals_, namespace

    def apply(self) -> None:
        positional = tuple(eval(code, self.globals, self.namespace) for code in self.positional)  # noqa: S307
        keyword = {name: eval(code, self.globals, self.namespace) for name, code in self.keyword.items()}  # noqa: S307
        for function in self.functions:
            function.__defaults__ = positional or None
            function.__kwdefaults__ = keyword or None


class _Span(NamedTuple):
    first: int  # the first decorator's line, or the def's: the code object's co_firstlineno
    last: int
    begin: int  # byte offsets of the first line's start and of the end of the last line
    end: int
    classes: tuple[str, ...] | None  # the enclosing classes; None inside another function


class _Layout:
    """Where each function of a module lies. Module-level functions and methods of (nested)
    classes compile on their own, under stand-ins for their classes; a function inside a function
    needs its enclosing function's variables to compile the same, so it takes the whole module."""

    def __init__(self, spans: dict[str, list[_Span]], future_flags: int, imported: tuple[str, ...] = ()) -> None:
        self.spans = spans
        self.future_flags = future_flags
        # The compiler calls methods of imported names differently (no LOAD_METHOD): the snippet
        # declares the module's imported names too, so its bytecode is the module's own.
        self.imports = b"import " + ", ".join(imported).encode() + b"\n" if imported else b""

    @classmethod
    def of(cls, data: bytes) -> _Layout:
        import __future__
        import ast

        starts = [0]
        for line in data.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            return cls({}, 0)
        head = data.split(b"\n", 2)[:2]
        standalone = not any(b"coding" in line for line in head)  # a declared encoding a snippet would lose
        flags = 0
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                for alias in node.names:  # the rest are no-ops today, and not recorded as such
                    if alias.name in ("annotations", "barry_as_FLUFL"):
                        flags |= getattr(__future__, alias.name).compiler_flag
        imported: set[str] = set()
        scope = list(tree.body)
        while scope:  # the module's own scope: into if/try/with blocks, not into functions or classes
            node = scope.pop()
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imported.update((a.asname or a.name).partition(".")[0] for a in node.names if a.name != "*")
            elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt | ast.excepthandler))
        spans: dict[str, list[_Span]] = {}

        def visit(body: list, scope: tuple[str, ...], classes: tuple[str, ...] | None) -> None:
            for node in body:
                if isinstance(node, ast.ClassDef):
                    visit(node.body, (*scope, node.name), None if classes is None else (*classes, node.name))
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    last = node.end_lineno or node.lineno
                    span = _Span(first, last, starts[first - 1], starts[min(last, len(starts) - 1)], classes)
                    spans.setdefault(".".join((*scope, node.name)), []).append(span)
                    visit(node.body, (*scope, node.name), None)
                else:  # functions under if/try/with/... blocks
                    for field in ("body", "orelse", "finalbody", "handlers"):
                        visit([n for n in getattr(node, field, ()) if isinstance(n, ast.AST)], scope, None)

        visit(tree.body, (), () if standalone else None)
        return cls(spans, flags, tuple(sorted(imported)))

    def around(self, qualname: str, start: int, end: int) -> _Span | None:
        """The function of this name whose text holds the edit."""
        for span in self.spans.get(qualname, ()):
            if span.begin <= start <= end <= span.end:
                return span
        return None

    def function_source(self, data: bytes, span: _Span, request: dict) -> bytes | None:
        """The mutated function under stand-ins for its classes, on its own line numbers; None when
        there is no line left above it to declare the imports on."""
        line = data[span.begin : span.end]
        indent = line[: len(line) - len(line.lstrip(b" \t"))]
        headers = b"".join(indent[:depth] + b"class " + name.encode() + b":\n"
                           for depth, name in enumerate(span.classes))
        body = data[span.begin : request["start"]] + request["replacement"].encode() + data[request["end"] : span.end]
        blank = span.first - 1 - len(span.classes)
        if self.imports:
            if blank < 1:
                return None
            return self.imports + b"\n" * (blank - 1) + headers + body
        return b"\n" * blank + headers + body


class _Server:
    def __init__(self, requests, protocol, root: str) -> None:
        self.requests = requests
        self.protocol = protocol
        self.root = root
        self.collector = _Collector()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        items = {item.nodeid: item for item in session.items}
        index = _live_functions(self.root)
        patcher = _Patcher(index)
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

    def _run_mutant(self, request: dict, items: dict, patcher: _Patcher, session_items: list) -> dict:
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

    def _child(self, request: dict, tests: list, patch: _Patch, write_end: int) -> None:
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
