"""A stored mutant as text: its file as the run's commit had it, the file with the mutant spliced in,
and the diff between them (what `mutagate show`, `mutagate apply` and the MCP server's explain_mutant use)."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Protocol

from mutator.git import GitError, run_git
from results.runs import StoredMutant

CONTEXT_LINES = 3


class Span(Protocol):
    line: int
    end_line: int
    col: int  # 1-based, in characters
    end_col: int  # exclusive
    original: str
    replacement: str


def splice(text: str, span: Span) -> str | None:
    """`text` with the mutant in place, or None when `text` does not hold its original at its place.
    Lines are split on "\\n" only, as the parser counted them; a "\\r" stays part of its line."""
    starts = [0]
    starts += [i + 1 for i, char in enumerate(text) if char == "\n"]
    if not 1 <= span.line <= span.end_line <= len(starts):
        return None
    start = starts[span.line - 1] + span.col - 1
    end = starts[span.end_line - 1] + span.end_col - 1
    if 0 <= start <= end <= len(text) and text[start:end] == span.original:
        return text[:start] + span.replacement + text[end:]
    # An imported mutmut mutant is a whole line without its indentation, at column 1: the line's text must match.
    if span.col == 1 and span.line == span.end_line:
        line = text[starts[span.line - 1]:].partition("\n")[0]
        body = line.strip()
        if body and body == span.original:
            start = starts[span.line - 1] + len(line) - len(line.lstrip())
            return text[:start] + span.replacement + text[start + len(body):]
    return None


def source_at_run(mutant: StoredMutant, fallback_repo: Path) -> str | None:
    """The file at the run's commit: from the repository the run recorded, else from the one at hand
    (a database copied from CI names a path that does not exist here); None if neither has it."""
    for repo in (Path(mutant.repo), fallback_repo):
        if repo.is_dir():
            try:
                return run_git(repo, "show", f"{mutant.head_commit}:{mutant.file}").decode("utf-8", "replace")
            except GitError:
                continue
    return None


def mutant_diff(mutant: StoredMutant, fallback_repo: Path) -> str:
    """A unified diff of the file as the run's commit has it, with the mutant in place. When that text
    is gone or does not hold the mutant at its place, the edit alone."""
    source = source_at_run(mutant, fallback_repo)
    mutated = splice(source, mutant) if source is not None else None
    if source is None or mutated is None:
        why = "is not at hand" if source is None else "does not hold it at its place"
        return (f"@@ {mutant.file}:{mutant.line} (the edit alone: the file at {mutant.head_commit[:10]} {why}) @@\n"
                + "".join(f"-{line}\n" for line in mutant.original.splitlines())
                + "".join(f"+{line}\n" for line in mutant.replacement.splitlines()))
    diff = difflib.unified_diff(source.splitlines(keepends=True), mutated.splitlines(keepends=True),
                                f"a/{mutant.file}", f"b/{mutant.file}", n=CONTEXT_LINES)
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)  # a last line without one
