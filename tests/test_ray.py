"""The Ray executor on real Ray: a private local instance (one per session), and a two-node
cluster on this machine started and stopped by its own test."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pytest

from mutator.attribution import Scope
from mutator.config import load_config
from mutator.git import open_repo
from mutator.workload import collect_workload
from scheduler.baseline import run_baseline
from scheduler.executor import baseline_place, executor_factory
from scheduler.run import Progress, RunOptions, execute_run
from scheduler.runtime import make_runtime
from scheduler.workcopy import work_copy_from
from tests.cli import PROJECT, assert_bad_input, mutagate, run_process
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
                   adjust=lambda executor: executor, on_baseline=None):
    """A Ray run with 2 workers, called as a Python caller would: plain values, no command line.
    `on_baseline` is given the place where the baseline's shards run (on the Ray workers)."""
    make = executor_factory("ray", 2)
    make_place = baseline_place(make)

    def factory(runtime, snapshot):
        executor = adjust(make(runtime, snapshot))
        if hold is not None:
            hold.append(executor)
        return executor

    def place(runtime, snapshot):
        made = make_place(runtime, snapshot)
        if on_baseline is not None:
            on_baseline(made)
        return made

    options = RunOptions(db=db, jobs=2, no_bail=False, python=None, deselect=(), executor_factory=factory,
                         baseline_place=place)
    target = open_repo(repo.root)
    return execute_run(collect_workload(target, Scope(), load_config(target.root)), options, progress)


def test_ray_gives_the_local_executors_verdicts(private_ray, sample, local_verdicts, tmp_path) -> None:
    db = tmp_path / "ray.duckdb"
    places: list = []
    result = run_in_process(sample, db, on_baseline=places.append)
    assert result.executor.startswith("ray: 1 node, 2 workers")
    # the baseline's two shards ran on two Ray actors, not in this process's children
    actors = {(run.node, run.pid) for run in result.baseline.shards}
    assert sorted(run.shard for run in result.baseline.shards) == [1, 2] and len(actors) == 2
    assert os.getpid() not in {pid for _, pid in actors} and places[0].runs
    assert verdicts(db, result.run_id) == local_verdicts
    # the interesting fates are among them: a timeout, a crash, a kill only the whole suite sees
    statuses = {status for status, _ in local_verdicts.values()}
    assert {"killed", "timeout", "survived", "no_coverage"} <= statuses


def test_a_ray_workers_zygote_is_given_the_installed_modules_the_baseline_saw(private_ray, sample, tmp_path) -> None:
    from scheduler.executor_ray import RayExecutor

    runtime = make_runtime(tmp_path / "run", None, (), ())
    runtime.remember_modules(["decimal", "json"])  # what run_baseline writes on the driver
    executor = RayExecutor(runtime, sample.root, 1, owns_ray=False, shared_path=True)
    actor = executor._new_actor()
    try:
        # The actor's own scratch (its zygote reads it) holds the driver's list, not nothing.
        assert ray.get(actor.known_modules.remote(), timeout=120) == ["decimal", "json"]
    finally:
        ray.get(actor.close.remote(), timeout=60)
        ray.kill(actor)


class _SignalOneActor(Progress):
    """After the first verdict arrives, send one actor's process a signal: its batches are in flight."""

    def __init__(self, hold: list, signum: int) -> None:
        self.hold = hold
        self.signum = signum
        self.killed: tuple[str, int] | None = None

    def advance(self, verdict_status: str, seconds: float = 0.0, spent: float = 0.0) -> None:
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


def _baseline_bed(sample: GitRepo, tmp_path: Path):
    """A snapshot of the sample project, a runtime, and its source files: what run_baseline takes."""
    snapshot = work_copy_from(sample.root, tmp_path / "snapshot")
    config = load_config(sample.root)
    runtime = make_runtime(tmp_path / "scratch", None, config.test_command, config.deselect)
    files = sorted(collect_workload(open_repo(sample.root), Scope(), config).attribution.source_files)
    return snapshot, runtime, files


def _same_map(a, b) -> None:
    assert a.line_tests == b.line_tests and a.line_tests
    assert a.import_lines == b.import_lines and a.order == b.order and a.suite == b.suite
    assert a.observers == b.observers and a.flaky == b.flaky and set(a.durations) == set(b.durations)
    assert not a.cut and not b.cut


