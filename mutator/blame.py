"""`git blame --porcelain` of many files in parallel: each line's commit and its line at that commit.

`-M` follows lines moved within a file and `-C` lines moved or copied from another file changed in
the same commit: code an agent wrote keeps its agent when a human later moves it to a new module
(the human did not write it). Renames are followed by blame itself.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from mutator.git import GitError, Repo, run_git


@dataclass(frozen=True, slots=True)
class BlameLine:
    line: int  # 1-based, in the blamed snapshot
    commit: str  # 40 hex; all zeros for a line not committed yet
    orig_line: int  # the line's number in `orig_path` at `commit`
    orig_path: str


def blame_file(repo: Repo, path: str, rev: str | None) -> list[BlameLine]:
    """Blame `path` at `rev`, or the working tree (uncommitted lines get the zero sha) if None."""
    args = ["blame", "--porcelain", "-M", "-C"]
    if rev:
        args.append(rev)
    out = run_git(repo.root, *args, "--", path)
    return parse_porcelain(out.decode("utf-8", "replace"))


def parse_porcelain(text: str) -> list[BlameLine]:
    lines: list[BlameLine] = []
    path_of: dict[str, str] = {}
    sha = ""
    orig = final = 0
    for row in text.split("\n"):
        if not row:
            continue
        if row[0] == "\t":
            lines.append(BlameLine(final, sha, orig, path_of.get(sha, "")))
            continue
        parts = row.split(" ")
        if len(parts[0]) == 40 and len(parts) >= 3 and parts[1].isdigit():
            sha, orig, final = parts[0], int(parts[1]), int(parts[2])
        elif parts[0] == "filename":
            # Printed when a commit first appears, and again where it touched more than one path.
            path_of[sha] = row[len("filename ") :]
    return lines


def blame_files(repo: Repo, paths: list[str], rev: str | None) -> dict[str, list[BlameLine]]:
    """Blame files concurrently: the work is in git subprocesses, so threads suffice."""
    workers = max(2, (os.cpu_count() or 2) * 2)
    results: dict[str, list[BlameLine]] = {}

    def one(path: str) -> tuple[str, list[BlameLine] | None]:
        try:
            return path, blame_file(repo, path, rev)
        except GitError:
            return path, None  # e.g. a file not in `rev` (untracked): the caller decides

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for path, blamed in pool.map(one, paths):
            if blamed is not None:
                results[path] = blamed
    return results
