"""One stored run, read back as plain data for the reports, the badge and the gate."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from results.errors import StoreError
from results.status import UNDETECTED, Status
from results.store import connect


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
    mutants: tuple[MutantResult, ...]

    @property
    def total(self) -> Tally:
        return tally(self.mutants)

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


def resolve_run(con: duckdb.DuckDBPyConnection, db: Path, run_id: str | None) -> str:
    """The given run id if it exists, else the latest; one-line errors for an empty DB or a bad id."""
    if run_id is None:
        row = con.execute("SELECT run_id FROM runs ORDER BY started DESC LIMIT 1").fetchone()
        if row is None:
            raise StoreError(f"{db} holds no runs yet (run `mutagate run` first)")
        return row[0]
    if con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0] == 0:
        known = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY started DESC LIMIT 3").fetchall()]
        raise StoreError(f"no run {run_id!r} in {db} (latest: {', '.join(known) or 'none'})")
    return run_id


def load_report(db: Path, run_id: str | None = None) -> RunReport:
    """The given run, or the latest one."""
    with connect(db, read_only=True) as con:
        run_id = resolve_run(con, db, run_id)
        run = con.execute(
            "SELECT run_id, repo, head_commit, base_ref, branch, CAST(started AS VARCHAR), status, tool_version"
            " FROM runs WHERE run_id = ?", [run_id]).fetchone()
        rows = con.execute(
            "SELECT mutant_id, file, line, end_line, col, end_col, operator, original, replacement, agent, qualname,"
            " status, killed_by, covering_tests, tests_run, seconds FROM mutant_outcomes WHERE run_id = ?"
            " ORDER BY file, line, col, mutant_id", [run_id]).fetchall()
    mutants = tuple(
        MutantResult(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10] or "", r[11],
                     tuple(r[12] or ()), tuple(r[13] or ()), r[14] or 0, r[15] or 0.0)
        for r in rows
    )
    return RunReport(*run, mutants=mutants)
