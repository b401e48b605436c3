"""Run the real `mutagate` command in a subprocess, as a user or a CI script would."""

from __future__ import annotations

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
        env={**__import__("os").environ, "PYTHONPATH": str(PROJECT), "COLUMNS": "200", **(env or {})},
    )


def assert_bad_input(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 2, exactly one line on stderr, no traceback, and the line says what is wrong."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
