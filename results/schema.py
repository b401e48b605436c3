"""The results schema, its version, and migrations. Views are documented in docs/results.md."""

from __future__ import annotations

from pathlib import Path

import duckdb

from results.errors import StoreError

SCHEMA_VERSION = 6

TABLES = """
CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    repo VARCHAR, head_commit VARCHAR, base_ref VARCHAR, merge_base VARCHAR, branch VARCHAR,
    started TIMESTAMP, finished TIMESTAMP, tool_version VARCHAR, config JSON,
    executor VARCHAR, jobs INTEGER, mode VARCHAR, status VARCHAR, baseline_seconds DOUBLE
);
CREATE TABLE IF NOT EXISTS mutants (
    run_id VARCHAR, mutant_id VARCHAR, file VARCHAR, line INTEGER, end_line INTEGER, col INTEGER,
    end_col INTEGER, operator VARCHAR, original VARCHAR, replacement VARCHAR, agent VARCHAR,
    commit VARCHAR, qualname VARCHAR,
    PRIMARY KEY (run_id, mutant_id)
);
CREATE TABLE IF NOT EXISTS outcomes (
    run_id VARCHAR, mutant_id VARCHAR, status VARCHAR, killed_by VARCHAR[], tests_run INTEGER,
    covering_tests VARCHAR[], seconds DOUBLE, reused BOOLEAN, cache_key VARCHAR, phase VARCHAR,
    detail VARCHAR, recorded TIMESTAMP
);
CREATE TABLE IF NOT EXISTS test_durations (run_id VARCHAR, test VARCHAR, seconds DOUBLE);
CREATE TABLE IF NOT EXISTS attributions (
    run_id VARCHAR, file VARCHAR, line INTEGER, agent VARCHAR, commit VARCHAR, evidence VARCHAR
);
"""

# What each version adds to the one before; a new database gets TABLES and then all of them.
MIGRATIONS = {
    2: """
ALTER TABLE mutants ADD COLUMN IF NOT EXISTS stmt_line INTEGER;      -- the lines coverage was read from
ALTER TABLE mutants ADD COLUMN IF NOT EXISTS stmt_end_line INTEGER;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS timings JSON;              -- seconds per phase
ALTER TABLE runs ADD COLUMN IF NOT EXISTS owner VARCHAR;             -- host:pid of the process running it
CREATE TABLE IF NOT EXISTS flaky_tests (run_id VARCHAR, test VARCHAR, failure VARCHAR);
""",
    # Version 3 also re-creates the views: a `not_run` mutant (left out by a time budget) is not measured.
    3: """
ALTER TABLE runs ADD COLUMN IF NOT EXISTS budget_seconds DOUBLE;    -- --budget: mutants past it are not_run
-- A run's coverage baseline, kept for later runs to reuse (results/baseline_maps.py).
CREATE TABLE IF NOT EXISTS baseline_maps (run_id VARCHAR, key VARCHAR, startup DOUBLE, saved TIMESTAMP);
CREATE TABLE IF NOT EXISTS baseline_tests (run_id VARCHAR, position INTEGER, test VARCHAR, seconds DOUBLE, observer BOOLEAN);
CREATE TABLE IF NOT EXISTS baseline_lines (run_id VARCHAR, file VARCHAR, line INTEGER, tests INTEGER[], at_import BOOLEAN);
CREATE TABLE IF NOT EXISTS baseline_files (run_id VARCHAR, file VARCHAR, blob VARCHAR, shape VARCHAR, import_functions JSON);
""",
    # Version 4: a mutant of a table row (mutator/tables.py) stands for the same mutant of its shape's
    # other rows, which are not run; 0 and NULL (older runs): it stands for itself only.
    4: """
ALTER TABLE mutants ADD COLUMN IF NOT EXISTS represents INTEGER;     -- other rows' mutants it stands for
ALTER TABLE mutants ADD COLUMN IF NOT EXISTS table_line INTEGER;     -- its table's first line, NULL: no table
""",
    # Version 5: a map of the tests a stopped baseline measured whole (Ctrl-C, SIGKILL, a budget),
    # and of what: every line (probes NULL) or the statements a probe baseline probed (their digest).
    5: """
ALTER TABLE baseline_maps ADD COLUMN IF NOT EXISTS partial BOOLEAN;  -- NULL, false: every test of the suite
ALTER TABLE baseline_maps ADD COLUMN IF NOT EXISTS probes VARCHAR;   -- NULL: coverage of every line
""",
    # Version 6: a shard of a run (`mutagate run --shard K/N`) stores its part and the whole run's plan, and a
    # run merged from shards (`mutagate merge`) stores the plan and the shards' run ids (results/shards.py).
    # A run without a row here is a whole run, as every run before version 6.
    6: """
CREATE TABLE IF NOT EXISTS shard_plans (
    run_id VARCHAR, shard_index INTEGER, shard_count INTEGER, head_commit VARCHAR, config_digest VARCHAR,
    plan_digest VARCHAR, mutant_ids VARCHAR[], merged_from VARCHAR[]
);
""",
}

