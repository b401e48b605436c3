"""Stored coverage baselines: a run's per-test line map, kept so that a later run re-measures only
the tests a change can have moved (see scheduler/baseline_reuse.py).

Plain rows in and out: the scheduler turns them into its Baseline. A map is stored under a key
(tool version, interpreter, test arguments: what must match for it to stand in for a run) with
the content (git blob id) of every file at the time it was measured.
"""

from __future__ import annotations

import json
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


def save_map(db: Path, key: str, stored: StoredMap) -> None:
    with connect(db) as con:
        con.execute("BEGIN")
        con.execute("INSERT INTO baseline_maps VALUES (?, ?, ?, now())", [stored.run_id, key, stored.startup])
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
        # The newest map of a finished run is kept whatever came after it: it is the one a later run
        # reuses, and three interrupted runs in a row must not make the next one measure everything.
        old = [row[0] for row in con.execute(
            "SELECT run_id FROM baseline_maps WHERE key = ? AND run_id NOT IN ("
            " SELECT m.run_id FROM baseline_maps m JOIN runs r ON r.run_id = m.run_id"
            " WHERE m.key = ? AND r.status = ? ORDER BY m.saved DESC LIMIT 1)"
            " ORDER BY saved DESC OFFSET ?", [key, key, RunStatus.FINISHED, KEEP_PER_KEY]).fetchall()]
        for table in ("baseline_maps", "baseline_tests", "baseline_lines", "baseline_files"):
            con.execute(f"DELETE FROM {table} WHERE list_contains(?, run_id)", [old])
        con.execute("COMMIT")


def latest_map(db: Path, key: str) -> StoredMap | None:
    """The newest map stored under `key` by a finished run; None if there is none (or no database)."""
    if not Path(db).is_file():
        return None
    with connect(db, read_only=True) as con:
        row = con.execute(
            "SELECT m.run_id, m.startup FROM baseline_maps m JOIN runs r USING (run_id)"
            " WHERE m.key = ? AND r.status = ? ORDER BY m.saved DESC LIMIT 1", [key, RunStatus.FINISHED]).fetchone()
        if row is None:
            return None
        run_id, startup = row
        tests = tuple(MapTest(name, seconds, observer) for name, seconds, observer in con.execute(
            "SELECT test, seconds, observer FROM baseline_tests WHERE run_id = ? ORDER BY position", [run_id]).fetchall())
        lines = tuple(MapLine(file, line, tuple(positions), at_import) for file, line, positions, at_import in con.execute(
            "SELECT file, line, tests, at_import FROM baseline_lines WHERE run_id = ?", [run_id]).fetchall())
        rows = con.execute("SELECT file, blob, shape, import_functions FROM baseline_files WHERE run_id = ?",
                           [run_id]).fetchall()
    return StoredMap(run_id, tests, lines, {f: blob for f, blob, _, _ in rows}, startup,
                     {f: shape for f, _, shape, _ in rows if shape},
                     {f: json.loads(called) for f, _, _, called in rows if called})
