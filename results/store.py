"""The DuckDB results store.

DuckDB lets one process hold a file while it writes, and then no other process may even read it
(its lock is per file, across processes). So the driver owns all writes and opens the file only for short
open-write-close transactions; a reader that meets a writer retries for a while and then says so
in one line instead of failing with a traceback.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from results.errors import StoreError
from results.schema import SCHEMA_VERSION, migrate
from results.shards import ShardPlan, store_plan
from results.status import RunStatus


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
    budget_seconds: float | None = None  # --budget: mutants that did not fit are stored as not_run
    plan: ShardPlan | None = None  # --shard K/N: its part and the whole run's plan (results/shards.py)


@dataclass(frozen=True)
class MutantRow:
    """The row written for a mutant (a generated one, or one imported from mutmut): the write side only.
    Every reader gets it back as a `results.stored_mutant.StoredMutant`, with its run and verdict."""

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
    stmt_line: int  # the lines whose coverage selected its tests
    stmt_end_line: int
    represents: int = 0  # a table row's mutant: how many other rows' same mutant it stands for
    table_line: int | None = None  # the first line of its table, if it is in one


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
    phase: str  # a results.status.Phase value
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


def _make_place(path: Path) -> None:
    """The database's folder, made if missing; or one line on why a database cannot be written at `path`."""
    where = f"cannot write the results database {path}"
    if path.is_dir():
        raise StoreError(f"{where}: it is a directory")
    existing = next((parent for parent in path.parents if parent.exists()), None)
    if existing is not None and not existing.is_dir():
        raise StoreError(f"{where}: {existing} is a file, not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{where}: cannot create its folder {path.parent} ({exc.strerror})") from None


