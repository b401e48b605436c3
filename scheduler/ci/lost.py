"""What a local run uses that CI's runs would not see: CI checks out the committed files and runs
`mutagate run` with the workflow's flags, so settings in a file that is changed, new or ignored,
and `--deselect`s given only on the command line, are lost there (a known-failing test left out
here would make every CI run exit 2). `mutagate ci` says each, with what to do."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import duckdb

from results.errors import ResultsError
from results.store import connect

# The files a run's configuration comes from: mutagate's and pytest's (its rootdir's ini files and
# the root conftest.py, where deselects and addopts live).
SETTING_FILES = ("pyproject.toml", "pytest.ini", ".pytest.ini", "setup.cfg", "tox.ini", "conftest.py")
_STATES = {"??": "is not committed", "!!": "is ignored by git", "A": "is staged but not committed",
           "M": "has uncommitted changes", "D": "is deleted but not committed"}


def lost_settings(root: Path, db: Path, committed_deselect: tuple[str, ...]) -> tuple[str, ...]:
    """One line per setting CI would lose."""
    return (*_uncommitted(root), *_command_line_deselects(db, committed_deselect))


def _uncommitted(root: Path) -> list[str]:
    listing = subprocess.run(["git", "status", "--porcelain=v1", "--ignored", "-z", "--", *SETTING_FILES],
                             cwd=root, capture_output=True, text=True).stdout
    said = []
    for entry in filter(None, listing.split("\0")):
        code, path = entry[:2], entry[3:]
        if path not in SETTING_FILES:
            continue  # a file of that name in a subfolder (git status matches the pathspec anywhere below)
        state = _STATES.get(code) or next((v for k, v in _STATES.items() if k in code), "differs from HEAD")
        what = _changed_tables(root, path) if path == "pyproject.toml" else ""
        if path == "pyproject.toml" and code in (" M", "M ", "MM") and not what:
            continue  # changes to other tables: nothing a run reads
        said.append(f"not in CI: {path} {state}{what}; CI checks out what is committed, so commit it "
                    "(or its settings)")
    return said


def _changed_tables(root: Path, path: str) -> str:
    """Which of the run's tables in pyproject.toml differ from the committed file."""
    try:
        now = tomllib.loads((root / path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return ""
    shown = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=root, capture_output=True, text=True)
    try:
        before = tomllib.loads(shown.stdout) if shown.returncode == 0 else {}
    except tomllib.TOMLDecodeError:
        before = {}
    tables = []
    for name, get in (("[tool.mutagate]", lambda d: _tool(d, "mutagate")),
                      ("[tool.pytest.ini_options]", lambda d: _tool(d, "pytest").get("ini_options", {}))):
        old, new = get(before), get(now)
        keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        if keys:
            tables.append(f"{name} {', '.join(keys)}")
    return f" ({'; '.join(tables)})" if tables else ""


def _tool(data: dict[str, Any], name: str) -> dict[str, Any]:
    tool = data.get("tool", {})
    table = tool.get(name, {}) if isinstance(tool, dict) else {}
    return table if isinstance(table, dict) else {}


def _command_line_deselects(db: Path, committed: tuple[str, ...]) -> list[str]:
    """The `--deselect`s the latest run here was given on its command line, not in the config."""
    if not Path(db).is_file():
        return []
    try:
        with connect(db, read_only=True) as con:
            row = con.execute("SELECT run_id, config FROM runs ORDER BY started DESC LIMIT 1").fetchone()
    except (ResultsError, duckdb.Error):
        return []  # no readable history: nothing to compare with
    if row is None:
        return []
    run_id, config = row
    given = [t for t in (json.loads(config or "{}").get("deselect") or []) if t not in committed]
    if not given:
        return []
    toml = "deselect = [" + ", ".join(json.dumps(t) for t in given) + "]"
    return [f"not in CI: the latest run here ({run_id}) left out {', '.join(given)} with --deselect on its command "
            f"line; CI's runs will not: add {toml} to [tool.mutagate] and commit it"]
