"""Thin, checked access to the git command line.

Everything mutagate learns from a repository goes through here so that git's failures turn into
one-line `BadInput` errors instead of tracebacks.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from mutator.errors import BadInput

ZERO_SHA = "0" * 40


class GitError(Exception):
    """A git command failed; carries git's own first error line."""


def run_git(repo: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=repo,
            input=input,
            capture_output=True,
        )
    except FileNotFoundError:
        raise BadInput("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[0] if message else f"git {' '.join(args)} failed")
    return proc.stdout


def git_text(repo: Path, *args: str) -> str:
    return run_git(repo, *args).decode("utf-8", "replace")


@dataclass(frozen=True)
class Repo:
    """A checked, non-shallow repository with at least one commit."""

    root: Path
    head: str


def open_repo(path: Path) -> Repo:
    """Find the repository containing `path` and refuse the inputs blame cannot answer."""
    path = Path(path).resolve()
    if not path.exists():
        raise BadInput(f"no such directory: {path}")
    start = path if path.is_dir() else path.parent
    try:
        root = Path(git_text(start, "rev-parse", "--show-toplevel").strip())
    except GitError:
        raise BadInput(f"not a git repository: {path}") from None
    try:
        head = git_text(root, "rev-parse", "--verify", "-q", "HEAD^{commit}").strip()
    except GitError:
        raise BadInput(f"the repository at {root} has no commits yet") from None
    if git_text(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise BadInput(
            f"{root} is a shallow clone: blame would pin every old line on the graft commit; "
            "deepen it with `git fetch --unshallow` (in CI: actions/checkout with fetch-depth: 0)"
        )
    return Repo(root=root, head=head)


def resolve_commit(repo: Repo, ref: str) -> str:
    try:
        return git_text(repo.root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}").strip()
    except GitError:
        raise BadInput(f"unknown git ref: {ref!r}") from None


def merge_base(repo: Repo, ref: str) -> str:
    base = resolve_commit(repo, ref)
    try:
        return git_text(repo.root, "merge-base", base, repo.head).strip()
    except GitError:
        raise BadInput(f"{ref!r} and HEAD have no common ancestor") from None
