"""Commit-level attribution: which agents a commit's metadata names, and on what evidence.

The patterns are the signals each agent leaves in git (its bot accounts, noreply emails,
trailers and message footers; docs/attribution.md, "How attribution works"). One identity table serves the author, the
committer and every `Co-authored-by` trailer, because agents show up in all three places with the
same names and emails. Branch prefixes (`cursor/`, `codex/`) are weak evidence and not used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mutator.config import AgentRule


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str  # "Name <email>"
    committer: str
    message: str


@dataclass(frozen=True)
class Signal:
    agent: str
    evidence: str  # e.g. "co-author: Claude <noreply@anthropic.com>", shown to users who audit


# (agent, pattern over "Name <email>"), matched case-insensitively.
IDENTITIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (agent, re.compile(pattern, re.IGNORECASE))
    for agent, pattern in [
        ("claude-code", r"noreply@anthropic\.com|\bclaude\[bot\]|claude-code-action\[bot\]"),
        ("cursor", r"cursoragent@cursor\.com|\bcursor\[bot\]|^cursor agent\b"),
        ("copilot", r"\+copilot@users\.noreply\.github\.com|copilot-swe-agent\[bot\]|<copilot@github\.com>"),
        ("codex", r"noreply@openai\.com|codex@openai\.com|chatgpt-codex-connector\[bot\]|openai-codex\[bot\]"),
        ("aider", r"@aider\.chat>|\(aider\)\s*<"),
        ("devin", r"devin-ai-integration\[bot\]"),
        ("jules", r"google-labs-jules\[bot\]"),
        ("amazon-q", r"amazon-q-developer\[bot\]"),
        ("amp", r"amp@ampcode\.com"),
        ("qwen-code", r"qwen-coder@alibabacloud\.com"),
        ("factory-droid", r"factory-droid\[bot\]"),
        ("crush", r"crush@charm\.land"),
        ("opencode", r"noreply@opencode\.ai"),
    ]
)

# Trailers whose mere presence names an agent.
KEY_TRAILERS = {
    "claude-session": "claude-code",
    "amp-thread-id": "amp",
    "amp-thread": "amp",
    "replit-commit-session-id": "replit",
}

# Free-text markers in the message body.
BODY_MARKERS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (
        "claude-code",
        "Generated with [Claude Code]",
        re.compile(r"Generated with \[Claude Code\]\((https://)?(claude\.com/claude-code|claude\.ai/code)"),
    ),
    ("crush", "Generated with Crush", re.compile(r"Generated with Crush")),
    # Cloud agents' session and task links, on a line of their own: Claude Code on the web ends its
    # commit messages with the bare session link; the others put theirs in the PR body's footer, which
    # a squash merge ("pull request title and description") carries into the commit. A link inside a
    # sentence is someone citing a session, not the agent's footer.
    ("claude-code", "Claude Code session link", re.compile(r"^https://claude\.ai/code/session_\w+\s*$", re.MULTILINE)),
    ("codex", "[Codex Task] link",
     re.compile(r"^\[Codex Task\]\(https://chatgpt\.com/codex/tasks/task_\w+\)\s*$", re.MULTILINE)),
    ("jules", "PR created by Jules for task",
     re.compile(r"^\*?PR created (?:automatically )?by Jules for task \[\w+\]\(https://jules\.google\.com/task/\w+\)",
                re.MULTILINE)),
    ("devin", "Link to Devin run",
     re.compile(r"^(?:[-*] )?Link to Devin run: https://app\.devin\.ai/sessions/\w+", re.MULTILINE)),
    ("cursor", "Open in Cursor agent link",
     re.compile(r"https://cursor\.com/(?:background-agent\?bcId=|agents/)bc-[0-9a-f-]+")),
)

# Tool names as `Assisted-by:`, `Generated-by:`, git-ai and Agent Trace spell them -> our agent ids.
TOOL_ALIASES = {
    "claude": "claude-code",
    "claude code": "claude-code",
    "claude-code": "claude-code",
    "anthropic": "claude-code",
    "cursor": "cursor",
    "cursor agent": "cursor",
    "copilot": "copilot",
    "github copilot": "copilot",
    "github-copilot": "copilot",
    "codex": "codex",
    "openai codex": "codex",
    "aider": "aider",
    "devin": "devin",
    "gemini": "gemini",
    "gemini cli": "gemini",
    "gemini-cli": "gemini",
    "jules": "jules",
    "amazon q": "amazon-q",
    "amazon-q": "amazon-q",
    "windsurf": "windsurf",
    "amp": "amp",
    "droid": "factory-droid",
    "factory": "factory-droid",
    "factory-droid": "factory-droid",
    "opencode": "opencode",
    "crush": "crush",
    "qwen": "qwen-code",
    "qwen-code": "qwen-code",
    "replit": "replit",
}

_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.+?)\s*$")


def agent_id(tool_name: str) -> str:
    """Normalise a tool name from a trailer or a line-level record to a lower-case agent id."""
    key = tool_name.strip().lower()
    if key in TOOL_ALIASES:
        return TOOL_ALIASES[key]
    slug = re.sub(r"[^a-z0-9]+", "-", key).strip("-")
    return TOOL_ALIASES.get(slug, slug or "unknown-agent")


def _identity_agent(identity: str) -> str | None:
    for agent, pattern in IDENTITIES:
        if pattern.search(identity):
            return agent
    return None


def trailers(message: str) -> list[tuple[str, str]]:
    """Every `Key: value` line of a message, in order.

    Not only the last paragraph: squash merges keep each squashed commit's trailers mid-body.
    """
    found = []
    for line in message.splitlines():
        match = _TRAILER.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def commit_signals(commit: CommitInfo, rules: tuple[AgentRule, ...] = ()) -> list[Signal]:
    """All agents a commit names, primary first.

    Order (documented in docs/attribution.md): the user's own rules, then author, then committer, then the
    message's trailers and markers in the order they appear. A squash merge therefore counts for
    the agent of its first squashed commit; the others stay in `agents` for auditing.
    """
    signals: list[Signal] = []
    for rule in rules:
        evidence = _rule_evidence(rule, commit)
        if evidence:
            signals.append(Signal(rule.agent, evidence))
    for role, identity in (("author", commit.author), ("committer", commit.committer)):
        agent = _identity_agent(identity)
        if agent:
            signals.append(Signal(agent, f"{role}: {identity}"))
    message = commit.message
    if message.lower().startswith("aider: "):
        signals.append(Signal("aider", "message prefix: aider:"))
    for key, value in trailers(message):
        lowered = key.lower()
        if lowered == "co-authored-by":
            agent = _identity_agent(value)
            if agent:
                signals.append(Signal(agent, f"co-author: {value}"))
        elif lowered in KEY_TRAILERS:
            signals.append(Signal(KEY_TRAILERS[lowered], f"trailer: {key}"))
        elif lowered == "replit-commit-author" and value.lower() in ("agent", "assistant"):
            signals.append(Signal("replit", f"trailer: {key}: {value}"))
        elif lowered in ("assisted-by", "generated-by"):
            # `Assisted-by: AGENT:MODEL [TOOLS]` (kernel, Fedora); `Generated-by: TOOL` (Apache)
            tool = re.split(r"[:\s]", value, maxsplit=1)[0]
            signals.append(Signal(agent_id(tool), f"trailer: {key}: {value}"))
    for agent, label, pattern in BODY_MARKERS:
        if pattern.search(message):
            signals.append(Signal(agent, f"message: {label}"))
    return _dedupe(signals)


def _rule_evidence(rule: AgentRule, commit: CommitInfo) -> str | None:
    if rule.author:
        for role, identity in (("author", commit.author), ("committer", commit.committer)):
            if re.search(rule.author, identity, re.IGNORECASE):
                return f"config rule ({role}): {identity}"
    if rule.trailer:
        for key, value in trailers(commit.message):
            if re.search(rule.trailer, f"{key}: {value}", re.IGNORECASE):
                return f"config rule (trailer): {key}: {value}"
    if rule.message and re.search(rule.message, commit.message, re.IGNORECASE | re.MULTILINE):
        return f"config rule (message): {rule.message}"
    return None


def _dedupe(signals: list[Signal]) -> list[Signal]:
    seen: set[str] = set()
    kept = []
    for signal in signals:
        if signal.agent not in seen:
            seen.add(signal.agent)
            kept.append(signal)
    return kept
