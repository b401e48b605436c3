"""The Ray executor: warm actors, each a Worker with its own work copy and fork server, pulling
batches of mutants from the driver.

- Code reaches the actors the Ray way: the run's snapshot is the job's `runtime_env` working_dir
  (Ray uploads it once and unpacks it on every node), or, in shared-path mode, every node reads the
  snapshot at the driver's path (CI runners that already share a checkout).
- Work is pulled, a batch at a time, with one batch queued behind the running one on each actor so
  an actor never waits for the driver. Lopsided costs balance themselves.
- A batch whose actor dies, or that runs past its deadline (the actor is killed), goes back to the
  queue for another actor, at most MAX_ATTEMPTS times; outcomes are only accepted from a batch that
  completed, so nothing is lost or counted twice. The driver alone writes to DuckDB.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError, WorkerCrashedError

from scheduler.budget import BudgetSpent
from scheduler.runtime import Runtime, make_runtime
from scheduler.scratch import new_scratch, remove_scratch
from scheduler.workcopy import work_copy_from
from scheduler.worker import FollowUps, Outcome, Task, Worker

MAX_ATTEMPTS = 3
DEADLINE_SLACK = 30.0  # seconds on top of a batch's own timeouts: actor start, fork server start
BATCH_SECONDS = 2.0  # aim for batches of about this much baseline test time
MAX_BATCH = 32


@ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)
class MutantActor:
    """One warm worker on some node: its own work copy, runner and fork server."""

    def __init__(self, name: str, shared_snapshot: str | None, python: str, pytest_args: tuple[str, ...],
                 modules: tuple[str, ...] = ()) -> None:
        scratch = new_scratch("mutagate-ray-")
        # With a working_dir runtime_env, the actor starts inside Ray's unpacked copy of the snapshot.
        source = Path(shared_snapshot) if shared_snapshot else Path.cwd()
        workdir = work_copy_from(source, scratch / "work")
        runtime = make_runtime(scratch / "run", python, (), ())
        runtime = replace(runtime, pytest_args=tuple(pytest_args))
        # The installed modules the driver's baseline saw: this worker's zygote imports them once,
        # not every fresh run (its own baseline never ran here).
        runtime.remember_modules(list(modules))
        self.node = ray.get_runtime_context().get_node_id()
        self.scratch = scratch
        self.worker = Worker(runtime, workdir, f"{name}@{self.node[:8]}")

    def where(self) -> tuple[str, int]:
        return self.node, os.getpid()

    def known_modules(self) -> list[str]:
        return self.worker.runtime.known_modules()

    def run_batch(self, tasks: list[Task]) -> list[Outcome]:
        return [self.worker.run(task) for task in tasks]

    def close(self) -> None:
        self.worker.close()
        remove_scratch(self.scratch)


@dataclass
class _Batch:
    tasks: list[Task]
    attempts: int = 0

    def deadline(self, slack: float) -> float:
        """Seconds a batch may run: its mutants' own timeouts, plus slack for starting servers."""
        return sum(t.timeout for t in self.tasks) + slack


