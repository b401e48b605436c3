"""`mutagate run --shard K/N`: the workload cut down to one shard's mutants, and the plan it stores.

Each shard plans the whole run itself (attribution and mutant generation are deterministic for a
commit and a configuration: no plan job has to hand it out), keeps the mutants whose stable id falls
in its part (results.shards.shard_of), and measures the baseline for those only (the probe baseline
instrumented only their statements). `mutagate merge` checks that the shards agree."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace

from mutator.attribution import Scope
from mutator.config import Config
from mutator.workload import Workload
from results.shards import Shard, ShardPlan

# Settings that judge a run but do not change a single verdict: shards may differ in them (the gate is the
# merge's; a budget cut shows as not_run mutants, which the merge sees itself).
_NOT_VERDICT_SHAPING = ("fail_under", "threshold_high", "threshold_low", "budget")


def config_digest(config: Config, scope: Scope, one_per_line: bool, no_bail: bool, confirm: str,
                  deselect: tuple[str, ...], coverage_map: bool) -> str:
    """What must be equal for two shards' verdicts to belong to one run: the [tool.mutagate] settings
    that shape verdicts, the scope and the run's flags (not --jobs nor --executor: where a mutant runs
    does not change what it does)."""
    settings = {k: v for k, v in asdict(config).items() if k not in _NOT_VERDICT_SHAPING}
    settings.update(scope=asdict(scope), one_per_line=one_per_line, no_bail=no_bail, confirm=confirm,
                    deselect=list(deselect), coverage_map=coverage_map)
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def shard_workload(workload: Workload, shard: Shard, digest: str) -> tuple[Workload, ShardPlan]:
    """The shard's part of the workload, and the plan of the whole run it belongs to."""
    plan = ShardPlan(shard, workload.attribution.head, digest, tuple(sorted(m.id for m in workload.mutants)))
    return replace(workload, mutants=tuple(m for m in workload.mutants if shard.holds(m.id))), plan
