"""Mutation-run speed on a real library: semver 3.1.1 (pure Python, ~500 pytest tests).

The script downloads semver's sdist (cached in benchmarks/.cache), gives it a synthetic history
(a human writes the package and its tests, Claude Code writes `version.py`, Cursor writes `cli.py`),
then measures:

- `mutagate run --every-mutant` on the AI lines: wall time, mutants/s, and the ratio to the
  physical limit = Σ per mutant of the covering tests' baseline time up to the first kill (all of
  them for a survivor or a timeout) ÷ jobs;
- mutmut 3 on the same two files with the same tests and jobs (`--mutmut`, on by default).

Both tools see the same pytest configuration: semver's own `.pytest.ini` minus its pytest-cov and
doctest options, and without one test that mutmut's clean run cannot repeat in one process.

    python benchmarks/bench_run.py                  # local executor, then mutmut; writes bench_run.json
    python benchmarks/bench_run.py --executor ray   # the same run on a private local Ray instance
    python benchmarks/bench_run.py --no-mutmut --jobs 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).parent
CACHE = HERE / ".cache"
SEMVER = "semver==3.1.1"
AI_FILES = {"src/semver/version.py": "claude", "src/semver/cli.py": "cursor"}
NOT_REPEATABLE = "tests/test_pysemver-cli.py::test_should_process_parsed_cli_arguments"

PYTEST_INI = """[pytest]
testpaths = tests
pythonpath = src tests
filterwarnings =
    ignore:Function 'semver.*:DeprecationWarning
    ignore:Function 'semver.compare' is deprecated.*:PendingDeprecationWarning
"""

MUTAGATE_CONFIG = f"""
[tool.mutagate]
source = ["src"]
tests = ["tests"]
deselect = ["{NOT_REPEATABLE}"]
"""

MUTMUT_CONFIG = f"""
[tool.mutmut]
source_paths = ["src"]
only_mutate = {json.dumps(sorted(AI_FILES))}
also_copy = [".pytest.ini"]
pytest_add_cli_args = ["--deselect", "{NOT_REPEATABLE}"]
"""


def sdist() -> Path:
    CACHE.mkdir(exist_ok=True)
    found = sorted(CACHE.glob("semver-3.1.1.tar.gz"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        SEMVER, "-d", str(CACHE)], check=True)
        found = sorted(CACHE.glob("semver-3.1.1.tar.gz"))
    return found[0]


def unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    tree = into / "semver-3.1.1"
    (tree / ".pytest.ini").write_text(PYTEST_INI)
    return tree


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **(env or {})})


def build_history(tree: Path) -> None:
    """Human first; then the two AI files arrive in commits that carry each agent's real signals."""
    (tree / "pyproject.toml").write_text((tree / "pyproject.toml").read_text() + MUTAGATE_CONFIG)
    held = {path: (tree / path).read_text() for path in AI_FILES}
    for path in AI_FILES:
        (tree / path).unlink()
    human = {"GIT_AUTHOR_NAME": "Ada Human", "GIT_AUTHOR_EMAIL": "ada@example.com",
             "GIT_COMMITTER_NAME": "Ada Human", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    git(tree, "init", "-q", "-b", "main")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "semver without version.py and cli.py", env=human)
    (tree / "src/semver/version.py").write_text(held["src/semver/version.py"])
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "Add Version\n\nCo-Authored-By: Claude <noreply@anthropic.com>", env=human)
    (tree / "src/semver/cli.py").write_text(held["src/semver/cli.py"])
    git(tree, "add", "-A")
    cursor = {"GIT_AUTHOR_NAME": "Cursor Agent", "GIT_AUTHOR_EMAIL": "cursoragent@cursor.com"}
    git(tree, "commit", "-q", "-m", "Add the pysemver CLI", env={**human, **cursor})


def physical_limit(db: Path, run_id: str, jobs: int) -> float:
    """Σ baseline seconds of the covering tests a perfect scheduler must run, ÷ jobs."""
    con = duckdb.connect(str(db), read_only=True)
    durations = dict(con.execute("SELECT test, seconds FROM test_durations WHERE run_id = ?", [run_id]).fetchall())
    rows = con.execute(
        "SELECT status, covering_tests, killed_by FROM outcomes WHERE run_id = ? AND phase <> 'confirm'", [run_id]
    ).fetchall()
    con.close()
    total = 0.0
    for status, covering, killed_by in rows:
        for test in covering or []:  # stored in the order they were run: fastest first
            total += durations.get(test, 0.0)
            if status == "killed" and killed_by and test == killed_by[0]:
                break
    return total / jobs


