"""Commit metadata for many commits at once, through one `git cat-file --batch` process."""

from __future__ import annotations

from collections.abc import Iterable

from mutator.git import Repo, run_git
from mutator.signals import CommitInfo


def read_objects(repo: Repo, names: Iterable[str]) -> dict[str, bytes | None]:
    """Contents of many git objects (`<sha>`, `HEAD:path`, ...) in one process; None if missing."""
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    out = run_git(repo.root, "cat-file", "--batch", input=("\n".join(names) + "\n").encode())
    found: dict[str, bytes | None] = {}
    pos = 0
    for name in names:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 2 and header[1] == b"missing":
            found[name] = None
            continue
        size = int(header[2])
        found[name] = out[pos : pos + size]
        pos += size + 1  # the content is followed by a newline
    return found


def read_commits(repo: Repo, shas: Iterable[str]) -> dict[str, CommitInfo]:
    commits = {}
    for sha, raw in read_objects(repo, shas).items():
        if raw is not None:
            commits[sha] = parse_commit(sha, raw)
    return commits


def parse_commit(sha: str, raw: bytes) -> CommitInfo:
    head, _, body = raw.partition(b"\n\n")
    author = committer = ""
    for line in head.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if key in ("author", "committer"):
            # "Name <email> 1700000000 +0000" -> "Name <email>"
            identity = value.rsplit(" ", 2)[0]
            if key == "author":
                author = identity
            else:
                committer = identity
    return CommitInfo(sha=sha, author=author, committer=committer, message=body.decode("utf-8", "replace"))
