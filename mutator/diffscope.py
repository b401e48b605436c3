"""Narrowing to changed lines: which lines of the new side a `git diff` adds or changes."""

from __future__ import annotations

import re

from mutator.git import Repo, run_git

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def changed_lines(repo: Repo, base: str, rev: str | None) -> dict[str, set[int]]:
    """New-side line numbers added or changed between `base` and `rev` (the working tree if None).

    Renames are detected, so a renamed file contributes only the lines it changed.
    """
    args = ["diff", "-U0", "-M", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", base]
    if rev:
        args.append(rev)
    out = run_git(repo.root, *args, "--", "*.py").decode("utf-8", "replace")
    return parse_unified_zero(out)


def parse_unified_zero(diff: str) -> dict[str, set[int]]:
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    for row in diff.splitlines():
        if row.startswith("+++ "):
            target = row[4:]
            current = None if target == "/dev/null" else changed.setdefault(target[2:], set())
        elif row.startswith("@@") and current is not None:
            match = _HUNK.match(row)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or 1)
                current.update(range(start, start + count))
    return changed
