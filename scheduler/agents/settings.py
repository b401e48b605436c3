"""`mutagate hook install AGENT`: the hook added to the agent's project settings file, merged into
what is there — other keys and other hooks are kept, and installing twice adds it once."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutator.errors import BadInput
from scheduler.agents.protocol import AgentProtocol


@dataclass(frozen=True)
class Installed:
    path: Path
    added: tuple[str, ...]  # events the hook was added to; empty: it was there already
    command: str


def hook_command(agent: str) -> str:
    """`mutagate hook AGENT`, by the full path of this mutagate when the agent's PATH may not find it."""
    script = Path(sys.executable).parent / "mutagate"
    if shutil.which("mutagate") or not script.is_file():
        return f"mutagate hook {agent}"
    return f"{shlex.quote(str(script))} hook {agent}"


def install_hook(protocol: AgentProtocol, root: Path, command: str | None = None) -> Installed:
    command = command or hook_command(protocol.name)
    path = root / protocol.settings
    settings = _read(path)
    if protocol.name == "cursor":
        settings.setdefault("version", 1)  # Cursor's hooks.json declares its format version
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise BadInput(f"{path}: `hooks` is not a JSON object; fix it by hand, mutagate will not overwrite it")
    added = []
    for event in protocol.events:
        entries = hooks.setdefault(event, [])
        if not isinstance(entries, list):
            raise BadInput(f"{path}: `hooks.{event}` is not a list; fix it by hand, mutagate will not overwrite it")
        if any(_ours(c, protocol.name) for c in _commands(entries, protocol.nested)):
            continue
        entry = protocol.entry(command)
        entries.append({"hooks": [entry]} if protocol.nested else entry)
        added.append(event)
    if added:
        _write(path, settings)
    return Installed(path, tuple(added), command)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is not valid JSON ({exc}); mutagate will not overwrite it") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path} ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path} is not a JSON object; mutagate will not overwrite it")
    return data


def _commands(entries: list, nested: bool) -> list[str]:
    """The commands already configured under one event."""
    hooks = [h for group in entries if isinstance(group, dict) for h in group.get("hooks", []) or []] if nested \
        else entries
    return [h["command"] for h in hooks if isinstance(h, dict) and isinstance(h.get("command"), str)]


def _ours(command: str, agent: str) -> bool:
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: someone else's command, read as plain words
        words = command.split()
    return any(Path(w).name == "mutagate" for w in words) and f"hook {agent}" in " ".join(words)


def _write(path: Path, settings: dict[str, Any]) -> None:
    """Written whole or not at all: a settings file cut short would stop the agent from starting."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(settings, handle, indent=2)
            handle.write("\n")
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except OSError as exc:
        raise BadInput(f"cannot write {path} ({exc.strerror})") from None
