"""`mutagate hook install AGENT`: the hook added to the agent's project settings file, merged into
what is there — other keys and other hooks are kept, and installing twice adds it once."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutator.errors import BadInput
from scheduler.agents.protocol import AgentProtocol


@dataclass(frozen=True)
class HookCommand:
    command: str
    why: str  # said to the user: why this form


@dataclass(frozen=True)
class Installed:
    path: Path  # the settings file as named (a symlink stays one: it is written through)
    added: tuple[str, ...]  # events the hook was added to
    updated: tuple[str, ...]  # events whose mutagate hook had another command (a bare `mutagate`): replaced
    command: str
    why: str


def hook_command(agent: str) -> HookCommand:
    """The command an agent runs, written so that it works from the agent's shell, where this
    virtual environment is usually not active (a bare `mutagate` is then not found, or is another
    install): this interpreter by its absolute path, running this mutagate's module. `-P` keeps the
    project's own folder off sys.path, so a `scheduler` package of the project cannot stand in for
    ours. A venv's `python` is kept as named, never resolved: the symlink's target is the base
    interpreter, without the venv's packages."""
    python = Path(sys.executable).absolute()
    ours = Path(__file__).resolve().parents[1] / "cli" / "__init__.py"
    base = f"{shlex.quote(str(python))} -P -m scheduler.cli hook {agent}"
    if _imports_ours(python, ours):
        return HookCommand(base, f"{python} by its absolute path: it runs from the agent's shell whether or not "
                                 "this environment is active")
    source = ours.parents[2]
    return HookCommand(f"env PYTHONPATH={shlex.quote(str(source))} {base}",
                       f"{python} by its absolute path; by itself it imports another mutagate or none, and this one "
                       f"runs from the source tree {source}, so the command names that tree (PYTHONPATH)")


def _imports_ours(python: Path, ours: Path) -> bool:
    """Whether `python`, started as an agent starts it (no PYTHONPATH, another directory), imports
    this very `scheduler.cli`."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH")}
    try:
        probe = subprocess.run([str(python), "-P", "-c", "import scheduler.cli as c; print(c.__file__)"],
                               cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and Path(probe.stdout.strip()).resolve() == ours


def install_hook(protocol: AgentProtocol, root: Path, command: HookCommand | None = None) -> Installed:
    command = command or hook_command(protocol.name)
    path = root / protocol.settings
    settings = _read(path)
    if protocol.name == "cursor":
        settings.setdefault("version", 1)  # Cursor's hooks.json declares its format version
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise BadInput(f"{path}: `hooks` is not a JSON object; fix it by hand, mutagate will not overwrite it")
    added, updated = [], []
    for event in protocol.events:
        entries = hooks.setdefault(event, [])
        if not isinstance(entries, list):
            raise BadInput(f"{path}: `hooks.{event}` is not a list; fix it by hand, mutagate will not overwrite it")
        mine = [h for h in _hooks(entries, protocol.nested, f"{path}: `hooks.{event}") if _ours(h["command"], protocol.name)]
        if not mine:
            entry = protocol.entry(command.command)
            entries.append({"hooks": [entry]} if protocol.nested else entry)
            added.append(event)
        elif any(h["command"] != command.command for h in mine):
            for h in mine:  # an earlier install's command (a bare `mutagate`, a moved venv): this one's now
                h["command"] = command.command
            updated.append(event)
    if added or updated:
        _write(path, settings)
    return Installed(path, tuple(added), tuple(updated), command.command, command.why)


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


def _hooks(entries: list, nested: bool, where: str) -> list[dict[str, Any]]:
    """The hook entries with a command already configured under one event. Other entries are someone
    else's and kept as they are; a group whose `hooks` is not a list is refused (`"hooks": 5` was an
    internal error): mutagate cannot tell whether its hook is in there."""
    if not nested:
        return [h for h in entries if isinstance(h, dict) and isinstance(h.get("command"), str)]
    hooks = []
    for index, group in enumerate(entries):
        if not isinstance(group, dict):
            continue
        inner = group.get("hooks") or []
        if not isinstance(inner, list):
            raise BadInput(f"{where}[{index}].hooks` is not a list; fix it by hand, mutagate will not overwrite it")
        hooks += [h for h in inner if isinstance(h, dict) and isinstance(h.get("command"), str)]
    return hooks


def _ours(command: str, agent: str) -> bool:
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: someone else's command, read as plain words
        words = command.split()
    ours = any(Path(w).name == "mutagate" or w == "scheduler.cli" for w in words)  # the script, or the module
    return ours and f"hook {agent}" in " ".join(words)


def _write(path: Path, settings: dict[str, Any]) -> None:
    """Written whole or not at all: a settings file cut short would stop the agent from starting.
    Through a symlink (settings shared from a dotfiles repository): the file it points to is
    replaced, and the link stays a link."""
    path = Path(os.path.realpath(path))
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
