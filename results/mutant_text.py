"""A mutant as text, for every front end: the run's summary, `show`, `mutants`, `apply`, the PR comment, the
GitHub annotations, GitLab's Code Quality, the dashboard, `weak-tests`, the hooks' reason and the MCP server.

Three renderings, each made here only:
- the whole lines a mutant changes, before and after (`changed_lines`), and those lines on one line each
  (`one_line`: a statement over three lines reads `return sum( ↵ (p for p in prices), start ↵ )`);
- a unified diff of its file (`file_diff`, `RunSources.diff`), or its edit alone when no text holds it;
- its edit on one short line (`edit_text`), where its lines are not at hand.

Which text holds a stored mutant (`RunSources`): the file at the run's commit, or the run's working tree
for a line that was uncommitted (an agent's work checked before it commits), whichever holds the
mutant's original at its place; the other one, then, when the first does not."""

from __future__ import annotations

import difflib
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from results.stored_mutant import UNCOMMITTED

CONTEXT_LINES = 3  # of a diff in `show` and explain_mutant; `mutants` and the hooks' findings show 1
EDIT_CHARS = 40  # an edit's side on one short line


class Span(Protocol):
    """Where a mutant sits and what it changes: what a generated, planned or stored mutant all have."""

    @property
    def line(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def col(self) -> int: ...  # 1-based, in characters
    @property
    def end_col(self) -> int: ...  # exclusive
    @property
    def original(self) -> str: ...
    @property
    def replacement(self) -> str: ...


def _place(text: str, span: Span) -> tuple[int, int] | None:
    """Where in `text` the mutant's original sits, as character offsets; None if it is not there.
    Lines are split on "\\n" only, as the parser counted them; a "\\r" stays part of its line."""
    starts = [0]
    starts += [i + 1 for i, char in enumerate(text) if char == "\n"]
    if not 1 <= span.line <= span.end_line <= len(starts):
        return None
    start = starts[span.line - 1] + span.col - 1
    end = starts[span.end_line - 1] + span.end_col - 1
    if 0 <= start <= end <= len(text) and text[start:end] == span.original:
        return start, end
    # An imported mutmut mutant is a whole line without its indentation, at column 1: the line's text must match.
    if span.col == 1 and span.line == span.end_line:
        line = text[starts[span.line - 1]:].partition("\n")[0]
        body = line.strip()
        if body and body == span.original:
            start = starts[span.line - 1] + len(line) - len(line.lstrip())
            return start, start + len(body)
    return None


def splice(text: str, span: Span) -> str | None:
    """`text` with the mutant in place, or None when `text` does not hold its original at its place."""
    place = _place(text, span)
    return None if place is None else text[:place[0]] + span.replacement + text[place[1]:]


def changed_lines(text: str | None, span: Span) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The whole lines a mutant changes, before and after: what a reader needs to see, where the
    bare edit (`<` -> `<=`, or nothing -> `, reverse=True`) means little. When `text` does not hold
    the mutant's original at its place (a file gone or changed since), the edit itself."""
    place = None if text is None else _place(text, span)
    if text is None or place is None:
        return tuple(span.original.splitlines() or [""]), tuple(span.replacement.splitlines() or [""])
    first = text.rfind("\n", 0, place[0]) + 1
    last = text.find("\n", place[1])
    last = len(text) if last == -1 else last
    before = text[first:last]
    after = text[first:place[0]] + span.replacement + text[place[1]:last]
    return (tuple(line.removesuffix("\r") for line in before.split("\n")),
            tuple(after.splitlines() or [""]))


def one_line(lines: Iterable[str]) -> str:
    """Source lines as one line: each stripped, joined by a visible return mark."""
    return " ↵ ".join(line.strip() for line in lines)


def edit_text(code: str, width: int | None = None) -> str:
    """One side of an edit on one line (`if not name: ↵ return None`; nothing is `∅`), at most `width` long."""
    flat = one_line(code.splitlines()) or "∅"
    return flat if width is None or len(flat) <= width else flat[: width - 1] + "…"


def diff_lines(before: Iterable[str], after: Iterable[str], gap: str = "") -> list[str]:
    """The changed lines as a diff's body: `-` before each old line, `+` before each new one."""
    return [*(f"-{gap}{line}" for line in before), *(f"+{gap}{line}" for line in after)]


def unified(file: str, before: str, after: str, context: int = CONTEXT_LINES) -> str:
    diff = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                f"a/{file}", f"b/{file}", n=context)
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)  # a last line without one


