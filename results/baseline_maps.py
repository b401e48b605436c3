"""Stored coverage baselines: a run's per-test line map, kept so that a later run re-measures only
the tests a change can have moved (see scheduler/baseline_reuse.py).

Plain rows in and out: the scheduler turns them into its Baseline. A map is stored under a key
(tool version, interpreter, test arguments: what must match for it to stand in for a run) with
the content (git blob id) of every file at the time it was measured.

A map is complete (every test of the suite, every line), or partial: the tests a baseline stopped
midway (Ctrl-C, SIGTERM, SIGKILL, a time budget) measured whole, each complete in itself; a test
not in it was not measured. A partial map is of every line, or (`probes`, a digest of the line
ranges) only of the statements a probe baseline probed. docs/reliability.md states the rule.
"""

from __future__ import annotations

import json
from datetime import datetime
from dataclasses import dataclass, field
from pathlib import Path

from results.status import RunStatus
from results.store import connect

KEEP_PER_KEY = 3  # older maps of the same key are deleted: a map is large and only the latest serve


@dataclass(frozen=True)
class MapTest:
    name: str  # pytest node id
    seconds: float
    observer: bool  # starts processes or reads a measured file (see the runner's baseline)


@dataclass(frozen=True)
class MapLine:
    file: str
    line: int
    tests: tuple[int, ...]  # positions in StoredMap.tests
    at_import: bool  # also ran outside any test (imports, collection)


@dataclass(frozen=True)
class StoredMap:
    run_id: str
    tests: tuple[MapTest, ...]  # in the suite's order
    lines: tuple[MapLine, ...]
    files: dict[str, str]  # path -> git blob id of the content the map was measured on
    startup: float  # a fresh interpreter's start and collection of the suite
    # Of each measured source file: its import shape, and the functions that ran while the suite was
    # imported and collected, each with the digest of its definition (mutator/import_shape.py).
    shapes: dict[str, str] = field(default_factory=dict)
    import_functions: dict[str, dict[str, str]] = field(default_factory=dict)
    partial: bool = False  # only the tests a stopped baseline measured whole; the others not measured
    probes: str | None = None  # the digest of the probed line ranges the lines are of; None: every line


def save_map(db: Path, key: str, stored: StoredMap) -> None:
    """Store `stored` under its run, in place of what that run stored before (a partial map saved as
    its baseline went)."""
    with connect(db) as con:
        con.execute("BEGIN")
        _delete(con, [stored.run_id])
        con.execute("INSERT INTO baseline_maps (run_id, key, startup, saved, partial, probes) VALUES (?, ?, ?, now(), ?, ?)",
                    [stored.run_id, key, stored.startup, stored.partial, stored.probes])
        tests, lines = stored.tests, stored.lines
        # One statement per table, columns as lists: DuckDB unnests them side by side.
        con.execute("INSERT INTO baseline_tests SELECT ?, unnest(?), unnest(?), unnest(?), unnest(?)",
                    [stored.run_id, list(range(len(tests))), [t.name for t in tests], [t.seconds for t in tests],
                     [t.observer for t in tests]])
        if lines:
            con.execute("INSERT INTO baseline_lines SELECT ?, unnest(?), unnest(?), unnest(?), unnest(?)",
                        [stored.run_id, [m.file for m in lines], [m.line for m in lines], [list(m.tests) for m in lines],
                         [m.at_import for m in lines]])
        if stored.files:
            names = list(stored.files)
            con.execute("INSERT INTO baseline_files SELECT ?, unnest(?), unnest(?), unnest(?), unnest(?)",
                        [stored.run_id, names, [stored.files[f] for f in names], [stored.shapes.get(f) for f in names],
                         [json.dumps(stored.import_functions[f]) if f in stored.import_functions else None
                          for f in names]])
        # The newest complete map is kept whatever came after it: it is the one a later run reuses,
        # and three interrupted runs in a row must not make the next one measure everything.
        old = [row[0] for row in con.execute(
            f"SELECT run_id FROM baseline_maps WHERE key = ? AND run_id IS DISTINCT FROM ({_NEWEST_COMPLETE})"
            " ORDER BY saved DESC OFFSET ?", [key, key, KEEP_PER_KEY]).fetchall()]
        _delete(con, old)
        con.execute("COMMIT")


