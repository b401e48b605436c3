"""A mutation run as plain values, from request to verdict: `start_run` is how `mutagate run` (and the
demo), an agent's stop hook (`scheduler.agents`) and the MCP server all start runs. No argparse,
nothing printed: the callers render."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from mutator.attribution import MOVED_RULE, Scope
from mutator.config import load_config
from mutator.errors import BadInput
from mutator.git import Repo
from mutator.source_roots import SourceChoice
from mutator.tables import grouping
from mutator.workload import Workload, collect_workload, keep_mutants
from results.gate import Verdict, judge
from results.report_data import RunReport, load_report
from results.shards import Shard, ShardPlan
from results.status import DETECTED, UNDETECTED
from results.store import ResultStore
from scheduler.baseline_reuse import BaselineSource
from scheduler.budget import Budget
from scheduler.executor import baseline_place, executor_factory
from scheduler.provenance import new_run_id
from scheduler.results_db import default_db
from scheduler.run import Progress, RunOptions, RunResult, execute_run
from scheduler.sharding import config_digest, shard_workload


@dataclass(frozen=True)
class RunRequest:
    """Everything `mutagate run` needs, as plain values: what the CLI (or the demo) builds once."""

    repo: Repo
    scope: Scope
    one_per_line: bool | None = None
    executor: str = "local"
    jobs: int | None = None
    ray_address: str | None = None
    ray_shared_path: bool = False
    db: Path | None = None
    fail_under: float | None = None
    no_bail: bool | None = None
    deselect: tuple[str, ...] = ()
    python: str | None = None
    json: bool = False
    mutants: tuple[str, ...] = ()  # only these mutant ids (or unique prefixes)
    survivors_of: str | None = None  # retest the undetected mutants of this run ("" = the latest finished)
    confirm: str | None = None  # smart | full | off; None: [tool.mutagate] confirm, else smart
    budget: float | None = None  # seconds for the whole run; None: [tool.mutagate] budget, else no limit
    fresh_baseline: bool = False  # ignore stored baselines
    coverage_map: bool | None = None  # baseline under coverage, map stored; None: [tool.mutagate] coverage-map
    shard: Shard | None = None  # --shard K/N: only the mutants whose stable id falls in part K of N


@dataclass(frozen=True)
class PreparedRun:
    """A run checked and set up, nothing measured yet: what `execute_run` takes, and how to judge it.
    The command line, an agent's stop hook and the MCP server all start runs this way."""

    workload: Workload
    options: RunOptions
    threshold: float | None  # the gate: --fail-under, else [tool.mutagate] fail-under
    retest: RunReport | None  # with --survivors: the run whose undetected mutants are retested


def prepare_run(request: RunRequest, started: float | None = None) -> PreparedRun:
    """Input checked, workload collected, results database made. `started` (time.monotonic()) starts
    the budget's clock: by default now, so attribution and the baseline count."""
    started = time.monotonic() if started is None else started
    if request.executor == "ray":
        _require_ray(request.ray_address)
    if request.python is not None and shutil.which(request.python) is None:  # before any work, not as a crash in it
        reason = "not an executable file" if Path(request.python).exists() else "no such file or command"
        raise BadInput(f"--python {request.python}: {reason}")
    # Everything that can refuse the input runs before the results database is created: a refused
    # run leaves no empty database (nor .mutagate/ folder) behind.
    if request.shard is not None and (request.mutants or request.survivors_of is not None):
        # A shard is a part of the whole run's plan; named mutants are a plan of their own.
        raise BadInput(f"--shard {request.shard} splits a whole run: not with --{'mutant' if request.mutants else 'survivors'}")
    config = load_config(request.repo.root)
    db = default_db(request.db, request.repo, create=False)
    history = ResultStore(db).operator_survival() if db.is_file() else {}
    timeouts = ResultStore(db).operator_timeouts() if db.is_file() else {}
    retest = _retest_plan(request, db)
    if retest is not None or request.mutants:
        # Named mutants may sit on any line, human ones too: every mutant of their files, then only them.
        scope = replace(request.scope, base=None, all_authors=True,
                        paths=tuple(sorted({m.file for m in retest.undetected})) if retest else request.scope.paths)
        workload = collect_workload(request.repo, scope, config, one_per_line=False)
        wanted = tuple(m.id for m in retest.undetected) if retest else request.mutants
        workload, missing = keep_mutants(workload, wanted, prefixes=retest is None)
        if missing and retest is None:
            raise BadInput(f"no mutant {missing[0]!r} in the current code (see `mutagate mutants`)")
    else:
        workload = collect_workload(request.repo, request.scope, config, request.one_per_line, priority=history)
    no_bail = request.no_bail if request.no_bail is not None else config.no_bail
    confirm = request.confirm or config.confirm
    coverage_map = request.coverage_map if request.coverage_map is not None else config.coverage_map
    plan = None
    if request.shard is not None:
        digest = config_digest(config, request.scope, workload.one_per_line, no_bail, confirm, request.deselect,
                               coverage_map)
        workload, plan = shard_workload(workload, request.shard, digest)
    db = default_db(request.db, request.repo)
    jobs = request.jobs or os.cpu_count() or 1
    seconds = request.budget if request.budget is not None else config.budget
    factory = executor_factory(request.executor, request.jobs, request.ray_address, request.ray_shared_path)
    options = RunOptions(db=db, jobs=jobs, no_bail=no_bail, python=request.python,
                         deselect=request.deselect,
                         executor_factory=factory, baseline_place=baseline_place(factory),
                         base_ref=request.scope.base, confirm=confirm, plan=plan,
                         fresh_baseline=request.fresh_baseline, run_id=new_run_id(),
                         coverage_map=coverage_map,
                         budget=Budget(seconds, started, jobs, history) if seconds is not None else None,
                         survival=history, timeouts=timeouts)
    threshold = request.fail_under if request.fail_under is not None else config.fail_under
    return PreparedRun(workload, options, threshold, retest)


