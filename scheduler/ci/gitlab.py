"""GitLab CI: one file with the merge request job and the nightly job, included from .gitlab-ci.yml
(written too when the repository has none)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mutator.git import GitError, git_text
from scheduler.ci.github import Generated
from scheduler.ci.install import https_url
from scheduler.ci.project import Project
from scheduler.ci.template import fill
from scheduler.provenance import TOOL_VERSION

GITLAB_FILE = "mutagate.gitlab-ci.yml"
SHARDED_NIGHTLY = "mutagate-nightly-sharded.gitlab-ci.yml"  # replaces the nightly job with --shards
_NIGHTLY_START = "# Nightly (a pipeline schedule)"
MAX_GITLAB_SHARDS = 200  # GitLab's limit on `parallel:`


def _scalar(line: str) -> str:
    """A shell line as a YAML list item's scalar: quoted when YAML would read it as something else."""
    return json.dumps(line) if re.search(r": | #|^[\[\]{}&*!|>'\"%@`-]", line) else line


def _badge_url(root: Path) -> str:
    try:
        url = https_url(git_text(root, "remote", "get-url", "origin").strip()) or ""
    except GitError:
        url = ""
    hosted = url.startswith("https://") and "://github.com/" not in url
    project = url.removesuffix(".git") if hosted else "https://gitlab.com/GROUP/PROJECT"
    return f"{project}/-/jobs/artifacts/BRANCH/raw/mutagate-site/badge.svg?job=mutagate-nightly"


def gitlab_ci(project: Project, folder: Path, mutagate_pip: str, install_why: str, write_root_ci: bool,
              shards: int | None = None) -> Generated:
    """`shards`: the nightly job split into a `parallel:` shard job and a merge job."""
    target = folder / GITLAB_FILE
    try:
        include = target.relative_to(project.root).as_posix()
    except ValueError:
        include = GITLAB_FILE
    installed = f"mutagate installed as {json.dumps(mutagate_pip)} ({install_why})"
    header = [f"#   {' '.join(line.split())}" for line in (*project.said, installed)]
    values: dict[str, str | list[str]] = {
        "VERSION": TOOL_VERSION,
        "HEADER": header,
        "INCLUDE_PATH": include,
        "PYTHON_VERSION": project.python.version,
        "INSTALL": [f"    - {_scalar(line)}" for line in project.python.install],
        "MUTAGATE_PIP": json.dumps(mutagate_pip)[1:-1],
        "GATE": f" --fail-under {project.gate:g}" if project.gate is not None else "",
        "BADGE_URL": _badge_url(project.root),
    }
    text = fill(GITLAB_FILE, values)
    if shards is not None:
        text = text[:text.index(_NIGHTLY_START)] + fill(SHARDED_NIGHTLY, values | {"SHARDS": str(shards)})
    files = {target: text}
    root_ci = project.root / ".gitlab-ci.yml"
    include_line = f"include:\n  - local: {include}\n"
    schedule = "create a pipeline schedule (Build > Pipeline schedules) for the nightly job on the default branch"
    if write_root_ci and not root_ci.exists():
        files[root_ci] = f"# mutagate's jobs (written by `mutagate ci gitlab`)\n{include_line}"
        step = schedule
    elif root_ci.is_file() and f"local: {include}" in root_ci.read_text(encoding="utf-8", errors="replace"):
        step = schedule  # already included
    else:
        step = (f"include it from .gitlab-ci.yml (`include: [{{local: {include}}}]`), then create a pipeline schedule "
                "for the nightly job")
    badge = f"[![mutation score]({_badge_url(project.root)})]({_badge_url(project.root).replace('badge.svg', 'index.html')})"
    return Generated(files, step, badge)
