"""A run split into shards (`mutagate run --shard K/N`) and the plan every shard of it carries, so that
`mutagate merge` can tell a complete, consistent set of shards from a gap, a duplicate or a mix.

The split is by mutant id only (a hash of the id, mod N): never by test, since which tests run a
mutant decides its verdict. A mutant id is a hash of what the mutant changes, so every shard of one
commit and configuration computes the same plan and the same split without talking to the others."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Shard:
    """K/N: the K-th (1-based) of N parts of a run."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, mutant_id: str) -> bool:
        return shard_of(mutant_id, self.count) == self.index


def shard_of(mutant_id: str, count: int) -> int:
    """The 1-based shard of `count` that a mutant id falls in: stable across machines, Python versions and
    runs (sha256, not Python's salted hash()); ids are hashes already, hashed again so the split stays
    even whatever their format."""
    return int(hashlib.sha256(mutant_id.encode()).hexdigest()[:16], 16) % count + 1


def plan_digest(mutant_ids: Iterable[str]) -> str:
    """The whole run's mutant ids, as one short value: equal for every shard of the same run."""
    return hashlib.sha256("\n".join(sorted(mutant_ids)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ShardPlan:
    """What a shard run stores beside its verdicts: which part it is, and of what."""

    shard: Shard
    head_commit: str
    config_digest: str  # the settings that shape verdicts (scheduler.sharding.config_digest)
    mutant_ids: tuple[str, ...]  # the whole run's, sorted (not only this shard's)

    @property
    def digest(self) -> str:
        return plan_digest(self.mutant_ids)

    def own_ids(self) -> tuple[str, ...]:
        return tuple(i for i in self.mutant_ids if self.shard.holds(i))


def store_plan(con: duckdb.DuckDBPyConnection, run_id: str, plan: ShardPlan,
               merged_from: tuple[str, ...] = ()) -> None:
    """A run's plan, in its open transaction (a merged run: no shard index, the shards' run ids)."""
    con.execute(
        "INSERT INTO shard_plans (run_id, shard_index, shard_count, head_commit, config_digest, plan_digest,"
        " mutant_ids, merged_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, plan.shard.index if not merged_from else None, plan.shard.count, plan.head_commit,
         plan.config_digest, plan.digest, list(plan.mutant_ids), list(merged_from) or None])
