"""Reusing a stored baseline: re-measure under coverage only the tests a change can have moved.

A test that touched none of the changed files, in an unchanged test file, runs exactly as it ran
when the map was stored: its lines, duration and observations stand. Every test that touched a
changed source file runs again, and so does every changed or new test file; a stored test whose
file is gone is dropped. A change the map cannot place means the whole suite again: a conftest.py,
a helper module beside the tests, the pytest configuration, a data file, and a source file whose
change reaches tests that never ran its lines — a change to what it does at import (a module
constant, a class attribute, a signature: its import shape, mutator/import_shape.py), or to a file
some of whose functions ran while the suite was imported and collected (a parametrize value). Files
are compared by content (git blob ids of the run's snapshot), so any stored run can serve.

A baseline stopped midway (Ctrl-C, SIGTERM, SIGKILL, a time budget) stores the tests it measured
whole as a partial map, and the next run measures only the others (and those a change moved). A
partial map of probes stands in only for a run that probes the same statements of the same files.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath

from mutator.import_shape import Function, functions, import_shape
from results.baseline_maps import MapLine, MapTest, StoredMap, drop_map, save_map, stored_maps
from scheduler.baseline import Baseline, Ranges, run_baseline
from scheduler.baseline_place import BaselinePlace, ShardRun, describe_runs
from scheduler.runtime import Runtime

# Changes that cannot move a test: documentation and repository housekeeping.
_INERT_SUFFIXES = frozenset({".md", ".rst"})
_INERT_NAMES = frozenset({"LICENSE", "LICENSE.txt", "AUTHORS", "CHANGELOG", "CHANGES", ".gitignore", ".gitattributes"})
_INERT_DIRS = frozenset({"docs", "doc", ".github", ".gitlab"})


@dataclass(frozen=True)
class Reuse:
    stored: StoredMap
    rerun: tuple[str, ...]  # node ids and test files to measure again
    changed: frozenset[str]  # files whose content differs from the map's (added and deleted ones too)

    @cached_property
    def stale(self) -> frozenset[int]:
        """Positions of the stored tests measured again: named in `rerun`, or in a changed file."""
        again = {name for name in self.rerun if "::" in name}
        return frozenset(i for i, t in enumerate(self.stored.tests)
                         if t.name in again or t.name.split("::", 1)[0] in self.changed)

    @cached_property
    def kept(self) -> tuple[str, ...]:
        """The stored tests that stand as they were measured."""
        return tuple(t.name for i, t in enumerate(self.stored.tests) if i not in self.stale)

    def only(self) -> list[str] | None:
        """What to measure, by name: a complete map's `rerun`; None (the suite but `skip`) for a partial one."""
        return None if self.stored.partial else list(self.rerun)

    def skip(self) -> list[str] | None:
        """A partial map: every test but the kept ones is measured (those it never reached too)."""
        return list(self.kept) if self.stored.partial else None


@dataclass(frozen=True)
class BaselineSource:
    """Where a run's coverage map came from: measured whole, or a stored one brought up to date."""

    reused_from: str | None  # the run whose stored map stood in; None: the whole suite measured
    measured: int  # tests run under coverage in this run
    tests: int  # tests in the map
    changed_files: int = 0  # since the reused map was measured
    probes: int | None = None  # measured with probes on this many line ranges; None: under coverage
    cut: bool = False  # stopped at the time budget's share for the baseline
    resumed: bool = False  # the reused map was a stopped baseline's partial one: the tests it measured stood
    shards: tuple[ShardRun, ...] = ()  # where its shards ran, every attempt (a Ray run's); empty: on this machine

    def describe(self) -> str:
        where = describe_runs(self.shards)
        return self._describe() + (f" {where}" if where else "")

    def _describe(self) -> str:
        if self.cut:
            return (f"baseline: measured {self.measured} tests (the nearest to the change first) before the time "
                    "budget's share for it ran out; mutants whose tests were not reached are not run")
        how = (f"with probes on {self.probes} statement{'s' if self.probes != 1 else ''}" if self.probes is not None
               else "under coverage (map stored for later runs)")
        if self.reused_from is None:
            return f"baseline: measured all {self.tests} tests {how}"
        if self.resumed:
            return (f"baseline: resumed run {self.reused_from}'s, stopped midway ({self.tests - self.measured} tests it "
                    f"measured stand, {self.changed_files} file{'s' if self.changed_files != 1 else ''} changed "
                    f"since), measured {self.measured} of {self.tests} tests {how}")
        return (f"baseline: reused run {self.reused_from}'s coverage map ({self.changed_files} file"
                f"{'s' if self.changed_files != 1 else ''} changed since), measured {self.measured} of "
                f"{self.tests} tests again {how}")