def make_batches(tasks: list[Task], workers: int) -> list[_Batch]:
    """Consecutive tasks (the plan orders them by file) in batches: a batch is long enough to hide
    Ray's per-task cost, and there are several per worker so that the pull can balance."""
    if not tasks:
        return []
    by_count = max(1, len(tasks) // (4 * workers))
    batches, current, seconds = [], [], 0.0
    for task in tasks:
        current.append(task)
        seconds += task.timeout / 10  # the timeout is ~10x the covering tests' baseline time
        if len(current) >= min(by_count, MAX_BATCH) or seconds >= BATCH_SECONDS:
            batches.append(_Batch(current))
            current, seconds = [], 0.0
    if current:
        batches.append(_Batch(current))
    return batches


class RayExecutor:
    def __init__(self, runtime: Runtime, snapshot: Path, jobs: int | None, owns_ray: bool, shared_path: bool) -> None:
        self.runtime = runtime
        self.snapshot = snapshot
        self.owns_ray = owns_ray
        self.shared_path = shared_path
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.jobs = max(1, min(jobs or cpus, cpus))  # an actor holds a CPU: more would wait forever
        self.actors: dict[int, ray.actor.ActorHandle] = {}
        self._where: dict[int, ray.ObjectRef] = {}  # asked first, so never queued behind a batch
        self._next_actor = 0
        self.nodes: set[str] = set()
        self.workers: set[str] = set()
        self.retried = 0
        self.deadline_slack = DEADLINE_SLACK

    # -- actors --------------------------------------------------------------------------------------

    def _new_actor(self) -> ray.actor.ActorHandle:
        name = f"actor-{self._next_actor}"
        self._next_actor += 1
        # Shared path: read the snapshot where the driver made it. Otherwise the job's working_dir is
        # the snapshot (see connect): Ray uploaded it once and unpacked it on each node.
        shared = str(self.snapshot) if self.shared_path else None
        return MutantActor.remote(name, shared, self.runtime.python, self.runtime.pytest_args,
                                  tuple(self.runtime.known_modules()))

    def _add_actor(self) -> int:
        key = self._next_actor
        self.actors[key] = self._new_actor()
        self._where[key] = self.actors[key].where.remote()
        return key

    def _ensure_actors(self) -> None:
        while len(self.actors) < self.jobs:
            self._add_actor()

    def actor_processes(self) -> dict[int, tuple[str, int]]:
        """(node id, pid) of every live actor, by key: for tests that kill one."""
        return {key: tuple(ray.get(self._where[key])) for key in list(self.actors)}

    def _replace(self, key: int) -> int:
        actor = self.actors.pop(key)
        self._where.pop(key, None)
        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # noqa: BLE001 - it may be gone already
            pass
        return self._add_actor()

    # -- running -------------------------------------------------------------------------------------

    def run(self, tasks: Iterable[Task], on_outcome: Callable[[Outcome], FollowUps], stop_at: float | None = None) -> None:
        self._ensure_actors()
        todo = deque(make_batches(list(tasks), self.jobs))
        in_flight: dict[ray.ObjectRef, tuple[int, _Batch, float]] = {}
        queued: dict[int, int] = {key: 0 for key in self.actors}

        def feed() -> None:
            for key in list(self.actors):
                while todo and queued.get(key, 0) < 2:  # one running, one waiting behind it
                    batch = todo.popleft()
                    batch.attempts += 1
                    ref = self.actors[key].run_batch.remote(batch.tasks)
                    in_flight[ref] = (key, batch, time.monotonic())
                    queued[key] = queued.get(key, 0) + 1

        feed()
        while in_flight:
            if stop_at is not None and time.monotonic() >= stop_at:
                raise BudgetSpent
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
            if not ready:
                self._expire(in_flight, queued, todo)
                feed()
                continue
            ref = ready[0]
            key, batch, _ = in_flight.pop(ref)
            queued[key] = queued.get(key, 1) - 1
            for other, (k, b, _) in list(in_flight.items()):
                if k == key:  # the batch queued behind this one starts now: its deadline too
                    in_flight[other] = (k, b, time.monotonic())
            try:
                outcomes = ray.get(ref)
            except (RayActorError, WorkerCrashedError, RayTaskError) as exc:
                self._lost(key, batch, in_flight, queued, todo, exc)
            else:
                for outcome in outcomes:
                    self.workers.add(outcome.worker)
                    self.nodes.add(outcome.worker.rpartition("@")[2])
                    more = list(on_outcome(outcome) or ())
                    if more:  # follow-ups: next in line, before the batches planned at the start
                        todo.extendleft(reversed(make_batches(more, self.jobs)))
            feed()

    def _expire(self, in_flight: dict, queued: dict, todo: deque) -> None:
        """A batch running far past its tasks' own timeouts: its actor is stuck; kill it and retry."""
        now = time.monotonic()
        running: dict[int, tuple[ray.ObjectRef, _Batch, float]] = {}
        for ref, (key, batch, sent) in in_flight.items():
            if key not in running or sent < running[key][2]:
                running[key] = (ref, batch, sent)
        for key, (ref, batch, sent) in running.items():
            if now - sent > batch.deadline(self.deadline_slack):
                self._lost(key, batch, in_flight, queued, todo, TimeoutError("batch deadline"), ref)

    def _lost(self, key: int, batch: _Batch, in_flight: dict, queued: dict, todo: deque,
              why: Exception, ref: ray.ObjectRef | None = None) -> None:
        """The actor behind `key` is dead or stuck: every batch it held goes back to the queue."""
        if ref is not None:
            in_flight.pop(ref, None)
        orphans = [batch] + [b for r, (k, b, _) in list(in_flight.items()) if k == key and in_flight.pop(r)]
        queued.pop(key, None)
        new_key = self._replace(key) if key in self.actors else None
        if new_key is not None:
            queued[new_key] = 0
        for lost in orphans:
            if lost.attempts >= MAX_ATTEMPTS:
                raise RuntimeError(f"a batch of {len(lost.tasks)} mutants failed {lost.attempts} times on Ray "
                                   f"(last: {type(why).__name__}: {str(why).splitlines()[0] if str(why) else ''})")
            self.retried += 1
            todo.appendleft(lost)

    def describe(self) -> str:
        nodes = len(self.nodes) or 1
        workers = len(self.workers) or self.jobs
        retried = f", {self.retried} batches retried" if self.retried else ""
        return f"ray: {nodes} node{'s' if nodes != 1 else ''}, {workers} workers{retried}"

    def close(self) -> None:
        for actor in self.actors.values():
            try:
                ray.get(actor.close.remote(), timeout=10)
            except (RayActorError, GetTimeoutError, RayTaskError, WorkerCrashedError):
                pass
            ray.kill(actor, no_restart=True)
        self.actors.clear()
        if self.owns_ray:
            ray.shutdown()


def connect(address: str | None, num_cpus: int | None, working_dir: Path | None) -> bool:
    """Join or start Ray; True if this process started (and so must stop) it."""
    if ray.is_initialized():
        return False
    options = dict(log_to_driver=False, logging_level="WARNING")
    if address:
        # The snapshot travels as the job's working_dir: Ray accepts a local directory only here.
        runtime_env = {"working_dir": str(working_dir)} if working_dir else None
        ray.init(address=address, runtime_env=runtime_env, **options)
    else:
        # A private instance, never a running cluster (plain ray.init() would silently join one).
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # nothing but this process connects to it
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,
                 object_store_memory=256 * 1024 * 1024, **options)
    return True


