"""A stored mutant: one mutant of one run as the database keeps it, with its verdict — the one shape every
reader of results gets (the reports and the gate, `show`, `apply`, the hooks, the MCP server, the
dashboard). The other two shapes of a mutant are earlier in its life: `mutator.mutant.Mutant` (generated)
and `scheduler.plan.PlannedMutant` (with its tests); `results.store.MutantRow` is only the row written."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

UNCOMMITTED = "0" * 40  # the commit of a line not committed yet (an agent's uncommitted work)


@dataclass(frozen=True)
class Evidence:
    """Why a line of the mutant counts as its agent's: one row of the run's `attributions`."""

    line: int
    agent: str
    commit: str
    evidence: str


@dataclass(frozen=True)
class HistoryEntry:
    run_id: str
    started: str
    head_commit: str
    run_status: str
    line: int  # where the mutant sat in that run's commit
    status: str | None  # None: planned but not measured (a partial run)


@dataclass(frozen=True)
class StoredMutant:
    """One mutant of one run and everything stored about it; `evidence` and `history` are read only
    for a single mutant (`show`, explain_mutant): a report of a whole run leaves them empty."""

    run_id: str
    run_status: str
    repo: str
    head_commit: str
    id: str
    file: str
    line: int
    end_line: int
    col: int  # 1-based, in characters
    end_col: int  # exclusive
    operator: str
    original: str
    replacement: str
    agent: str
    commit: str
    qualname: str
    stmt_line: int | None  # the lines coverage was read from (None in runs before schema 2)
    stmt_end_line: int | None
    status: str | None  # None: not measured (the run stopped first)
    killed_by: tuple[str, ...]
    covering_tests: tuple[str, ...]
    tests_run: int
    seconds: float
    reused: bool
    phase: str | None
    detail: str
    evidence: tuple[Evidence, ...] = ()
    history: tuple[HistoryEntry, ...] = ()  # newest run first

    @property
    def uncommitted(self) -> bool:
        """Its line was not committed when the run read it: the run's working tree holds it, not its commit."""
        return self.commit == UNCOMMITTED

    def as_json(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name not in ("evidence", "history")}
        data["killed_by"], data["covering_tests"] = list(self.killed_by), list(self.covering_tests)
        data["evidence"] = [e.__dict__ for e in self.evidence]
        data["history"] = [h.__dict__ for h in self.history]
        return data


_SELECT = """
SELECT m.run_id, r.status, r.repo, r.head_commit, m.mutant_id, m.file, m.line, m.end_line, m.col, m.end_col, m.operator,
    m.original, m.replacement, m.agent, m.commit, m.qualname, m.stmt_line, m.stmt_end_line,
    o.status, o.killed_by, o.covering_tests, o.tests_run, o.seconds, o.reused, o.phase, o.detail
FROM mutants m JOIN runs r USING (run_id) {join} outcomes o USING (run_id, mutant_id)
WHERE m.run_id = ? AND (? IS NULL OR list_contains(?, m.mutant_id))
ORDER BY m.file, m.line, m.col, m.mutant_id
"""


def read_stored(con: duckdb.DuckDBPyConnection, run_id: str, ids: list[str] | None = None,
                measured_only: bool = False) -> list[StoredMutant]:
    """The run's mutants (or those of `ids`) in file and line order; `measured_only`: those with an
    outcome (every mutant of a finished run has one, a `not_run` past a budget included)."""
    rows = con.execute(_SELECT.format(join="JOIN" if measured_only else "LEFT JOIN"), [run_id, ids, ids]).fetchall()
    return [StoredMutant(*r[:15], r[15] or "", r[16], r[17], r[18], tuple(r[19] or ()), tuple(r[20] or ()), r[21] or 0,
                         r[22] or 0.0, bool(r[23]), r[24], r[25] or "") for r in rows]
