"""The probe baseline's shards are forked from one process that collected the suite once, and pull
whole test modules as they go (scheduler/runner/forked_shards.py)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from scheduler.baseline import run_baseline
from scheduler.runtime import make_runtime

MODULE = """\
def double(x):
    return x * 2


def half(x):
    return x / 2
"""

# Each test module notes its import (collection) and, per test, the process that ran it.
NOTE = """\
import os
from pathlib import Path

from pkg.mod import double, half

LOG = Path(os.environ["NOTES"])
with LOG.open("a") as handle:
    handle.write(f"collect {{__name__}} {{os.getpid()}}\\n")


def note(name):
    with LOG.open("a") as handle:
        handle.write(f"run {{name}} {{os.getpid()}}\\n")
"""


def project(root: Path, slow: float = 0.0) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text(MODULE)
    tests = root / "tests"
    tests.mkdir()
    # The first module is the suite's slow part: cut by count, one shard would get all of it.
    (tests / "test_a_slow.py").write_text(NOTE.format() + "import time\n" + "".join(
        f"\n\ndef test_slow_{i}():\n    note('test_slow_{i}')\n    time.sleep({slow})\n    assert double({i}) == {2 * i}\n"
        for i in range(4)))
    for name in "bcdefg":
        (tests / f"test_{name}.py").write_text(NOTE.format() + "".join(
            f"\n\ndef test_{name}{i}():\n    note('test_{name}{i}')\n    assert half({2 * i}) == {i}\n" for i in range(3)))


def notes(path: Path) -> tuple[list[str], dict[str, int]]:
    """The collecting pids (one per module imported), and the pid that ran each test."""
    collected, ran = [], {}
    for line in path.read_text().splitlines():
        kind, name, pid = line.split()
        if kind == "collect":
            collected.append(pid)
        else:
            ran[name] = int(pid)
    return collected, ran


PROBES = {"pkg/mod.py": [[2, 2], [6, 6]]}


def measure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork: bool, slow: float = 0.0):
    root = tmp_path / ("forked" if fork else "separate")
    project(root, slow)
    log = root.parent / f"notes-{root.name}.txt"
    monkeypatch.setenv("NOTES", str(log))
    monkeypatch.setenv("MUTAGATE_BASELINE_FORK", "1" if fork else "0")
    runtime = make_runtime(root.parent / f"scratch-{root.name}", None, ("pytest",), ())
    baseline = run_baseline(runtime, root, ["pkg/mod.py"], shards=2, probes=PROBES)
    return baseline, notes(log)


def test_forked_shards_collect_once_and_map_what_separate_shards_map(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    forked, (collected, ran) = measure(tmp_path, monkeypatch, fork=True)
    separate, (collected_apart, _) = measure(tmp_path, monkeypatch, fork=False)
    assert len(collected) == 7  # each test module imported once, in one process
    assert len(collected_apart) == 14  # each shard process collected the whole suite
    assert len(set(ran.values())) == 2 and os.getpid() not in ran.values()
    assert forked.line_tests == separate.line_tests
    assert forked.line_tests[("pkg/mod.py", 2)] == {f"tests/test_a_slow.py::test_slow_{i}" for i in range(4)}
    assert set(forked.order) == set(separate.order) and len(forked.order) == 22
    assert forked.suite == separate.suite


def test_a_shard_takes_whole_modules_and_the_other_takes_the_rest_meanwhile(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _, (_, ran) = measure(tmp_path, monkeypatch, fork=True, slow=0.3)
    slow_pid = ran["test_slow_0"]
    assert {ran[f"test_slow_{i}"] for i in range(4)} == {slow_pid}  # a module stays in one process
    for name in "bcdefg":
        assert len({ran[f"test_{name}{i}"] for i in range(3)}) == 1
    # While one shard sleeps through the slow module, the other pulls the fast ones: cut by count
    # (12 tests each), the slow shard would also have run b, c and half of d.
    others = [name for name in "bcdefg" if ran[f"test_{name}0"] != slow_pid]
    assert len(others) >= 5


def test_a_stopped_forked_baseline_keeps_what_its_shards_measured_whole(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "stopped"
    project(root, slow=1.0)
    monkeypatch.setenv("NOTES", str(tmp_path / "notes.txt"))
    runtime = make_runtime(tmp_path / "scratch", None, ("pytest",), ())
    kept = []
    # The driver's SIGTERM reaches only the shards' parent: it passes the stop on, and each shard writes
    # the tests it measured whole (the partial map a later run resumes from).
    timer = threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGTERM))
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_baseline(runtime, root, ["pkg/mod.py"], shards=2, probes=PROBES, keep_partial=kept.append)
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, previous)
    assert time.monotonic() - started < 30
    assert kept and kept[-1].cut
    partial = kept[-1]
    _, ran = notes(tmp_path / "notes.txt")
    assert 0 < len(partial.order) < 22
    # Every test kept ran in some shard (none is kept that did not run), and shards' maps are in it.
    assert {t.rsplit("::", 1)[1] for t in partial.order} <= set(ran)
    assert partial.line_tests.get(("pkg/mod.py", 6), frozenset()) <= set(partial.order)


def test_a_suite_of_one_test_runs_unforked_as_shard_0_and_the_other_shard_is_empty(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "one"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text(MODULE)
    (root / "tests").mkdir()
    (root / "tests" / "test_one.py").write_text("from pkg.mod import double\n\n\ndef test_double():\n"
                                                "    assert double(2) == 4\n")
    runtime = make_runtime(tmp_path / "scratch", None, ("pytest",), ())
    baseline = run_baseline(runtime, root, ["pkg/mod.py"], shards=2, probes=PROBES)
    assert baseline.order == ("tests/test_one.py::test_double",)
    assert baseline.line_tests == {("pkg/mod.py", 2): {"tests/test_one.py::test_double"}}


CONFTEST = """\
import atexit
import os
from pathlib import Path

import pytest

LOG = Path(os.environ["NOTES"])


def note(kind):
    with LOG.open("a") as handle:
        handle.write(f"{kind} - {os.getpid()}\\n")


@pytest.fixture(scope="session", autouse=True)
def session_resource():
    yield
    note("teardown")  # a session fixture's teardown: each shard that ran tests still ends its session


def pytest_sessionfinish(session):
    note("sessionfinish")


atexit.register(note, "atexit")  # registered at collection: in the shards' parent, and so in each shard
"""


def test_the_baseline_processes_end_once_their_results_are_written(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The shards' parent ran no test: it ends when its children have, without pytest's session end;
    each shard ends its pytest session (session fixtures torn down). Both skip only the
    interpreter's teardown (which the run waited for: 0.5 s on dateutil): atexit handlers, which stop
    what a conftest or a test started, still run in every one of them."""
    root = tmp_path / "ends"
    project(root)
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    log = tmp_path / "notes.txt"
    monkeypatch.setenv("NOTES", str(log))
    runtime = make_runtime(tmp_path / "scratch", None, ("pytest",), ())
    baseline = run_baseline(runtime, root, ["pkg/mod.py"], shards=2, probes=PROBES)
    assert len(baseline.order) == 22
    events: dict[str, set[int]] = {}
    for line in log.read_text().splitlines():
        kind, _, pid = line.split()
        events.setdefault(kind, set()).add(int(pid))
    shards = events["run"]
    assert len(shards) == 2
    assert events["teardown"] == shards and events["sessionfinish"] == shards  # not the parent's
    parent = events["atexit"] - shards
    assert shards < events["atexit"] and len(parent) == 1 and os.getpid() not in parent
