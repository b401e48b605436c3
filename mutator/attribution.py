"""The diff analyzer: which lines of HEAD (or of the working tree) an AI agent wrote, and which.

Precedence per line, most precise first:
1. uncommitted lines in working-tree scope -> the agent named by `--agent`;
2. a git-ai note of the line's commit that lists the line's file (the note is authoritative for
   that file: lines it does not give to a session are human);
3. an Agent Trace range covering the line at its commit (`unknown` contributors fall through);
4. the commit's own signals (user rules, author, committer, trailers, markers);
5. otherwise human.

In `--base` scope one more rule leaves lines out, "moved, not changed" (MOVED_RULE): blame -M -C
gives a moved line the agent of the commit that first wrote it, so a human's move of AI code would
otherwise be gated as AI work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mutator.blame import BlameLine, blame_files
from mutator.commits import read_commits, read_objects
from mutator.config import Config, load_config
from mutator.diffscope import changed_lines
from mutator.errors import BadInput
from mutator.git import ZERO_SHA, Repo, git_text, merge_base, open_repo
from mutator.linelevel import HUMAN, LineRecords, load_agent_traces, load_git_ai_notes
from mutator.signals import Signal, commit_signals
from mutator.source_roots import SourceChoice, choose_source, never_source
from mutator.sources import code_lines, decode_source, is_mutable_source, is_test_path


MOVED_RULE = ("a line whose text is unchanged from a line of the merge-base (in any file), and that blame "
              "gives to a commit from before the change, was moved or copied, not written: it is left out")


@dataclass(frozen=True)
class AttributedLine:
    file: str  # relative to the repo root, POSIX separators
    line: int  # 1-based, in the attributed snapshot (HEAD, or the working tree)
    agent: str
    commit: str  # 40 hex; zeros for an uncommitted line
    evidence: str  # the signal that decided, for auditing
    agents: tuple[str, ...] = ()  # every agent the evidence names (a squash commit may name several)


@dataclass(frozen=True)
class Scope:
    base: str | None = None  # only lines changed since the merge-base with this ref
    agent: str | None = None  # working-tree scope: uncommitted lines belong to this agent
    paths: tuple[str, ...] = ()  # limit to these files or folders (relative to the repo root)
    all_authors: bool = False  # keep human lines too (agent "human")


@dataclass(frozen=True)
class Attribution:
    root: Path
    head: str
    merge_base: str | None
    working_tree: bool
    lines: tuple[AttributedLine, ...]
    sources: Mapping[str, str] = field(default_factory=dict)  # text of each file that has lines
    warnings: tuple[str, ...] = ()
    source: SourceChoice = SourceChoice((".",), "the whole repository")  # what counted as source, and why
    source_files: tuple[str, ...] = ()  # every source file, mutated or not: what a baseline measures
    moved_lines: int = 0  # --base scope: lines left out as moved, not changed (MOVED_RULE)

    def agents(self) -> dict[str, int]:
        return dict(sorted(Counter(line.agent for line in self.lines).items()))


def attribute(path: Path | Repo, scope: Scope = Scope(), config: Config | None = None) -> Attribution:
    repo = path if isinstance(path, Repo) else open_repo(path)
    config = config if config is not None else load_config(repo.root)
    working = scope.agent is not None
    warnings: list[str] = []

    python_files = [f for f in _tracked_files(repo, working) if f.endswith(".py")]
    source = choose_source(repo.root, python_files, config.source,
                           [f for f in python_files if is_test_path(f, config)])
    in_source = replace(config, source=source.roots)
    candidates = [f for f in python_files
                  if is_mutable_source(f, in_source) and not (source.detected and never_source(f))]
    source_files = tuple(candidates)
    candidates = _limit_to_paths(candidates, scope.paths)
    if not candidates:
        where = ", ".join(scope.paths) if scope.paths else str(repo.root)
        raise BadInput(f"no Python source files under {where} (tests and excluded paths do not count)")

    base_commit = merge_base(repo, scope.base) if scope.base else None
    changed: dict[str, set[int]] | None = None
    if base_commit:
        changed = changed_lines(repo, base_commit, None if working else repo.head)
    elif working:
        changed = changed_lines(repo, repo.head, None)
    if changed is not None:
        untracked = set(_untracked_files(repo)) if working else set()
        candidates = [f for f in candidates if f in changed or f in untracked]

    texts = _read_texts(repo, candidates, working, warnings)
    blamed = blame_files(repo, list(texts), None if working else repo.head)
    for file, text in texts.items():
        if file not in blamed:  # untracked: every line is new
            count = len(text.splitlines())
            blamed[file] = [BlameLine(n, ZERO_SHA, n, file) for n in range(1, count + 1)]

    moved = _MovedLines(repo, base_commit) if base_commit else None
    shas = {b.commit for lines in blamed.values() for b in lines} - {ZERO_SHA}
    commits = read_commits(repo, shas)
    notes = load_git_ai_notes(repo, shas)
    traces = load_agent_traces(repo, shas)
    signals_of: dict[str, list[Signal]] = {}

    result: list[AttributedLine] = []
    moved_count = 0
    for file in sorted(blamed):
        code = code_lines(texts[file])
        rows = texts[file].splitlines()
        in_scope = changed.get(file) if changed is not None else None
        for b in blamed[file]:
            if b.line not in code:
                continue
            if b.commit == ZERO_SHA:
                if scope.agent is None:
                    continue
                decided = AttributedLine(file, b.line, scope.agent, b.commit, "uncommitted (--agent)", (scope.agent,))
            else:
                if working and not base_commit:
                    continue  # working-tree scope without --base: only the unfinished work
                if in_scope is not None and b.line not in in_scope:
                    continue
                decided = _decide(file, b, commits, notes, traces, signals_of, config)
            if decided.agent != HUMAN or scope.all_authors:
                if moved is not None and b.line <= len(rows) and moved.was_moved(b.commit, rows[b.line - 1]):
                    moved_count += 1
                    continue
                result.append(decided)

    used = {line.file for line in result}
    return Attribution(
        root=repo.root,
        head=repo.head,
        merge_base=base_commit,
        working_tree=working,
        lines=tuple(result),
        sources={f: t for f, t in texts.items() if f in used},
        warnings=tuple(warnings),
        source=source,
        source_files=source_files,
        moved_lines=moved_count,
    )


class _MovedLines:
    """MOVED_RULE: a line blame gives to a commit from before the change (a pure move or copy keeps
    its first author under -M -C) and whose exact text was in the merge-base. The blame guard keeps a
    new line that happens to repeat an old one (`return None`) in scope; the text guard, that blame
    alone never leaves out a line the change rewrote. The merge-base is read only if some line asks."""

    def __init__(self, repo: Repo, base_commit: str) -> None:
        self.repo = repo
        self.base = base_commit
        self._new = set(git_text(repo.root, "rev-list", f"{base_commit}..{repo.head}").split())
        self._texts: set[str] | None = None

    def was_moved(self, commit: str, text: str) -> bool:
        if commit == ZERO_SHA or commit in self._new:
            return False  # written by the change (or not committed yet): new work
        return text.rstrip() in self._base_texts()

    def _base_texts(self) -> set[str]:
        if self._texts is None:
            listed = git_text(self.repo.root, "ls-tree", "-r", "-z", "--name-only", self.base)
            names = [f"{self.base}:{f}" for f in listed.split("\0") if f.endswith(".py")]
            objects = read_objects(self.repo, names)
            self._texts = {row.rstrip() for raw in objects.values() if raw
                           for row in (decode_source(raw) or "").splitlines()}
        return self._texts


def _decide(
    file: str,
    b: BlameLine,
    commits: dict,
    notes: LineRecords,
    traces: LineRecords,
    signals_of: dict[str, list[Signal]],
    config: Config,
) -> AttributedLine:
    note = notes.get(b.commit, {}).get(b.orig_path)
    if note is not None:
        agent = note.agent_at(b.orig_line) or HUMAN
        return AttributedLine(file, b.line, agent, b.commit, "git-ai note", (agent,))
    trace = traces.get(b.commit, {}).get(b.orig_path)
    agent = trace.agent_at(b.orig_line) if trace else None
    if agent is not None:
        return AttributedLine(file, b.line, agent, b.commit, "agent-trace", (agent,))
    if b.commit not in signals_of:
        info = commits.get(b.commit)
        signals_of[b.commit] = commit_signals(info, config.agent_rules) if info else []
    signals = signals_of[b.commit]
    if signals:
        return AttributedLine(
            file, b.line, signals[0].agent, b.commit, signals[0].evidence, tuple(s.agent for s in signals)
        )
    return AttributedLine(file, b.line, HUMAN, b.commit, "no agent signal", ())


def _tracked_files(repo: Repo, working: bool) -> list[str]:
    if working:
        out = git_text(repo.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        return sorted({f for f in out.split("\0") if f and (repo.root / f).is_file()})
    out = git_text(repo.root, "ls-tree", "-r", "-z", "--name-only", repo.head)
    return [f for f in out.split("\0") if f]


def _untracked_files(repo: Repo) -> list[str]:
    out = git_text(repo.root, "ls-files", "-z", "--others", "--exclude-standard")
    return [f for f in out.split("\0") if f]


def _limit_to_paths(files: list[str], paths: tuple[str, ...]) -> list[str]:
    if not paths:
        return files
    kept = []
    for prefix in paths:
        prefix = prefix.strip("/")
        matched = [f for f in files if prefix in ("", ".") or f == prefix or f.startswith(prefix + "/")]
        if not matched:
            raise BadInput(f"no Python source files under {prefix}")
        kept.extend(matched)
    return sorted(set(kept))


def _read_texts(repo: Repo, files: list[str], working: bool, warnings: list[str]) -> dict[str, str]:
    if working:
        raws = {f: (repo.root / f).read_bytes() for f in files}
    else:
        objects = read_objects(repo, [f"{repo.head}:{f}" for f in files])
        raws = {f: objects.get(f"{repo.head}:{f}") or b"" for f in files}
    texts = {}
    for file, raw in raws.items():
        text = decode_source(raw)
        if text is None:
            warnings.append(f"skipped {file}: binary or not UTF-8")
        else:
            texts[file] = text
    return texts


def relative_paths(root: Path, paths: list[str], cwd: Path | None = None) -> tuple[str, ...]:
    """User-given paths -> repo-relative POSIX paths; a path outside the repo is bad input."""
    cwd = cwd or Path.cwd()
    relative = []
    for raw in paths:
        absolute = (cwd / raw).resolve()
        try:
            relative.append(absolute.relative_to(root.resolve()).as_posix())
        except ValueError:
            raise BadInput(f"{raw} is outside the repository {root}") from None
    return tuple(relative)
