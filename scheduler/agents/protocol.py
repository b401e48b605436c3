"""What an agent's stop hook speaks: the JSON it reads on stdin, the answers it prints, and where it
is installed. One `AgentProtocol` per agent (claude_code.py, cursor.py, gemini.py); the check behind
every one of them is the same (`check.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutator.errors import BadInput


@dataclass(frozen=True)
class HookEvent:
    """What mutagate needs from a hook's input."""

    cwd: Path | None  # the project the agent works in (None: the command's own directory)
    again: bool  # the agent is already continuing because of a stop hook: never send it back twice
    skip: str | None = None  # a reason to let it stop without checking (an aborted turn)


@dataclass(frozen=True)
class AgentProtocol:
    name: str  # mutagate's agent id: the uncommitted lines are attributed to it; `mutagate hook NAME`
    title: str
    docs: str  # where the protocol is documented
    settings: str  # the project settings file the hook is installed in, relative to the repository root
    events: tuple[str, ...]  # the events it is installed on
    read: Callable[[dict[str, Any]], HookEvent]
    block: Callable[[str], dict[str, Any]]  # the answer that sends the agent back to work with a reason
    allow: dict[str, Any] | None  # the answer that lets it stop; None: print nothing
    entry: Callable[[str], dict[str, Any]]  # the settings entry for a command, under one event
    nested: bool  # entries sit in matcher groups: {"hooks": [entry, ...]} (Claude Code, Gemini CLI)


def input_field(data: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    """One field of the hook's input, of the documented type (absent: `default`)."""
    value = data.get(key, default)
    if value is not default and not isinstance(value, kind):
        raise BadInput(f"hook input: {key} must be a {kind.__name__}, not {value!r}")
    return value
