"""Which branch `--compare-to base` means, and why: the first that answers of

1. `GITHUB_BASE_REF` (a pull request on GitHub Actions),
2. `CI_MERGE_REQUEST_TARGET_BRANCH_NAME` (a merge request on GitLab CI),
3. the reported run's own `--base` (`origin/main` -> `main`),
4. the repository's default branch: `origin/HEAD`, else `init.defaultBranch`, else `main` or `master`,
   whichever exists.
"""

from __future__ import annotations

import os
from pathlib import Path

from mutator.git import GitError, git_text

_CI_VARIABLES = ("GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME")


def _branch_name(ref: str, remotes: list[str]) -> str:
    """`origin/main`, `refs/remotes/origin/main`, `refs/heads/main` -> `main`."""
    for prefix in ("refs/heads/", "refs/remotes/"):
        ref = ref.removeprefix(prefix)
    head, _, rest = ref.partition("/")
    return rest if rest and head in remotes else ref


def _git(root: Path, *args: str) -> str:
    try:
        return git_text(root, *args).strip()
    except GitError:
        return ""


def default_branch(root: Path) -> tuple[str, str]:
    remotes = _git(root, "remote").split()
    origin_head = _git(root, "symbolic-ref", "-q", "refs/remotes/origin/HEAD")
    if origin_head:
        return _branch_name(origin_head, remotes), "the default branch (origin/HEAD)"
    configured = _git(root, "config", "init.defaultBranch")
    for name in ([configured] if configured else []) + ["main", "master"]:
        if _git(root, "rev-parse", "--verify", "-q", f"refs/heads/{name}") or any(
                _git(root, "rev-parse", "--verify", "-q", f"refs/remotes/{r}/{name}") for r in remotes):
            return name, "the default branch"
    return "main", "the default branch (assumed)"


def base_branch(root: Path, run_base_ref: str | None) -> tuple[str, str]:
    """The base branch's name and where it came from."""
    for variable in _CI_VARIABLES:
        if os.environ.get(variable):
            return os.environ[variable], f"${variable}"
    if run_base_ref:
        return _branch_name(run_base_ref, _git(root, "remote").split()), f"the run's --base {run_base_ref}"
    return default_branch(root)
