"""Claude Code's `Stop` and `SubagentStop` hooks.

Protocol (https://code.claude.com/docs/en/hooks, "Stop and SubagentStop"): the hook reads
`{"session_id", "transcript_path", "cwd", "permission_mode", "hook_event_name": "Stop", "stop_hook_active"}`
on stdin; exit 0 with nothing on stdout lets Claude stop; `{"decision": "block", "reason": ...}` makes
it go on, with `reason` as its next instruction. `stop_hook_active` is true when Claude is already
continuing because of a stop hook. Settings: `.claude/settings.json`,
`{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": ..., "timeout": seconds}]}]}}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scheduler.agents.protocol import AgentProtocol, HookEvent, input_field

TIMEOUT_SECONDS = 180  # the run's budget (60 s by default) is an estimate; confirmations come on top


def _read(data: dict[str, Any]) -> HookEvent:
    cwd = input_field(data, "cwd", str)
    return HookEvent(Path(cwd) if cwd else None, bool(input_field(data, "stop_hook_active", bool, False)))


CLAUDE_CODE = AgentProtocol(
    name="claude-code",
    title="Claude Code",
    docs="https://code.claude.com/docs/en/hooks",
    settings=".claude/settings.json",
    events=("Stop", "SubagentStop"),
    read=_read,
    block=lambda reason: {"decision": "block", "reason": reason},
    allow=None,
    entry=lambda command: {"type": "command", "command": command, "timeout": TIMEOUT_SECONDS},
    nested=True,
)
