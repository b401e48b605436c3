"""The baseline's audit hook: which tests a survivor's confirmation must run; for tests that start
processes, measured in those processes (runner/spawns.py) on a real baseline."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mutator.mutant import Mutant
from scheduler.baseline import run_baseline
from scheduler.runner.baseline import _Observers
from scheduler.runtime import make_runtime


def test_the_baseline_names_tests_that_start_processes_or_read_a_mutated_file(tmp_path: Path) -> None:
    mutated = tmp_path / "pkg" / "mod.py"
    mutated.parent.mkdir()
    mutated.write_text("X = 1\n")
    observers = _Observers([str(mutated)])
    events = {  # what the interpreter passes to audit hooks
        "reads_it": ("open", (mutated, "r", 0)),  # a Path, as inspect and linecache may pass it
        "reads_it_as_bytes": ("open", (os.fsencode(str(mutated)), "rb", 0)),
        "reads_another": ("open", (str(tmp_path / "other.py"), "r", 0)),
        "spawns": ("subprocess.Popen", (sys.executable, [sys.executable], None, None)),
        "forks": ("os.fork", ()),
        "opens_a_descriptor": ("open", (3, "r", 0)),
    }
    for test, (event, args) in events.items():
        observers.current = test
        observers(event, args)
    observers.current = None
    observers("open", (str(mutated), "r", 0))  # outside any test: collection, imports
    assert observers.found == {"reads_it", "reads_it_as_bytes", "spawns", "forks"}


SPAWNING_TESTS = """import multiprocessing
import os
import subprocess
import sys

from pkg.work import noop


def test_runs_half_in_python():
    subprocess.run([sys.executable, "-c", "from pkg.b import half; half(4)"], check=True)


def test_imports_a_in_python_without_calling_it():
    subprocess.run([sys.executable, "-c", "import pkg.a"], check=True)


def test_starts_something_else():
    subprocess.run(["true"], check=True)


def test_starts_isolated_python():
    subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)


def test_python_that_starts_something_else():
    subprocess.run([sys.executable, "-c", "import subprocess; subprocess.run(['true'])"], check=True)


def test_python_that_ends_with_os_exit():
    subprocess.run([sys.executable, "-c", "import os; from pkg.a import double; double(1); os._exit(0)"], check=True)


def test_reads_a():
    with open("pkg/a.py") as handle:
        assert "double" in handle.read()


def test_python_that_runs_b_as_a_script():
    subprocess.run([sys.executable, "pkg/b.py"], check=True)


def test_python_that_runs_b_by_path():
    subprocess.run([sys.executable, "-c", "import runpy; runpy.run_path('pkg/b.py')"], check=True)


def test_python_that_reads_a():
    subprocess.run([sys.executable, "-c", "open('pkg/a.py').read()"], check=True)


def test_python_that_forks():
    code = "import os; from pkg.b import half; pid = os.fork(); half(1) if pid == 0 else os.waitpid(pid, 0)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_popen_then_posix_spawn():
    subprocess.run([sys.executable, "-c", "import pkg.b"], check=True)  # fork_exec: no posix_spawn event
    os.waitpid(os.posix_spawn("/bin/true", ["true"], os.environ), 0)  # a second process, to be counted


def test_posix_spawn_of_python():
    os.waitpid(os.posix_spawn(sys.executable, [sys.executable, "-c", "import pkg.b"], os.environ), 0)


def test_multiprocessing_worker_and_isolated_python():
    worker = multiprocessing.get_context("spawn").Process(target=noop)
    worker.start()
    worker.join()
    subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)


def test_multiprocessing_worker_only():
    worker = multiprocessing.get_context("spawn").Process(target=noop)
    worker.start()
    worker.join()
"""


def _mutant(file: str, line: int) -> Mutant:
    return Mutant(id=f"m-{file}", file=file, line=line, end_line=line, column=5, end_column=6, start=0, end=1,
                  operator="arithmetic", original="*", replacement="/", agent="claude-code", qualname="f",
                  in_function=True)


def test_a_test_that_starts_processes_watches_only_the_lines_they_ran(tmp_path: Path) -> None:
    root = tmp_path / "work"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text("def double(x):\n    return x * 2\n")
    (root / "pkg" / "b.py").write_text("def half(x):\n    return x / 2\n\n\nhalf(8)\n")
    (root / "pkg" / "work.py").write_text("def noop():\n    pass\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_a.py").write_text("from pkg.a import double\n\n\ndef test_double():\n"
                                              "    assert double(2) == 4\n")
    (root / "tests" / "test_x.py").write_text(SPAWNING_TESTS)  # another module: in a confirmation only as observers
    # The project's own sitecustomize still runs in the processes its tests start.
    ran = tmp_path / "their-sitecustomize-ran"
    (root / "sitecustomize.py").write_text(f"open({str(ran)!r}, 'a').write('x')\n")
    runtime = make_runtime(tmp_path / "scratch", None, ("pytest",), ())
    baseline = run_baseline(runtime, root, ["pkg/a.py", "pkg/b.py"], probes={"pkg/a.py": [(2, 2)], "pkg/b.py": [(2, 2)]})

    x = "tests/test_x.py::"
    assert baseline.observers == {x + name.removeprefix("def ").split("(")[0]
                                  for name in SPAWNING_TESTS.splitlines() if name.startswith("def test_")}
    # Only the tests whose every process logged what it ran, down the tree, are narrowed: `true`,
    # `python -I`, a Python child's own `true` and an `os._exit` (no log at exit) leave them watching all.
    assert baseline.observer_lines == {x + "test_runs_half_in_python": {("pkg/b.py", 2)},
                                       x + "test_imports_a_in_python_without_calling_it": frozenset(),
                                       x + "test_posix_spawn_of_python": {("pkg/b.py", 2)}}
    # In-process probes are as before: the test that calls double covers it; no child's run counts as covering.
    assert baseline.covering("pkg/a.py", 2, 2) == {"tests/test_a.py::test_double"}
    assert baseline.covering("pkg/b.py", 2, 2) == frozenset()
    assert ran.read_text().count("x") >= 5  # the pytest processes' and their Python children's (not -I's)

    covering = ("tests/test_a.py::test_double",)
    for_a = baseline.confirming(covering, mutant=_mutant("pkg/a.py", 2))
    for_b = baseline.confirming(covering, mutant=_mutant("pkg/b.py", 2))
    assert x + "test_runs_half_in_python" in for_b and x + "test_runs_half_in_python" not in for_a
    assert x + "test_imports_a_in_python_without_calling_it" not in for_a + for_b
    # Narrowed to nothing of a.py: a process that runs b.py by its path, reads a.py, forks, or is a
    # multiprocessing worker (started with no audit event) leaves its test watching every line.
    for watcher in ("test_starts_something_else", "test_starts_isolated_python", "test_python_that_starts_something_else",
                    "test_python_that_ends_with_os_exit", "test_reads_a", "test_python_that_runs_b_as_a_script",
                    "test_python_that_runs_b_by_path", "test_python_that_reads_a", "test_python_that_forks",
                    "test_popen_then_posix_spawn", "test_multiprocessing_worker_and_isolated_python",
                    "test_multiprocessing_worker_only"):
        assert x + watcher in for_a and x + watcher in for_b
    assert set(baseline.confirming(covering)) >= baseline.observers  # without a mutant: every observer
