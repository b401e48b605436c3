"""Run the real `mutagate` command in a subprocess, as a user or a CI script would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ENTRY = "import sys; from scheduler.cli import main; sys.exit(main())"
PROJECT = Path(__file__).resolve().parents[1]


def mutagate(*args: str, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`env` adds to (or overrides) the defaults, e.g. a narrower COLUMNS."""
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        # No timed progress ticks unless a test asks: on a loaded machine they would land among the
        # lines a test reads (a phase's end still prints its line).
        env={**os.environ, "PYTHONPATH": str(PROJECT), "COLUMNS": "200", "MUTAGATE_PROGRESS_SECONDS": "0",
             **(env or {})},
    )


def run_process(root: Path, db: Path, *flags: str, jobs: int | None = 1,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`mutagate run --json [--jobs N] --db DB FLAGS...` in `root` (jobs None: the default, the cores)."""
    workers = ("--jobs", str(jobs)) if jobs is not None else ()
    return mutagate("run", "--json", *workers, "--db", str(db), *flags, cwd=root, env=env)


def run_json(root: Path, db: Path, *flags: str, jobs: int | None = 1, codes: tuple[int, ...] = (0,),
             env: dict[str, str] | None = None) -> dict:
    """The one way the tests run `mutagate run --json`: its summary, once its exit code is one of `codes`."""
    result = run_process(root, db, *flags, jobs=jobs, env=env)
    assert result.returncode in codes, (result.returncode, result.stderr)
    return json.loads(result.stdout)


def assert_bad_input(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 2, exactly one line on stderr, no traceback, and the line says what is wrong."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def stop_mid_run(root: Path, db: Path, signum: int, *flags: str, measured: int = 3
                 ) -> tuple[int, subprocess.CompletedProcess[str]]:
    """Start a real `mutagate run`, wait until it has stored `measured` selection verdicts, send it
    `signum`; returns its pid and how it ended."""
    import time

    import duckdb

    process = subprocess.Popen([sys.executable, "-c", ENTRY, "run", "--jobs", "1", "--db", str(db), *flags],
                               cwd=root, env={**os.environ, "PYTHONPATH": str(PROJECT)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done, deadline = 0, time.monotonic() + 120
    while done < measured and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        try:
            with duckdb.connect(str(db), read_only=True) as con:
                done = con.execute("SELECT count(*) FROM outcomes WHERE phase = 'select'").fetchone()[0]
        except duckdb.Error:
            continue  # the run is writing right now
    assert process.poll() is None, "the run ended before it could be stopped"
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    return process.pid, subprocess.CompletedProcess(process.args, process.returncode, out, err)
