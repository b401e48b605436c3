"""The baseline: one run of the target's suite under coverage with a context per test."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from mutator.errors import BadInput
from mutator.mutant import Mutant
from scheduler.baseline_place import BaselinePlace
from scheduler.runner.spawns import FILES_VAR, LOG_VAR, PROBES_VAR, RUNNER_VAR, watched_lines
from scheduler.runtime import Runtime

IMPORT_TIME = ""  # coverage's context for code run outside any test (imports, collection)


@dataclass(frozen=True)
class Baseline:
    durations: dict[str, float]  # node id -> seconds (setup + call + teardown)
    line_tests: dict[tuple[str, int], frozenset[str]]  # (file, line) -> tests that ran it
    import_lines: frozenset[tuple[str, int]] = field(default_factory=frozenset)  # ran at import time
    seconds: float = 0.0
    order: tuple[str, ...] = ()  # the suite's own order, as the baseline ran it
    observers: frozenset[str] = frozenset()  # tests that start processes or read a mutated file
    flaky: dict[str, str] = field(default_factory=dict)  # quarantined: failed, then passed on a retry
    startup: float = 0.0  # a fresh interpreter's start and collection of the suite
    cut: bool = False  # stopped early (a time budget's deadline, Ctrl-C): a test not in the map may cover anything
    suite: tuple[str, ...] = ()  # every test pytest collected, in the suite's order (empty: not known)
    # pytest's configuration and collection of the suite within one process (no interpreter start, no
    # exit): what a worker's fork server pays once and a fresh run forked from the zygote each time.
    collection: float = 0.0
    # Observers that only started processes, each of which logged what it ran (runner/spawns.py):
    # the probed (file, line)s those processes ran; such an observer watches a mutant of those only.
    observer_lines: dict[str, frozenset[tuple[str, int]]] = field(default_factory=dict)

    def covering(self, file: str, first: int, last: int) -> frozenset[str]:
        tests: set[str] = set()
        for line in range(first, last + 1):
            tests.update(self.line_tests.get((file, line), ()))
        return frozenset(tests)

    def runs_at_import(self, file: str, first: int, last: int) -> bool:
        return any((file, line) in self.import_lines for line in range(first, last + 1))

    def confirming(self, covering: tuple[str, ...], from_start: bool = False,
                   mutant: Mutant | None = None) -> tuple[str, ...]:
        """The tests `--confirm smart` runs for a survivor of `covering`, in the suite's order: the
        tests of the covering tests' groups (their class, or their module for plain test functions:
        they share fixtures and state, where a mutant's side effect shows) from the first covering
        test on, and anywhere in the suite the tests that start processes or read a mutated file,
        where probes in this process cannot follow (`watches` `mutant`). A test before the first
        covering one, in one process, runs
        exactly as in the baseline (no mutated line has run yet) and is left out; `from_start`: the
        mutated code ran before any test (at import). Other groups are `--confirm full`'s: on the
        benchmark libraries they detected no survivor these had not (benchmarks/bench_suite.json)."""
        groups = {test_group(t) for t in covering}
        first = 0 if from_start else min((self._positions[t] for t in covering if t in self._positions), default=0)
        return tuple(t for index, t in enumerate(self.order)
                     if (index >= first and test_group(t) in groups) or self.watches(t, mutant))

    def watches(self, test: str, mutant: Mutant | None) -> bool:
        """Whether `test` may see `mutant` without running its lines in its own process: it reads a
        mutated file, or starts processes that ran one of its lines (or that did not all say what
        they ran: runner/spawns.py). Without a mutant, every observer."""
        if test not in self.observers:
            return False
        ran = self.observer_lines.get(test)
        if ran is None or mutant is None:
            return True
        return any((mutant.file, line) in ran for first, last in mutant.probed_ranges for line in range(first, last + 1))

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {test: index for index, test in enumerate(self.order)}

    def duration(self, tests: tuple[str, ...]) -> float:
        return sum(self.durations.get(t, 0.0) for t in tests)

    def ordered(self, tests: frozenset[str]) -> tuple[str, ...]:
        """Fastest first; ties by name so that plans are reproducible. Tests measured under
        NOISE_SECONDS count as ties: their measured order is noise, and a verdict may hang on it."""
        return tuple(sorted(tests, key=lambda t: (max(self.durations.get(t, 0.0), NOISE_SECONDS), t)))


def test_group(test: str) -> str:
    """`tests/t.py::TestX::test_a[1]` -> `tests/t.py::TestX`; `tests/t.py::test_a` -> `tests/t.py`."""
    return test.rsplit("::", 1)[0]


# Below this a test's measured duration is mostly noise (pytest's own work per test is ~0.3 ms): such
# tests run in name order. Which of two ~0.4 ms tests ran first decided a verdict on sqlite-utils
# (`new_key = None` in `dedupe_keys`' loop: one test fails, the other loops) — killed in some runs,
# timeout in others, 2 s apart — by the baseline's noise.
NOISE_SECONDS = 0.001

Ranges = dict[str, list[tuple[int, int]]]  # file -> line ranges (first, last), 1-based, inclusive


# How often a running baseline's complete tests are stored (a run killed outright keeps what was
# stored last): the shards write them about this often, the driver stores them as often.
SAVE_SECONDS = float(os.environ.get("MUTAGATE_BASELINE_SAVE_SECONDS", "10"))
MIN_DEADLINE = 0.5  # seconds: a baseline given less is not started
_STOP_GRACE = 5.0  # seconds a shard has, after SIGTERM, to write what it measured before it is killed


def run_baseline(runtime: Runtime, workdir: Path, files: list[str], shards: int = 1,
                 only: list[str] | None = None, probes: Ranges | None = None,
                 deadline: float | None = None, skip: list[str] | None = None,
                 keep_partial: Callable[[Baseline], None] | None = None,
                 run_shards: BaselinePlace | None = None) -> Baseline:
    """The suite (or `only` these node ids and test files; without `skip`, node ids measured
    already) in `shards` processes at once, each a contiguous slice of the suite in its order; their
    maps merged into one, as if one process had run them in turn. The map: with `probes`, of those
    line ranges only, from probes compiled into them (runner/probes.py: no tracer); without, of
    every line of `files`, under coverage. With a `deadline` (seconds), the tests nearest the
    mutated files first, and whatever ran by then. `keep_partial` is given the tests measured whole
    so far (a Baseline with `cut` set) every SAVE_SECONDS and when the baseline is stopped (Ctrl-C,
    SIGTERM), before the stop goes on. `run_shards`: where the shards run (baseline_ray.py: on a Ray
    cluster's workers); by default, processes on this machine (`_run_shards`)."""
    if only is not None and not only:
        return Baseline({}, {})
    if deadline is not None and deadline < MIN_DEADLINE:
        # Less time than a pytest process takes to start: nothing could be measured, and starting one
        # would only take the budget's answer past its end (a 2 s hook answered at 4 s).
        return Baseline({}, {}, cut=True)
    if probes is not None:
        files = sorted(probes)
    include = [str(workdir / f) for f in files]
    probe_spec = None if probes is None else {str(workdir / f): [list(r) for r in ranges] for f, ranges in probes.items()}
    on_partial = None if keep_partial is None else lambda parts: keep_partial(_partial(parts, workdir))
    results, walls = (run_shards or _run_shards)(runtime, workdir, include, max(1, shards), only, probe_spec,
                                                 deadline, skip, on_partial)
    result = _merged(results)
    runtime.remember_modules(result.get("modules", []))
    if (only is not None or skip) and result["exit_code"] == 5:  # every test asked for is gone, or measured
        return Baseline({}, {}, suite=tuple(result.get("suite", ())))
    if result.get("cut") and not result["tests"]:  # the budget's share ended inside the first test
        return Baseline({}, {}, cut=True, suite=tuple(result.get("suite", ())))
    if result["exit_code"] == 5 or not result["tests"]:
        raise BadInput("pytest collected no tests: mutagate needs a test suite to measure")
    flaky = _classify_failures(runtime, workdir, result) if result["failed"] else {}
    if result["exit_code"] not in (0, 1) or (result["exit_code"] == 1 and not result["failed"]):
        raise BadInput(f"the baseline pytest run exited with code {result['exit_code']} (collection errors?)")
    line_tests, import_lines = _lines(result, workdir)
    durations = {t: v["duration"] for t, v in result["tests"].items() if t not in flaky}  # in the order they ran
    if flaky:  # quarantined: never selected, never trusted to kill
        line_tests = {key: tests - flaky.keys() for key, tests in line_tests.items() if tests - flaky.keys()}
    # A fresh interpreter's start and collection: what a shard's wall time holds beyond its tests.
    startup = max(wall - sum(v["duration"] for v in shard["tests"].values()) for shard, wall in zip(results, walls))
    observers, observer_lines = _observer_lines(runtime, workdir, result.get("spawns", {}),
                                                frozenset(result.get("observers", ())) - flaky.keys(), durations)
    return Baseline(durations, line_tests, import_lines, sum(durations.values()), tuple(durations),
                    observers, flaky, max(0.0, startup),
                    bool(result.get("cut")), tuple(result.get("suite", ())),
                    max((r.get("startup", 0.0) for r in results), default=0.0), observer_lines)


def _observer_lines(runtime: Runtime, workdir: Path, spawned: dict[str, list[int]], observers: frozenset[str],
                    tests: dict) -> tuple[frozenset[str], dict[str, frozenset[tuple[str, int]]]]:
    """The observers, with the tests whose processes logged though no audit event said they started
    any (multiprocessing's workers: runner/spawns.py), and observer -> the probed lines its
    processes ran, for the observers whose processes all logged them (spawn_env); relative to
    `workdir` as the map's lines are."""
    prefix = os.path.realpath(workdir) + os.sep
    watched, unseen = watched_lines(str(_spawn_logs(runtime)),
                                    {t: (v[0], v[1]) for t, v in spawned.items() if t in observers})
    lines = {test: frozenset((path[len(prefix):].replace(os.sep, "/"), line) for path, line in ran
                             if path.startswith(prefix))
             for test, ran in watched.items()}
    return observers | {t for t in unseen if t in tests}, lines


def _spawn_logs(runtime: Runtime) -> Path:
    return runtime.scratch / "spawns"


def spawn_env(runtime: Runtime, env: dict[str, str], probes: dict[str, list[list[int]]]) -> dict[str, str]:
    """What to add to `env` for a baseline with probes, so that the Python processes the tests start
    compile the same probes and log what they ran (runner/spawn_site/sitecustomize.py, first on
    their path)."""
    logs = _spawn_logs(runtime)
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    spec = runtime.scratch / "spawn-probes.json"
    spec.write_text(json.dumps(probes))
    site = str(runtime.runner / "spawn_site")
    return {"PYTHONPATH": os.pathsep.join([site, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]),
            LOG_VAR: str(logs), PROBES_VAR: str(spec), RUNNER_VAR: str(runtime.runner),
            FILES_VAR: os.pathsep.join(sorted(os.path.realpath(f) for f in probes))}


def _lines(result: dict, workdir: Path) -> tuple[dict[tuple[str, int], frozenset[str]], frozenset[tuple[str, int]]]:
    """A runner's {real path: {line: contexts}} as (file, line) -> tests, and the lines run at import."""
    prefix = os.path.realpath(workdir) + os.sep
    line_tests: dict[tuple[str, int], frozenset[str]] = {}
    import_lines: set[tuple[str, int]] = set()
    for path, lines in result["lines"].items():
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix):].replace(os.sep, "/")
        for line, contexts in lines.items():
            key = (rel, int(line))
            tests = frozenset(c for c in contexts if c != IMPORT_TIME)
            if tests:
                line_tests[key] = tests
            if IMPORT_TIME in contexts:
                import_lines.add(key)
    return line_tests, frozenset(import_lines)