_COMPLETE = "NOT coalesce(m.partial, false) AND m.probes IS NULL"
_NEWEST_COMPLETE = f"SELECT m.run_id FROM baseline_maps m WHERE m.key = ? AND {_COMPLETE} ORDER BY m.saved DESC LIMIT 1"


def _delete(con: object, run_ids: list[str]) -> None:
    for table in ("baseline_maps", "baseline_tests", "baseline_lines", "baseline_files"):
        con.execute(f"DELETE FROM {table} WHERE list_contains(?, run_id)", [run_ids])


def drop_map(db: Path, run_id: str) -> None:
    """Forget what `run_id` stored (a probe baseline's partial map, once the baseline is whole)."""
    with connect(db) as con:
        con.execute("BEGIN")
        _delete(con, [run_id])
        con.execute("COMMIT")


def stored_maps(db: Path, key: str, probes: str | None = None) -> list[StoredMap]:
    """The maps that may stand in for a run's baseline under `key`, newest complete one first: the
    newest complete map (whatever became of its run: it is saved only once its baseline is whole),
    and the newest partial map saved after it by a run that has ended, of every line or of the
    probed ranges `probes` (a probe baseline's). Empty if there is none (or no database)."""
    if not Path(db).is_file():
        return []
    with connect(db, read_only=True) as con:
        complete = con.execute(_NEWEST_COMPLETE.replace("m.run_id FROM", "m.run_id, m.saved FROM"), [key]).fetchone()
        partial = con.execute(
            "SELECT m.run_id FROM baseline_maps m JOIN runs r USING (run_id) WHERE m.key = ? AND m.partial"
            " AND (m.probes IS NULL OR m.probes = ?) AND r.status <> ? AND m.saved > ?"
            " ORDER BY m.saved DESC LIMIT 1",
            [key, probes, RunStatus.RUNNING, complete[1] if complete else datetime.min]).fetchone()
        return [_read(con, row[0]) for row in (complete, partial) if row is not None]


def latest_map(db: Path, key: str) -> StoredMap | None:
    """The newest complete map stored under `key`; None if there is none (or no database)."""
    if not Path(db).is_file():
        return None
    with connect(db, read_only=True) as con:
        row = con.execute(_NEWEST_COMPLETE, [key]).fetchone()
        return _read(con, row[0]) if row is not None else None


def complete_map_of(db: Path, run_id: str) -> tuple[str, StoredMap] | None:
    """The complete map of every line that `run_id` stored, with its key; None if it stored none (a probe
    baseline, or one stopped midway)."""
    if not Path(db).is_file():
        return None
    with connect(db, read_only=True) as con:
        row = con.execute(f"SELECT m.key FROM baseline_maps m WHERE m.run_id = ? AND {_COMPLETE}", [run_id]).fetchone()
        return (row[0], _read(con, run_id)) if row is not None else None


def _read(con: object, run_id: str) -> StoredMap:
    startup, partial, probes = con.execute(
        "SELECT startup, coalesce(partial, false), probes FROM baseline_maps WHERE run_id = ?", [run_id]).fetchone()
    tests = tuple(MapTest(name, seconds, observer) for name, seconds, observer in con.execute(
        "SELECT test, seconds, observer FROM baseline_tests WHERE run_id = ? ORDER BY position", [run_id]).fetchall())
    lines = tuple(MapLine(file, line, tuple(positions), at_import) for file, line, positions, at_import in con.execute(
        "SELECT file, line, tests, at_import FROM baseline_lines WHERE run_id = ?", [run_id]).fetchall())
    rows = con.execute("SELECT file, blob, shape, import_functions FROM baseline_files WHERE run_id = ?",
                       [run_id]).fetchall()
    return StoredMap(run_id, tests, lines, {f: blob for f, blob, _, _ in rows}, startup,
                     {f: shape for f, _, shape, _ in rows if shape},
                     {f: json.loads(called) for f, _, _, called in rows if called}, partial, probes)