def run_mutagate(tree: Path, jobs: int, executor: str, *extra: str) -> dict:
    db = tree.parent / f"results-{executor}-{jobs}-{time.monotonic_ns()}.duckdb"
    command = [sys.executable, "-m", "scheduler.cli", "run", "--every-mutant", "--jobs", str(jobs),
               "--executor", executor, "--db", str(db), "--json", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):
        sys.exit(f"mutagate run failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    summary = json.loads(done.stdout)
    limit = physical_limit(db, summary["run_id"], jobs)
    timings = summary["timings"]
    return {
        "executor": executor,
        "jobs": jobs,
        "mutants": summary["mutants"],
        "killed": summary["killed"],
        "timeout": summary["timeout"],
        "survived": summary["survived"],
        "no_coverage": summary["no_coverage"],
        "score": summary["score"],
        "wall_seconds": round(wall, 2),
        "mutants_per_second": round(summary["mutants"] / wall, 1),
        "phase_seconds": timings,
        "physical_limit_seconds": round(limit, 3),
        "ratio_mutant_phase_to_limit": round(timings["mutants"] / limit, 2) if limit else None,
        "ratio_wall_to_limit": round(wall / limit, 2) if limit else None,
        "workers": summary["workers"],
        "confirmation": summary.get("confirmation"),
        "baseline": summary.get("baseline"),
        "verdicts": _verdicts(db, summary["run_id"]),
    }


def _verdicts(db: Path, run_id: str) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    found = dict(con.execute("SELECT mutant_id, status FROM outcomes WHERE run_id = ?", [run_id]).fetchall())
    con.close()
    return found


def run_mutmut(tree: Path, jobs: int) -> dict:
    copy = tree.parent / "for-mutmut"
    shutil.copytree(tree, copy, ignore=shutil.ignore_patterns(".git"))
    (copy / "pyproject.toml").write_text((copy / "pyproject.toml").read_text() + MUTMUT_CONFIG)
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    started = time.perf_counter()
    done = subprocess.run([mutmut, "run", "--max-children", str(jobs)], cwd=copy, capture_output=True, text=True)
    wall = time.perf_counter() - started
    subprocess.run([mutmut, "export-cicd-stats"], cwd=copy, capture_output=True, check=True)
    stats = json.loads((copy / "mutants" / "mutmut-cicd-stats.json").read_text())
    if done.returncode != 0 or not stats["total"]:
        sys.exit(f"mutmut run failed ({done.returncode}): {done.stdout[-1500:]}")
    return {
        "version": _version("mutmut"),
        "jobs": jobs,
        "mutants": stats["total"],
        "killed": stats["killed"],
        "survived": stats["survived"],
        "timeout": stats["timeout"],
        "no_tests": stats["no_tests"],
        "wall_seconds": round(wall, 2),
        "mutants_per_second": round(stats["total"] / wall, 1),
    }


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--executor", choices=["local", "ray"], default="local")
    parser.add_argument("--no-mutmut", dest="mutmut", action="store_false")
    parser.add_argument("--compare-full", action="store_true", help="also run --confirm full and compare verdicts")
    parser.add_argument("--out", type=Path, default=HERE / "bench_run.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mutagate-bench-") as scratch:
        tree = unpack(sdist(), Path(scratch))
        build_history(tree)
        figures: dict = {
            "what": "mutagate run --every-mutant on the AI lines of semver 3.1.1 (version.py by Claude Code, cli.py by Cursor)",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "mutagate": run_mutagate(tree, args.jobs, args.executor),
        }
        verdicts = figures["mutagate"].pop("verdicts")
        if args.compare_full:  # what --confirm smart (the default) gives up against the whole suite
            full = run_mutagate(tree, args.jobs, args.executor, "--confirm", "full")
            full_verdicts = full.pop("verdicts")
            figures["confirm_full"] = {
                "wall_seconds": full["wall_seconds"], "phase_seconds": full["phase_seconds"],
                "confirmation": full["confirmation"],
                "smart_differs": sorted(f"{m}: smart {verdicts[m]}, full {v}" for m, v in full_verdicts.items()
                                        if verdicts.get(m) != v),
            }
        if args.mutmut:
            figures["mutmut"] = run_mutmut(tree, args.jobs)
            figures["speedup_mutants_per_second"] = round(
                figures["mutagate"]["mutants_per_second"] / figures["mutmut"]["mutants_per_second"], 2)
    print(json.dumps(figures, indent=2))
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
