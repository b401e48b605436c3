"""The "weak tests" query: tests that run AI mutants but let them survive (Stryker's "covering,
not killing"), with the survivors each one should have caught.

Ranked so the first row is the best place to add an assertion: most surviving mutants first,
then the lowest kill rate. Kill counts are exact only for runs with --no-bail (nightly), where
every test that kills a mutant is recorded, not just the first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from results.report_data import resolve_run
from results.store import connect


@dataclass(frozen=True)
class WeakTest:
    test: str
    covered_mutants: int
    killed_mutants: int
    surviving_mutants: int
    kill_rate: float
    survivors: tuple[dict, ...]  # id, file, line, operator, original, replacement, agent


def weak_tests(db: Path, run_id: str | None, limit: int) -> tuple[str, list[WeakTest]]:
    with connect(db, read_only=True) as con:
        run_id = resolve_run(con, db, run_id)
        return run_id, read_weak_tests(con, run_id, limit)


def read_weak_tests(con: duckdb.DuckDBPyConnection, run_id: str, limit: int) -> list[WeakTest]:
    """`weak_tests` of one existing run on an open connection (the dashboard reads several runs in one)."""
    rows = con.execute(
        "SELECT w.test, w.covered_mutants, w.killed_mutants, w.surviving_mutants, w.kill_rate,"
        " list({'id': m.mutant_id, 'file': m.file, 'line': m.line, 'operator': m.operator,"
        "       'original': m.original, 'replacement': m.replacement, 'agent': m.agent}"
        "      ORDER BY m.file, m.line, m.mutant_id)"
        " FROM weak_tests w, unnest(w.survivors) AS s(mutant_id)"
        " JOIN mutants m ON m.run_id = w.run_id AND m.mutant_id = s.mutant_id"
        " WHERE w.run_id = ? AND w.surviving_mutants > 0"
        " GROUP BY ALL ORDER BY w.surviving_mutants DESC, w.kill_rate ASC, w.covered_mutants DESC, w.test"
        " LIMIT ?",
        [run_id, limit],
    ).fetchall()
    return [WeakTest(r[0], r[1], r[2], r[3], float(r[4]), tuple(r[5])) for r in rows]
