"""Mode `baseline`: the whole suite (or one shard of it) once, each test's lines recorded under its
node id, plus its duration and outcome, and which tests start processes or read a mutated file.
The lines come from probes compiled into the mutated statements (probes.py: no tracer, about the
plain suite's price) or, for a map of every line that later runs can reuse, from coverage.py."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import pytest

from .common import PYTEST_FLAGS, _Collector, _installed_modules
from .forked_shards import ForkedShards
from .probes import IMPORT_TIME, Probes
from .reaper import leave
from .spawns import TEST_VAR, SpawnCount

if TYPE_CHECKING:
    import coverage

class _Observers:
    """An audit hook naming the tests that may see a mutant without running its line in this
    process, where probes or coverage cannot follow: they start processes (which import the target
    from disk) or open a mutated file (to read its text). For those that only start processes, it
    counts them (spawns.py: their logs say what they ran)."""

    def __init__(self, files: list[str]) -> None:
        self.files = {os.path.realpath(f) for f in files}
        self.names = {os.path.basename(f) for f in self.files}
        self.current: str | None = None
        self.found: set[str] = set()
        self.read: set[str] = set()  # of those, the tests that opened a mutated file
        self.spawned: dict[str, list[int]] = {}  # test -> [the pid that ran it, processes it started]
        self._count = SpawnCount()

    def __call__(self, event: str, args: tuple) -> None:
        test = self.current
        if test is None:
            return
        try:
            before = self._count.count
            if self._count.saw(event):
                self.found.add(test)
                entry = self.spawned.setdefault(test, [os.getpid(), 0])
                entry[1] += self._count.count - before
            elif event == "open" and test not in self.read and isinstance(args[0], (str, bytes, os.PathLike)):
                path = os.fsdecode(args[0])
                if os.path.basename(path) in self.names and os.path.realpath(path) in self.files:
                    self.found.add(test)
                    self.read.add(test)
        except Exception:  # noqa: BLE001 - an audit hook must never break the code it watches
            pass


class _ContextSwitcher:
    """Tells the recorder (coverage's contexts, or the probes) and the observers which test runs."""

    def __init__(self, recorder: coverage.Coverage | Probes, observers: _Observers) -> None:
        self.switch = recorder.switch_context if not isinstance(recorder, Probes) else recorder.switch
        self.observers = observers

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        self.switch(item.nodeid)
        self.observers.current = item.nodeid
        os.environ[TEST_VAR] = item.nodeid  # the processes it starts log what they run (spawns.py)
        yield
        os.environ.pop(TEST_VAR, None)
        self.observers.current = None
        self.switch(IMPORT_TIME)


class _Slice:
    """Keeps the tests the run asked for (`only`: node ids and test files; None: all), then the
    `index`-th of `count` contiguous slices of them. Every shard collects the same items in the
    same order (no random plugins, fixed hash seed), so the slices partition the suite and each
    keeps the suite's order, as pytest-xdist's workers do not. `nearest_first` (a baseline cut
    by a time budget): the tests whose module uses a mutated module first, and the shards deal
    the suite in turn, so that what is cut is what is least likely to cover a mutant."""

    def __init__(self, only: list[str] | None, index: int, count: int, files: set[str] | None = None,
                 skip: list[str] | None = None) -> None:
        self.only = None if only is None else set(only)
        self.skip = frozenset(skip or ())  # measured already (a stored map's tests): left out
        self.index, self.count = index, count
        self.files = files  # the mutated files (real paths), for nearest_first; None: the suite's order
        self.suite: list[str] = []  # every collected test, in the suite's order (before the slice)

    @pytest.hookimpl(trylast=True)  # after any plugin or conftest that reorders the suite
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        self.suite = [item.nodeid for item in items]
        wanted = items if self.only is None else [
            item for item in items if item.nodeid in self.only or item.nodeid.split("::", 1)[0] in self.only]
        if self.skip:
            wanted = [item for item in wanted if item.nodeid not in self.skip]
        n = len(wanted)
        if self.files is not None:
            wanted = _nearest_first(wanted, self.files)
            kept = wanted[self.index::self.count]
        else:
            kept = wanted[self.index * n // self.count: (self.index + 1) * n // self.count]
        chosen = {id(item) for item in kept}
        dropped = [item for item in items if id(item) not in chosen]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _nearest_first(items: list[pytest.Item], files: set[str]) -> list[pytest.Item]:
    """Items whose test module holds a mutated module, or something defined in one, first (a
    stable sort: the suite's order otherwise). Read from the collected modules' globals: what the
    tests import, whatever the import statement looked like."""
    targets = {name for name, module in list(sys.modules.items())
               if os.path.realpath(getattr(module, "__file__", None) or "/nonexistent") in files}
    near: dict[int, bool] = {}

    def is_near(item: pytest.Item) -> bool:
        module = getattr(item, "module", None)
        if module is None:
            return False
        key = id(module)
        if key not in near:
            near[key] = any(_from(value, targets) for value in list(vars(module).values()))
        return near[key]

    return sorted(items, key=lambda item: not is_near(item))


def _from(value: object, targets: set[str]) -> bool:
    """Whether a test module's global is a mutated module or something defined in one. Globals can
    be anything (mocks answer every attribute): never let one break the suite."""
    try:
        name = value.__name__ if isinstance(value, type(sys)) else getattr(value, "__module__", None)
        return isinstance(name, str) and name in targets
    except Exception:  # noqa: BLE001 - a property that raises is just not a mutated module
        return False


# A test still running this share of the baseline's deadline past it (at least CUT_FLOOR seconds) is cut:
# the run's budget keeps the other half of what was left for the mutants, and a budget's wrap-up, so the
# answer still comes in time; the floor lets a short share's first test end rather than measure nothing.
CUT_GRACE = 0.5
CUT_FLOOR = 1.0


class _Cut(KeyboardInterrupt):
    """The baseline's share of a time budget ran out in the middle of a test."""


class _Deadline:
    """Stops the suite once `seconds` from the start have passed (a time budget's share for the
    baseline): after the test running then. One still running half a share (at least 1 s) later is cut (SIGUSR2 from
    a timer to the main thread, which ends the session as Ctrl-C does) and left out of the result
    with the tests not run: a single long test no longer takes the budget past its end, and a test
    about to end is not thrown away for a few tenths of a second. Where SIGUSR2 is someone else's (the
    suite's own handler), only the stop after the test."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.cut_at = self.end + max(seconds * CUT_GRACE, CUT_FLOOR)
        self.cut = False
        self.session: pytest.Session | None = None
        self.running: str | None = None  # the test under way
        self.unfinished: str | None = None  # the test the deadline cut
        self._armed_in: int | None = None  # the process whose timer runs (a forked shard arms its own)
        self._timer: threading.Timer | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_runtest_logstart(self, nodeid: str, location: tuple) -> None:
        self.running = nodeid
        if self._armed_in != os.getpid():
            self._armed_in = os.getpid()
            self._arm()

    @pytest.hookimpl(tryfirst=True)  # before a checkpoint is written: a cut then would throw a whole test away
    def pytest_runtest_logfinish(self, nodeid: str, location: tuple) -> None:
        self.running = None
        if time.monotonic() > self.end and self.session is not None and not self.session.shouldstop:
            self.session.shouldstop = "mutagate: the time budget's share for the baseline is spent"
            self.cut = True

    def _arm(self) -> None:
        usr2 = getattr(signal, "SIGUSR2", None)
        if usr2 is None or signal.getsignal(usr2) not in (signal.SIG_DFL, None):
            return
        signal.signal(usr2, self._on_time_up)
        self._timer = threading.Timer(max(0.0, self.cut_at - time.monotonic()), self._fire,
                                      (threading.main_thread().ident, usr2))
        self._timer.daemon = True
        self._timer.start()

    def _fire(self, main: int, usr2: int) -> None:
        if signal.getsignal(usr2) == self._on_time_up:  # a test may have taken SIGUSR2 since: then no cut
            signal.pthread_kill(main, usr2)

    def disarm(self) -> None:
        """The suite has ended (or was stopped): no cut may land in the writing of its result."""
        if self._timer is not None:  # armed in this process (not where SIGUSR2 was the suite's)
            self._timer.cancel()
            signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        self.running = None

    def _on_time_up(self, signum: int, frame: object) -> None:
        if self.running is None or self.session is None or _stopped:
            return  # between tests (the test before stopped the suite, or the next one's end will), or stopped
        self.unfinished, self.cut = self.running, True
        signal.signal(signum, signal.SIG_IGN)
        raise _Cut("mutagate: the time budget's share for the baseline is spent")


class _Complete:
    """The tests measured whole: setup, call and teardown ended in this process and passed (or
    skipped), so every line they ran is recorded under their name. A run stopped midway (Ctrl-C,
    SIGTERM, a killed driver) keeps exactly these (docs/reliability.md). With a `checkpoint` file,
    what is complete so far is written to it now and then (atomically, at most a twentieth of the time
    spent on running tests), for a driver killed outright to have stored what it could."""

    def __init__(self, collector: _Collector, snapshot: object, checkpoint: str | None, every: float) -> None:
        self.collector = collector
        self.snapshot = snapshot  # () -> the result so far (lines of every context)
        self.checkpoint, self.every = checkpoint, every
        self.tests: list[str] = []
        self.last = time.monotonic()

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple) -> None:
        if nodeid not in self.collector.failed:
            self.tests.append(nodeid)
        if self.checkpoint is not None and time.monotonic() - self.last >= self.every:
            started = time.monotonic()
            _write(self.checkpoint, self.only_complete(self.snapshot()))
            self.last = time.monotonic()
            self.every = max(self.every, 20 * (self.last - started))

    def only_complete(self, result: dict) -> dict:
        """`result` cut down to the complete tests: their durations, observations and lines."""
        keep = set(self.tests)
        keep_or_import = keep | {IMPORT_TIME}
        lines = {}
        for path, by_line in result["lines"].items():
            kept = {n: [c for c in contexts if c in keep_or_import] for n, contexts in by_line.items()}
            lines[path] = {n: contexts for n, contexts in kept.items() if contexts}
        return {**result, "exit_code": 0, "partial": True, "failed": [], "failures": {},
                "tests": {t: v for t, v in result["tests"].items() if t in keep},
                "observers": [t for t in result["observers"] if t in keep], "lines": lines}


def _without(result: dict, test: str) -> dict:
    """`result` without a test cut in the middle: what it ran so far says nothing of what it covers."""
    lines = {path: {n: [c for c in contexts if c != test] for n, contexts in by_line.items()}
             for path, by_line in result["lines"].items()}
    failed = [t for t in result["failed"] if t != test]
    return {**result, "exit_code": 1 if failed else 0, "tests": {t: v for t, v in result["tests"].items() if t != test},
            "failed": failed,
            "failures": {t: why for t, why in result["failures"].items() if t != test},
            "observers": [t for t in result["observers"] if t != test],
            "spawns": {t: v for t, v in result.get("spawns", {}).items() if t != test},
            "lines": {path: {n: c for n, c in by_line.items() if c} for path, by_line in lines.items()}}


def _write(path: str, result: dict) -> None:
    """Whole or not at all: a reader never sees half a file."""
    with open(path + ".tmp", "w") as handle:
        json.dump(result, handle)
    os.replace(path + ".tmp", path)


_STOPS = (signal.SIGINT, signal.SIGTERM)
# A shard that had no test to run (pytest's exit code 5), as `_merged` expects one.
_EMPTY = {"exit_code": 5, "cut": False, "tests": {}, "failed": [], "failures": {}, "observers": [], "lines": {},
          "modules": []}


_stopped: list[int] = []  # the signal that stopped the suite (a deadline's stop is not one: what ran is whole)


def _stop_once(signum: int, frame: object) -> None:
    """A stop reaches this process twice (Ctrl-C from the terminal, and SIGTERM from the driver that
    got it too): the first stops the suite, a second must not cut short the writing of what was
    measured."""
    for stop in _STOPS:
        signal.signal(stop, signal.SIG_IGN)
    _stopped.append(signum)
    raise KeyboardInterrupt


def _handle_stops() -> None:
    """SIGTERM (the driver's) and SIGINT stop the suite as Ctrl-C does; a SIGINT this process was
    started ignoring (a run in the background of a script) stays ignored, as the driver ignores it."""
    for stop in _STOPS:
        if signal.getsignal(stop) is not signal.SIG_IGN:
            signal.signal(stop, _stop_once)


def baseline(out: str, spec_file: str, pytest_args: list[str]) -> int:
    """`spec_file`: JSON {"include": files to measure, "probes": {file: [[first, last], ...]} to
    measure those line ranges with probes instead of every line with coverage (or null),
    "shard": [index, count], "only": node ids and test files to run, or null for the whole suite,
    "deadline": seconds after which the suite stops (a time budget's share), or null, "skip": node
    ids measured already, left out, "checkpoint": a file to write the complete tests to now and then,
    "checkpoint_every": its first interval in seconds, "forks": null, or {"outs", "checkpoints", "tmpdirs"}:
    one list each, one entry per shard forked after collection (forked_shards.py), each writing its
    own result to its `outs` entry instead of `out`}. Stopped (SIGINT, SIGTERM), the result holds only the
    complete tests (`_Complete`) and says "partial"."""
    with open(spec_file) as handle:
        spec = json.load(handle)
    include = spec["include"]
    probes = Probes(spec["probes"]) if spec.get("probes") is not None else None
    cov = None
    if probes is None:
        import coverage

        # Data in memory: with a data file, every switch of context writes to SQLite on disk.
        cov = coverage.Coverage(data_file=None, include=include or None, config_file=False)
    collector = _Collector()
    observers = _Observers(include)
    sys.addaudithook(observers)
    plugins: list[object] = [collector, _ContextSwitcher(probes or cov, observers)]
    index, count = spec.get("shard", (0, 1))
    deadline = _Deadline(spec["deadline"]) if spec.get("deadline") is not None else None
    if deadline is not None:
        plugins.append(deadline)
    nearest = {os.path.realpath(f) for f in include} if deadline is not None else None
    selection = _Slice(spec.get("only"), index, count, nearest, spec.get("skip"))
    plugins.append(selection)
    started = time.perf_counter()
    collected: list[float] = []

    def so_far(code: int = 0) -> dict:
        cut = deadline is not None and deadline.cut
        return {
            # A stop at the deadline is pytest's "interrupted": what ran is what counts.
            "exit_code": (1 if collector.failed else 0) if cut else int(code),
            "cut": cut,
            "tests": {
                nodeid: {"outcome": collector.outcomes.get(nodeid, "passed"), "duration": duration}
                for nodeid, duration in collector.durations.items()
            },
            "failed": collector.failed,
            "failures": collector.failures,
            "observers": sorted(observers.found),
            # Tests that started processes and read no mutated file: the pid that ran each, and how many.
            "spawns": {t: v for t, v in observers.spawned.items() if t not in observers.read},
            "lines": probes.lines() if probes is not None else _coverage_lines(cov),
            "suite": selection.suite,
            # This process's start and collection of the suite (a run stopped midway has no wall time).
            "startup": collected[0] if collected else time.perf_counter() - started,
        }

    complete = _Complete(collector, so_far, spec.get("checkpoint"), spec.get("checkpoint_every", 5.0))
    plugins.append(complete)
    forks = spec.get("forks")
    if forks is not None:
        def become_shard(index: int) -> None:
            nonlocal out
            out = forks["outs"][index]
            complete.checkpoint = forks["checkpoints"][index]
            os.environ["TMPDIR"] = forks["tmpdirs"][index]  # tests that use fixed names in TMPDIR do not collide
            tempfile.tempdir = None

        complete.checkpoint = forks["checkpoints"][0]  # not forked after all: this process is shard 0
        forked = ForkedShards(len(forks["outs"]), become_shard)
        plugins.append(forked)
    plugins.append(_CollectionEnd(lambda: collected.append(time.perf_counter() - started)))
    _handle_stops()
    if probes is not None:
        probes.install()
        code = pytest.main([*pytest_args, *PYTEST_FLAGS], plugins=plugins)
    else:
        cov.start()
        try:
            code = pytest.main([*pytest_args, *PYTEST_FLAGS], plugins=plugins)
        finally:
            cov.stop()
    for stop in _STOPS:  # what was measured is written, whatever comes now
        signal.signal(stop, signal.SIG_IGN)
    if deadline is not None:
        deadline.disarm()
    if forks is not None and forked.role == "parent":  # stopped while forking: the shards write their own
        leave(1)
    result = {**so_far(code), "modules": _installed_modules(), "wall": time.perf_counter() - started}
    if forks is not None and forked.role == "alone":
        # Not forked (nothing or one test to run, collection errors): this is shard 0, the rest are empty.
        out = forks["outs"][0]
        for other in forks["outs"][1:]:
            _write(other, {**_EMPTY, "suite": result["suite"], "startup": result["startup"]})
    if deadline is not None and deadline.unfinished is not None:
        result = _without(result, deadline.unfinished)
    if _stopped:  # stopped midway: only the tests measured whole count
        result = complete.only_complete(result)
        open(out + ".partial", "w").close()  # said apart, so the driver need not read a large result to know
    _write(out, result)
    leave(0)


class _CollectionEnd:
    def __init__(self, note: Callable[[], object]) -> None:
        self.note = note

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.note()


def _coverage_lines(cov: coverage.Coverage) -> dict[str, dict[str, list[str]]]:
    data = cov.get_data()
    lines: dict[str, dict[str, list[str]]] = {}
    for path in data.measured_files():
        by_line = data.contexts_by_lineno(path)
        lines[os.path.realpath(path)] = {str(n): sorted(set(ctx)) for n, ctx in by_line.items()}
    return lines