class _KillMidShard:
    """Once the first shard's process is running on its actor: SIGKILL the actor (a lost worker), or
    SIGTERM the shard's process (stopped on its node by a signal the run never got)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.actor_pid: int | None = None
        self.shard_pid: int | None = None
        self.thread: threading.Thread | None = None

    def attach(self, place) -> None:
        place.on_start = lambda shard, key: self._watch(place, key)

    def _watch(self, place, key: int) -> None:
        if self.thread is not None:
            return
        where = place._where[key]  # asked when the actor was made
        self.thread = threading.Thread(target=self._kill, args=(where,), daemon=True)
        self.thread.start()

    def _kill(self, where) -> None:
        _, _, actor = ray.get(where, timeout=120)
        ends = time.monotonic() + 120
        while time.monotonic() < ends:
            for pid in _children(actor):
                try:
                    running = b"baseline" in Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if running:
                    self.actor_pid, self.shard_pid = actor, pid
                    os.kill(actor if self.target == "actor" else pid,
                            signal.SIGKILL if self.target == "actor" else signal.SIGTERM)
                    return
            time.sleep(0.005)


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_bytes()
            except OSError:
                continue
            if int(stat[stat.rfind(b")") + 2:].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def _ended(pid: int, within: float = 10.0) -> bool:
    """The process is gone (or a zombie waiting to be reaped)."""
    ends = time.monotonic() + within
    while time.monotonic() < ends:
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            return True
        if stat[stat.rfind(b")") + 2:].split()[0] == b"Z":
            return True
        time.sleep(0.05)
    return False


def test_the_baselines_shards_run_on_the_ray_workers_with_the_local_map(private_ray, sample, tmp_path) -> None:
    from scheduler.baseline_ray import RayBaseline

    snapshot, runtime, files = _baseline_bed(sample, tmp_path)
    local = run_baseline(runtime, snapshot, files, 2)  # under coverage: the map of every line
    place = RayBaseline(runtime, snapshot, 2, shared_path=True)
    try:
        on_ray = run_baseline(runtime, snapshot, files, place.shards, run_shards=place)
        actors = place.actor_processes()
    finally:
        place.close()
    _same_map(on_ray, local)
    assert sorted(run.shard for run in place.runs) == [1, 2] and not any(run.lost for run in place.runs)
    # each shard on its own actor, and those are the actors' processes, not this one
    assert {(run.node, run.pid) for run in place.runs} == set(actors.values()) and len(actors) == 2
    assert os.getpid() not in {run.pid for run in place.runs}


@pytest.mark.parametrize("target, why", [("actor", "Actor"), ("shard", "signal")])
def test_a_baseline_shard_lost_on_its_worker_runs_again_with_the_local_map(private_ray, sample, tmp_path,
                                                                         target, why) -> None:
    """The worker killed mid-shard, or the shard's process stopped on it by a signal the run never got."""
    from scheduler.baseline_ray import RayBaseline

    snapshot, runtime, files = _baseline_bed(sample, tmp_path)
    local = run_baseline(runtime, snapshot, files, 2)
    place = RayBaseline(runtime, snapshot, 2, shared_path=True)
    killer = _KillMidShard(target)
    killer.attach(place)
    try:
        on_ray = run_baseline(runtime, snapshot, files, place.shards, run_shards=place)
    finally:
        place.close()
    assert killer.shard_pid is not None
    _same_map(on_ray, local)  # a stopped shard's partial result was not taken for the whole shard
    lost = [run for run in place.runs if run.lost]
    assert len(lost) == 1 and why in lost[0].lost  # a shard's process: stopped midway, or killed before it wrote
    assert [run.attempt for run in place.runs if run.shard == lost[0].shard] == [1, 2]


def test_a_worker_lost_mid_baseline_shard_runs_it_again_with_the_local_verdicts(private_ray, sample, local_verdicts,
                                                                             tmp_path) -> None:
    killer = _KillMidShard("actor")
    db = tmp_path / "ray.duckdb"
    result = run_in_process(sample, db, on_baseline=killer.attach)
    assert killer.actor_pid is not None
    assert _ended(killer.shard_pid)  # the lost actor's shard did not run on beside its rerun
    runs = result.baseline.shards
    lost = [run for run in runs if run.lost]
    assert len(lost) == 1 and lost[0].pid == killer.actor_pid and "Actor" in lost[0].lost
    again = [run for run in runs if run.shard == lost[0].shard and not run.lost]
    assert len(again) == 1 and again[0].attempt == 2 and again[0].pid != killer.actor_pid
    assert sorted({run.shard for run in runs if not run.lost}) == [1, 2]
    assert "1 shard rerun" in result.baseline.describe()
    assert verdicts(db, result.run_id) == local_verdicts