@dataclass(frozen=True)
class FinishedRun:
    """A run measured and stored, with its summary and the gate's verdict."""

    prepared: PreparedRun
    result: RunResult
    report: RunReport  # as the store holds it (with nothing to measure: an empty, finished run)
    summary: dict  # `mutagate run --json`'s summary
    verdict: Verdict  # against prepared.threshold (results.gate)


def start_run(request: RunRequest, progress: Progress = Progress(), started: float | None = None,
              on_prepared: Callable[[PreparedRun], None] | None = None) -> FinishedRun:
    """The one way a run starts: prepared, executed, stored, summarised, judged. With nothing to
    measure the run is still stored (finished, no mutant), so every door leaves the same record.
    `on_prepared` runs once the input is accepted and before anything is measured (the command line
    prints its warnings and starts its progress display there). Bad input raises BadInput before
    anything is stored; an interruption (KeyboardInterrupt) propagates, with what was measured kept."""
    prepared = prepare_run(request, started)
    if on_prepared is not None:
        on_prepared(prepared)
    result = execute_run(prepared.workload, prepared.options, progress)
    report, summary = conclude_run(prepared, result)
    return FinishedRun(prepared, result, report, summary, judge(report, prepared.threshold, len(prepared.workload.mutants)))


def conclude_run(prepared: PreparedRun, result: RunResult) -> tuple[RunReport, dict]:
    """The finished run as the store holds it, and its JSON summary."""
    workload = prepared.workload
    report = load_report(prepared.options.db, result.run_id)
    nothing = None if workload.mutants else nothing_to_measure(workload, prepared.options.plan)
    if nothing is None and not report.mutants and report.not_run:
        nothing = f"no mutant fitted in the time budget ({report.budget_text()})"
    summary = summarise(result, report, workload.attribution.source, nothing)
    if workload.attribution.merge_base:  # --base scope: the rule is said even when it left nothing out
        summary["moved_not_changed"] = moved_summary(workload.attribution.moved_lines)
    grouped = grouping(workload.mutants)
    if grouped is not None:
        summary["grouped"] = {**asdict(grouped), "text": grouped.text()}
        represents = {m.id: m.represents for m in workload.mutants if m.represents}
        for survivor in summary["survivors"]:
            survivor["represents"] = represents.get(survivor["id"], 0)
    if prepared.options.plan is not None:
        plan = prepared.options.plan
        summary["shard"] = {"index": plan.shard.index, "count": plan.shard.count, "run_mutants": len(plan.mutant_ids),
                            "plan_digest": plan.digest, "config_digest": plan.config_digest}
    if prepared.retest is not None:
        summary["retest"] = _retest_outcome(prepared.retest, report)
    return report, summary


def _retest_plan(request: RunRequest, db: Path) -> RunReport | None:
    """With --survivors: the run whose undetected mutants are retested."""
    if request.survivors_of is None:
        return None
    if not db.is_file():
        raise BadInput(f"--survivors: no results database at {db} (run `mutagate run` first)")
    report = load_report(db, request.survivors_of or None)
    if not report.undetected:
        raise BadInput(f"--survivors: run {report.run_id} has no undetected mutant to retest")
    return report


