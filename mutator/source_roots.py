"""What counts as source when `[tool.mutagate] source` does not say: the project's own packages.

Taking the whole repository mutates code no test can reach — a Sphinx `docs/conf.py`, an example,
`setup.py`, a `noxfile.py` — and each such module-level mutant costs a fresh run of the whole suite
before it "survives". So, in order: the packages pyproject.toml declares, the `src/` layout, the
top-level packages the tests import (else every top-level package); the whole repository only when
there is no package at all. Docs, examples and build scripts are never source by default.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

NEVER_DIRS = frozenset({"docs", "doc", "examples", "example", "scripts", "benchmarks", "benchmark", "tools",
                        "build", "dist", "site", "venv", ".venv", ".tox", ".nox"})
NEVER_FILES = frozenset({"setup.py", "noxfile.py", "conftest.py", "fabfile.py", "dodo.py", "hatch_build.py",
                         "build.py", "tasks.py"})


@dataclass(frozen=True)
class SourceChoice:
    roots: tuple[str, ...]  # folders or files, relative to the repository root ("." = everything)
    why: str
    detected: bool = True  # False: the user's `source = [...]`

    def describe(self) -> str:
        shown = ", ".join(r if r == "." or r.endswith(".py") else r + "/" for r in self.roots)
        return f"{shown} ({self.why})"


def never_source(path: str) -> bool:
    """Docs, examples and build scripts: not source unless `source = [...]` names them."""
    parts = PurePosixPath(path).parts  # only at the top: a package's own `tasks.py` or `tools/` is source
    return (len(parts) == 1 and parts[0] in NEVER_FILES) or (len(parts) > 1 and parts[0] in NEVER_DIRS)


def choose_source(root: Path, files: list[str], configured: tuple[str, ...], tests: list[str]) -> SourceChoice:
    """`files`: the repository's Python files; `tests`: those of them that are tests."""
    if configured:
        return SourceChoice(configured, "source = [...] in [tool.mutagate]", detected=False)
    present = [f for f in files if not never_source(f)]
    declared = [r for r in _declared(root) if any(_under(f, r) for f in present)]
    if declared:
        return SourceChoice(tuple(sorted(set(declared))), "the packages pyproject.toml declares")
    if any(_under(f, "src") for f in present):
        return SourceChoice(("src",), "the src/ layout")
    packages = sorted({PurePosixPath(f).parts[0] for f in present
                       if len(PurePosixPath(f).parts) > 1 and f"{PurePosixPath(f).parts[0]}/__init__.py" in present})
    modules = sorted(f for f in present if "/" not in f)
    imported = _imported_names(root, tests)
    used = [p for p in packages if p in imported] + [m for m in modules if m[:-3] in imported]
    if used:
        return SourceChoice(tuple(used), "the top-level packages and modules the tests import")
    if packages:
        return SourceChoice(tuple(packages), "the top-level packages")
    return SourceChoice((".",), "the whole repository: no package found")


def _declared(root: Path) -> list[str]:
    """Package folders pyproject.toml names (setuptools, poetry, hatch, or the project's own name)."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []
    tool = data.get("tool", {})
    found: list[str] = []
    setuptools = tool.get("setuptools", {})
    package_dir = setuptools.get("package-dir", {}) if isinstance(setuptools.get("package-dir"), dict) else {}
    base = package_dir.get("", "")
    packages = setuptools.get("packages")
    if isinstance(packages, list):
        found += [str(PurePosixPath(base or ".") / p.split(".")[0]) for p in packages if isinstance(p, str)]
    elif isinstance(packages, dict):
        found += [w for w in packages.get("find", {}).get("where", []) if isinstance(w, str)]
    for entry in tool.get("poetry", {}).get("packages", []):
        if isinstance(entry, dict) and isinstance(entry.get("include"), str):
            found.append(str(PurePosixPath(entry.get("from", ".")) / entry["include"]))
    wheel = tool.get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    found += [p for p in wheel.get("packages", []) if isinstance(p, str)]
    name = data.get("project", {}).get("name") or tool.get("poetry", {}).get("name")
    if isinstance(name, str):
        module = re.sub(r"[-.]+", "_", name).lower()
        found += [module, f"src/{module}"]
    return [str(PurePosixPath(f)) for f in found if "*" not in f]


def _imported_names(root: Path, tests: list[str]) -> set[str]:
    names: set[str] = set()
    for test in tests:
        try:
            tree = ast.parse((root / test).read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.strip("/")
    return prefix in ("", ".") or path == prefix or path.startswith(prefix + "/")
