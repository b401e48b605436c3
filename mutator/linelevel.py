"""Line-level attribution records: git-ai notes (refs/notes/ai, standard v3) and Agent Trace.

Both give 1-based inclusive line ranges valid at one commit. They are looked up with the blame
result (commit, path and line *at that commit*), which maps them to HEAD.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mutator.commits import read_objects
from mutator.git import GitError, Repo, git_text
from mutator.signals import agent_id

HUMAN = "human"
NOTES_REF = "refs/notes/ai"
TRACE_FILE = ".agent-trace/traces.jsonl"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    agent: str  # an agent id, or HUMAN


@dataclass
class FileSpans:
    spans: list[Span] = field(default_factory=list)

    def agent_at(self, line: int) -> str | None:
        for span in self.spans:
            if span.start <= line <= span.end:
                return span.agent
        return None


# commit sha -> path at that commit -> spans
LineRecords = dict[str, dict[str, FileSpans]]


def parse_ranges(text: str) -> list[tuple[int, int]]:
    ranges = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        start, _, end = part.partition("-")
        ranges.append((int(start), int(end or start)))
    return ranges


def parse_git_ai_note(text: str) -> dict[str, FileSpans]:
    """One git-ai authorship note: attestation lines, `---`, then JSON metadata."""
    attestation, _, meta_text = text.partition("\n---")
    try:
        meta = json.loads(meta_text.strip() or "{}")
    except json.JSONDecodeError:
        meta = {}
    sessions = meta.get("sessions", {}) or {}
    prompts = meta.get("prompts", {}) or {}
    files: dict[str, FileSpans] = {}
    current: FileSpans | None = None
    for row in attestation.splitlines():
        if not row.strip():
            continue
        if not row[0].isspace():
            path = row.strip()
            if len(path) >= 2 and path[0] == path[-1] == '"':
                path = json.loads(path)
            current = files.setdefault(path, FileSpans())
            continue
        if current is None:
            continue
        key, _, ranges = row.strip().partition(" ")
        agent = _note_key_agent(key, sessions, prompts)
        try:
            for start, end in parse_ranges(ranges):
                current.spans.append(Span(start, end, agent))
        except ValueError:
            continue  # a malformed entry says nothing; the rest of the note still counts
    return files


def _note_key_agent(key: str, sessions: dict, prompts: dict) -> str:
    if key.startswith("h_"):
        return HUMAN
    if key.startswith("s_"):
        record = sessions.get(key.split("::", 1)[0], {})
    else:  # legacy: a bare 16-hex prompt id
        record = prompts.get(key, {})
    tool = (record.get("agent_id") or {}).get("tool") if isinstance(record, dict) else None
    return agent_id(tool) if tool else "unknown-agent"


def load_git_ai_notes(repo: Repo, commits: Iterable[str]) -> LineRecords:
    wanted = set(commits)
    try:
        listing = git_text(repo.root, "notes", f"--ref={NOTES_REF}", "list")
    except GitError:
        return {}  # no notes ref: nothing line-level from git-ai
    blob_of = {}
    for row in listing.splitlines():
        blob, _, commit = row.partition(" ")
        if commit in wanted:
            blob_of[commit] = blob
    blobs = read_objects(repo, blob_of.values())
    records: LineRecords = {}
    for commit, blob in blob_of.items():
        raw = blobs.get(blob)
        if raw:
            records[commit] = parse_git_ai_note(raw.decode("utf-8", "replace"))
    return records


def parse_agent_trace(lines: Iterable[str]) -> dict[str, dict[str, FileSpans]]:
    """Agent Trace v0.1 records (JSON lines) -> revision -> path -> spans. Bad lines are skipped."""
    by_revision: dict[str, dict[str, FileSpans]] = {}
    for raw in lines:
        raw = raw.strip()
        if not raw:
            continue
        try:
            record = json.loads(raw)
            revision = ((record.get("vcs") or {}).get("revision") or "").lower()
            if not revision:
                continue
            tool = (record.get("tool") or {}).get("name")
            files = by_revision.setdefault(revision, {})
            for entry in record.get("files", []):
                spans = files.setdefault(entry["path"], FileSpans())
                for conversation in entry.get("conversations", []):
                    default = conversation.get("contributor")
                    for rng in conversation.get("ranges", []):
                        agent = _trace_agent(rng.get("contributor") or default, tool)
                        if agent is not None:
                            spans.spans.append(Span(int(rng["start_line"]), int(rng["end_line"]), agent))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            continue
    return by_revision


def _trace_agent(contributor: dict | None, tool: str | None) -> str | None:
    kind = (contributor or {}).get("type", "unknown")
    if kind == "human":
        return HUMAN
    if kind not in ("ai", "mixed"):  # "unknown" says nothing; commit-level signals decide
        return None
    if tool:
        return agent_id(tool)
    model = (contributor or {}).get("model_id") or ""
    return _agent_from_model(model)


_MODEL_PROVIDERS = {"anthropic": "claude-code", "openai": "codex", "google": "gemini"}


def _agent_from_model(model_id: str) -> str:
    provider = model_id.split("/", 1)[0].lower() if "/" in model_id else ""
    return _MODEL_PROVIDERS.get(provider, "unknown-agent")


def load_agent_traces(repo: Repo, commits: Iterable[str]) -> LineRecords:
    """Records from HEAD's and the working tree's traces file, keyed by the full commit sha."""
    texts = []
    committed = read_objects(repo, [f"HEAD:{TRACE_FILE}"]).get(f"HEAD:{TRACE_FILE}")
    if committed:
        texts.append(committed.decode("utf-8", "replace"))
    local = Path(repo.root) / TRACE_FILE
    if local.is_file():
        texts.append(local.read_text(encoding="utf-8", errors="replace"))
    if not texts:
        return {}
    # The committed and the local file usually share most records: read each line once.
    by_revision = parse_agent_trace(dict.fromkeys(line for text in texts for line in text.splitlines()))
    records: LineRecords = {}
    for commit in commits:
        for revision, files in by_revision.items():
            if len(revision) >= 7 and commit.startswith(revision):
                merged = records.setdefault(commit, {})
                for path, spans in files.items():
                    merged.setdefault(path, FileSpans()).spans.extend(spans.spans)
    return records