class RayFactory:
    """The run's Ray, joined (or started) once: before the baseline, whose shards run on the cluster's
    workers (baseline_ray.py), and for the executor after it. The executor ends a Ray this run started
    (`close`); a run that ends at its baseline ends it there."""

    def __init__(self, jobs: int | None, address: str | None, shared_path: bool = False) -> None:
        self.jobs, self.address, self.shared_path = jobs, address, shared_path
        self._session: tuple[bool, bool] | None = None  # (this run started Ray, actors read the snapshot's path)

    def _connect(self, snapshot: Path) -> tuple[bool, bool]:
        if self._session is None or not ray.is_initialized():
            local = self.address is None
            # A private instance runs on this machine, and a Ray session set up by the caller cannot take a
            # job-level working_dir any more: in both, actors read the snapshot where it is.
            shared = self.shared_path or local or ray.is_initialized()
            owns = connect(self.address, self.jobs if local else None, None if shared else snapshot)
            self._session = (owns, shared)
        return self._session

    def __call__(self, runtime: Runtime, snapshot: Path) -> RayExecutor:
        owns, shared = self._connect(snapshot)
        return RayExecutor(runtime, snapshot, self.jobs, owns, shared)

    def baseline_place(self, runtime: Runtime, snapshot: Path):  # -> baseline_ray.RayBaseline
        """Where the baseline's shards run: one per worker the executor will have, on the cluster."""
        from scheduler.baseline_ray import RayBaseline

        owns, shared = self._connect(snapshot)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        workers = max(1, min(self.jobs or cpus, cpus))  # as RayExecutor.jobs: an actor holds a CPU
        return RayBaseline(runtime, snapshot, workers, shared, ray.shutdown if owns else None)


def make_ray_executor(runtime: Runtime, snapshot: Path, jobs: int | None, address: str | None,
                      shared_path: bool = False) -> RayExecutor:
    return RayFactory(jobs, address, shared_path)(runtime, snapshot)