def measure_baseline(runtime: Runtime, snapshot: Path, files: list[str], shards: int, db: Path, key: str,
                     run_id: str, reuse: bool = True, probes: Ranges | None = None,
                     deadline: float | None = None,
                     run_shards: BaselinePlace | None = None) -> tuple[Baseline, BaselineSource]:
    """This run's baseline, from the latest stored map under `key` where one can stand in, else
    measured whole. With `probes` (the line ranges the plan reads), what is measured is measured
    with probes in those ranges, at about the plain suite's price, and nothing is stored; without,
    under coverage, and the map of every line is stored under this run for the runs after it.
    `deadline`: a time budget's share (seconds); a baseline cut by it is never stored. `run_shards`:
    where the baseline's shards run (run_baseline's)."""
    blobs = file_blobs(snapshot)
    digest = None if probes is None else probes_digest(probes)
    plans = [plan_reuse(stored, blobs, frozenset(files), lambda f: _read(snapshot, f))
             for stored in (stored_maps(db, key, digest) if reuse else [])]
    plan = best(plans)
    probed = None if probes is None else sum(len(r) for r in probes.values())

    def keep(partial: Baseline) -> None:
        """Store the tests measured whole so far, with those of the map this run reuses."""
        whole = partial if plan is None else merged(plan, partial)
        if whole.durations:
            save_map(db, key, to_map(run_id, whole, blobs, snapshot, files, partial=True, probes=digest))

    if plan is None:
        baseline = run_baseline(runtime, snapshot, files, shards, probes=probes, deadline=deadline, keep_partial=keep,
                                run_shards=run_shards)
        source = BaselineSource(None, len(baseline.durations), len(baseline.durations), probes=probed,
                                cut=baseline.cut)
    else:
        fresh = run_baseline(runtime, snapshot, files, shards, plan.only(), probes=probes, deadline=deadline,
                             skip=plan.skip(), keep_partial=keep, run_shards=run_shards)
        baseline = merged(plan, fresh)
        source = BaselineSource(plan.stored.run_id, len(fresh.durations), len(baseline.durations), len(plan.changed),
                                probed, baseline.cut, plan.stored.partial)
    if baseline.cut:  # what was measured whole, for the next run to go on from
        keep(baseline if plan is None else fresh)
    elif probes is None:  # only a map of every line can stand in for a later run's baseline
        save_map(db, key, to_map(run_id, baseline, blobs, snapshot, files))
    else:  # a probe baseline that ended whole leaves nothing: its partial map served only a resume of it
        drop_map(db, run_id)
    return baseline, source


def best(plans: list[Reuse | None]) -> Reuse | None:
    """The plan that leaves the fewest tests to measure: the most stored tests kept (a complete map
    first on a tie); None when no stored map can stand in."""
    usable = [plan for plan in plans if plan is not None and plan.kept]
    return max(usable, key=lambda plan: len(plan.kept), default=None)


def probes_digest(probes: Ranges) -> str:
    """The probed statements, as what a probe baseline's partial map is of."""
    text = "\n".join(f"{f}:{a}-{b}" for f in sorted(probes) for a, b in sorted(probes[f]))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def map_key(tool_version: str, python: str, pytest_args: tuple[str, ...], source_roots: tuple[str, ...]) -> str:
    """What must match for a map to stand in for this run's baseline."""
    parts = [tool_version, python, *pytest_args, "\0", *source_roots]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def file_blobs(snapshot: Path) -> dict[str, str]:
    """Every file of the snapshot (a git repository of its own) with its content's blob id."""
    listing = subprocess.run(["git", "ls-files", "-s", "-z"], cwd=snapshot, capture_output=True, check=True).stdout
    blobs = {}
    for entry in filter(None, listing.decode("utf-8", "surrogateescape").split("\0")):
        meta, path = entry.split("\t", 1)
        blobs[path] = meta.split()[1]
    return blobs


def is_test_module(path: str) -> bool:
    """A file pytest collects tests from (its default `python_files`)."""
    name = PurePosixPath(path).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _inert(path: str) -> bool:
    pure = PurePosixPath(path)
    return pure.suffix in _INERT_SUFFIXES or pure.name in _INERT_NAMES or pure.parts[0] in _INERT_DIRS


def plan_reuse(stored: StoredMap, blobs: dict[str, str], measured: frozenset[str],
               text_of: Callable[[str], str | None]) -> Reuse | None:
    """What to measure again so that `stored` stands for the snapshot `blobs` describes; None when
    a change cannot be placed (then: the whole suite). `measured`: the source files a baseline
    measures (every changed one's tests run again; a new one is reached only through changed code).
    A changed source file whose import shape changed, or some of whose functions ran while the suite
    was imported, can move tests that never ran its lines: `text_of` gives its text now."""
    changed = frozenset(f for f in blobs.keys() | stored.files.keys() if blobs.get(f) != stored.files.get(f))
    if stored.probes is not None and not all(_inert(f) for f in changed):
        return None  # probes say nothing of the lines around them: only the same files can resume
    touched: dict[str, set[int]] = {}
    for entry in stored.lines:
        touched.setdefault(entry.file, set()).update(entry.tests)
    rerun: set[str] = set()
    for path in changed:
        if path in measured or path in touched:
            if path in stored.files and not _same_at_import(stored, path, text_of(path)):
                return None
            rerun.update(stored.tests[i].name for i in touched.get(path, ()))
        elif is_test_module(path):
            if path in blobs:  # changed or new: whatever it holds now; deleted: its tests are gone
                rerun.add(path)
        elif not _inert(path):
            return None
    # A changed test file runs whole (what it holds now), so its tests need no node id of their own.
    return Reuse(stored, tuple(sorted(name for name in rerun if name.split("::", 1)[0] not in changed or "::" not in name)),
                 changed)


