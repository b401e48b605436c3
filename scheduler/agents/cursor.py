"""Cursor's `stop` hook.

Protocol (https://cursor.com/docs/agent/hooks, "stop"): the hook reads `{"conversation_id",
"generation_id", "hook_event_name": "stop", "workspace_roots": [...], "status": "completed" | "aborted"
| "error", "loop_count": N}` on stdin and answers JSON on stdout: `{}` lets the agent stop,
`{"followup_message": ...}` is sent to it as the next user message. `loop_count` counts the follow-ups
already sent in this loop. Settings: `.cursor/hooks.json`,
`{"version": 1, "hooks": {"stop": [{"command": ..., "timeout": seconds}]}}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scheduler.agents.protocol import AgentProtocol, HookEvent, input_field

TIMEOUT_SECONDS = 180


def _read(data: dict[str, Any]) -> HookEvent:
    roots = input_field(data, "workspace_roots", list, [])
    status = input_field(data, "status", str, "completed")
    loops = input_field(data, "loop_count", int, 0)
    skip = None if status == "completed" else f"the agent's turn ended with status {status!r}"
    return HookEvent(Path(roots[0]) if roots and isinstance(roots[0], str) else None, loops > 0, skip)


CURSOR = AgentProtocol(
    name="cursor",
    title="Cursor",
    docs="https://cursor.com/docs/agent/hooks",
    settings=".cursor/hooks.json",
    events=("stop",),
    read=_read,
    block=lambda reason: {"followup_message": reason},
    allow={},
    entry=lambda command: {"command": command, "timeout": TIMEOUT_SECONDS},
    nested=False,
)
