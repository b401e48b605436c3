"""The "weak tests" query: tests that run AI mutants but let them survive (Stryker's "covering,
not killing"), with the survivors each one should have caught.

Ranked so the first row is the best place to add an assertion: most surviving mutants first,
then the lowest kill rate; each row's survivors with changed behaviour first (`survivor_order`).

What the counts mean depends on the run. `survive` is exact either way: every covering test ran
on a survivor. `kills` is exact only for runs with --no-bail (nightly), where every test that kills
a mutant is recorded; a run that stops each mutant at its first failing test (the default, tests
fastest first) credits only that test, so a slower test that would also fail shows fewer kills,
often 0."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from results.report_data import resolve_run
from results.store import connect
from results.stored_mutant import StoredMutant, read_stored
from results.survivor_order import reviewer_rank


SURVIVOR_FIELDS = ("id", "file", "line", "operator", "original", "replacement", "agent")  # of each, in --json


@dataclass(frozen=True)
class WeakTest:
    test: str
    covered_mutants: int
    killed_mutants: int
    surviving_mutants: int
    kill_rate: float
    survivors: tuple[StoredMutant, ...]  # changed behaviour first, then file and line order

    def as_json(self) -> dict:
        return {"test": self.test, "covered_mutants": self.covered_mutants, "killed_mutants": self.killed_mutants,
                "surviving_mutants": self.surviving_mutants, "kill_rate": self.kill_rate,
                "survivors": [{key: getattr(m, key) for key in SURVIVOR_FIELDS} for m in self.survivors]}


@dataclass(frozen=True)
class WeakTests:
    run_id: str
    first_kill_only: bool  # the run stopped each mutant at its first kill: `killed_mutants` counts first kills
    rows: tuple[WeakTest, ...]


def weak_tests(db: Path, run_id: str | None, limit: int) -> tuple[str, list[WeakTest]]:
    read = weak_tests_of_run(db, run_id, limit)
    return read.run_id, list(read.rows)


def weak_tests_of_run(db: Path, run_id: str | None, limit: int) -> WeakTests:
    with connect(db, read_only=True) as con:
        run_id = resolve_run(con, db, run_id)
        first_kill_only = stops_at_first_kill(con, run_id)
        return WeakTests(run_id, first_kill_only, tuple(read_weak_tests(con, run_id, limit, first_kill_only)))


def stops_at_first_kill(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Whether the run stopped each mutant at its first failing test (no --no-bail): its kill counts
    are first kills. Every mutagate run records its choice; a run that does not (an import, a
    database filled by hand) is not said to bail."""
    row = con.execute("SELECT json_extract(config, '$.no_bail') FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return bool(row) and row[0] is not None and str(row[0]).lower() == "false"


def read_weak_tests(con: duckdb.DuckDBPyConnection, run_id: str, limit: int,
                    first_kill_only: bool | None = None) -> list[WeakTest]:
    """`weak_tests` of one existing run on an open connection (the dashboard reads several runs in one).
    In a run that stopped each mutant at its first kill the kill rate is no test's merit (a slow test
    is never run on what a fast one killed), so there the rows rank by survivors, then coverage."""
    if first_kill_only is None:
        first_kill_only = stops_at_first_kill(con, run_id)
    rows = con.execute(
        "SELECT w.test, w.covered_mutants, w.killed_mutants, w.surviving_mutants, w.kill_rate,"
        " list(m.mutant_id ORDER BY m.file, m.line, m.mutant_id)"
        " FROM weak_tests w, unnest(w.survivors) AS s(mutant_id)"
        " JOIN mutants m ON m.run_id = w.run_id AND m.mutant_id = s.mutant_id"
        " WHERE w.run_id = ? AND w.surviving_mutants > 0"
        f" GROUP BY ALL ORDER BY w.surviving_mutants DESC, {'' if first_kill_only else 'w.kill_rate ASC,'}"
        " w.covered_mutants DESC, w.test LIMIT ?",
        [run_id, limit],
    ).fetchall()
    stored = {m.id: m for m in read_stored(con, run_id, sorted({i for r in rows for i in r[5]}))} if rows else {}
    # A changed behaviour before a changed string: the first survivor is the one to write a test for.
    return [WeakTest(r[0], r[1], r[2], r[3], float(r[4]),
                     tuple(sorted((stored[i] for i in r[5]), key=lambda m: reviewer_rank(m.operator))))  # stable
            for r in rows]
