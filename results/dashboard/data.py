"""The dashboard's data: one plain dict, read from the views in one short read-only connection.

The static site writes it into `data.js` and `mutagate serve` builds it per request: the page has
one way to get its data. Counts come from the views (`score_trend`, `kill_rate_by_agent`,
`kill_rate_by_file`, `weak_tests`) and, for the latest runs, from the same read model `mutagate
report` uses, so every number on the page is one of theirs. Scores are shown as every other
human-facing output shows them (`Tally.score_text`); the chart plots the views' `score`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from results.report_data import RunReport, Tally, read_report, resolve_run
from results.schema import _COUNTS as VIEW_COUNTS  # the views' own counting, so per-agent rows count as they do
from results.status import RunStatus
from results.store import connect
from results.weak_tests import WeakTest, read_weak_tests

DATA_VERSION = 1
DEFAULT_RUNS = 50  # finished runs charted
WEAK_TESTS_SHOWN = 50  # per run: enough that an agent filter still finds its own weak tests
NO_BRANCH = "(detached)"  # runs made on a detached HEAD without a CI branch variable
COUNT_COLUMNS = ("mutants", "killed", "timeout", "survived", "no_coverage")


@dataclass(frozen=True)
class RunMeta:
    run_id: str
    started: dt.datetime
    branch: str
    head_commit: str
    base_ref: str | None
    mode: str | None
    status: str

    @property
    def kind(self) -> str:
        """A PR run measures a change (`--base`, or one mutant per line); anything else measures the
        whole tree, as the nightly job does, and is the line of the chart."""
        return "pr" if self.base_ref or self.mode == "pr" else "nightly"


@dataclass(frozen=True)
class DashboardRows:
    """Everything read from the database; diffs are read from git after the connection is closed."""

    runs: tuple[RunMeta, ...]  # the charted finished runs, oldest first
    totals: dict[str, tuple[int, ...]]  # run id -> score_trend's counts
    agent_rows: tuple[tuple, ...]  # kill_rate_by_agent: run_id, agent, counts..., score
    file_rows: tuple[tuple, ...]  # kill_rate_by_file (agent None) and the same per agent
    latest: str  # what `mutagate report` reads by default
    latest_by_branch: dict[str, str]
    details: dict[str, tuple[RunMeta, RunReport, tuple[WeakTest, ...]]]


def report_name(run_id: str) -> str:
    """The file name of a run's HTML report in the site (run ids are ours, but a file name must be safe)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id) + ".html"


def report_routes(files: list[str]) -> dict[str, str]:
    """Each file's name inside the mutation-testing-elements report, which drops the folders all its
    files share (its own rule, mirrored), so that `#mutant/<name>` opens the file there."""
    parts = {f: [p for p in re.split(r"[/\\]", f) if p] for f in files}
    common: list[str] | None = None
    for segments in parts.values():
        folders = segments[:-1]
        if common is None:
            common = folders
            continue
        for n, folder in enumerate(common):
            if n >= len(folders) or folders[n] != folder:
                common = common[:n]
                break
    depth = len(common or [])
    return {f: "/".join(segments[depth:]) for f, segments in parts.items()}


REPORT_NAME_SQL = "regexp_replace(run_id, '[^A-Za-z0-9._-]', '_', 'g') || '.html'"  # report_name, in SQL


def _run_meta(row: tuple) -> RunMeta:
    return RunMeta(row[0], row[1], row[2] or NO_BRANCH, row[3], row[4], row[5], row[6])


_RUN_COLUMNS = "run_id, started, branch, head_commit, base_ref, mode, status"