def merged(reuse: Reuse, fresh: Baseline) -> Baseline:
    """The stored map with what was measured again in place of what it replaces."""
    stored, changed, stale = reuse.stored, reuse.changed, reuse.stale
    if fresh.suite:  # a stored test pytest no longer collects is gone, lines and all
        collected = set(fresh.suite)
        stale = stale | {i for i, t in enumerate(stored.tests) if t.name not in collected}
    kept = [t for i, t in enumerate(stored.tests) if i not in stale]
    durations = {t.name: t.seconds for t in kept}
    durations.update(fresh.durations)
    if fresh.suite:  # the suite's own order, which `confirming` reads (a resumed map's tests are spread over it)
        order = [t for t in fresh.suite if t in durations]
    else:
        order = [t.name for t in stored.tests if t.name in durations]
    known = set(order)
    order += [t for t in fresh.order if t not in known]  # new tests: after the ones the map knew
    line_tests: dict[tuple[str, int], frozenset[str]] = {}
    import_lines = set(fresh.import_lines)
    for entry in stored.lines:
        if entry.file in changed:
            continue  # every test that ran it ran again (fresh's lines), and its lines have moved
        names = {stored.tests[i].name for i in entry.tests if i not in stale}
        key = (entry.file, entry.line)
        if names:
            line_tests[key] = frozenset(names)
        if entry.at_import:
            import_lines.add(key)
    for key, names in fresh.line_tests.items():
        line_tests[key] = line_tests.get(key, frozenset()) | names
    stored_observers = frozenset(t.name for t in kept if t.observer)
    return Baseline({t: durations[t] for t in order}, line_tests, frozenset(import_lines), sum(durations.values()),
                    tuple(order), stored_observers | fresh.observers, fresh.flaky,
                    fresh.startup if fresh.durations else stored.startup,
                    fresh.cut or (stored.partial and not fresh.suite), fresh.suite,
                    fresh.collection if fresh.durations else 0.0,
                    # what a stored observer's processes ran is not stored: it watches every line
                    {t: ran for t, ran in fresh.observer_lines.items() if t not in stored_observers})


def _read(snapshot: Path, file: str) -> str | None:
    path = snapshot / file
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def _same_at_import(stored: StoredMap, path: str, text: str | None) -> bool:
    """Whether `path`, changed, still does at import what it did when `stored` was measured: the same
    shape, and the same definition of every function the import ran."""
    if text is None or _shape(text) != stored.shapes.get(path):
        return False
    called = stored.import_functions.get(path, {})
    now = {f.qualname: f.digest for f in _functions(text)} if called else {}
    return all(now.get(name) == digest for name, digest in called.items())


# A running baseline's partial map is stored every few seconds: each file is parsed once per text.
@lru_cache(maxsize=4096)
def _shape(text: str) -> str | None:
    return import_shape(text)


@lru_cache(maxsize=4096)
def _functions(text: str) -> tuple[Function, ...]:
    return tuple(functions(text))


def to_map(run_id: str, baseline: Baseline, blobs: dict[str, str], snapshot: Path, files: list[str],
           partial: bool = False, probes: str | None = None) -> StoredMap:
    position = {test: i for i, test in enumerate(baseline.order)}
    tests = tuple(MapTest(t, baseline.durations[t], t in baseline.observers) for t in baseline.order)
    keys = set(baseline.line_tests) | set(baseline.import_lines)
    lines = tuple(MapLine(file, line, tuple(sorted(position[t] for t in baseline.line_tests.get((file, line), ()))),
                          (file, line) in baseline.import_lines) for file, line in sorted(keys))
    shapes: dict[str, str] = {}
    import_functions: dict[str, dict[str, str]] = {}
    ran_at_import: dict[str, set[int]] = {}
    for file, line in baseline.import_lines:
        ran_at_import.setdefault(file, set()).add(line)
    for file in files:
        text = _read(snapshot, file) or ""
        if (shape := _shape(text)) is not None:
            shapes[file] = shape
        ran = ran_at_import.get(file, set())
        called = {f.qualname: f.digest for f in _functions(text) if ran and any(f.body[0] <= n <= f.body[1] for n in ran)}
        if called:
            import_functions[file] = called
    return StoredMap(run_id, tests, lines, blobs, baseline.startup, shapes, import_functions, partial, probes)