def _write_refusal(path: Path) -> str | None:
    """Why the system refuses to write `path` (read-only file system, no permission), found by opening it
    for writing as DuckDB would; None if it can be written (DuckDB's complaint is then the content)."""
    existed = path.exists()
    try:
        fd = os.open(path, os.O_WRONLY if existed else os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except OSError as exc:
        return exc.strerror if existed else f"its folder {path.parent} is not writable ({exc.strerror})"
    os.close(fd)
    if not existed:
        path.unlink(missing_ok=True)  # only a probe
    return None


def _lock_wait() -> float:
    """MUTAGATE_LOCK_WAIT in seconds (default 10); anything but a number >= 0 is the user's to fix."""
    text = os.environ.get("MUTAGATE_LOCK_WAIT", "10")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise StoreError(f"MUTAGATE_LOCK_WAIT must be a number of seconds, got {text[:40]!r}")
    return value


@contextmanager
def connect(path: Path, read_only: bool = False, wait_seconds: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; waits out another process's write (MUTAGATE_LOCK_WAIT seconds,
    default 10), then fails in one line."""
    path = Path(path)
    if wait_seconds is None:
        wait_seconds = _lock_wait()
    if read_only and not path.is_file():
        raise StoreError(f"no results database at {path} (run `mutagate run` first, or pass --db)")
    if not read_only:
        _make_place(path)
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
            refusal = None if read_only else _write_refusal(path)
            if refusal:  # DuckDB blames the file ("Cannot open file"); the place is what refuses
                raise StoreError(f"cannot write the results database {path}: {refusal}") from None
            raise StoreError(f"{path} is not a readable mutagate DuckDB file ({str(exc).splitlines()[0]})") from None
    try:
        if read_only and _check_version(con, path) < SCHEMA_VERSION:
            # Written by an older mutagate: migrate it once (a short write), then read.
            con.close()
            with connect(path, wait_seconds=wait_seconds):
                pass
            con = duckdb.connect(str(path), read_only=True)
        elif not read_only:
            migrate(con, path)
        yield con
    except (duckdb.IOException, duckdb.SerializationException) as exc:
        # A file cut short (a copy interrupted, a full disk) opens, and fails at the first block it lacks:
        # that is the file's fault, said in one line, not an internal error.
        raise StoreError(f"{path} is damaged or cannot be read ({str(exc).splitlines()[0][:160]}); "
                         "move it away to start a new one") from None
    finally:
        con.close()


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    try:
        row = con.execute("SELECT max(version) FROM schema_info").fetchone()
    except duckdb.Error:
        raise StoreError(f"{path} is not a mutagate results database (no schema_info table)") from None
    version = row[0] if row else None
    if version is None:
        raise StoreError(f"{path} is not a mutagate results database (empty schema_info)")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} has schema version {version}, newer than this mutagate ({SCHEMA_VERSION}): upgrade mutagate")
    return version


def owner_id() -> str:
    """Who runs a run: host and pid, so a reader can tell a live run from one whose process is gone."""
    return f"{socket.gethostname()}:{os.getpid()}"


def abandoned_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Runs still marked `running` whose process on this host is gone (killed outright, so it
    could not say so). A run owned by another host is left alone: its process cannot be checked."""
    host = socket.gethostname()
    rows = con.execute("SELECT run_id, owner FROM runs WHERE status = ? AND owner IS NOT NULL",
                       [RunStatus.RUNNING]).fetchall()
    return [run_id for run_id, owner in rows
            if owner.rpartition(":")[0] == host and not _alive(int(owner.rpartition(":")[2]))]


def settle_abandoned(path: Path) -> None:
    """Mark abandoned runs as such, so readers never wait on them or show them as running."""
    with connect(path, read_only=True) as con:
        gone = abandoned_runs(con)
    if gone:
        with connect(path) as con:
            con.execute("UPDATE runs SET status = ?, finished = coalesce(finished, now())"
                        " WHERE run_id IN (SELECT unnest(?))", [RunStatus.ABANDONED, gone])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ResultStore:
    """Writes of one run (the driver only) and the reads the driver needs."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with connect(self.path):
            pass  # create or migrate now, so a bad file fails before any test runs
        settle_abandoned(self.path)

    def start_run(self, run: RunRecord, mutants: Sequence[MutantRow], lines: Sequence[AttributionRow]) -> None:
        with connect(self.path) as con:
            con.execute("BEGIN")
            con.execute(
                "INSERT INTO runs (run_id, repo, head_commit, base_ref, merge_base, branch, started, tool_version,"
                " config, executor, jobs, mode, status, owner, budget_seconds)"
                " VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?)",
                [run.run_id, run.repo, run.head_commit, run.base_ref, run.merge_base, run.branch, run.tool_version,
                 json.dumps(run.config), run.executor, run.jobs, run.mode, RunStatus.RUNNING, owner_id(), run.budget_seconds],
            )
            if mutants:
                columns = list(zip(*[(m.mutant_id, m.file, m.line, m.end_line, m.col, m.end_col, m.operator,
                                      m.original, m.replacement, m.agent, m.commit, m.qualname, m.stmt_line,
                                      m.stmt_end_line, m.represents, m.table_line) for m in mutants]))
                con.execute(
                    "INSERT INTO mutants (run_id, mutant_id, file, line, end_line, col, end_col, operator, original,"
                    " replacement, agent, commit, qualname, stmt_line, stmt_end_line, represents, table_line)"
                    " SELECT ?, unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?),"
                    " unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?),"
                    " unnest(?), unnest(?)",
                    [run.run_id, *[list(c) for c in columns]],
                )
            if run.plan is not None:
                store_plan(con, run.run_id, run.plan)
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

    def finish_run(self, run_id: str, status: RunStatus, executor: str | None,
                   timings: dict[str, float] | None = None) -> None:
        """`status`: finished, or interrupted (stopped early: what it measured is kept, it can resume)."""
        timings = timings or {}
        with connect(self.path) as con:
            con.execute(
                "UPDATE runs SET finished = now(), status = ?, executor = coalesce(?, executor),"
                " timings = ?, baseline_seconds = ? WHERE run_id = ?",
                [status, executor, json.dumps(timings), timings.get("baseline"), run_id],
            )

    def record_flaky_tests(self, run_id: str, flaky: dict[str, str]) -> None:
        """Tests that failed and then passed on a retry, with their first failure's line."""
        if not flaky:
            return
        with connect(self.path) as con:
            con.execute("INSERT INTO flaky_tests SELECT ?, unnest(?), unnest(?)",
                        [run_id, list(flaky), list(flaky.values())])

    def reusable_verdicts(self, cache_keys: Sequence[str]) -> dict[str, OutcomeRow]:
        """Final verdicts stored under these cache keys by any earlier run (latest wins).

        An unconfirmed survivor (phase "select") is not final: a run interrupted before its
        whole-suite re-run must re-run it. Nor is `not_run` (left out by a budget) a verdict."""
        if not cache_keys:
            return {}
        with connect(self.path) as con:
            rows = con.execute(
                "SELECT mutant_id, status, killed_by, tests_run, covering_tests, seconds, cache_key, phase, detail"
                " FROM outcomes WHERE cache_key IN (SELECT unnest(?))"
                " AND NOT (status = 'survived' AND phase = 'select') AND status <> 'not_run'"
                " QUALIFY row_number() OVER (PARTITION BY cache_key ORDER BY recorded DESC) = 1",
                [list(cache_keys)],
            ).fetchall()
        return {
            row[6]: OutcomeRow(row[0], row[1], tuple(row[2] or ()), row[3], tuple(row[4] or ()), row[5], True,
                               row[6], row[7], row[8] or "")
            for row in rows
        }

    def operator_timeouts(self) -> dict[str, float]:
        """Share of each operator's mutants that timed out, over every stored run (forecasts: a
        timeout costs its whole timeout); operators that never did are left out."""
        return {operator: rate for operator, rate in self._operator_share(("timeout",)).items() if rate}

    def operator_survival(self) -> dict[str, float]:
        """Share of each operator's mutants that survived, over every stored run (PR-mode priority)."""
        return self._operator_share(("survived", "no_coverage"))

    def _operator_share(self, statuses: tuple[str, ...]) -> dict[str, float]:
        """Per operator, the share of its measured mutants (not_run left out) with one of `statuses`."""
        with connect(self.path) as con:
            rows = con.execute(
                "SELECT m.operator, avg(CASE WHEN list_contains(?, o.status) THEN 1.0 ELSE 0.0 END)"
                " FROM outcomes o JOIN mutants m USING (run_id, mutant_id) WHERE o.status <> 'not_run'"
                " GROUP BY m.operator", [list(statuses)]
            ).fetchall()
        return {operator: float(rate) for operator, rate in rows}
