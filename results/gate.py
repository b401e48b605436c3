"""The gate: whether a run passes `--fail-under` (or an agent's stop gate), decided in one place for the
command line, the agent hooks and the MCP server, as coverage.py decides in `results.should_fail_under`.

The rules:
- nothing to measure (no AI line in scope, or no code to mutate on them) passes, and says why elsewhere;
- a gate never passes on nothing measured: a time budget that left no mutant fails it;
- a budget-cut run is judged on the mutants it ran, and says so (an agent's budget is a choice, not a fault);
- an interrupted (partial) run cannot pass a gate;
- mutants planned and none measured without a budget is an internal fault, not a verdict;
- otherwise the exact score (never a rounded one, which could pass) against the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from results.report_data import RunReport


class Decision(StrEnum):
    PASS = "pass"
    FAIL = "fail"  # below the threshold, or nothing measured / a partial run under a gate
    FAULT = "fault"  # the run could not measure what it planned: an internal error, not a verdict


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str | None = None  # one line: why it failed (or the fault); None when it passes
    notes: tuple[str, ...] = ()  # what the decision rests on, said even when it passes

    @property
    def passed(self) -> bool:
        return self.decision == Decision.PASS


def judge(report: RunReport, threshold: float | None, planned: int) -> Verdict:
    """A finished run against `threshold` (a percentage; None: no gate). `planned`: the mutants the run
    set out to test (0: nothing to measure)."""
    if planned == 0:
        return Verdict(Decision.PASS)
    if not report.mutants and report.not_run:
        if threshold is None:
            return Verdict(Decision.PASS)
        return Verdict(Decision.FAIL, f"{report.budget_text()}: a gate cannot pass on nothing measured")
    if not report.mutants:
        return Verdict(Decision.FAULT, f"internal error: none of {planned} mutants could be run")
    if threshold is None:
        return Verdict(Decision.PASS)
    total = report.total
    notes = (f"{report.budget_text()}: the gate judges the {total.mutants} mutants run",) if report.not_run else ()
    if total.score < threshold:  # the exact score: a rounded one could pass
        return Verdict(Decision.FAIL, f"score {total.score_text()} ({total.killed + total.timeout} of {total.mutants} "
                                      f"mutants detected) is below --fail-under {threshold:g}%", notes)
    return Verdict(Decision.PASS, None, notes)


def judge_interrupted(threshold: float | None) -> Verdict | None:
    """A run stopped before its end (Ctrl-C, SIGTERM): under a gate it fails; without one there is no
    verdict (None), the interruption stands."""
    if threshold is None:
        return None
    return Verdict(Decision.FAIL, "a partial run cannot pass --fail-under")
