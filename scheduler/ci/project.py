"""What the CI files need to know about the target project, read (or guessed) from its files:
its Python, how to install it with its test dependencies, and its `[tool.mutagate]` gate.
Every guess comes with a line saying what it was based on, which `mutagate ci` prints."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from mutator.config import Config, load_config
from scheduler.ci.lost import lost_settings
from scheduler.results_db import DEFAULT_DB

# mutagate runs the tests with its own interpreter, and mutagate needs Python 3.11 or newer.
PYTHONS = ("3.13", "3.12", "3.11")
DEFAULT_PYTHON = "3.12"
TEST_EXTRAS = ("test", "tests", "testing", "dev")
TEST_REQUIREMENTS = re.compile(r"^requirements([-_.]?(test|tests|testing|dev|ci))?\.txt$")


@dataclass(frozen=True)
class PythonSetup:
    version: str  # "3.12"
    version_file: str | None  # ".python-version": setup-python reads it itself
    install: tuple[str, ...]  # shell lines installing the project and its test dependencies
    dependency_files: tuple[str, ...]  # what pip's cache is keyed on
    guesses: tuple[str, ...]  # one line per guess, for the user


@dataclass(frozen=True)
class Project:
    root: Path
    config: Config
    python: PythonSetup
    gate: float | None  # --fail-under for the PR job; None: [tool.mutagate] fail-under already sets it
    gate_why: str
    lost: tuple[str, ...] = ()  # settings a local run uses that CI's would not see (ci/lost.py)

    @property
    def said(self) -> tuple[str, ...]:
        """What was read and guessed, one line each, for the output and the files' header."""
        return (*self.python.guesses, self.gate_why, *self.lost)


def _pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))  # load_config already refused bad TOML


def _python_version(root: Path, pyproject: dict[str, Any]) -> tuple[str, str | None, str]:
    if (root / ".python-version").is_file():
        return (root / ".python-version").read_text().strip() or DEFAULT_PYTHON, ".python-version", \
            "Python from .python-version"
    requires = pyproject.get("project", {}).get("requires-python")
    if isinstance(requires, str):
        try:
            allowed = SpecifierSet(requires)
        except InvalidSpecifier:
            return DEFAULT_PYTHON, None, f"Python {DEFAULT_PYTHON}: requires-python {requires!r} does not parse"
        for version in PYTHONS:
            if allowed.contains(f"{version}.0"):
                return version, None, f"Python {version}: the newest that requires-python {requires!r} allows"
        return DEFAULT_PYTHON, None, (f"Python {DEFAULT_PYTHON}: requires-python {requires!r} allows none of "
                                      f"{', '.join(PYTHONS)} (mutagate needs 3.11+); set the version by hand")
    return DEFAULT_PYTHON, None, f"Python {DEFAULT_PYTHON}: no .python-version nor requires-python found"


def _install(root: Path, pyproject: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    pip = "python -m pip install"
    lines, files, said = ["python -m pip install --upgrade pip"], [], []
    project = pyproject.get("project")
    poetry = pyproject.get("tool", {}).get("poetry")
    if poetry is not None and project is None:
        lines += [f"{pip} poetry", "poetry config virtualenvs.create false", "poetry install --no-interaction"]
        files += ["pyproject.toml"] + (["poetry.lock"] if (root / "poetry.lock").is_file() else [])
        said.append("poetry (pyproject.toml [tool.poetry]): poetry install into the job's Python")
    elif project is not None or (root / "setup.py").is_file() or (root / "setup.cfg").is_file():
        extras = [e for e in TEST_EXTRAS if e in (project or {}).get("optional-dependencies", {})]
        groups = [g for g in TEST_EXTRAS if g in pyproject.get("dependency-groups", {})]
        target = f'-e ".[{extras[0]}]"' if extras else "-e ."
        lines.append(f"{pip} {target}")
        if groups:  # PEP 735 groups: pip reads them from 25.1 on (pip 23 cannot), so ask for one that can
            lines[0] = "python -m pip install --upgrade 'pip>=25.1'"
            lines.append(f"{pip} --group {groups[0]}")
        files.append("pyproject.toml" if (root / "pyproject.toml").is_file() else "setup.py"
                     if (root / "setup.py").is_file() else "setup.cfg")
        what = f"the [{extras[0]}] extra" if extras else "no test extra found"
        said.append(f"pip install -e . ({what}{f', dependency group {groups[0]} (pip>=25.1)' if groups else ''})")
        if not extras and not groups and not any(TEST_REQUIREMENTS.match(p.name) and p.name != "requirements.txt"
                                                 for p in root.glob("requirements*.txt")):
            lines.append(f"{pip} pytest")
            said.append("could not infer the test dependencies: no [" + "]/[".join(TEST_EXTRAS) + "] extra or "
                        "dependency group, nor requirements-test/dev.txt; pytest installed, add the rest to the "
                        "install step")
    requirements = sorted(p.name for p in root.glob("requirements*.txt") if TEST_REQUIREMENTS.match(p.name))
    if requirements:
        lines.append(f"{pip} " + " ".join(f"-r {name}" for name in requirements))
        files += requirements
        said.append(f"requirements: {', '.join(requirements)}")
    if len(lines) == 1:
        lines.append(f"{pip} pytest")
        said.append("no pyproject.toml, setup.py or requirements*.txt: only pytest installed; add your dependencies")
    return tuple(lines), tuple(files), "install: " + "; ".join(said)


def read_project(root: Path) -> Project:
    config = load_config(root)  # refuses a bad [tool.mutagate] before anything is written
    pyproject = _pyproject(root)
    version, version_file, python_said = _python_version(root, pyproject)
    install, files, install_said = _install(root, pyproject)
    if config.fail_under is not None:
        gate, gate_why = None, f"gate: fail-under = {config.fail_under:g} in [tool.mutagate] (the run reads it)"
    else:
        gate = config.threshold_low
        gate_why = (f"gate: --fail-under {gate:g} in the PR job (no fail-under in [tool.mutagate]; its low threshold); "
                    "set fail-under there to change it")
    source = (f"source: {', '.join(config.source)} ([tool.mutagate])" if config.source
              else "source: chosen by each run (the project's packages; the run's summary says which)")
    tests = f"tests: {', '.join(config.tests)} ([tool.mutagate])" if config.tests else "tests: found by name at each run"
    python = PythonSetup(version, version_file, install, files, (python_said, install_said, source, tests))
    return Project(root, config, python, gate, gate_why, lost_settings(root, root / DEFAULT_DB, config.deselect))