# Score = (killed + timeout) / (killed + timeout + survived + no_coverage), as Stryker defines it.
# A `not_run` mutant (past a time budget) was not measured: it is in no count but its own, nor in a score.
_COUNTS = """
    count(*) FILTER (WHERE o.status <> 'not_run') AS mutants,
    count(*) FILTER (WHERE o.status = 'killed') AS killed,
    count(*) FILTER (WHERE o.status = 'timeout') AS timeout,
    count(*) FILTER (WHERE o.status = 'survived') AS survived,
    count(*) FILTER (WHERE o.status = 'no_coverage') AS no_coverage,
    round(100.0 * count(*) FILTER (WHERE o.status IN ('killed', 'timeout'))
          / nullif(count(*) FILTER (WHERE o.status <> 'not_run'), 0), 2) AS score
"""
_NOT_RUN = "count(*) FILTER (WHERE o.status = 'not_run') AS not_run"

VIEWS = f"""
CREATE OR REPLACE VIEW mutant_outcomes AS
    SELECT m.*, o.status, o.killed_by, o.tests_run, o.covering_tests, o.seconds, o.reused, o.phase
    FROM mutants m JOIN outcomes o USING (run_id, mutant_id);
CREATE OR REPLACE VIEW kill_rate_by_file AS
    SELECT o.run_id, o.file, {_COUNTS}, {_NOT_RUN} FROM mutant_outcomes o GROUP BY o.run_id, o.file;
CREATE OR REPLACE VIEW kill_rate_by_agent AS
    SELECT o.run_id, r.started, o.agent, {_COUNTS}, {_NOT_RUN}
    FROM mutant_outcomes o JOIN runs r USING (run_id) GROUP BY o.run_id, r.started, o.agent;
CREATE OR REPLACE VIEW score_trend AS
    SELECT o.run_id, r.started, r.head_commit, r.branch, r.mode, {_COUNTS}, {_NOT_RUN}
    FROM mutant_outcomes o JOIN runs r USING (run_id) GROUP BY o.run_id, r.started, r.head_commit, r.branch, r.mode;
CREATE OR REPLACE VIEW weak_tests AS
    WITH coverage AS (
        SELECT o.run_id, o.mutant_id, o.status, o.killed_by, unnest(o.covering_tests) AS test
        FROM mutant_outcomes o WHERE o.status <> 'not_run'
    )
    SELECT run_id, test,
        count(*) AS covered_mutants,
        count(*) FILTER (WHERE list_contains(killed_by, test)) AS killed_mutants,
        count(*) FILTER (WHERE status = 'survived') AS surviving_mutants,
        round(100.0 * count(*) FILTER (WHERE list_contains(killed_by, test)) / count(*), 2) AS kill_rate,
        list(mutant_id ORDER BY mutant_id) FILTER (WHERE status = 'survived') AS survivors
    FROM coverage GROUP BY run_id, test;
"""


def migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Bring a database to SCHEMA_VERSION; refuse one written by a newer mutagate."""
    try:
        has_info = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_info'"
        ).fetchone()[0]
        version = con.execute("SELECT max(version) FROM schema_info").fetchone()[0] if has_info else None
    except duckdb.Error as exc:
        raise StoreError(f"{path} is not a readable mutagate DuckDB file ({str(exc).splitlines()[0]})") from None
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(f"{path} has schema version {version}, newer than this mutagate ({SCHEMA_VERSION}): upgrade mutagate")
    if version == SCHEMA_VERSION:
        return
    if not has_info:
        tables = con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0]
        if tables:
            raise StoreError(f"{path} is not a mutagate results database (it has other tables); pass another --db")
    con.execute("BEGIN")
    con.execute(TABLES)
    for step in range((version or 1) + 1, SCHEMA_VERSION + 1):
        con.execute(MIGRATIONS[step])
    con.execute(VIEWS)
    con.execute("DELETE FROM schema_info")
    con.execute("INSERT INTO schema_info VALUES (?)", [SCHEMA_VERSION])
    con.execute("COMMIT")
