"""The house's layers, read from the code: dependencies go one way and no module imports itself
back through others."""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PACKAGES = ("mutator", "results", "scheduler")

# What each layer may import of ours (prefix match on dotted names).
ALLOWED = {
    "mutator": ("mutator",),
    "results": ("results",),
    "scheduler": ("scheduler", "mutator", "results"),
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT / package).rglob("*.py"):
            parts = list(path.relative_to(PROJECT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Our modules that `name` imports (at any depth of its code), resolved to module names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.add(full if full in known else base)
    return {t for t in targets if t.split(".")[0] in PACKAGES}


def test_layers_depend_one_way() -> None:
    known = _modules()
    wrong = []
    for name, path in known.items():
        layer = name.split(".")[0]
        for target in _imports(name, path, known):
            if not target.startswith(ALLOWED[layer]):
                wrong.append(f"{name} imports {target}")
            # Below the command line nothing imports it: the CLI calls the pipeline, never the reverse.
            if target.startswith("scheduler.cli") and not name.startswith("scheduler.cli"):
                wrong.append(f"{name} imports the CLI ({target})")
    assert not wrong, "\n".join(wrong)


# The front doors by audience: each is entered from the command line only, and none through another.
FRONT_DOORS = ("scheduler.agents", "scheduler.ci")
# What scheduler/cli/ may hold besides one module per command: the package, and what commands share.
CLI_SHARED = ("scheduler.cli", "scheduler.cli.__main__", "scheduler.cli.common", "scheduler.cli.display")


def test_front_doors_are_entered_from_the_command_line_only() -> None:
    known = _modules()
    wrong = []
    for name, path in known.items():
        own = next((door for door in FRONT_DOORS if name == door or name.startswith(door + ".")), None)
        for target in _imports(name, path, known):
            for door in FRONT_DOORS:
                inside = target == door or target.startswith(door + ".")
                if inside and door != own and not name.startswith("scheduler.cli"):
                    wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_cli_holds_commands_and_no_command_imports_another() -> None:
    from scheduler.cli import COMMAND_MODULES

    known = _modules()
    commands = {f"scheduler.cli.{module}" for module in COMMAND_MODULES}
    cli = {name for name in known if name == "scheduler.cli" or name.startswith("scheduler.cli.")}
    assert cli - commands == set(CLI_SHARED), "scheduler/cli/ holds command modules and common.py, display.py only"
    wrong = [f"{name} imports {target}" for name in cli for target in _imports(name, known[name], known)
             if target in commands and target != name]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    known = _modules()
    graph = {name: {t for t in _imports(name, path, known) if t in known and t != name} for name, path in known.items()}
    # A package's __init__ importing its own modules is how a package exposes them, not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not (known[name].name == "__init__.py" and t.startswith(name + "."))}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [node, target]) if target in path else target)
            elif target not in state:
                visit(target, path + [node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert not cycles, "\n".join(cycles)
