"""One run against another (a PR against its base branch's latest run): the score change overall and
per agent, the mutants that became undetected and the ones that were fixed, matched by stable id.

A mutant's id is a hash of what it changes, never of its line number, so the same id in two runs is
the same mutant even when code above it moved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from results.errors import ResultsError
from results.report_data import RunReport, Tally, load_report
from results.stored_mutant import StoredMutant
from results.status import DETECTED, RunStatus
from results.store import connect, settle_abandoned


@dataclass(frozen=True)
class ScoreChange:
    name: str  # "overall" or an agent
    before: Tally | None  # None: nothing of this agent in the other run
    after: Tally | None

    @property
    def delta(self) -> float | None:
        """Percentage points; None when either side measured nothing."""
        if not (self.before and self.before.mutants and self.after and self.after.mutants):
            return None
        return self.after.score - self.before.score


@dataclass(frozen=True)
class Comparison:
    current: RunReport
    other: RunReport
    changes: tuple[ScoreChange, ...]  # overall first, then every agent of either run
    new_undetected: tuple[StoredMutant, ...]  # undetected now; absent or detected in the other run
    fixed: tuple[StoredMutant, ...]  # detected now, undetected in the other run (this run's record)
    still_undetected: tuple[StoredMutant, ...]  # undetected in both
    not_retested: int  # the other run's undetected mutants this run did not measure (outside its scope)


def compare_runs(current: RunReport, other: RunReport) -> Comparison:
    undetected_before = {m.id for m in other.undetected}
    new = tuple(m for m in current.undetected if m.id not in undetected_before)
    fixed = tuple(m for m in current.mutants if m.id in undetected_before and m.status in DETECTED)
    still = tuple(m for m in current.undetected if m.id in undetected_before)
    measured = {m.id for m in current.mutants}
    agents_now, agents_before = current.by("agent"), other.by("agent")
    changes = [ScoreChange("overall", other.total, current.total)]
    changes += [ScoreChange(agent, agents_before.get(agent), agents_now.get(agent))
                for agent in sorted(set(agents_now) | set(agents_before))]
    return Comparison(current, other, tuple(changes), new, fixed, still,
                      not_retested=len(undetected_before - measured))


def latest_run_on(db: Path, branch: str, exclude: str) -> str | None:
    """The latest finished run recorded on `branch` other than `exclude`, or None."""
    settle_abandoned(db)
    with connect(db, read_only=True) as con:
        row = con.execute("SELECT run_id FROM runs WHERE branch = ? AND status = ? AND run_id <> ?"
                          " ORDER BY started DESC, run_id DESC LIMIT 1", [branch, RunStatus.FINISHED, exclude]).fetchone()
    return row[0] if row else None


def load_comparison(db: Path, current: RunReport, other_run: str) -> Comparison:
    """`current` against the stored run `other_run` (an id; a bad one is a one-line error)."""
    if other_run == current.run_id:
        raise ResultsError(f"--compare-to {other_run}: that is the run being reported")
    return compare_runs(current, load_report(db, other_run))
