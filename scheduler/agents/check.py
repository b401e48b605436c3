"""The check behind every agent hook and the MCP server's `check_changes`: a mutation run on the
agent's uncommitted work (and, with a base ref, everything changed since the merge-base), PR mode
(one mutant per line), under a time budget — the same run `mutagate run --agent NAME` makes — and
its undetected mutants as findings the agent can act on, best first."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from mutator.attribution import Scope, relative_paths
from mutator.config import load_config
from mutator.generate import operator_preference
from mutator.git import open_repo
from mutator.mutant import Mutant, unified_diff
from results.gate import Verdict
from results.report_data import MutantResult, RunReport, mutated_lines
from results.status import WHY_UNDETECTED, Status
from results.store import ResultStore
from scheduler.run_request import RunRequest, start_run

DEFAULT_BUDGET = 60.0  # seconds: an agent waits for its stop hook


@dataclass(frozen=True)
class Finding:
    """One undetected mutant, as an agent reads it."""

    id: str
    file: str
    line: int
    operator: str
    status: str  # survived | no_coverage
    agent: str
    before: tuple[str, ...]  # the whole lines the mutant changes
    after: tuple[str, ...]
    diff: str

    def sentence(self) -> str:
        """`in `pkg/a.py:3` `if x >= 10:` became `if x > 10:` and every test still passed: add a test that fails on it`"""
        where, before, after = f"`{self.file}:{self.line}`", _one_line(self.before), _one_line(self.after)
        return f"in {where} `{before}` became `{after}` and {WHY_UNDETECTED[self.status].instruction}"

    def as_json(self) -> dict:
        return {"id": self.id, "file": self.file, "line": self.line, "operator": self.operator, "status": self.status,
                "agent": self.agent, "before": list(self.before), "after": list(self.after), "diff": self.diff}


@dataclass(frozen=True)
class Check:
    """A finished check: the run as stored (with nothing to measure, an empty finished run, as
    `mutagate run` stores it), its summary, findings and the gate's verdict."""

    root: Path
    report: RunReport
    summary: dict  # `mutagate run --json`'s summary (with nothing to measure: `note`, score null)
    findings: tuple[Finding, ...]  # every undetected mutant, best first
    threshold: float | None  # the configured gate (--fail-under, else [tool.mutagate] fail-under)
    verdict: Verdict  # against `threshold` (results.gate)

    @property
    def measured(self) -> bool:
        return bool(self.report.mutants)


def check_changes(directory: Path, agent: str, base: str | None = None, budget: float | None = DEFAULT_BUDGET,
                  fail_under: float | None = None, db: Path | None = None, jobs: int | None = None,
                  paths: tuple[str, ...] = (), started: float | None = None) -> Check:
    """Run mutagate on what `agent` changed in the repository at `directory`. Bad input raises
    `BadInput` or `ResultsError` with one line, as the command line does."""
    started = time.monotonic() if started is None else started
    repo = open_repo(directory)
    scope = Scope(base=base, agent=agent.lower(), paths=relative_paths(repo.root, list(paths), cwd=repo.root))
    request = RunRequest(repo=repo, scope=scope, one_per_line=load_config(repo.root).pr_one_per_line, jobs=jobs,
                         db=db, fail_under=fail_under, budget=budget)
    run = start_run(request, started=started)
    priority = ResultStore(run.prepared.options.db).operator_survival()
    mutants = {m.id: m for m in run.prepared.workload.mutants}
    findings = _findings(run.report, run.prepared.workload.attribution.sources, mutants, priority)
    return Check(repo.root, run.report, run.summary, findings, run.prepared.threshold, run.verdict)


def _findings(report: RunReport, sources: dict[str, str], mutants: dict[str, Mutant],
              priority: dict[str, float]) -> tuple[Finding, ...]:
    """The undetected mutants, best first: survivors (tests ran the line and missed the change) before
    uncovered lines, then PR mode's operator ranking (AI failure modes, history's survivors)."""
    preference = operator_preference(priority)

    def rank(m: MutantResult) -> tuple:
        return (m.status != Status.SURVIVED, tuple(-x for x in preference(m.operator)), m.file, m.line)

    findings = []
    for m in sorted(report.undetected, key=rank):
        source = sources.get(m.file, "")
        before, after = mutated_lines(source, m)
        mutant = mutants.get(m.id)
        diff = unified_diff(source, mutant) if mutant is not None and source else ""
        findings.append(Finding(m.id, m.file, m.line, m.operator, m.status, m.agent, before, after, diff))
    return tuple(findings)


def _one_line(lines: tuple[str, ...]) -> str:
    return " ↵ ".join(line.strip() for line in lines)