def _retest_outcome(before: RunReport, now: RunReport) -> dict:
    """Which of a run's undetected mutants the current tests detect: by stable id."""
    status = {m.id: m.status for m in now.mutants}
    ids = [m.id for m in before.undetected]
    return {"of_run": before.run_id,
            "fixed": [i for i in ids if status.get(i) in DETECTED],
            "still_undetected": [i for i in ids if status.get(i) in UNDETECTED],
            "gone": [i for i in ids if i not in status]}


def _baseline_summary(source: BaselineSource) -> dict:
    """How the baseline was measured; `shards` (where each shard ran, every attempt) only where it ran
    on Ray workers: a local run's summary is as it was."""
    summary = asdict(source)
    if not summary["shards"]:
        del summary["shards"]
    return summary


def _require_ray(address: str | None) -> None:
    """Ray importable, and a given cluster address answering: before the baseline, not after it
    (ray.init retries an unreachable address for minutes)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise BadInput("--executor ray needs Ray: pip install 'mutagate[ray]'") from None
    if not address or address == "auto" or "://" in address:
        return  # Ray resolves these itself (and fails fast when there is nothing to find)
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise BadInput(f"--ray-address {address!r} is not HOST:PORT (or auto)")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise BadInput(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc})") from None


def nothing_to_measure(workload: Workload, plan: ShardPlan | None = None) -> str:
    """Why a run has no mutant: no AI line in scope, or AI lines with nothing worth mutating, or (a shard)
    none of the run's mutants in its part."""
    if plan is not None and plan.mutant_ids:
        return f"shard {plan.shard} holds none of the run's {len(plan.mutant_ids)} mutants"
    lines = len(workload.attribution.lines)
    if lines:
        return f"{lines} AI-attributed lines, none of them with code to mutate"
    scope = workload.attribution
    if scope.merge_base:
        moved = f"; {moved_text(scope.moved_lines)}" if scope.moved_lines else ""
        return f"no AI-attributed lines changed since {scope.merge_base[:12]} (the merge-base){moved}"
    return "no AI-attributed lines in scope"


def moved_summary(lines: int) -> dict:
    """The moved-not-changed rule as every --base scope's JSON carries it (`run`, `mutants`, `blame`)."""
    return {"lines": lines, "rule": MOVED_RULE, "text": moved_text(lines)}


def moved_text(lines: int) -> str:
    """The --base scope's moved-not-changed rule at work, in the words the summary uses."""
    return (f"{lines} moved line{'s' if lines != 1 else ''} left out (moved, not changed: their text is in the "
            "merge-base and blame gives them to an earlier commit)")


def summarise(result: RunResult, report: RunReport, source: SourceChoice | None = None,
              nothing: str | None = None) -> dict:
    """The run's JSON summary: its verdicts as the store holds them, plus how the run went. With
    nothing to measure the score is null (no mutant: not a score of 100) and `note` says why."""
    total = report.total
    return {
        "run_id": result.run_id,
        **total.as_dict(),
        **({"source": {"roots": list(source.roots), "why": source.why}} if source else {}),
        "score_covered": round(total.covered_score, 2),
        **({"score": None, "score_covered": None, "note": nothing} if nothing else {}),
        "reused": result.reused,
        "executor": result.executor,
        "seconds": round(result.wall_seconds, 2),
        "timings": {phase: round(seconds, 3) for phase, seconds in result.timings.items()},
        "workers": list(result.workers),
        "flaky_tests": [{"test": test, "failure": why} for test, why in sorted(result.flaky.items())],
        **({"confirmation": asdict(result.confirmation)} if result.confirmation else {}),
        **({"baseline": _baseline_summary(result.baseline)} if result.baseline else {}),
        # The "what is coming" line's figures, to hold against `timings` (mutants + confirm).
        **({"forecast": {"seconds": round(result.forecast.seconds, 2), "workers": result.forecast.workers,
                         "start": round(result.forecast.start, 3), "waits": round(result.forecast.waits, 3),
                         "likely": [round(s, 2) for s in result.forecast.likely] if result.forecast.likely else None}}
           if result.forecast else {}),
        **({"budget": {"seconds": report.budget_seconds, "mutants": len(report.mutants) + len(report.not_run),
                       "run": len(report.mutants), "not_run": len(report.not_run)}}
           if report.budget_seconds is not None else {}),
        "by_agent": {agent: t.as_dict() for agent, t in report.by("agent").items()},
        "by_file": {file: t.as_dict() for file, t in report.by("file").items()},
        "survivors": [
            {"id": m.id, "file": m.file, "line": m.line, "operator": m.operator, "original": m.original,
             "replacement": m.replacement, "agent": m.agent, "status": m.status}
            for m in report.mutants
            if m.status in UNDETECTED
        ],
    }
