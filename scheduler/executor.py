"""The executor interface, and the local executor: N workers pulling tasks from one queue.

Workers pull (rather than receive fixed slices), so lopsided costs — a survivor runs all its
covering tests, a killed mutant often one — balance themselves.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from scheduler.baseline_place import BaselinePlace
from scheduler.budget import BudgetSpent
from scheduler.runtime import Runtime
from scheduler.workcopy import clone_snapshot
from scheduler.worker import FollowUps, Outcome, Task, Worker


class Executor(Protocol):
    def run(self, tasks: Iterable[Task], on_outcome: Callable[[Outcome], FollowUps], stop_at: float | None = None) -> None:
        """Run every task, calling `on_outcome` on the caller's thread as each one finishes, and
        every task it returns too; at `stop_at` (time.monotonic()), raise BudgetSpent, abandoning
        what still runs."""

    def describe(self) -> str:
        """Where the work ran, for the summary (e.g. "local: 2 workers")."""

    def close(self) -> None: ...


class LocalExecutor:
    def __init__(self, runtime: Runtime, snapshot: Path, jobs: int) -> None:
        self.runtime = runtime
        self.snapshot = snapshot
        self.jobs = max(1, jobs)
        self.workers: list[Worker] = []
        self._stop = threading.Event()
        self._warming: list[threading.Thread] = []
        self._warm_slots: list[list[Worker]] = []

    def warm(self, count: int) -> None:
        """Start the first `count` workers' fork servers now, in the background: while the baseline
        runs, whose tests wait on disk and on processes, the servers' start and collection fill the
        gaps instead of coming after it (sqlite-utils' PR: mutant phase 9.7-11.8 s when they start as
        the baseline's shards end, 8.0-8.3 s from the baseline's start; dateutil's equal either way)."""
        for index in range(len(self.workers) + len(self._warm_slots), min(count, self.jobs)):
            slot: list[Worker] = []  # the worker, once its thread has cloned its work copy
            self._warm_slots.append(slot)
            self._warming.append(threading.Thread(target=self._warm_one, args=(f"worker-{index}", slot), daemon=True))
            self._warming[-1].start()

    def _warm_one(self, name: str, slot: list[Worker]) -> None:
        """In its thread, the clone too (~50 ms a worker, which the baseline's start would wait for). A clone
        that fails leaves the slot empty: the worker is made again, on the caller's thread, when needed."""
        try:
            worker = Worker(self.runtime, clone_snapshot(self.snapshot, self.runtime.scratch / name), name)
        except Exception:  # noqa: BLE001 - said on the caller's thread, in one line, when it clones again
            return
        slot.append(worker)
        worker.warm()

    def use(self, runtime: Runtime) -> None:
        """Later tasks run with `runtime` (the baseline quarantined flaky tests): warmed servers restart."""
        self._warmed()
        self.runtime = runtime
        for worker in self.workers:
            worker.use(runtime)

    @property
    def warming(self) -> int:
        """Workers whose servers were started ahead of the first task."""
        return len(self._warming)

    def _warmed(self) -> None:
        for thread in self._warming:
            thread.join()
        self.workers.extend(worker for slot in self._warm_slots for worker in slot)  # in their names' order
        self._warm_slots = []

    def _ensure_workers(self, needed: int) -> None:
        """Workers for `needed` tasks at most (up to --jobs): each clones a work copy."""
        while len(self.workers) < min(self.jobs, needed):
            # The first free name: a warm-up whose clone failed left a gap, and maybe half a folder.
            taken = {worker.name for worker in self.workers}
            name = next(n for n in (f"worker-{i}" for i in itertools.count(len(self.workers)))
                        if n not in taken and not (self.runtime.scratch / n).exists())
            workdir = clone_snapshot(self.snapshot, self.runtime.scratch / name)
            self.workers.append(Worker(self.runtime, workdir, name))

    def run(self, tasks: Iterable[Task], on_outcome: Callable[[Outcome], FollowUps], stop_at: float | None = None) -> None:
        todo: deque[Task] = deque(tasks)  # deque's appends and pops are atomic: shared by the threads
        expected = len(todo)
        self._warmed()  # a worker's server is started by its warm-up or by its first task, never both
        done: queue.Queue[Outcome | BaseException] = queue.Queue()
        ended = threading.Event()  # every outcome is in: idle workers go home

        def work(worker: Worker) -> None:
            while not self._stop.is_set() and not ended.is_set():
                try:
                    task = todo.popleft()
                except IndexError:
                    time.sleep(0.005)  # a follow-up may still come
                    continue
                try:
                    done.put(worker.run(task))
                except BaseException as exc:  # noqa: BLE001 - surfaced on the caller's thread
                    done.put(exc)
                    return

        threads: list[threading.Thread] = []

        def staff(outstanding: int) -> None:
            """A worker per task to run, up to --jobs: each clones a work copy and starts a server."""
            self._ensure_workers(outstanding)
            for worker in self.workers[len(threads): min(self.jobs, outstanding)]:
                threads.append(threading.Thread(target=work, args=(worker,), daemon=True))
                threads[-1].start()

        staff(expected)
        try:
            received = 0
            while received < expected:
                item = _next(done, stop_at)
                received += 1
                if isinstance(item, BaseException):
                    raise item
                more = list(on_outcome(item) or ())
                todo.extendleft(reversed(more))  # next in line: a hot survivor's parts are the longest tasks left
                expected += len(more)
                staff(expected - received)
        finally:
            ended.set()
            self._stop.set()
            for thread in threads:
                thread.join(timeout=0.1)
            self._stop.clear()

    def describe(self) -> str:
        workers = len(self.workers) or 1  # min(--jobs, mutants to run)
        return f"local: {workers} worker{'s' if workers != 1 else ''}"

    def close(self) -> None:
        self._stop.set()
        self._warmed()
        for worker in self.workers:
            worker.close()


def _next(done: queue.Queue, stop_at: float | None) -> object:
    """The next outcome; BudgetSpent once `stop_at` has passed (the busy workers are abandoned:
    closing the executor stops them)."""
    while True:
        wait = None if stop_at is None else stop_at - time.monotonic()
        if wait is not None and wait <= 0:
            raise BudgetSpent
        try:
            return done.get(timeout=None if wait is None else min(wait, 1.0))
        except queue.Empty:
            continue


ExecutorFactory = Callable[[Runtime, Path], Executor]


def executor_factory(kind: str, jobs: int | None, ray_address: str | None = None,
                     ray_shared_path: bool = False) -> ExecutorFactory:
    """How to make the run's executor once its runtime and snapshot exist."""
    if kind == "ray":
        from scheduler.executor_ray import RayFactory  # optional extra

        return RayFactory(jobs, ray_address, ray_shared_path)
    return lambda runtime, snapshot: LocalExecutor(runtime, snapshot, jobs or os.cpu_count() or 1)


def baseline_place(factory: ExecutorFactory) -> Callable[[Runtime, Path], BaselinePlace] | None:
    """Where the baseline's shards of a run with this executor run, if not in processes on this
    machine: on a Ray cluster's workers (executor_ray.RayFactory)."""
    return getattr(factory, "baseline_place", None)