def file_diff(file: str, text: str, span: Span, context: int = CONTEXT_LINES) -> str | None:
    """A unified diff of `text` with the mutant in place; None when `text` does not hold it."""
    mutated = splice(text, span)
    return None if mutated is None else unified(file, text, mutated, context)


class StoredSpan(Span, Protocol):
    @property
    def file(self) -> str: ...
    @property
    def commit(self) -> str: ...  # results.stored_mutant.UNCOMMITTED: the line was not committed


class RunSources:
    """The texts a stored run's mutants are read against, each file read once: as the run's commit has
    it (from the repository the run recorded, else from `fallback_repo`: a database copied from CI
    names a path that does not exist here), and as the run's working tree has it now."""

    def __init__(self, repo: str, head_commit: str, fallback_repo: Path | None = None) -> None:
        self.repo, self.head_commit, self.fallback_repo = repo, head_commit, fallback_repo
        self._committed: dict[str, str | None] = {}
        self._working: dict[str, str | None] = {}

    def committed(self, file: str) -> str | None:
        """The file at the run's commit, or None if no repository at hand has it."""
        if file not in self._committed:
            self._committed[file] = None
            for repo in dict.fromkeys(r for r in (Path(self.repo), self.fallback_repo) if r is not None):
                shown = subprocess.run(["git", "show", f"{self.head_commit}:{file}"], cwd=repo, capture_output=True) \
                    if repo.is_dir() else None
                if shown is not None and shown.returncode == 0:
                    self._committed[file] = shown.stdout.decode("utf-8", "replace")
                    break
        return self._committed[file]

    def working(self, file: str) -> str | None:
        """The file in the run's working tree as it is now, or None if it is not there."""
        if file not in self._working:
            path = Path(self.repo) / file
            self._working[file] = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
        return self._working[file]

    def source(self, file: str, uncommitted: bool = False) -> str:
        """The file as the run saw it, line endings as Python reads them (the HTML report's source):
        its commit's, or the working tree's if git cannot say; `uncommitted` (the run's mutants of
        it are on uncommitted lines): the working tree's first."""
        reads = (self.working, self.committed) if uncommitted else (self.committed, self.working)
        text = reads[0](file)
        text = reads[1](file) if text is None else text
        return (text or "").replace("\r\n", "\n").replace("\r", "\n")

    def holding(self, m: StoredSpan) -> str | None:
        """The text that holds the mutant's original at its place: for a committed line its commit's
        (else the working tree's), for an uncommitted one the working tree's (else its commit's)."""
        texts = (self.working, self.committed) if m.commit == UNCOMMITTED else (self.committed, self.working)
        for read in texts:
            text = read(m.file)
            if text is not None and _place(text, m) is not None:
                return text
        return None

    def lines(self, m: StoredSpan) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The mutant's whole lines before and after (`changed_lines`)."""
        return changed_lines(self.holding(m), m)

    def diff(self, m: StoredSpan, context: int = CONTEXT_LINES) -> str:
        """A unified diff of the text holding the mutant, with the mutant in place; the edit alone,
        saying why, when no text at hand holds it."""
        text = self.holding(m)
        if text is not None:
            return unified(m.file, text, splice(text, m) or text, context)
        why = "is not at hand" if self.committed(m.file) is None else "does not hold it at its place"
        return (f"@@ {m.file}:{m.line} (the edit alone: the file at {self.head_commit[:10]} {why}) @@\n"
                + "".join(f"-{line}\n" for line in m.original.splitlines())
                + "".join(f"+{line}\n" for line in m.replacement.splitlines()))


def mutant_diff(m: StoredSpan, repo: str, head_commit: str, fallback_repo: Path | None = None,
                context: int = CONTEXT_LINES) -> str:
    """One stored mutant's diff (`show`, explain_mutant)."""
    return RunSources(repo, head_commit, fallback_repo).diff(m, context)
