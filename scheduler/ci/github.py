"""The two GitHub Actions workflows: mutagate-pr.yml (the gate, the sticky comment, SARIF, the badge
endpoint) and mutagate-nightly.yml (the full run, the history, the badge and report on GitHub Pages)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from mutator.git import GitError, git_text
from scheduler.ci.install import https_url
from scheduler.ci.project import Project
from scheduler.ci.template import fill
from scheduler.provenance import TOOL_VERSION

PR_WORKFLOW, NIGHTLY_WORKFLOW = "mutagate-pr.yml", "mutagate-nightly.yml"
MANUAL_STEP = ("enable GitHub Pages for the nightly's badge and report: Settings > Pages > Build and deployment > "
               "Source: GitHub Actions")


@dataclass(frozen=True)
class Generated:
    files: dict[Path, str]
    manual_step: str
    badge_markdown: str


def _header(project: Project, guesses: tuple[str, ...]) -> list[str]:
    # One comment line each, whatever a value from the project holds (a newline would end the comment).
    return [f"#   {' '.join(line.split())}" for line in (*project.said, *guesses)]


def _python_inputs(project: Project) -> list[str]:
    python = project.python
    lines = ([f"python-version-file: {python.version_file}"] if python.version_file
             else [f'python-version: "{python.version}"'])
    if python.dependency_files:
        lines += ["cache: pip", "cache-dependency-path: |", *(f"  {name}" for name in python.dependency_files)]
    return lines


def github_slug(root: Path) -> str | None:
    """owner/repo of the `origin` remote on github.com, if it is there."""
    try:
        url = https_url(git_text(root, "remote", "get-url", "origin").strip())
    except GitError:
        return None
    match = re.match(r"^https://(?:[^@/]+@)?github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", url or "")
    return f"{match[1]}/{match[2]}" if match else None


def badge_markdown(slug: str | None) -> str:
    owner, repo = slug.split("/") if slug else ("OWNER", "REPO")
    site = f"https://{owner}.github.io/{repo}"
    return f"[![mutation score]({site}/badge.svg)]({site}/)"


# The largest matrix GitHub runs for one job.
MAX_GITHUB_SHARDS = 256


def github_workflows(project: Project, folder: Path, mutagate_pip: str, install_why: str,
                     shards: int | None = None) -> Generated:
    """`shards`: the nightly split over that many matrix jobs and a merge job (mutagate-nightly-sharded.yml)."""
    values = {
        "VERSION": TOOL_VERSION,
        "HEADER": _header(project, (f"mutagate installed as {json.dumps(mutagate_pip)} ({install_why})",)),
        "PYTHON": [f"          {line}" for line in _python_inputs(project)],
        "INSTALL": [f"          {line}" for line in (*project.python.install, 'python -m pip install "$MUTAGATE_PIP"')],
        "MUTAGATE_PIP": json.dumps(mutagate_pip)[1:-1],  # inside the template's double quotes
        "GATE": f" --fail-under {project.gate:g}" if project.gate is not None else "",
    }
    nightly = NIGHTLY_WORKFLOW
    if shards is not None:
        values |= {"SHARDS": str(shards), "SHARD_LIST": json.dumps(list(range(1, shards + 1)))}
        nightly = "mutagate-nightly-sharded.yml"
    files = {folder / PR_WORKFLOW: fill(PR_WORKFLOW, values), folder / NIGHTLY_WORKFLOW: fill(nightly, values)}
    return Generated(files, MANUAL_STEP, badge_markdown(github_slug(project.root)))
