"""The DuckDB results store.

DuckDB lets one process hold a file while it writes, and then no other process may even read it
(its lock is per file, across processes). So the driver owns all writes and opens the file only for short
open-write-close transactions; a reader that meets a writer retries for a while and then says so
in one line instead of failing with a traceback.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from results.errors import StoreError
from results.schema import SCHEMA_VERSION, migrate


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    repo: str
    head_commit: str
    base_ref: str | None
    merge_base: str | None
    branch: str | None
    tool_version: str
    config: dict
    executor: str
    jobs: int
    mode: str  # "nightly" (every mutant) or "pr" (one per line)


@dataclass(frozen=True)
class MutantRow:
    mutant_id: str
    file: str
    line: int
    end_line: int
    col: int
    end_col: int
    operator: str
    original: str
    replacement: str
    agent: str
    commit: str
    qualname: str


@dataclass(frozen=True)
class OutcomeRow:
    mutant_id: str
    status: str  # a results.status.Status value
    killed_by: tuple[str, ...]
    tests_run: int
    covering_tests: tuple[str, ...]
    seconds: float
    reused: bool
    cache_key: str
    phase: str  # "select" (covering tests), "confirm" (whole suite), "none" (nothing to run)
    detail: str = ""


@dataclass(frozen=True)
class AttributionRow:
    file: str
    line: int
    agent: str
    commit: str
    evidence: str


def attribution_rows(lines: Iterable) -> list[AttributionRow]:
    """Rows for attributed lines (anything with file, line, agent, commit and evidence)."""
    return [AttributionRow(a.file, a.line, a.agent, a.commit, a.evidence) for a in lines]


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


@contextmanager
def connect(path: Path, read_only: bool = False, wait_seconds: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; waits out another process's write (MUTAGATE_LOCK_WAIT seconds,
    default 10), then fails in one line."""
    path = Path(path)
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("MUTAGATE_LOCK_WAIT", "10"))
    if read_only and not path.is_file():
        raise StoreError(f"no results database at {path} (run `mutagate run` first, or pass --db)")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {path.parent}: {exc.strerror}") from None
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:
            if _is_lock_error(exc) and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            if _is_lock_error(exc):
                raise StoreError(f"{path} is locked by another process (a run in progress?); try again when it ends") from None
            raise StoreError(f"{path} is not a readable mutagate DuckDB file ({str(exc).splitlines()[0]})") from None
    try:
        if read_only:
            _check_version(con, path)
        else:
            migrate(con, path)
        yield con
    finally:
        con.close()


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        row = con.execute("SELECT max(version) FROM schema_info").fetchone()
    except duckdb.Error:
        raise StoreError(f"{path} is not a mutagate results database (no schema_info table)") from None
    version = row[0] if row else None
    if version is None:
        raise StoreError(f"{path} is not a mutagate results database (empty schema_info)")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} has schema version {version}, newer than this mutagate ({SCHEMA_VERSION}): upgrade mutagate")


class ResultStore:
    """Writes of one run (the driver only) and the reads the driver needs."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with connect(self.path):
            pass  # create or migrate now, so a bad file fails before any test runs

    def start_run(self, run: RunRecord, mutants: Sequence[MutantRow], lines: Sequence[AttributionRow]) -> None:
        with connect(self.path) as con:
            con.execute("BEGIN")
            con.execute(
                "INSERT INTO runs (run_id, repo, head_commit, base_ref, merge_base, branch, started, tool_version,"
                " config, executor, jobs, mode, status) VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, 'running')",
                [run.run_id, run.repo, run.head_commit, run.base_ref, run.merge_base, run.branch, run.tool_version,
                 json.dumps(run.config), run.executor, run.jobs, run.mode],
            )
            if mutants:
                columns = list(zip(*[(m.mutant_id, m.file, m.line, m.end_line, m.col, m.end_col, m.operator,
                                      m.original, m.replacement, m.agent, m.commit, m.qualname) for m in mutants]))
                con.execute(
                    "INSERT INTO mutants SELECT ?, unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?),"
                    " unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?)",
                    [run.run_id, *[list(c) for c in columns]],
                )
            if lines:
                columns = list(zip(*[(a.file, a.line, a.agent, a.commit, a.evidence) for a in lines]))
                con.execute(
                    "INSERT INTO attributions SELECT ?, unnest(?), unnest(?), unnest(?), unnest(?), unnest(?)",
                    [run.run_id, *[list(c) for c in columns]],
                )
            con.execute("COMMIT")

    def record_outcomes(self, run_id: str, outcomes: Sequence[OutcomeRow]) -> None:
        if not outcomes:
            return
        columns = list(zip(*[(o.mutant_id, o.status, list(o.killed_by), o.tests_run, list(o.covering_tests),
                              o.seconds, o.reused, o.cache_key, o.phase, o.detail) for o in outcomes]))
        with connect(self.path) as con:
            con.execute("BEGIN")
            # A survivor is first stored unconfirmed and replaced after its whole-suite re-run.
            con.execute(
                "DELETE FROM outcomes WHERE run_id = ? AND mutant_id IN (SELECT unnest(?))",
                [run_id, list(columns[0])],
            )
            con.execute(
                "INSERT INTO outcomes SELECT ?, unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?),"
                " unnest(?), unnest(?), unnest(?), unnest(?), now()",
                [run_id, *[list(c) for c in columns]],
            )
            con.execute("COMMIT")

    def record_test_durations(self, run_id: str, durations: dict[str, float]) -> None:
        """The baseline's time per test: the run's cost model, and the bench's physical limit."""
        if not durations:
            return
        with connect(self.path) as con:
            con.execute(
                "INSERT INTO test_durations SELECT ?, unnest(?), unnest(?)",
                [run_id, list(durations), list(durations.values())],
            )

    def finish_run(self, run_id: str, status: str, executor: str | None) -> None:
        with connect(self.path) as con:
            con.execute(
                "UPDATE runs SET finished = now(), status = ?, executor = coalesce(?, executor) WHERE run_id = ?",
                [status, executor, run_id],
            )

    def reusable_verdicts(self, cache_keys: Sequence[str]) -> dict[str, OutcomeRow]:
        """Final verdicts stored under these cache keys by any earlier run (latest wins).

        An unconfirmed survivor (phase "select") is not final: a run interrupted before its
        whole-suite re-run must re-run it."""
        if not cache_keys:
            return {}
        with connect(self.path) as con:
            rows = con.execute(
                "SELECT mutant_id, status, killed_by, tests_run, covering_tests, seconds, cache_key, phase, detail"
                " FROM outcomes WHERE cache_key IN (SELECT unnest(?))"
                " AND NOT (status = 'survived' AND phase = 'select')"
                " QUALIFY row_number() OVER (PARTITION BY cache_key ORDER BY recorded DESC) = 1",
                [list(cache_keys)],
            ).fetchall()
        return {
            row[6]: OutcomeRow(row[0], row[1], tuple(row[2] or ()), row[3], tuple(row[4] or ()), row[5], True,
                               row[6], row[7], row[8] or "")
            for row in rows
        }

    def operator_survival(self) -> dict[str, float]:
        """Share of each operator's mutants that survived, over every stored run (PR-mode priority)."""
        with connect(self.path) as con:
            rows = con.execute(
                "SELECT m.operator, avg(CASE WHEN o.status IN ('survived', 'no_coverage') THEN 1.0 ELSE 0.0 END)"
                " FROM outcomes o JOIN mutants m USING (run_id, mutant_id) GROUP BY m.operator"
            ).fetchall()
        return {operator: float(rate) for operator, rate in rows}
