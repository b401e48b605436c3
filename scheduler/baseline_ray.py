"""The baseline's shards on a Ray cluster's workers (`--executor ray`), not on the driver's cores.

- One actor per shard, one CPU each, as many as the run's Ray workers; each makes its own work copy
  of the run's snapshot on its node (from the job's working_dir, or the shared path) and runs its
  shard there exactly as a local shard runs (`runner baseline`, a contiguous slice of the suite).
- Its result comes back to the driver, which merges the shards as it merges local ones. The paths
  in it are the work copy's on the worker's node: they are put back under the driver's snapshot
  path, so that the map reads as if measured there.
- A shard whose actor dies (a lost node, an OOM kill, a killed process), or whose process was
  killed or stopped on its node by a signal the run never got, runs again on another actor, at most MAX_ATTEMPTS times, then
  the run stops with an error: a shard is never dropped, and only a shard that ended whole counts.
- While the shards run, what they measured whole so far (their checkpoints, read from the actors)
  is handed to `on_partial` as the local shards' is; a stop of the run (Ctrl-C, SIGTERM) is passed
  on to every running shard, which writes its complete tests, and those are kept too. What a lost
  actor measured before it died is lost with it: its shard runs again from the start.
- A time budget's share for the baseline (`deadline`) is counted from the baseline's start: a
  shard gets what is left of it when its actor is ready to run it (a rerun's, or a slow actor start's).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError, WorkerCrashedError

from mutator.errors import BadInput
from scheduler.baseline import SAVE_SECONDS
from scheduler.baseline_place import ShardRun
from scheduler.runtime import Runtime, make_runtime
from scheduler.scratch import new_scratch, remove_scratch
from scheduler.workcopy import restore_if_dirty, work_copy_from

MAX_ATTEMPTS = 3  # as the executor's batches (executor_ray.py)
STOP_GRACE = 5.0  # seconds a stopped shard has to write what it measured (as a local shard)
_LOST = (RayActorError, WorkerCrashedError, RayTaskError)


# The shard's process ends with its actor (Linux): a killed actor's shard must not run on, unseen,
# beside the attempt that replaces it. Set in a launcher that then execs the shard (the death signal
# survives exec), not in a preexec_fn: the actor's process runs threads, where preexec_fn is unsafe.
_LAUNCHER = ("import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGKILL); "  # 1 = PR_SET_PDEATHSIG
             "os.getppid() == int(sys.argv[1]) or os._exit(3); os.execvp(sys.argv[2], sys.argv[2:])")


def _dies_with_this_process(command: list[str]) -> list[str]:
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *command]


def _moved(value: object, old: str, new: str) -> object:
    """Every path under `old` (a prefix ending in os.sep) in a spec or a result, moved under `new`."""
    if isinstance(value, str):
        return new + value[len(old):] if value.startswith(old) else value
    if isinstance(value, list):
        return [_moved(v, old, new) for v in value]
    if isinstance(value, dict):
        return {_moved(k, old, new): _moved(v, old, new) for k, v in value.items()}
    return value


def _result_paths(result: dict, old: str, new: str) -> dict:
    """A shard's result with its measured files' paths moved: only `lines` holds paths of the work copy."""
    return {**result, "lines": {(new + path[len(old):] if path.startswith(old) else path): lines
                                for path, lines in result.get("lines", {}).items()}}


# max_concurrency=2: the driver reads a running shard's checkpoint, or stops it, while it runs.
@ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0, max_concurrency=2)
class BaselineActor:
    """One worker for the baseline's shards: its own work copy of the snapshot and runner."""

    def __init__(self, name: str, shared_snapshot: str | None, python: str, pytest_args: tuple[str, ...],
                 memory_limit_mb: float) -> None:
        self.scratch = new_scratch("mutagate-ray-baseline-")
        # With a working_dir runtime_env, the actor starts inside Ray's unpacked copy of the snapshot.
        source = Path(shared_snapshot) if shared_snapshot else Path.cwd()
        self.workdir = work_copy_from(source, self.scratch / "work")
        runtime = make_runtime(self.scratch / "run", python, (), (), memory_limit_mb)
        self.runtime: Runtime = replace(runtime, pytest_args=tuple(pytest_args))
        self.node = ray.get_runtime_context().get_node_id()
        self.name = f"{name}@{self.node[:8]}"
        self.proc: subprocess.Popen | None = None
        self.checkpoint_file: Path | None = None
        self.driver_root = ""

    def where(self) -> tuple[str, str, int]:
        return self.name, self.node, os.getpid()

    def run_shard(self, spec: dict, driver_root: str, label: str) -> dict:
        """The shard `spec` describes (its paths under `driver_root`), run in this work copy; its
        result with paths under `driver_root` again, its wall time, and whether it was stopped."""
        restore_if_dirty(self.workdir)  # a shard run here before (a rerun's) may have left files behind
        if spec.get("deadline") is not None:  # the budget's share, less what starting this actor took
            spec = {**spec, "deadline": max(0.0, spec["deadline"] - max(0.0, time.time() - spec["sent"]))}
        here = str(self.workdir) + os.sep
        out = self.runtime.scratch / f"baseline-{label}.json"
        checkpoint = self.runtime.scratch / f"baseline-{label}.checkpoint.json"
        tmp = self.runtime.scratch / "tmp" / f"shard-{label}"
        tmp.mkdir(parents=True, exist_ok=True)
        spec_file = self.runtime.scratch / f"baseline-{label}.spec.json"
        spec_file.write_text(json.dumps({**_moved(spec, driver_root + os.sep, here),
                                         "checkpoint": str(checkpoint) if spec.get("checkpoint") else None}))
        command = _dies_with_this_process(
            self.runtime.command("baseline", str(out), str(spec_file), "--", *self.runtime.pytest_args))
        self.checkpoint_file, self.driver_root = checkpoint, driver_root
        started = time.perf_counter()
        with open(self.runtime.scratch / f"baseline-{label}.log", "w+") as log:
            self.proc = subprocess.Popen(command, cwd=self.workdir, env={**self.runtime.env(self.workdir), "TMPDIR": str(tmp)},
                                         stdout=log, stderr=subprocess.STDOUT)
            code = self.proc.wait()
            wall = time.perf_counter() - started
            if not out.is_file():
                log.seek(0)
                detail = log.read().strip().splitlines()
                return {"error": detail[-1] if detail else f"exit code {code}", "signal": max(0, -code), **self._where()}
        result = json.loads(out.read_text())
        real = os.path.realpath(self.workdir) + os.sep
        return {"result": _result_paths(result, real, os.path.realpath(driver_root) + os.sep), "wall": wall,
                "stopped": Path(f"{out}.partial").exists(), **self._where()}

    def _where(self) -> dict:
        return {"worker": self.name, "node": self.node, "pid": os.getpid()}

    def checkpoint(self, seen: int) -> tuple[int, dict] | None:
        """The running shard's latest checkpoint (its complete tests so far), if newer than `seen` (mtime_ns)."""
        path = self.checkpoint_file
        try:
            mtime = path.stat().st_mtime_ns if path is not None else 0
            if not mtime or mtime == seen:
                return None
            result = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        real = os.path.realpath(self.workdir) + os.sep
        return mtime, _result_paths(result, real, os.path.realpath(self.driver_root) + os.sep)

    def stop(self) -> None:
        """Stop the running shard as a local one is stopped: SIGTERM, it writes its complete tests."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        remove_scratch(self.scratch)


class RayBaseline:
    """The baseline's shards on the cluster: a `BaselinePlace` (baseline_place.py) for run_baseline."""

    def __init__(self, runtime: Runtime, snapshot: Path, workers: int, shared_path: bool,
                 release: Callable[[], None] | None = None) -> None:
        self.runtime = runtime
        self.snapshot = snapshot
        self.shards = max(1, workers)
        self.shared_path = shared_path
        self.release = release  # ends the Ray this run started, when the run ends at its baseline
        self.runs: list[ShardRun] = []
        self.actors: dict[int, ray.actor.ActorHandle] = {}
        self._where: dict[int, ray.ObjectRef] = {}
        self._next = 0
        self.on_start: Callable[[int, int], None] | None = None  # (shard, actor key): for tests that kill one

    # -- actors --------------------------------------------------------------------------------------

    def _add_actor(self) -> int:
        key = self._next
        self._next += 1
        shared = str(self.snapshot) if self.shared_path else None
        self.actors[key] = BaselineActor.remote(f"baseline-{key}", shared, self.runtime.python,
                                                self.runtime.pytest_args, self.runtime.memory_limit_mb)
        self._where[key] = self.actors[key].where.remote()
        return key

    def actor_processes(self) -> dict[int, tuple[str, int]]:
        """(node id, pid) of every live actor, by key."""
        found = {}
        for key in list(self.actors):
            with contextlib.suppress(*_LOST, GetTimeoutError):
                _, node, pid = ray.get(self._where[key], timeout=60)
                found[key] = (node, pid)
        return found

    def _drop(self, key: int) -> None:
        actor = self.actors.pop(key, None)
        self._where.pop(key, None)
        if actor is not None:
            with contextlib.suppress(Exception):  # it may be gone already
                ray.kill(actor, no_restart=True)

    def _where_of(self, key: int) -> tuple[str, str, int]:
        try:
            return tuple(ray.get(self._where[key], timeout=1))
        except Exception:  # noqa: BLE001 - an actor that died before it said where it was
            return (f"baseline-{key}@?", "?", 0)

    # -- running -------------------------------------------------------------------------------------

    def __call__(self, runtime: Runtime, workdir: Path, include: list[str], shards: int,
                 only: list[str] | None, probes: dict[str, list[list[int]]] | None = None,
                 deadline: float | None = None, skip: list[str] | None = None,
                 on_partial: Callable[[list[dict]], None] | None = None) -> tuple[list[dict], list[float]]:
        """Each shard's result (paths under `workdir`) and wall time, as baseline._run_shards gives them."""
        base = {"include": include, "only": only, "probes": probes, "skip": skip,
                "checkpoint": on_partial is not None, "checkpoint_every": SAVE_SECONDS}
        started = time.monotonic()
        idle = list(self.actors)
        running: dict[ray.ObjectRef, tuple[int, int, int, float]] = {}  # ref -> shard, actor key, attempt, sent
        results: dict[int, dict] = {}
        walls: dict[int, float] = {}

        def start(shard: int, attempt: int) -> None:
            key = idle.pop(0) if idle else self._add_actor()
            left = None if deadline is None else max(0.0, deadline - (time.monotonic() - started))
            spec = {**base, "shard": [shard, shards], "deadline": left, "sent": time.time()}
            ref = self.actors[key].run_shard.remote(spec, str(workdir), f"{shard}-{attempt}")
            running[ref] = (shard, key, attempt, time.monotonic())
            if self.on_start is not None:
                self.on_start(shard, key)

        def lost(shard: int, key: int, attempt: int, why: str) -> None:
            worker, node, pid = self._where_of(key)
            self.runs.append(ShardRun(shard + 1, shards, attempt, worker, node, pid, 0.0, why))
            self._drop(key)
            if attempt >= MAX_ATTEMPTS:
                raise RuntimeError(f"baseline shard {shard + 1}/{shards} was lost {attempt} times on Ray (last: {why})")
            start(shard, attempt + 1)

        for shard in range(shards):
            start(shard, 1)
        seen: dict[int, int] = {}  # shard -> the mtime of the checkpoint last read
        checkpoints: dict[int, dict] = {}
        saved = time.monotonic()
        try:
            while running:
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
                for ref in ready:
                    shard, key, attempt, _ = running.pop(ref)
                    try:
                        answer = ray.get(ref)
                    except _LOST as exc:
                        lost(shard, key, attempt, f"{type(exc).__name__}: {_first_line(exc)}")
                        continue
                    if "error" in answer and answer["signal"]:  # killed on its node (the OOM killer, ...)
                        lost(shard, key, attempt, f"its process was killed by signal {answer['signal']} on the worker")
                        continue
                    if "error" in answer:
                        # The actor lived and the suite ended without a result: the suite's fault, as it is locally.
                        raise BadInput(f"the test suite could not run: {answer['error']}")
                    if answer["stopped"]:  # stopped on its node by a signal this run never got
                        lost(shard, key, attempt, "its tests were stopped by a signal on the worker")
                        continue
                    results[shard], walls[shard] = answer["result"], answer["wall"]
                    checkpoints.pop(shard, None)
                    self.runs.append(ShardRun(shard + 1, shards, attempt, answer["worker"], answer["node"], answer["pid"],
                                              round(answer["wall"], 3)))
                    idle.append(key)
                if on_partial is not None and time.monotonic() - saved >= SAVE_SECONDS:
                    saved = time.monotonic()
                    if self._read_checkpoints(running, seen, checkpoints):
                        on_partial([*results.values(), *checkpoints.values()])
        except BaseException:
            stopped = self._stop(running)
            if on_partial is not None:
                with contextlib.suppress(Exception):  # keeping what was measured must not hide why the run stopped
                    on_partial([*results.values(), *({**checkpoints, **stopped}.values())])
            raise
        return [results[i] for i in range(shards)], [walls[i] for i in range(shards)]

    def _read_checkpoints(self, running: dict, seen: dict[int, int], checkpoints: dict[int, dict]) -> bool:
        """The running shards' newer checkpoints into `checkpoints`; True if any was newer."""
        asked = {self.actors[key].checkpoint.remote(seen.get(shard, 0)): shard
                 for shard, key, _, _ in running.values() if key in self.actors}
        newer = False
        for ref, shard in asked.items():
            with contextlib.suppress(*_LOST, GetTimeoutError):
                answer = ray.get(ref, timeout=10)
                if answer is not None:
                    seen[shard], checkpoints[shard] = answer
                    newer = True
        return newer

    def _stop(self, running: dict) -> dict[int, dict]:
        """A stop of the run: every running shard stopped, and the complete tests of those that wrote them in time."""
        for _, key, _, _ in running.values():
            if key in self.actors:
                with contextlib.suppress(Exception):
                    self.actors[key].stop.remote()
        written: dict[int, dict] = {}
        ends = time.monotonic() + STOP_GRACE + 1.0
        for ref, (shard, _, _, _) in running.items():
            with contextlib.suppress(Exception):
                answer = ray.get(ref, timeout=max(0.0, ends - time.monotonic()))
                if "result" in answer:
                    written[shard] = answer["result"]
        return written

    def close(self, ending: bool = False) -> None:
        for key, actor in list(self.actors.items()):
            with contextlib.suppress(Exception):
                ray.get(actor.close.remote(), timeout=10)
            self._drop(key)
        if ending and self.release is not None:
            self.release()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
