"""Where the baseline's shards run, when not in processes on the driver's machine (see
baseline_ray.py: the shards of a Ray run go to the cluster's workers). Free of Ray, so that the
stages that only pass a place along import nothing optional."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from scheduler.runtime import Runtime


@dataclass(frozen=True)
class ShardRun:
    """One attempt at one of the baseline's shards, where it ran and how it ended."""

    shard: int  # 1-based, as --shard K/N counts
    shards: int
    attempt: int  # 1-based: a shard whose worker was lost runs again
    worker: str  # the worker that ran it: actor-N@<node id's first 8 hex>
    node: str  # the node's id
    pid: int  # the worker's process id on that node
    seconds: float  # the shard's own wall time (its interpreter's start, collection and tests)
    lost: str = ""  # why this attempt gave no result (the worker died, ...); empty: it gave the shard's result


class BaselinePlace(Protocol):
    """Runs the baseline's shards: `run_baseline(..., run_shards=place)` calls it as it would call
    `baseline._run_shards`, and gets each shard's result (paths as if measured in `workdir`) and wall time."""

    shards: int  # how many shards the baseline is cut into: one per worker
    runs: list[ShardRun]  # every attempt so far

    def __call__(self, runtime: Runtime, workdir: Path, include: list[str], shards: int,
                 only: list[str] | None, probes: dict[str, list[list[int]]] | None = None,
                 deadline: float | None = None, skip: list[str] | None = None,
                 on_partial: Callable[[list[dict]], None] | None = None) -> tuple[list[dict], list[float]]: ...

    def close(self, ending: bool = False) -> None:
        """Give the workers back; `ending`: the run ends here (no executor comes after the baseline)."""


def describe_runs(runs: tuple[ShardRun, ...]) -> str:
    """Where the shards ran, in the words of the run's plan: `in 2 shards on Ray (2 nodes, 1 shard rerun ...)`."""
    if not runs:
        return ""
    shards = runs[0].shards
    nodes = len({run.node for run in runs if not run.lost})
    lost = [run for run in runs if run.lost]
    rerun = len({run.shard for run in lost})
    again = (f", {rerun} shard{'s' if rerun != 1 else ''} rerun after {len(lost)} lost attempt"
             f"{'s' if len(lost) != 1 else ''}") if lost else ""
    return f"in {shards} shard{'s' if shards != 1 else ''} on Ray ({nodes} node{'s' if nodes != 1 else ''}{again})"
