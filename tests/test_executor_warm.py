"""The workers' warm-up (LocalExecutor.warm) clones each work copy in its own thread: a clone that fails
there says nothing (no thread traceback on the user's terminal) and the worker is made again when needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.executor import LocalExecutor
from scheduler.runtime import make_runtime
from tests.gitrepo import GitRepo


def test_a_warm_up_clone_that_fails_leaves_a_gap_the_executor_fills(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    snapshot = GitRepo(tmp_path / "snapshot")
    snapshot.write("test_one.py", "def test_one():\n    assert True\n")
    snapshot.commit("a test")
    runtime = make_runtime(tmp_path / "scratch", None, ("pytest",), ())
    blocked = runtime.scratch / "worker-0"  # half a folder: what a clone cut short leaves
    blocked.mkdir()
    (blocked / "left-over").write_text("x")
    executor = LocalExecutor(runtime, snapshot.root, jobs=2)
    try:
        executor.warm(2)
        assert executor.warming == 2
        executor._warmed()
        assert [w.name for w in executor.workers] == ["worker-1"]  # worker-0's clone failed in its thread
        executor._ensure_workers(2)
        assert [w.name for w in executor.workers] == ["worker-1", "worker-2"]
        assert all((w.workdir / "test_one.py").is_file() for w in executor.workers)
    finally:
        executor.close()
    assert "Traceback" not in capfd.readouterr().err
