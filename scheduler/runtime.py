"""How the target's tests are started: its interpreter, its pytest arguments, a clean environment."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from scheduler.bytecode_store import seed
from scheduler.scratch import bytecode_cache, bytecode_store

RUNNER_SOURCE = Path(__file__).with_name("runner")  # the package that runs in the target's interpreter
RUNNER_NAME = "mutagate_runner"  # its name in a run: one no target's module can shadow or be shadowed by
# How far a mutant's test process may grow past its size at the fork ([tool.mutagate] memory-limit-mb):
# generous for any suite, far below a runaway allocation that would meet the OOM killer.
DEFAULT_MEMORY_LIMIT_MB = 4096.0


@dataclass(frozen=True)
class Runtime:
    python: str  # the target's interpreter
    pytest_args: tuple[str, ...]
    scratch: Path  # private folder for this run (runner copy, result files)
    runner: Path  # the runner package's copy: `python <runner> MODE ...` runs its __main__.py
    # What every process of the target is started under: the user's checkout read-only where the
    # platform allows (see checkout_guard.readonly_prefix), else nothing.
    sealed: tuple[str, ...] = ()
    # MB each mutant's processes may grow by (RLIMIT_AS, see runner/common.py cap_memory); 0: no cap.
    memory_limit_mb: float = DEFAULT_MEMORY_LIMIT_MB

    def command(self, *args: str) -> list[str]:
        """`python <runner> ARGS...` as the target's processes are started."""
        return [*self.sealed, self.python, str(self.runner), *args]

    @property
    def installed_modules(self) -> Path:
        """The installed modules (standard library, site-packages) the baseline's tests imported, as
        {"modules": [...]}: what a zygote imports once instead of in every fresh run."""
        return self.scratch / "installed-modules.json"

    def known_modules(self) -> list[str]:
        """What `installed_modules` holds so far."""
        with contextlib.suppress(OSError, ValueError):
            return list(json.loads(self.installed_modules.read_text()).get("modules", []))
        return []

    def remember_modules(self, modules: list[str]) -> None:
        """Adds `modules` to `installed_modules` (a run may measure its baseline in parts)."""
        known = set(self.known_modules())
        if set(modules) <= known:
            return
        temporary = self.installed_modules.with_suffix(".tmp")
        temporary.write_text(json.dumps({"modules": sorted(known | set(modules))}))
        temporary.replace(self.installed_modules)  # a zygote starting now reads all of it or none

    def seed_bytecode(self, copy: Path) -> int:
        """`copy`'s files get the bytecode that earlier copies compiled for their content, before
        any process starts there (bytecode_store.py): how many files."""
        return seed(copy, bytecode_cache(self.scratch), bytecode_store())

    def env(self, workdir: Path) -> dict[str, str]:
        """The work copy first on the import path (ahead of an editable install of the user's checkout),
        bytecode cached outside every checkout (see scratch.py). Caching halves a fresh run (pytest's
        assertion rewriting is most of its collection); mutated files get unique mtimes (see
        worker.py), so a cached .pyc can never stand in for a mutant."""
        paths = [str(workdir)] + ([str(workdir / "src")] if (workdir / "src").is_dir() else [])
        existing = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths + ([existing] if existing else []))}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache(self.scratch))
        env["PYTHONHASHSEED"] = "0"
        env["TMPDIR"] = str(self.scratch / "tmp")  # whatever the tests leave behind goes with the run
        env.pop("COVERAGE_PROCESS_START", None)
        env["MUTAGATE_MEMORY_LIMIT_MB"] = f"{self.memory_limit_mb:g}"
        return env


def make_runtime(scratch: Path, python: str | None, test_command: tuple[str, ...], deselect: tuple[str, ...],
                 memory_limit_mb: float = DEFAULT_MEMORY_LIMIT_MB) -> Runtime:
    scratch.mkdir(parents=True, exist_ok=True)
    # A private copy, so the runner's folder on sys.path holds nothing that could shadow the target:
    # only the package, under its unique name (its __main__.py puts runner_dir there, not itself).
    runner_dir = scratch / "runner"
    runner_dir.mkdir(exist_ok=True)
    (scratch / "tmp").mkdir(exist_ok=True)
    runner = runner_dir / RUNNER_NAME
    shutil.copytree(RUNNER_SOURCE, runner, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    args = list(test_command)
    if "pytest" in args:  # "pytest -x tests" or "python -m pytest tests": keep what follows pytest
        args = args[args.index("pytest") + 1 :]
    for nodeid in deselect:
        args += ["--deselect", nodeid]
    return Runtime(python=python or sys.executable, pytest_args=tuple(args), scratch=scratch, runner=runner,
                   memory_limit_mb=memory_limit_mb)
