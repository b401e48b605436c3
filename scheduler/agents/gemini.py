"""Gemini CLI's `AfterAgent` hook.

Protocol (https://geminicli.com/docs/hooks/reference, "AfterAgent"): the hook reads `{"session_id",
"transcript_path", "cwd", "hook_event_name": "AfterAgent", "timestamp", "prompt", "prompt_response",
"stop_hook_active"}` on stdin and prints only JSON on stdout: `{}` accepts the turn, `{"decision":
"deny", "reason": ...}` rejects it and sends `reason` to the agent as a new prompt. `stop_hook_active`
is true when the hook already runs as part of such a retry. Settings: `.gemini/settings.json`,
`{"hooks": {"AfterAgent": [{"hooks": [{"name", "type": "command", "command", "timeout": ms}]}]}}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scheduler.agents.protocol import AgentProtocol, HookEvent, input_field

TIMEOUT_MS = 180_000


def _read(data: dict[str, Any]) -> HookEvent:
    cwd = input_field(data, "cwd", str)
    return HookEvent(Path(cwd) if cwd else None, bool(input_field(data, "stop_hook_active", bool, False)))


GEMINI = AgentProtocol(
    name="gemini",
    title="Gemini CLI",
    docs="https://geminicli.com/docs/hooks/reference",
    settings=".gemini/settings.json",
    events=("AfterAgent",),
    read=_read,
    block=lambda reason: {"decision": "deny", "reason": reason},
    allow={},
    entry=lambda command: {"name": "mutagate", "type": "command", "command": command, "timeout": TIMEOUT_MS,
                           "description": "mutation-test the agent's uncommitted changes"},
    nested=True,
)
