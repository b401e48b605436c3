"""The Ray executor on real Ray: a private local instance (one per session), and a two-node
cluster on this machine started and stopped by its own test."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from mutator.attribution import Scope
from mutator.config import load_config
from mutator.git import open_repo
from mutator.workload import collect_workload
from scheduler.executor import executor_factory
from scheduler.run import Progress, RunOptions, execute_run
from tests.cli import PROJECT, assert_bad_input, mutagate
from tests.gitrepo import GitRepo

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]  # a real Ray instance or cluster

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture(scope="session")
def private_ray():
    # Short paths: Ray's unix sockets live under its temp dir and must stay under 108 bytes.
    temp = tempfile.mkdtemp(prefix="mgray-", dir="/tmp")
    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)
    ray.init(address="local", _node_ip_address="127.0.0.2", num_cpus=2, object_store_memory=128 * 1024 * 1024,
             include_dashboard=False, log_to_driver=False, _temp_dir=temp)
    yield
    ray.shutdown()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def sample(sample_run_shared) -> GitRepo:
    return sample_run_shared.repo


def verdicts(db: Path, run_id: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT mutant_id, status, killed_by FROM outcomes WHERE run_id = ?", [run_id]).fetchall()
    assert len(rows) == len({r[0] for r in rows}), "a mutant was counted twice"
    return {mutant: (status, tuple(killed or ())) for mutant, status, killed in rows}


@pytest.fixture(scope="module")
def local_verdicts(sample_run_shared) -> dict:
    return verdicts(sample_run_shared.db, sample_run_shared.summary["run_id"])


def run_in_process(repo: GitRepo, db: Path, progress: Progress = Progress(), hold: list | None = None,
                   adjust=lambda executor: executor):
    """A Ray run with 2 workers, called as a Python caller would: plain values, no command line."""
    make = executor_factory("ray", 2)

    def factory(runtime, snapshot):
        executor = adjust(make(runtime, snapshot))
        if hold is not None:
            hold.append(executor)
        return executor

    options = RunOptions(db=db, jobs=2, no_bail=False, python=None, deselect=(), executor_factory=factory)
    target = open_repo(repo.root)
    return execute_run(collect_workload(target, Scope(), load_config(target.root)), options, progress)


def test_ray_gives_the_local_executors_verdicts(private_ray, sample, local_verdicts, tmp_path) -> None:
    db = tmp_path / "ray.duckdb"
    result = run_in_process(sample, db)
    assert result.executor.startswith("ray: 1 node, 2 workers")
    assert verdicts(db, result.run_id) == local_verdicts
    # the interesting fates are among them: a timeout, a crash, a kill only the whole suite sees
    statuses = {status for status, _ in local_verdicts.values()}
    assert {"killed", "timeout", "survived", "no_coverage"} <= statuses


class _SignalOneActor(Progress):
    """After the first verdict arrives, send one actor's process a signal: its batches are in flight."""

    def __init__(self, hold: list, signum: int) -> None:
        self.hold = hold
        self.signum = signum
        self.killed: tuple[str, int] | None = None

    def advance(self, verdict_status: str) -> None:
        if self.killed is None and self.hold:
            processes = self.hold[0].actor_processes()
            key = max(processes)
            self.killed = processes[key]
            os.kill(self.killed[1], self.signum)


def test_a_worker_killed_mid_run_loses_nothing(private_ray, sample, local_verdicts, tmp_path) -> None:
    hold: list = []
    progress = _SignalOneActor(hold, signal.SIGKILL)
    db = tmp_path / "ray.duckdb"
    result = run_in_process(sample, db, progress=progress, hold=hold)
    assert progress.killed is not None
    assert hold[0].retried >= 1 and "retried" in result.executor
    assert verdicts(db, result.run_id) == local_verdicts  # every mutant once, each with the same fate


def test_a_wedged_worker_is_cancelled_past_its_deadline_and_its_batch_retried(private_ray, sample, local_verdicts,
                                                                            tmp_path) -> None:
    hold: list = []
    progress = _SignalOneActor(hold, signal.SIGSTOP)  # alive but making no progress
    db = tmp_path / "ray.duckdb"

    def short_slack(executor):
        executor.deadline_slack = 2.0  # the default (30 s) leaves room for slow servers; not needed here
        return executor

    try:
        result = run_in_process(sample, db, progress=progress, hold=hold, adjust=short_slack)
    finally:
        if progress.killed is not None:
            try:
                os.kill(progress.killed[1], signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert progress.killed is not None and hold[0].retried >= 1
    assert verdicts(db, result.run_id) == local_verdicts


def test_cli_starts_a_private_instance_and_summarises_nodes_and_workers(sample, local_verdicts, tmp_path) -> None:
    db = tmp_path / "cli.duckdb"
    result = mutagate("run", "--executor", "ray", "--jobs", "2", "--db", str(db), cwd=sample.root)
    assert result.returncode == 0, result.stderr
    assert "ray: 1 node, 2 workers" in result.stdout
    run_id = result.stdout.rsplit("run ", 1)[1].split()[0]
    assert verdicts(db, run_id) == local_verdicts


def test_ray_missing_is_a_clear_bad_input(sample, tmp_path) -> None:
    # The one fault made by hand: an interpreter on which `import ray` fails.
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "ray.py").write_text("raise ImportError('No module named ray')\n")
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from scheduler.cli import main; sys.exit(main())", "run", "--executor", "ray"],
        cwd=sample.root, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": f"{shadow}{os.pathsep}{PROJECT}"},
    )
    assert_bad_input(result, "pip install 'mutagate[ray]'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        return s.getsockname()[1]


def _ray_processes(temp: str) -> list[int]:
    """Processes of the cluster started with this temp dir (never `ray stop`: it ends every Ray)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if temp.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.mark.slow
def test_two_node_cluster_runs_on_both_nodes_with_the_same_verdicts(sample, local_verdicts, tmp_path) -> None:
    ray_bin = str(Path(sys.executable).with_name("ray"))
    temp = tempfile.mkdtemp(prefix="mgrc-", dir="/tmp")
    port = _free_port()
    env = {**os.environ, **RAY_ENV}
    common = ["--num-cpus=1", "--node-ip-address=127.0.0.2", f"--temp-dir={temp}", "--disable-usage-stats"]
    try:
        subprocess.run([ray_bin, "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
                       check=True, capture_output=True, env=env, timeout=120)
        subprocess.run([ray_bin, "start", f"--address=127.0.0.2:{port}", *common],
                       check=True, capture_output=True, env=env, timeout=120)
        db = tmp_path / "cluster.duckdb"
        result = mutagate("run", "--executor", "ray", "--ray-address", f"127.0.0.2:{port}", "--db", str(db),
                          cwd=sample.root)
        assert result.returncode == 0, result.stderr
        assert "ray: 2 nodes, 2 workers" in result.stdout  # the snapshot reached both as a working_dir
        run_id = result.stdout.rsplit("run ", 1)[1].split()[0]
        assert verdicts(db, run_id) == local_verdicts
    finally:
        for pid in _ray_processes(temp):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(temp, ignore_errors=True)


def test_an_unreachable_cluster_is_bad_input_before_any_test_runs(sample) -> None:
    result = mutagate("run", "--executor", "ray", "--ray-address", "127.0.0.2:1", cwd=sample.root)
    assert_bad_input(result, "cannot reach the Ray cluster at 127.0.0.2:1")
    assert_bad_input(mutagate("run", "--executor", "ray", "--ray-address", "nowhere", cwd=sample.root), "HOST:PORT")
