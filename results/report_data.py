"""One stored run, read back as plain data for the reports, the badge and the gate."""

from __future__ import annotations

import math
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import duckdb

from results.errors import StoreError
from results.status import UNDETECTED, RunStatus, Status
from results.store import connect, settle_abandoned


@dataclass(frozen=True)
class MutantResult:
    id: str
    file: str
    line: int
    end_line: int
    col: int  # 1-based
    end_col: int  # exclusive
    operator: str
    original: str
    replacement: str
    agent: str
    qualname: str
    status: str
    killed_by: tuple[str, ...]
    covering: tuple[str, ...]
    tests_run: int
    seconds: float


def mutated_lines(source: str, m: MutantResult) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The whole lines a mutant changes, before and after: what a reader needs to see, where the
    bare edit (`<` -> `<=`, or nothing -> `, reverse=True`) means little. When `source` no longer
    holds the mutant's text at its place (an imported run, a file gone), the edit itself."""
    lines = source.splitlines()
    if 1 <= m.line <= m.end_line <= len(lines):
        first, last = lines[m.line - 1], lines[m.end_line - 1]
        if m.line == m.end_line:
            span = first[m.col - 1 : m.end_col - 1]
        else:
            span = "\n".join([first[m.col - 1 :], *lines[m.line : m.end_line - 1], last[: m.end_col - 1]])
        if span == m.original.replace("\r\n", "\n"):
            after = first[: m.col - 1] + m.replacement + last[m.end_col - 1 :]
            return tuple(lines[m.line - 1 : m.end_line]), tuple(after.splitlines() or [""])
    return tuple(m.original.splitlines() or [""]), tuple(m.replacement.splitlines() or [""])


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
    mutants: tuple[MutantResult, ...]  # measured: every count, score and export reads these
    planned: int = 0  # mutants the run set out to test (a partial run measured fewer)
    not_run: tuple[MutantResult, ...] = ()  # left out by the run's time budget: measured by no one
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
        groups: dict[str, list[MutantResult]] = {}
        for m in self.mutants:
            groups.setdefault(getattr(m, key), []).append(m)
        return {name: tally(items) for name, items in sorted(groups.items())}

    @property
    def undetected(self) -> tuple[MutantResult, ...]:
        return tuple(m for m in self.mutants if m.status in UNDETECTED)

    def source(self, file: str) -> str:
        """The file as the run saw it (HEAD of that run), or as it is now if git cannot say."""
        shown = subprocess.run(["git", "show", f"{self.head_commit}:{file}"], cwd=self.repo,
                               capture_output=True, text=True) if Path(self.repo).is_dir() else None
        if shown is not None and shown.returncode == 0:
            return shown.stdout
        path = Path(self.repo) / file
        return path.read_text(errors="replace") if path.is_file() else ""

    def changed_lines(self, mutants: Iterable[MutantResult]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Each mutant's id -> its whole lines before and after (`mutated_lines`), each file read once."""
        chosen = list(mutants)
        sources = {file: self.source(file) for file in {m.file for m in chosen}}
        return {m.id: mutated_lines(sources[m.file], m) for m in chosen}


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
    rows = con.execute(
        "SELECT mutant_id, file, line, end_line, col, end_col, operator, original, replacement, agent, qualname,"
        " status, killed_by, covering_tests, tests_run, seconds FROM mutant_outcomes WHERE run_id = ?"
        " ORDER BY file, line, col, mutant_id", [run_id]).fetchall()
    planned = con.execute("SELECT count(*) FROM mutants WHERE run_id = ?", [run_id]).fetchone()[0]
    results = tuple(
        MutantResult(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10] or "", r[11],
                     tuple(r[12] or ()), tuple(r[13] or ()), r[14] or 0, r[15] or 0.0)
        for r in rows
    )
    budget = con.execute("SELECT budget_seconds FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    # Mutants a time budget left out were not measured: no count, score or export sees them.
    return RunReport(*run, mutants=tuple(m for m in results if m.status != Status.NOT_RUN), planned=planned,
                     not_run=tuple(m for m in results if m.status == Status.NOT_RUN), budget_seconds=budget)
