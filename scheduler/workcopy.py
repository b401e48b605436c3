"""Work copies: mutants never run in the user's checkout.

One snapshot of exactly what was attributed (HEAD's tree, or the working tree in `--agent` scope)
is made per run, committed to a private git repository so that anything a mutant writes can be
detected and undone, and cloned once per worker.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from mutator.attribution import Attribution
from mutator.git import git_text, run_git

_QUIET_GIT = {
    "GIT_AUTHOR_NAME": "mutagate", "GIT_AUTHOR_EMAIL": "mutagate@localhost",
    "GIT_COMMITTER_NAME": "mutagate", "GIT_COMMITTER_EMAIL": "mutagate@localhost",
}


def _git(path: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True,
                          env={**os.environ, **_QUIET_GIT})
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {path}: {proc.stderr.strip()}")
    return proc.stdout


def make_snapshot(attribution: Attribution, dest: Path) -> Path:
    """Copy the attributed snapshot of the repository to `dest` and commit it there."""
    dest.mkdir(parents=True, exist_ok=True)
    root = attribution.root
    if attribution.working_tree:
        listing = git_text(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        for name in filter(None, listing.split("\0")):
            source = root / name
            if source.is_file() and not source.is_symlink():
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    else:
        archive = run_git(root, "archive", "--format=tar", attribution.head)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
    return _commit_all(dest)


def _commit_all(dest: Path) -> Path:
    _git(dest, "init", "-q")
    _git(dest, "add", "-A", "-f")
    _git(dest, "commit", "-q", "--no-verify", "--allow-empty", "-m", "mutagate snapshot")
    return dest


def work_copy_from(source: Path, dest: Path) -> Path:
    """A work copy from a snapshot as it reached this node: a clone if its git data came along,
    otherwise a copy committed afresh (Ray's working_dir upload may leave .git behind)."""
    if (source / ".git").is_dir():
        return clone_snapshot(source, dest)
    shutil.copytree(source, dest, symlinks=True)
    return _commit_all(dest)


def clone_snapshot(snapshot: Path, dest: Path) -> Path:
    _git(snapshot.parent, "clone", "-q", "--no-hardlinks", str(snapshot), str(dest))
    return dest


def restore_if_dirty(workdir: Path) -> bool:
    """Undo anything a mutant or a test wrote into the work copy; True if something was undone."""
    status = _git(workdir, "status", "--porcelain", "--ignored", "--untracked-files=all")
    if not status.strip():
        return False
    _git(workdir, "checkout", "-q", "--", ".")
    _git(workdir, "clean", "-q", "-f", "-d", "-x")
    return True