def _partial(parts: list[dict], workdir: Path) -> Baseline:
    """The tests the shards measured whole so far (a failed one is not: it is measured again and
    judged then), as a baseline cut short, in the suite's order."""
    result = _merged(parts) if parts else {"tests": {}, "lines": {}, "failed": []}
    failed = set(result.get("failed", ()))
    line_tests, import_lines = _lines(result, workdir)
    if failed:
        line_tests = {key: tests - failed for key, tests in line_tests.items() if tests - failed}
    durations = {t: v["duration"] for t, v in result["tests"].items() if t not in failed}
    suite = tuple(result.get("suite", ()))
    order = [t for t in suite if t in durations]
    order += [t for t in durations if t not in set(order)]
    return Baseline({t: durations[t] for t in order}, line_tests, import_lines, sum(durations.values()), tuple(order),
                    frozenset(result.get("observers", ())) - failed, {}, float(result.get("startup", 0.0)), True,
                    suite)


def _run_shards(runtime: Runtime, workdir: Path, include: list[str], shards: int,
                only: list[str] | None, probes: dict[str, list[list[int]]] | None = None,
                deadline: float | None = None, skip: list[str] | None = None,
                on_partial: Callable[[list[dict]], None] | None = None) -> tuple[list[dict], list[float]]:
    """Each shard's result and wall time. Polled rather than waited on in turn, so that each wall
    time is its own. While they run, `on_partial` gets the shards' checkpoints now and then; a stop
    (Ctrl-C, SIGTERM) is passed on to every shard still running (SIGTERM: it writes the tests it
    measured whole), `on_partial` gets what they wrote, and a shard that does not end in time is
    killed. A shard stopped on its own (Ctrl-C reached it, not the run) stops the run too."""
    outs = [runtime.scratch / f"baseline-{index}.json" for index in range(shards)]
    checkpoints = [runtime.scratch / f"baseline-{index}.checkpoint.json" for index in range(shards)]
    tmps = [runtime.scratch / "tmp" / f"shard-{index}" for index in range(shards)]  # fixed names in TMPDIR
    for tmp in tmps:
        tmp.mkdir(parents=True, exist_ok=True)
    common = {"include": include, "only": only, "probes": probes, "deadline": deadline, "skip": skip,
              "checkpoint_every": SAVE_SECONDS}
    if _forked(probes, shards):  # one process collects, its shards are forked (runner/forked_shards.py)
        specs = [{**common, "shard": [0, 1], "checkpoint": None, "forks": {
            "outs": [str(out) for out in outs], "tmpdirs": [str(tmp) for tmp in tmps],
            "checkpoints": [str(c) if on_partial is not None else None for c in checkpoints]}}]
    else:
        specs = [{**common, "shard": [index, shards],
                  "checkpoint": str(checkpoints[index]) if on_partial is not None else None} for index in range(shards)]
    procs = []
    base_env = runtime.env(workdir)
    spawns = spawn_env(runtime, base_env, probes) if probes is not None else {}
    started = time.perf_counter()
    for index, spec in enumerate(specs):
        spec_file = runtime.scratch / f"baseline-{index}.spec.json"
        spec_file.write_text(json.dumps(spec))
        command = runtime.command("baseline", str(outs[index]), str(spec_file), "--", *runtime.pytest_args)
        log = open(runtime.scratch / f"baseline-{index}.log", "w+")  # closed once the shard has ended
        env = {**base_env, **spawns, **({"TMPDIR": str(tmps[index])} if len(specs) > 1 else {})}
        procs.append((subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    walls: dict[int, float] = {}
    saved: list[float] = []  # when on_partial last ran
    stored: dict[Path, int] = {}  # the checkpoints' mtimes it saw
    try:
        while len(walls) < len(procs):
            for index, (proc, _) in enumerate(procs):
                if index not in walls and proc.poll() is not None:
                    walls[index] = time.perf_counter() - started
            if on_partial is not None and time.perf_counter() - (saved[-1] if saved else started) >= SAVE_SECONDS:
                saved.append(time.perf_counter())
                seen = {c: c.stat().st_mtime_ns for c in checkpoints if c.is_file()}
                if seen and seen != stored:
                    stored = seen
                    on_partial(_written(outs, checkpoints))
            time.sleep(0.01)
        if any(Path(f"{out}.partial").exists() for out in outs):
            # A shard stopped by a signal the run itself did not get (Ctrl-C reaches the whole process
            # group; a run started in a script's background ignores SIGINT): the baseline is not whole.
            raise KeyboardInterrupt
    except BaseException:
        running = [proc for proc, _ in procs if proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        ends = time.monotonic() + _STOP_GRACE
        for proc in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, ends - time.monotonic()))
        if on_partial is not None:
            with contextlib.suppress(Exception):  # keeping what was measured must not hide why the run stopped
                on_partial(_written(outs, checkpoints))
        raise
    finally:
        for proc, log in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            log.close()
    results = []
    for index, out in enumerate(outs):
        proc, log = procs[min(index, len(procs) - 1)]
        if not out.is_file():
            detail = Path(log.name).read_text(errors="replace").strip().splitlines()
            raise BadInput(f"the test suite could not run: {detail[-1] if detail else f'exit code {proc.returncode}'}")
        results.append(json.loads(out.read_text()))
    # A forked shard's wall is its own (from its process's start): the driver sees only their parent.
    return results, [r.get("wall", walls[min(i, len(procs) - 1)]) for i, r in enumerate(results)]


def _forked(probes: dict | None, shards: int) -> bool:
    """Shards forked from one collected suite, for probes; coverage's tracer and its in-memory
    data are not carried across a fork, so a coverage map keeps a process per shard.
    MUTAGATE_BASELINE_FORK=0 keeps a process per shard for probes too (to compare the two)."""
    return probes is not None and shards > 1 and os.environ.get("MUTAGATE_BASELINE_FORK", "1") != "0"


def _written(outs: list[Path], checkpoints: list[Path]) -> list[dict]:
    """What each shard has written: its result (a stopped shard's holds its complete tests only), else
    its latest checkpoint, else nothing."""
    parts = []
    for out, checkpoint in zip(outs, checkpoints):
        for path in (out, checkpoint):
            try:
                parts.append(json.loads(path.read_text()))
                break
            except (OSError, ValueError):
                continue
    return parts


def _merged(results: list[dict]) -> dict:
    """One baseline result from its shards' (in the suite's order)."""
    if len(results) == 1:
        return results[0]
    codes = [r["exit_code"] for r in results if r["exit_code"] != 5]  # 5: a shard left with no test
    lines: dict[str, dict[str, set[str]]] = {}
    for r in results:
        for path, by_line in r["lines"].items():
            merged = lines.setdefault(path, {})
            for line, contexts in by_line.items():
                merged.setdefault(line, set()).update(contexts)
    return {
        "exit_code": max(codes, default=5),
        "tests": {t: v for r in results for t, v in r["tests"].items()},
        "failed": [t for r in results for t in r["failed"]],
        "failures": {t: why for r in results for t, why in (r.get("failures") or {}).items()},
        "observers": sorted({t for r in results for t in r.get("observers", ())}),
        "spawns": {t: v for r in results for t, v in r.get("spawns", {}).items()},
        "lines": {path: {line: sorted(c) for line, c in by_line.items()} for path, by_line in lines.items()},
        "modules": sorted({m for r in results for m in r.get("modules", ())}),
        "cut": any(r.get("cut") for r in results),
        "suite": next((r["suite"] for r in results if r.get("suite")), []),  # every shard collects the same
        "startup": max((r.get("startup", 0.0) for r in results), default=0.0),
    }


def _classify_failures(runtime: Runtime, workdir: Path, result: dict) -> dict[str, str]:
    """The baseline's failing tests, run again alone and then in the suite's order: one that passes
    on a retry is flaky (returned with its failure line, to be quarantined); one that fails every
    time is an error the user must fix or deselect."""
    failures: dict[str, str] = result.get("failures") or {}
    failed = list(result["failed"])
    alone = _rerun(runtime, workdir, "alone", failed)
    still = [t for t in failed if t in alone]
    if still:  # maybe it needs the tests before it: the whole suite again, in order
        in_order = _rerun(runtime, workdir, "in-order", [], expected=still)
        still = [t for t in still if t in in_order]
    if still:
        first = still[0]
        why = failures.get(first) or alone.get(first) or "failed"
        more = f" and {len(still) - 1} more" if len(still) > 1 else ""
        raise BadInput(
            f"{first} fails before any mutation ({why}){more}; fix it, or leave it out with --deselect NODEID "
            "or deselect = [...] in [tool.mutagate]"
        )
    return {t: failures.get(t, "") for t in failed}


def _rerun(runtime: Runtime, workdir: Path, name: str, tests: list[str],
           expected: list[str] | None = None) -> dict[str, str]:
    """Failing tests (node id -> failure line) of a plain run of `tests` (all: the whole suite); a
    run that died counts as every `expected` test failing again (never as a pass)."""
    out = runtime.scratch / f"baseline-{name}.json"
    command = runtime.command("fresh", str(out), "--no-bail", "--", *runtime.pytest_args, *tests)
    subprocess.run(command, cwd=workdir, env=runtime.env(workdir), capture_output=True, text=True)
    if not out.is_file():
        return {t: "the test run did not finish" for t in (expected if expected is not None else tests)}
    rerun = json.loads(out.read_text())
    return {t: (rerun.get("failures") or {}).get(t, "") for t in rerun["failed"]}
