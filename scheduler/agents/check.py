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
from results.gate import Verdict
from results.mutant_text import one_line
from results.report_data import RunReport
from results.status import WHY_UNDETECTED, Status
from results.stored_mutant import StoredMutant
from results.store import ResultStore
from results.survivor_order import BEHAVIOUR, MESSAGE, TEXT, rank_in_source
from scheduler.run_request import RunRequest, start_run

DEFAULT_BUDGET = 60.0  # seconds: an agent waits for its stop hook
KIND_NAMES = {BEHAVIOUR: "behaviour", TEXT: "string", MESSAGE: "message"}


@dataclass(frozen=True)
class Finding:
    """One undetected mutant (survived or no_coverage), as an agent reads it: the stored mutant and its
    text (results.mutant_text), ranked."""

    mutant: StoredMutant
    before: tuple[str, ...]  # the whole lines the mutant changes
    after: tuple[str, ...]
    diff: str  # with one line of context
    kind: int = BEHAVIOUR  # results.survivor_order: BEHAVIOUR, TEXT (a changed string) or MESSAGE (one in a message)

    @property
    def id(self) -> str:
        return self.mutant.id

    def sentence(self) -> str:
        """`in `pkg/a.py:3` `if x >= 10:` became `if x > 10:` and every test still passed: add a test that fails on it`"""
        m = self.mutant
        where, before, after = f"`{m.file}:{m.line}`", one_line(self.before), one_line(self.after)
        said = f"in {where} `{before}` became `{after}` and {WHY_UNDETECTED[m.status].instruction}"
        if self.kind != BEHAVIOUR:  # a test of a message's wording is rarely the test a change needs
            said += (" — only if a caller relies on this text" + (" (an error or log message)"
                                                                  if self.kind == MESSAGE else ""))
        return said

    def as_json(self) -> dict:
        m = self.mutant
        return {"id": m.id, "file": m.file, "line": m.line, "operator": m.operator, "status": m.status,
                "agent": m.agent, "before": list(self.before), "after": list(self.after), "diff": self.diff,
                "kind": KIND_NAMES[self.kind]}


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
    findings = _findings(run.report, priority)
    return Check(repo.root, run.report, run.summary, findings, run.prepared.threshold, run.verdict)


def _findings(report: RunReport, priority: dict[str, float]) -> tuple[Finding, ...]:
    """The undetected mutants, best first: changed behaviour before changed strings (those in error or
    log messages last: `survivor_order`), then survivors (tests ran the line and missed the change)
    before uncovered lines, then PR mode's operator ranking (AI failure modes, history's survivors)."""
    preference = operator_preference(priority)
    findings = []
    for m in report.undetected:
        before, after = report.sources.lines(m)
        findings.append(Finding(m, before, after, report.sources.diff(m, context=1),
                                rank_in_source(m.operator, report.sources.holding(m) or "", m.line)))

    def rank(f: Finding) -> tuple:
        m = f.mutant
        return (f.kind, m.status != Status.SURVIVED, tuple(-x for x in preference(m.operator)), m.file, m.line)

    return tuple(sorted(findings, key=rank))

