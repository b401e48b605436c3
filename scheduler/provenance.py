"""What every stored run records about where it came from: the tool's version, a run id, the branch."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mutator.git import git_text


def _tool_version() -> str:
    # From the installed distribution, so it cannot drift from pyproject; it feeds every cache key.
    try:
        return version("mutagate")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


TOOL_VERSION = _tool_version()


def new_run_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def current_branch(root: Path) -> str | None:
    """The branch being tested: CI's own variable first (a PR checkout is often a detached merge)."""
    for variable in ("GITHUB_HEAD_REF", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "BRANCH_NAME"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        name = git_text(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    except Exception:  # noqa: BLE001 - a detached or odd HEAD has no branch
        return None
    return None if name == "HEAD" else name
