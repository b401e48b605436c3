"""`mutagate merge`: one stored run from the N shard files of `mutagate run --shard K/N`.

The merged run is an ordinary row in `runs` with its mutants and outcomes copied from the shards, so
every reader (reports, badge, dashboard, `--compare-to`, the views) reads it as any other run. A set of
shards that would not make the whole run is refused in one line before anything is written: a shard
missing or given twice, shards of different commits, configurations or plans, and (unless allowed)
a partial shard, one stopped early or cut by a time budget."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from results.baseline_maps import complete_map_of, save_map
from results.errors import ResultsError
from results.shards import Shard, ShardPlan, store_plan
from results.status import RunStatus
from results.store import connect, settle_abandoned


class MergeRefused(ResultsError):
    """A set of shard files that does not make one whole run; the message names what is wrong."""


@dataclass(frozen=True)
class ShardRun:
    """The shard run a file holds (its latest, should it hold several), as the merge needs it."""

    path: Path
    run_id: str
    status: str
    tool_version: str
    plan: ShardPlan
    mutant_ids: frozenset[str]  # the mutants this shard stored (planned)
    measured: int  # outcomes that are verdicts
    not_run: int  # left out by a time budget
    started: dt.datetime
    finished: dt.datetime | None
    budget_seconds: float | None
    timings: dict[str, float]

    @property
    def name(self) -> str:
        return self.path.name

    def partial(self) -> str | None:
        """Why the shard covers less than its part (None: it is complete)."""
        if self.status != RunStatus.FINISHED:
            return f"{self.status}: {self.measured} of {len(self.mutant_ids)} mutants measured"
        if self.not_run:
            return f"budget-cut: {self.not_run} of {len(self.mutant_ids)} mutants not run"
        if self.measured < len(self.mutant_ids):
            return f"{len(self.mutant_ids) - self.measured} of {len(self.mutant_ids)} mutants without a verdict"
        return None


def read_shard(path: Path) -> ShardRun:
    """The latest shard run stored in `path`; one line when there is none."""
    if not path.is_file():
        raise MergeRefused(f"no shard file {path}")
    settle_abandoned(path)  # a shard whose process died is partial, not running
    with connect(path, read_only=True) as con:
        row = con.execute(
            "SELECT r.run_id, r.status, r.tool_version, p.shard_index, p.shard_count, p.head_commit, p.config_digest,"
            " p.mutant_ids, r.started, r.finished, r.budget_seconds, r.timings"
            " FROM shard_plans p JOIN runs r USING (run_id) WHERE p.shard_index IS NOT NULL"
            " ORDER BY r.started DESC, r.run_id DESC LIMIT 1").fetchone()
        if row is None:
            raise MergeRefused(f"{path} holds no shard run (made by `mutagate run --shard K/N --db {path.name}`)")
        run_id = row[0]
        ids = frozenset(r[0] for r in con.execute("SELECT mutant_id FROM mutants WHERE run_id = ?", [run_id]).fetchall())
        measured, not_run = con.execute(
            "SELECT count(*) FILTER (WHERE status <> 'not_run'), count(*) FILTER (WHERE status = 'not_run')"
            " FROM outcomes WHERE run_id = ?", [run_id]).fetchone()
    plan = ShardPlan(Shard(row[3], row[4]), row[5], row[6], tuple(row[7] or ()))
    return ShardRun(path, run_id, row[1], row[2], plan, ids, measured, not_run, row[8], row[9], row[10],
                    json.loads(row[11]) if row[11] else {})


def check_shards(shards: list[ShardRun], allow_partial: bool = False) -> None:
    """Refuse, in one line, a set of shards that is not exactly one whole run."""
    first = shards[0]
    for what, key in (("commits", lambda s: s.plan.head_commit[:12]), ("mutagate versions", lambda s: s.tool_version),
                      ("configurations", lambda s: s.plan.config_digest),
                      ("plans", lambda s: f"{s.plan.shard.count} shards of {len(s.plan.mutant_ids)} mutants, "
                                          f"plan {s.plan.digest}")):
        other = next((s for s in shards if key(s) != key(first)), None)
        if other is not None:
            raise MergeRefused(f"shards of different {what}: {first.name} ({key(first)}) and {other.name} ({key(other)})")
    seen: dict[int, ShardRun] = {}
    for shard in shards:
        if shard.plan.shard.index in seen:
            raise MergeRefused(f"shard {shard.plan.shard} given twice: {seen[shard.plan.shard.index].name} and {shard.name}")
        seen[shard.plan.shard.index] = shard
    count = first.plan.shard.count
    missing = [k for k in range(1, count + 1) if k not in seen]
    if missing:
        given = ", ".join(str(s.plan.shard) for s in sorted(shards, key=lambda s: s.plan.shard.index))
        raise MergeRefused(f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{k}/{count}' for k in missing)} "
                           f"missing (given: {given})")
    for shard in shards:
        if shard.mutant_ids != frozenset(shard.plan.own_ids()):
            raise MergeRefused(f"shard {shard.plan.shard} ({shard.name}) holds other mutants than its part of the plan")
        why = shard.partial()
        if why is not None and not allow_partial:
            raise MergeRefused(f"shard {shard.plan.shard} ({shard.name}) is partial ({why}); run it again, "
                               "or pass --allow-partial to store a partial run")


def merge_shards(shards: list[ShardRun], target: Path, run_id: str) -> str:
    """Store the shards as one run `run_id` in `target`; returns its status (finished, or interrupted when a
    shard was partial: the merged run is then partial as any run stopped early)."""
    if any(s.path.resolve() == target.resolve() for s in shards):
        raise MergeRefused(f"--db {target} is one of the shards: merge into another file")
    shards = sorted(shards, key=lambda s: s.plan.shard.index)
    source = measured_first(shards)
    alias = f"shard{shards.index(source)}"  # as attached below
    status = RunStatus.FINISHED if all(s.status == RunStatus.FINISHED for s in shards) else RunStatus.INTERRUPTED
    # The shards ran side by side: each phase took as long as its slowest shard.
    timings = {phase: max(s.timings.get(phase, 0.0) for s in shards) for phase in {p for s in shards for p in s.timings}}
    budgets = [s.budget_seconds for s in shards if s.budget_seconds is not None]
    finished = [s.finished for s in shards if s.finished is not None]
    with connect(target) as con:
        for k, shard in enumerate(shards):
            con.execute(f"ATTACH '{_quoted(shard.path)}' AS shard{k} (READ_ONLY)")
        try:
            con.execute("BEGIN")
            con.execute(
                "INSERT INTO runs BY NAME SELECT * REPLACE (? AS run_id, ? AS started, ? AS finished, ? AS status,"
                f" NULL AS owner, ? AS timings, ? AS baseline_seconds, ? AS budget_seconds) FROM {alias}.runs WHERE run_id = ?",
                [run_id, min(s.started for s in shards), max(finished) if finished else None, status,
                 json.dumps(timings), timings.get("baseline"), max(budgets) if budgets else None, source.run_id])
            for k, shard in enumerate(shards):
                for table in ("mutants", "outcomes"):
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * REPLACE (? AS run_id) FROM shard{k}.{table}"
                                " WHERE run_id = ?", [run_id, shard.run_id])
            # The same in every shard that measured (attribution is the whole run's, each baseline ran the whole
            # suite): once.
            for table in ("attributions", "test_durations"):
                con.execute(f"INSERT INTO {table} BY NAME SELECT * REPLACE (? AS run_id) FROM {alias}.{table}"
                            " WHERE run_id = ?", [run_id, source.run_id])
            flaky = " UNION ".join(f"SELECT test, failure FROM shard{k}.flaky_tests WHERE run_id = ?"
                                   for k in range(len(shards)))
            con.execute(f"INSERT INTO flaky_tests SELECT ?, test, min(failure) FROM ({flaky}) GROUP BY test",
                        [run_id, *[s.run_id for s in shards]])
            store_plan(con, run_id, source.plan, merged_from=tuple(s.run_id for s in shards))
            con.execute("COMMIT")
        except duckdb.Error:
            con.execute("ROLLBACK")
            raise
        finally:
            for k in range(len(shards)):
                con.execute(f"DETACH shard{k}")
    # With --coverage-map every shard measured the whole suite's map of every line, the map an unsharded run
    # stores for the runs after it (a PR's baseline then measures only what a change moved): kept once, under
    # the merged run. After the merge's own transaction: a map is a cache, the run stands without it.
    stored = complete_map_of(source.path, source.run_id)
    if stored is not None:
        key, found = stored
        save_map(target, key, replace(found, run_id=run_id))
    return status


def measured_first(shards: list[ShardRun]) -> ShardRun:
    """The shard whose run row (where it ran, its jobs) and baseline timings stand for the merged run's:
    the first that holds mutants. A shard that holds none measured nothing (no baseline, executor `none`):
    taken from it, the merged run would read as a run that measured nothing, unlike the unsharded run. When
    no shard holds a mutant, the whole run had none either, and the first shard says so as that run would."""
    return next((s for s in shards if s.mutant_ids), shards[0])


def _quoted(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")
