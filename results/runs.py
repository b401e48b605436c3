"""The stored runs and single mutants, read back for the day-to-day commands (`runs`, `show`, `apply`).

Plain rows only: the CLI renders them. A mutant's id is stable across runs (a hash of what it
changes, never of line numbers), so one id names the same mutant in every stored run: its history."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from results.errors import ResultsError
from results.report_data import Tally, resolve_run
from results.status import RunStatus
from results.stored_mutant import Evidence, HistoryEntry, StoredMutant, read_stored
from results.store import connect, settle_abandoned

CANDIDATES_SHOWN = 5


@dataclass(frozen=True)
class RunRow:
    run_id: str
    started: str
    branch: str | None
    head_commit: str
    mode: str | None  # pr, nightly or imported
    status: str  # running, finished, interrupted, abandoned or refused
    mutants: int  # planned: rows in `mutants`
    measured: int  # rows in `outcomes`
    tally: Tally  # of what was measured
    seconds: float | None  # finished - started; None while running

    @property
    def score(self) -> float | None:
        """Only a finished run that measured something has a score: a partial run's would mislead."""
        return round(self.tally.score, 2) if self.status == RunStatus.FINISHED and self.measured else None

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "started": self.started, "branch": self.branch, "head_commit": self.head_commit,
                "mode": self.mode, "status": self.status, "mutants": self.mutants, "measured": self.measured,
                "score": self.score, "seconds": None if self.seconds is None else round(self.seconds, 3)}


# Counts per run in one pass each, joined to the runs: no correlated subquery per row.
_RUNS = """
WITH planned AS (SELECT run_id, count(*) AS n FROM mutants GROUP BY run_id),
measured AS (  -- not_run (past a time budget) is not measured
    SELECT run_id, count(*) FILTER (WHERE status <> 'not_run') AS n,
        count(*) FILTER (WHERE status = 'killed') AS killed,
        count(*) FILTER (WHERE status = 'timeout') AS timeout,
        count(*) FILTER (WHERE status = 'survived') AS survived,
        count(*) FILTER (WHERE status = 'no_coverage') AS no_coverage
    FROM outcomes GROUP BY run_id
)
SELECT r.run_id, CAST(r.started AS VARCHAR), r.branch, r.head_commit, r.mode, r.status,
    coalesce(p.n, 0), coalesce(m.n, 0), coalesce(m.killed, 0), coalesce(m.timeout, 0), coalesce(m.survived, 0),
    coalesce(m.no_coverage, 0), r.started, r.finished
FROM runs r LEFT JOIN planned p USING (run_id) LEFT JOIN measured m USING (run_id)
ORDER BY r.started DESC, r.run_id DESC
LIMIT ?
"""


def list_runs(db: Path, limit: int | None = None) -> list[RunRow]:
    """The stored runs, newest first."""
    settle_abandoned(db)
    with connect(db, read_only=True) as con:
        rows = con.execute(_RUNS, [limit]).fetchall()  # LIMIT NULL: every row
    return [RunRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], Tally(r[7], r[8], r[9], r[10], r[11]),
                   _seconds(r[12], r[13])) for r in rows]


def _seconds(started: dt.datetime | None, finished: dt.datetime | None) -> float | None:
    return (finished - started).total_seconds() if started and finished else None


def resolve_mutant(con: duckdb.DuckDBPyConnection, run_id: str, given: str) -> str:
    """The id of the run's mutant that `given` names: the id itself, or the one id it is a prefix of.
    An unknown id or an ambiguous prefix is a one-line error with the candidates."""
    if con.execute("SELECT count(*) FROM mutants WHERE run_id = ? AND mutant_id = ?", [run_id, given]).fetchone()[0]:
        return given  # exact wins: mutmut's keys (`f__mutmut_1`) are prefixes of others (`f__mutmut_12`)
    found = [r[0] for r in con.execute(
        "SELECT mutant_id FROM mutants WHERE run_id = ? AND starts_with(mutant_id, ?) ORDER BY mutant_id LIMIT ?",
        [run_id, given, CANDIDATES_SHOWN + 1]).fetchall()]
    if len(found) == 1:
        return found[0]
    if found:
        shown = ", ".join(found[:CANDIDATES_SHOWN]) + (", …" if len(found) > CANDIDATES_SHOWN else "")
        raise ResultsError(f"{given!r} is ambiguous in run {run_id} ({shown}): give more of the id")
    elsewhere = con.execute(
        "SELECT m.mutant_id, m.run_id FROM mutants m JOIN runs r USING (run_id) WHERE starts_with(m.mutant_id, ?)"
        " ORDER BY r.started DESC LIMIT 1", [given]).fetchone()
    if elsewhere:
        raise ResultsError(f"no mutant {given!r} in run {run_id}; {elsewhere[0]} is in run {elsewhere[1]} (pass --run)")
    # For a mistyped id, the run's ids sharing the longest prefix with it are the likeliest meant.
    ids = sorted(row[0] for row in con.execute("SELECT mutant_id FROM mutants WHERE run_id = ?", [run_id]).fetchall())
    shared = {i: len(os.path.commonprefix([i, given])) for i in ids}
    best = max(shared.values(), default=0)
    near = [i for i in ids if best and shared[i] == best][:CANDIDATES_SHOWN]
    hint = (f" (closest: {', '.join(near)})" if near else f" (its ids look like {ids[0]})" if ids
            else " (the run has no mutants)")
    raise ResultsError(f"no mutant {given!r} in run {run_id}{hint}")


def load_mutant(db: Path, given: str, run_id: str | None = None) -> StoredMutant:
    """The mutant `given` (an id or a unique prefix) of the run (default: the latest finished), with the
    evidence for its lines and its fate in every stored run."""
    settle_abandoned(db)
    with connect(db, read_only=True) as con:
        run_id = resolve_run(con, db, run_id)
        mutant_id = resolve_mutant(con, run_id, given)
        [m] = read_stored(con, run_id, [mutant_id])
        evidence = con.execute(
            "SELECT DISTINCT line, agent, commit, evidence FROM attributions WHERE run_id = ? AND file = ?"
            " AND line BETWEEN ? AND ? ORDER BY line", [run_id, m.file, m.line, m.end_line]).fetchall()
        history = con.execute(
            "SELECT r.run_id, CAST(r.started AS VARCHAR), r.head_commit, r.status, m.line, o.status"
            " FROM mutants m JOIN runs r USING (run_id) LEFT JOIN outcomes o USING (run_id, mutant_id)"
            " WHERE m.mutant_id = ? ORDER BY r.started DESC, r.run_id DESC", [mutant_id]).fetchall()
    return replace(m, evidence=tuple(Evidence(*e) for e in evidence), history=tuple(HistoryEntry(*h) for h in history))


def mutant_in_runs(db: Path, mutant_id: str, run_id: str | None = None) -> list[StoredMutant]:
    """The mutant as every stored run has it (newest run first), or as one run has it: `apply --revert`
    finds the one the working tree holds, whichever run it was applied from (it may sit elsewhere)."""
    with connect(db, read_only=True) as con:
        runs = [resolve_run(con, db, run_id)] if run_id else [r[0] for r in con.execute(
            "SELECT DISTINCT m.run_id, r.started FROM mutants m JOIN runs r USING (run_id) WHERE m.mutant_id = ?"
            " ORDER BY r.started DESC", [mutant_id]).fetchall()]
        return [m for run in runs for m in read_stored(con, run, [mutant_id])]
