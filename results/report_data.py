"""One stored run, read back as plain data for the reports, the badge and the gate."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import duckdb

from results.errors import StoreError
from results.mutant_text import RunSources
from results.stored_mutant import StoredMutant, read_stored
from results.status import UNDETECTED, RunStatus, Status
from results.store import connect, settle_abandoned


@dataclass(frozen=True)
class Tally:
    mutants: int
    killed: int
    timeout: int
    survived: int
    no_coverage: int

    @property
    def score(self) -> float:
        """Stryker's mutation score, in percent; 100 when there is nothing to detect (a gate passes)."""
        return 100.0 * (self.killed + self.timeout) / self.mutants if self.mutants else 100.0

    @property
    def covered_score(self) -> float:
        """The score on covered code: no_coverage mutants left out."""
        covered = self.mutants - self.no_coverage
        return 100.0 * (self.killed + self.timeout) / covered if covered else 100.0

    def score_text(self, covered: bool = False) -> str:
        """The score as every human-facing output shows it ("82.4%"): one decimal, rounded half up
        once from the exact fraction (42/51 is 82.35...%: rounding an already rounded 82.35 again
        would read 82.3 in one place and 82.4 in another)."""
        whole = self.mutants - self.no_coverage if covered else self.mutants
        if not whole:
            return "100.0%"
        tenths = math.floor(Fraction(1000 * (self.killed + self.timeout), whole) + Fraction(1, 2))
        return f"{tenths // 10}.{tenths % 10}%"

    def as_dict(self) -> dict:
        return {"mutants": self.mutants, "killed": self.killed, "survived": self.survived,
                "no_coverage": self.no_coverage, "timeout": self.timeout, "score": round(self.score, 2)}


def tally(results: Iterable) -> Tally:
    """Counts of anything with a `status`: stored mutant results, or a run's verdicts."""
    counts = Counter(r.status for r in results)
    return Tally(len(results), counts[Status.KILLED], counts[Status.TIMEOUT], counts[Status.SURVIVED],
                 counts[Status.NO_COVERAGE])


@dataclass(frozen=True)
class RunReport:
    run_id: str
    repo: str
    head_commit: str
    base_ref: str | None
    branch: str | None
    started: str
    status: str
    tool_version: str
    mutants: tuple[StoredMutant, ...]  # measured: every count, score and export reads these
    planned: int = 0  # mutants the run set out to test (a partial run measured fewer)
    not_run: tuple[StoredMutant, ...] = ()  # left out by the run's time budget: measured by no one
    budget_seconds: float | None = None  # --budget of the run, if it had one

    @property
    def total(self) -> Tally:
        return tally(self.mutants)

    @property
    def partial(self) -> bool:
        """Not finished (interrupted, abandoned, or still running): its numbers cover part of the run."""
        return self.status != RunStatus.FINISHED

    def partial_text(self) -> str:
        """What a partial run measured, in place of a headline score it does not have."""
        return f"partial run ({self.status}): {len(self.mutants)} of {self.planned} mutants measured"

    def budget_text(self) -> str | None:
        """`budget: 41 of 63 mutants (22 not run, past 60 s)`; None for a run without a budget."""
        if self.budget_seconds is None:
            return None
        ran = len(self.mutants)
        left = f" ({len(self.not_run)} not run, past {self.budget_seconds:g} s)" if self.not_run else ""
        return f"budget: {ran} of {ran + len(self.not_run)} mutants{left}"

    def by(self, key: str) -> dict[str, Tally]:
        groups: dict[str, list[StoredMutant]] = {}
        for m in self.mutants:
            groups.setdefault(getattr(m, key), []).append(m)
        return {name: tally(items) for name, items in sorted(groups.items())}

    @property
    def undetected(self) -> tuple[StoredMutant, ...]:
        return tuple(m for m in self.mutants if m.status in UNDETECTED)

    @cached_property
    def sources(self) -> RunSources:
        """The texts this run's mutants are read against (results.mutant_text), each file read once."""
        return RunSources(self.repo, self.head_commit)

    def source(self, file: str) -> str:
        """The file as the run saw it: its commit's, or the working tree's for a file whose mutants
        are on uncommitted lines (an agent's work checked before it commits)."""
        return self.sources.source(file, any(m.uncommitted for m in (*self.mutants, *self.not_run) if m.file == file))

    def changed_lines(self, mutants: Iterable[StoredMutant]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Each mutant's id -> its whole lines before and after (results.mutant_text.changed_lines)."""
        return {m.id: self.sources.lines(m) for m in mutants}


def resolve_run(con: duckdb.DuckDBPyConnection, db: Path, run_id: str | None) -> str:
    """The given run id if it exists, else the latest finished run (the latest of any status when
    none has finished: shown as partial); one-line errors for an empty DB or a bad id."""
    if run_id is None:
        row = con.execute("SELECT run_id FROM runs ORDER BY status = ? DESC, started DESC LIMIT 1",
                          [RunStatus.FINISHED]).fetchone()
        if row is None:
            raise StoreError(f"{db} holds no runs yet (run `mutagate run` first)")
        return row[0]
    if con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0] == 0:
        known = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY started DESC LIMIT 3").fetchall()]
        raise StoreError(f"no run {run_id!r} in {db} (latest: {', '.join(known) or 'none'})")
    return run_id


def load_report(db: Path, run_id: str | None = None) -> RunReport:
    """The given run, or the latest finished one."""
    settle_abandoned(db)
    with connect(db, read_only=True) as con:
        return read_report(con, db, run_id)


def read_report(con: duckdb.DuckDBPyConnection, db: Path, run_id: str | None = None) -> RunReport:
    """`load_report` on an open connection (the dashboard reads several runs in one)."""
    run_id = resolve_run(con, db, run_id)
    run = con.execute(
        "SELECT run_id, repo, head_commit, base_ref, branch, CAST(started AS VARCHAR), status, tool_version"
        " FROM runs WHERE run_id = ?", [run_id]).fetchone()
    planned = con.execute("SELECT count(*) FROM mutants WHERE run_id = ?", [run_id]).fetchone()[0]
    results = read_stored(con, run_id, measured_only=True)
    budget = con.execute("SELECT budget_seconds FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    # Mutants a time budget left out were not measured: no count, score or export sees them.
    return RunReport(*run, mutants=tuple(m for m in results if m.status != Status.NOT_RUN), planned=planned,
                     not_run=tuple(m for m in results if m.status == Status.NOT_RUN), budget_seconds=budget)
