"""The runner runs inside the target's interpreter: it may import only the standard library, pytest
and coverage (and itself, relatively), and its copy in a run's scratch starts and shadows nothing."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.cli import PROJECT
from scheduler.runtime import RUNNER_NAME, RUNNER_SOURCE, Runtime, make_runtime

ALLOWED = frozenset(sys.stdlib_module_names) | {"pytest", "_pytest", "coverage"}


def imports_outside_the_boundary(path: Path) -> list[str]:
    offenders = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:  # within the package
                continue
            if node.level > 1:  # out of it: into mutagate
                offenders.append(f"{path.name}:{node.lineno}: from {'.' * node.level}{node.module or ''}")
                continue
            names = [node.module or ""]
        else:
            continue
        offenders += [f"{path.name}:{node.lineno}: {name}" for name in names if name.partition(".")[0] not in ALLOWED]
    return offenders


def test_the_runner_imports_only_the_standard_library_pytest_and_coverage() -> None:
    modules = sorted(RUNNER_SOURCE.glob("*.py"))
    assert {m.name for m in modules} >= {"__init__.py", "__main__.py", "common.py", "patch.py"}
    offenders = [offender for module in modules for offender in imports_outside_the_boundary(module)]
    assert not offenders, "imports the target's interpreter may not have:\n" + "\n".join(offenders)


def runtime_in(tmp_path: Path) -> Runtime:
    return make_runtime(tmp_path / "scratch", None, ("pytest",), ())


def test_the_copied_runner_starts_and_refuses_an_unknown_mode(tmp_path: Path) -> None:
    runtime = runtime_in(tmp_path)
    assert runtime.runner == tmp_path / "scratch" / "runner" / RUNNER_NAME
    assert not (runtime.runner / "__pycache__").exists()
    done = subprocess.run([runtime.python, str(runtime.runner), "no-such-mode"], cwd=tmp_path,
                          env=runtime.env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "unknown mode no-such-mode" in done.stderr


def test_the_started_runner_shadows_none_of_the_targets_modules(tmp_path: Path) -> None:
    """The package folder, whose modules are named baseline, serve, patch..., is not on sys.path;
    the scratch's runner folder is first, as a script's own folder would be."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "patch.py").write_text("WHO = 'target'\n")  # a module name the runner uses too
    probe = tmp_path / "probe.json"
    (work / "test_probe.py").write_text(
        "import json, sys\n"
        "import patch\n\n\n"
        "def test_probe():\n"
        f"    with open({str(probe)!r}, 'w') as handle:\n"
        "        json.dump({'path': sys.path, 'patch': patch.WHO,\n"
        "                   'runner': {n: getattr(m, '__file__', None) for n, m in sys.modules.items()\n"
        "                              if n.split('.')[0] in ('mutagate_runner', 'scheduler')}}, handle)\n"
    )
    runtime = runtime_in(tmp_path)
    out = tmp_path / "fresh.json"
    # importlib import mode: pytest leaves sys.path as the runner set it up (prepend mode puts `work` first).
    done = subprocess.run([runtime.python, str(runtime.runner), "fresh", str(out), "--",
                           "--import-mode=importlib", "test_probe.py"],
                          cwd=work, env=runtime.env(work), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(out.read_text()) == {"exit_code": 0, "failed": [], "failures": {}, "tests_run": 1}
    seen = json.loads(probe.read_text())
    assert seen["patch"] == "target"
    assert str(runtime.runner) not in seen["path"]
    assert seen["path"][0] == str(runtime.runner.parent)
    assert "mutagate_runner.fresh" in seen["runner"]
    assert all(name.startswith("mutagate_runner") for name in seen["runner"]), seen["runner"]  # no mutagate
    assert all(Path(file).is_relative_to(runtime.runner) for file in seen["runner"].values() if file)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_forked_child_does_not_outlive_its_server(tmp_path: Path) -> None:
    """A mutant's child has a session of its own (its group is what a timeout kills), so a server
    killed by its driver would leave a looping mutant running forever; it must end with the server."""
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(PROJECT)!r})
        from scheduler.runner.common import fork_child
        pid, _ = fork_child(lambda write_end: (time.sleep(1000), 0)[1])
        print(pid, flush=True)
        time.sleep(1000)
    """)
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
    child = int(server.stdout.readline())
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    deadline = time.monotonic() + 10
    state = "running"
    while time.monotonic() < deadline:
        try:
            state = next(line for line in Path(f"/proc/{child}/status").read_text().splitlines()
                         if line.startswith("State:"))
        except FileNotFoundError:
            state = "gone"
        if state == "gone" or "Z" in state:  # dead (a zombie until init reaps it)
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
    assert state == "gone" or "Z" in state, state
