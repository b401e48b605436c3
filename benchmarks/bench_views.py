"""View speed on a big store: 100 nightly runs of 10,000 mutants each (1 M outcomes), generated
in bulk with SQL (no row-by-row inserts) into a real mutagate DuckDB file.

Times each documented view as a dashboard would query it: one run (the latest), and all runs.

    python benchmarks/bench_views.py      # prints the figures, writes bench_views.json
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

import duckdb

from results.store import ResultStore

RUNS, MUTANTS, TESTS, FILES = 100, 10_000, 400, 200
AGENTS = ["claude-code", "cursor", "copilot", "codex", "human"]
STATUSES = ["killed", "killed", "killed", "killed", "killed", "killed", "survived", "survived", "timeout", "no_coverage"]


def fill(db: Path) -> float:
    ResultStore(db)  # the real schema and views
    started = time.perf_counter()
    with duckdb.connect(str(db)) as con:
        con.execute(f"""
            INSERT INTO runs (run_id, repo, head_commit, started, finished, tool_version, executor, jobs, mode, status)
            SELECT 'run-' || lpad(r::VARCHAR, 3, '0'), '/repo', md5(r::VARCHAR) || 'abcdefgh',
                   TIMESTAMP '2026-08-01' + INTERVAL (r) DAY, TIMESTAMP '2026-08-01' + INTERVAL (r) DAY + INTERVAL 20 MINUTE,
                   '0.1.0', 'local: 2 workers', 2, 'nightly', 'finished'
            FROM range({RUNS}) t(r)""")
        con.execute(f"""
            INSERT INTO mutants
            SELECT 'run-' || lpad(r::VARCHAR, 3, '0'), 'm' || m, 'pkg/mod_' || (m % {FILES}) || '.py', m % 500 + 1,
                   m % 500 + 1, 5, 9, 'arithmetic', '+', '-', {AGENTS}[(m % {len(AGENTS)} + 1)::BIGINT], 'c0ffee', 'f',
                   m % 500 + 1, m % 500 + 1
            FROM range({RUNS}) a(r), range({MUTANTS}) b(m)""")
        # Every mutant is covered by 3 tests; a killed one names one killer (two under --no-bail).
        con.execute(f"""
            INSERT INTO outcomes
            SELECT 'run-' || lpad(r::VARCHAR, 3, '0'), 'm' || m, s,
                   CASE WHEN s IN ('killed', 'timeout') THEN ['test_' || ((m + r) % {TESTS})] ELSE [] END,
                   3, CASE WHEN s = 'no_coverage' THEN [] ELSE
                       ['test_' || ((m + r) % {TESTS}), 'test_' || ((m * 7) % {TESTS}), 'test_' || ((m * 13 + 1) % {TESTS})] END,
                   0.05, false, md5(m::VARCHAR), 'select', '', now()
            FROM (SELECT r, m, {STATUSES}[((hash(r * 100003 + m) % {len(STATUSES)}) + 1)::BIGINT] AS s
                  FROM range({RUNS}) a(r), range({MUTANTS}) b(m))""")
    return time.perf_counter() - started


QUERIES = {
    "kill_rate_by_file, latest run": "SELECT * FROM kill_rate_by_file WHERE run_id = (SELECT max(run_id) FROM runs)",
    "kill_rate_by_agent, latest run": "SELECT * FROM kill_rate_by_agent WHERE run_id = (SELECT max(run_id) FROM runs)",
    "kill_rate_by_agent, all runs (over time)": "SELECT * FROM kill_rate_by_agent ORDER BY started, agent",
    "score_trend, all runs": "SELECT * FROM score_trend ORDER BY started",
    "weak_tests, latest run, top 20": "SELECT * FROM weak_tests WHERE run_id = (SELECT max(run_id) FROM runs)"
                                      " ORDER BY surviving_mutants DESC, kill_rate LIMIT 20",
}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mutagate-views-") as scratch:
        db = Path(scratch) / "results.duckdb"
        fill_seconds = fill(db)
        timings = {}
        with duckdb.connect(str(db), read_only=True) as con:
            outcomes = con.execute("SELECT count(*) FROM outcomes").fetchone()[0]
            for name, sql in QUERIES.items():
                best = float("inf")
                for _ in range(3):
                    started = time.perf_counter()
                    rows = con.execute(sql).fetchall()
                    best = min(best, time.perf_counter() - started)
                timings[name] = {"seconds": round(best, 3), "rows": len(rows)}
        figures = {
            "what": f"documented views on {RUNS} runs x {MUTANTS} mutants ({outcomes} outcomes), best of 3",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, duckdb {duckdb.__version__}",
            "fill_seconds": round(fill_seconds, 2),
            "db_megabytes": round(db.stat().st_size / 1e6, 1),
            "views": timings,
        }
    print(json.dumps(figures, indent=2))
    Path(__file__).with_name("bench_views.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