SLOW_TESTS = "".join(f"""
def test_{i}():
    time.sleep(0.4)
    assert m.f({i}) == {i + 1}
""" for i in range(10))


def _slow_bed(repo: GitRepo, tmp_path: Path):
    """A project whose 10 tests take 0.4 s each: long enough to stop midway."""
    repo.commit("human: slow suite", files={"pkg/__init__.py": "", "pkg/m.py": "def f(x):\n    return x + 1\n",
                                            "tests/test_m.py": "import time\n\nfrom pkg import m\n" + SLOW_TESTS})
    snapshot = work_copy_from(repo.root, tmp_path / "snapshot")
    runtime = make_runtime(tmp_path / "scratch", None, ("pytest", "tests"), ())
    return snapshot, runtime, ["pkg/m.py"]


def test_a_stopped_ray_baseline_keeps_the_tests_its_shards_measured_whole(private_ray, repo, tmp_path,
                                                                         monkeypatch) -> None:
    from scheduler import baseline_ray

    monkeypatch.setattr(baseline_ray, "SAVE_SECONDS", 0.3)  # checkpoints read (and written) this often
    snapshot, runtime, files = _slow_bed(repo, tmp_path)
    kept: list = []

    def keep(partial) -> None:
        kept.append(partial)
        if len(kept) == 1:
            raise KeyboardInterrupt  # the run is stopped while its shards run on the workers

    place = baseline_ray.RayBaseline(runtime, snapshot, 2, shared_path=True)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_baseline(runtime, snapshot, files, place.shards, keep_partial=keep, run_shards=place)
    finally:
        place.close()
    assert len(kept) == 2 and kept[0].durations and all(b.cut for b in kept)
    first, last = kept
    # what the shards wrote when stopped: at least what their checkpoints held, and not the whole suite
    assert set(first.durations) <= set(last.durations) and len(last.durations) < 10
    assert {t for tests in last.line_tests.values() for t in tests} == set(last.durations)  # only complete tests


def test_a_ray_baseline_stops_at_the_budgets_deadline(private_ray, repo, tmp_path) -> None:
    from scheduler.baseline_ray import RayBaseline

    snapshot, runtime, files = _slow_bed(repo, tmp_path)
    place = RayBaseline(runtime, snapshot, 2, shared_path=True)
    try:
        cut = run_baseline(runtime, snapshot, files, place.shards, deadline=0.5, run_shards=place)
    finally:
        place.close()
    assert cut.cut and 2 <= len(cut.durations) < 10  # each shard ran a test or two, then stopped


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
    # The cluster's workers import mutagate from this checkout, as the run does (tests/cli.py).
    env = {**os.environ, **RAY_ENV, "PYTHONPATH": str(PROJECT)}
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
        assert "in 2 shards on Ray (2 nodes)" in result.stderr  # and so did the baseline's shards
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


def test_a_hot_survivors_parts_run_on_the_ray_workers_as_on_local_ones(private_ray, repo, tmp_path) -> None:
    """The follow-ups a head's outcome asks for (hot_split.py) go to the Ray workers: the same verdicts,
    and the survivors ran head + parts, as on the local pool."""
    from tests.test_hot_split import hot_repo

    hot_repo(repo)
    local = run_process(repo.root, tmp_path / "local.duckdb", "--every-mutant", jobs=2)
    assert local.returncode in (0, 3), local.stderr
    local_run = json.loads(local.stdout)["run_id"]
    result = run_in_process(repo, tmp_path / "ray.duckdb")

    def runs(db: Path, run_id: str) -> dict[str, tuple[str, int]]:
        with duckdb.connect(str(db), read_only=True) as con:
            return {m: (s, n) for m, s, n in con.execute(
                "SELECT mutant_id, status, tests_run FROM outcomes WHERE run_id = ?", [run_id]).fetchall()}

    on_ray, on_local = runs(tmp_path / "ray.duckdb", result.run_id), runs(tmp_path / "local.duckdb", local_run)
    assert {m: s for m, (s, _) in on_ray.items()} == {m: s for m, (s, _) in on_local.items()}
    survivors = [m for m, (s, _) in on_local.items() if s == "survived"]
    assert survivors and all(on_ray[m][1] == on_local[m][1] for m in survivors)