def read_dashboard(con: duckdb.DuckDBPyConnection, db: Path, runs: int = DEFAULT_RUNS,
                   weak_limit: int = WEAK_TESTS_SHOWN) -> DashboardRows:
    """All the dashboard reads, on one connection (parameterized SQL only)."""
    latest = resolve_run(con, db, None)  # one line, exit 2, when the database holds no run
    charted = tuple(_run_meta(r) for r in reversed(con.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs WHERE status = ? ORDER BY started DESC, run_id DESC LIMIT ?",
        [RunStatus.FINISHED, runs]).fetchall()))
    latest_by_branch = dict(con.execute(
        "SELECT coalesce(branch, ?), arg_max(run_id, started) FROM runs WHERE status = ? GROUP BY ALL",
        [NO_BRANCH, RunStatus.FINISHED]).fetchall())
    detail_ids = sorted({latest, *latest_by_branch.values()})
    ids = sorted({r.run_id for r in charted} | set(detail_ids))
    totals = {r[0]: tuple(r[1:]) for r in con.execute(
        "SELECT run_id, mutants, killed, timeout, survived, no_coverage FROM score_trend WHERE run_id IN (SELECT unnest(?))",
        [ids]).fetchall()}
    agent_rows = tuple(con.execute(
        "SELECT run_id, agent, mutants, killed, timeout, survived, no_coverage, score FROM kill_rate_by_agent"
        " WHERE run_id IN (SELECT unnest(?)) ORDER BY run_id, agent", [ids]).fetchall())
    file_rows = tuple(con.execute(
        "SELECT run_id, file, NULL AS agent, mutants, killed, timeout, survived, no_coverage, score FROM kill_rate_by_file"
        " WHERE run_id IN (SELECT unnest(?))"
        f" UNION ALL SELECT o.run_id, o.file, o.agent, {VIEW_COUNTS} FROM mutant_outcomes o"
        " WHERE o.run_id IN (SELECT unnest(?)) GROUP BY o.run_id, o.file, o.agent"
        " ORDER BY run_id, file, agent NULLS FIRST", [ids, ids]).fetchall())
    metas = {r[0]: _run_meta(r) for r in con.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id IN (SELECT unnest(?))", [detail_ids]).fetchall()}
    details = {run_id: (metas[run_id], read_report(con, db, run_id), tuple(read_weak_tests(con, run_id, weak_limit)))
               for run_id in detail_ids}
    return DashboardRows(charted, totals, agent_rows, file_rows, latest, latest_by_branch, details)


def load_dashboard(db: Path, runs: int = DEFAULT_RUNS) -> dict:
    """The dashboard's data from the database at `db`: read-only, the connection held only while reading."""
    with connect(db, read_only=True) as con:
        rows = read_dashboard(con, db, runs)
    return dashboard_data(rows)


def _counts(values: tuple[int, ...] | list[int]) -> dict:
    tally = Tally(*values)
    measured = tally.mutants > 0  # nothing measured is never shown as a score of 100
    return {**dict(zip(COUNT_COLUMNS, values)), "score_text": tally.score_text() if measured else "-",
            "covered_score_text": tally.score_text(covered=True) if measured else "-"}


def _seconds(started: dt.datetime) -> float:
    """Seconds since the epoch, the stored (naive) time read as UTC: the page shows it as stored."""
    return started.replace(tzinfo=dt.timezone.utc).timestamp()


def _run_json(meta: RunMeta, totals: dict[str, tuple[int, ...]]) -> dict:
    total = totals.get(meta.run_id)
    return {"id": meta.run_id, "started": meta.started.isoformat(sep=" ", timespec="seconds"),
            "t": _seconds(meta.started), "branch": meta.branch, "commit": meta.head_commit, "base": meta.base_ref,
            "mode": meta.mode, "kind": meta.kind, "status": meta.status,
            "total": _counts(total) if total else None}


def _detail_json(meta: RunMeta, report: RunReport, weak: tuple[WeakTest, ...], totals: dict) -> dict:
    undetected = report.undetected
    changed = report.changed_lines(undetected)  # git show per file: after the connection is closed
    return {
        "run": {**_run_json(meta, totals), "planned": report.planned, "measured": len(report.mutants),
                "partial": report.partial},
        "total": _counts(tuple(report.total.as_dict()[c] for c in COUNT_COLUMNS)),
        "agents": {agent: _counts(tuple(t.as_dict()[c] for c in COUNT_COLUMNS))
                   for agent, t in report.by("agent").items()},
        "weak_tests": [{"test": w.test, "covered": w.covered_mutants, "killed": w.killed_mutants,
                        "surviving": w.surviving_mutants, "kill_rate": w.kill_rate,
                        "survivors": [s.id for s in w.survivors]} for w in weak],
        "undetected": [{"id": m.id, "file": m.file, "line": m.line, "agent": m.agent, "operator": m.operator,
                        "status": m.status, "qualname": m.qualname, "before": list(changed[m.id][0]),
                        "after": list(changed[m.id][1])} for m in undetected],
        "report": f"reports/{report_name(meta.run_id)}",
        "report_routes": report_routes(sorted({m.file for m in report.mutants})),
    }


def dashboard_data(rows: DashboardRows) -> dict:
    """The plain dict the page renders (JSON-ready)."""
    details = {run_id: _detail_json(meta, report, weak, rows.totals)
               for run_id, (meta, report, weak) in rows.details.items()}
    agents = sorted({r[1] for r in rows.agent_rows} | {a for d in details.values() for a in d["agents"]})
    latest_report = rows.details[rows.latest][1]
    return {
        "version": DATA_VERSION,
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "project": Path(latest_report.repo).name,
        "latest": rows.latest,
        "latest_by_branch": rows.latest_by_branch,
        "agents": agents,
        "branches": sorted({r.branch for r in rows.runs} | set(rows.latest_by_branch)),
        "runs": [_run_json(meta, rows.totals) for meta in rows.runs],
        "agent_scores": {"columns": ["run", "agent", *COUNT_COLUMNS, "score"],
                         "rows": [[r[0], r[1], *r[2:7], float(r[7])] for r in rows.agent_rows]},
        "file_scores": {"columns": ["run", "file", "agent", *COUNT_COLUMNS, "score", "score_text"],
                        "rows": [[r[0], r[1], r[2], *r[3:8], float(r[8]), Tally(*r[3:8]).score_text()]
                                 for r in rows.file_rows]},
        "details": details,
    }
