"""A mid-size real suite: python-dateutil 2.9.0.post0 (~2,000 pytest tests), PR- and nightly-sized runs.

On a suite like this the per-mutant fork cost is small; the baseline, the confirmation of survivors
and the fresh interpreters of import-time mutants are the bill. The script downloads dateutil's sdist
(cached in benchmarks/.cache), gives it a synthetic history, and measures side by side:

- plain `pytest` on the same suite (the yardstick: the issue's goals are ratios to it);
- a PR-sized run: `mutagate run --base pr-base` over one Claude Code commit (~40 AI lines), without
  and with a coverage map stored by a nightly run of the PR's base in the same database;
- a nightly-sized run: every mutant of every AI line at HEAD (~170 lines), once per confirmation
  policy (`--confirm full|smart|off`): wall time by phase, survivors checked, flips, and which
  verdicts differ from `full`;
- mutmut 3 on the three AI files (whole files: mutmut has no line scope) with `--mutmut`.

The history: a human writes dateutil without two regions and with a draft of a third; Claude Code
adds `relativedelta._fix`, `weeks` and `_set_months`; Cursor adds `easter()`; then (the PR, on
`pr-base`) Claude Code rewrites `isoparser._parse_isodate_common`.

    python benchmarks/bench_suite.py               # writes bench_suite.json
    python benchmarks/bench_suite.py --mutmut      # also mutmut 3 on the AI files
    python benchmarks/bench_suite.py --policies smart --no-pr
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import duckdb
from bench_run import _verdicts, _version, git

HERE = Path(__file__).parent
CACHE = HERE / ".cache"
DATEUTIL = "python-dateutil==2.9.0.post0"
ROOT = "python-dateutil-2.9.0.post0"

# (file, first line, last line, agent) at HEAD, 1-based and inclusive.
NIGHTLY_REGIONS = [
    ("src/dateutil/relativedelta.py", 231, 281, "claude"),  # _fix, weeks, _set_months
    ("src/dateutil/easter.py", 16, 89, "cursor"),  # easter()
]
PR_REGION = ("src/dateutil/parser/isoparser.py", 212, 252, "claude")  # _parse_isodate_common

# dateutil's own setup.cfg pytest section, minus `filterwarnings = error` (today's Python deprecates
# what 2.9.0 still calls) and the hypothesis property tests (random by design; not installed here).
PYTEST_INI = """[pytest]
testpaths = tests
pythonpath = src
xfail_strict = true
addopts = --ignore=tests/property -p no:cacheprovider
markers =
    gettz
    import_star
    isoparser
    parserinfo
    rrule
    rruleset
    rrulestr
    smoke
    tz_resolve_imaginary
    tzfile
    tzlocal
    tzoffset
    tzstr
    no_cover
"""

MUTAGATE_CONFIG = """
[tool.mutagate]
source = ["src"]
tests = ["tests"]
"""

AGENTS = {
    "claude": {"message": "\n\nCo-Authored-By: Claude <noreply@anthropic.com>", "env": {}},
    "cursor": {"message": "", "env": {"GIT_AUTHOR_NAME": "Cursor Agent", "GIT_AUTHOR_EMAIL": "cursoragent@cursor.com"}},
}
HUMAN = {"GIT_AUTHOR_NAME": "Ada Human", "GIT_AUTHOR_EMAIL": "ada@example.com",
         "GIT_COMMITTER_NAME": "Ada Human", "GIT_COMMITTER_EMAIL": "ada@example.com"}


def sdist() -> Path:
    CACHE.mkdir(exist_ok=True)
    name = f"{ROOT}.tar.gz"
    if not (CACHE / name).is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        DATEUTIL, "-d", str(CACHE)], check=True)
    return CACHE / name


def ensure_test_requirements() -> None:
    """dateutil's tests import freezegun and six; installed into this interpreter if missing."""
    missing = [m for m in ("freezegun", "six") if subprocess.run(
        [sys.executable, "-c", f"import {m}"], capture_output=True).returncode]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)


def unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    tree = into / ROOT
    (tree / "pytest.ini").write_text(PYTEST_INI)
    (tree / "pyproject.toml").write_text((tree / "pyproject.toml").read_text() + MUTAGATE_CONFIG)
    return tree


Region = tuple[str, int, int, str]  # (file, first line, last line, agent) at HEAD, 1-based and inclusive


def _render(full: dict[str, list[str]], path: str, missing: list[Region], drafted: list[Region]) -> str:
    """`path` as HEAD has it, without the `missing` regions and with the `drafted` ones marked `# draft`
    (the same code, so the tests still pass): any number of regions per file, in any order."""
    out = []
    for number, line in enumerate(full[path], start=1):
        if any(r[0] == path and r[1] <= number <= r[2] for r in missing):
            continue
        if line.strip() and any(r[0] == path and r[1] <= number <= r[2] for r in drafted):
            line = line.rstrip("\n") + "  # draft\n"
        out.append(line)
    return "".join(out)


def _commit(tree: Path, agent: str | None, message: str) -> None:
    git(tree, "add", "-A")
    if agent is None:
        git(tree, "commit", "-q", "-m", message, env=HUMAN)
        return
    signals = AGENTS[agent]
    git(tree, "commit", "-q", "-m", message + signals["message"], env={**HUMAN, **signals["env"]})


def build_history(tree: Path, nightly: list[Region] = NIGHTLY_REGIONS, pr: Region = PR_REGION,
                  human_message: str = "dateutil without two regions, and a draft of a third") -> None:
    """The human's version lacks the nightly regions (the agents add them, one commit each) and has a
    draft of the PR's region that works the same (each line with a `# draft` comment), so that the PR's
    base passes its tests: the PR's commit puts the real lines in, and blame gives them to the PR's agent."""
    paths = {path for path, *_ in [*nightly, pr]}
    full = {path: (tree / path).read_text().splitlines(keepends=True) for path in paths}
    missing = list(nightly)

    def write() -> None:
        for path in paths:
            (tree / path).write_text(_render(full, path, missing, drafted))

    drafted = [pr]
    write()
    git(tree, "init", "-q", "-b", "main")
    _commit(tree, None, human_message)
    for region in nightly:
        missing.remove(region)
        write()
        _commit(tree, region[3], f"Add {region[0]}:{region[1]}-{region[2]}")
    git(tree, "tag", "pr-base")
    drafted = []
    write()
    _commit(tree, pr[3], f"Finish {pr[0]}:{pr[1]}-{pr[2]}")
    for name, lines in full.items():
        assert (tree / name).read_text() == "".join(lines), name


def plain_pytest(tree: Path, repeats: int = 2, extra: tuple[str, ...] = (), warm: bool = False) -> float:
    """The best of `repeats` runs. By default as on a fresh CI checkout: no bytecode written, so
    pytest rewrites every test module's asserts each time; `warm`: as on a developer's machine, from
    bytecode a first (unmeasured) run wrote."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if warm:
        env.pop("PYTHONDONTWRITEBYTECODE")
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="plain-pycache-")
        repeats += 1
    times = []
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *extra], cwd=tree,
                                  capture_output=True, text=True, env=env)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.exit(f"{tree.name}'s suite fails before mutation: {done.stdout[-1500:]}")
    finally:
        if warm:
            shutil.rmtree(env["PYTHONPYCACHEPREFIX"], ignore_errors=True)
    return min(times[1:] if warm else times)


def pr_against_plain(tree: Path, jobs: int, rounds: int, *flags: str, dbs: Path | None = None,
                     env: dict[str, str] | None = None) -> tuple[float, dict, dict[str, str]]:
    """Plain pytest and a mutagate run (`flags`, each round its own database: in `dbs` if given),
    alternated `rounds` times: the machine's drift (a noisy VM gave the same plain suite 11.6-14.3 s
    in one day) then weighs on both alike. The best of each, and the best run's figures with every
    sample and the ratio of the medians beside the ratio of the bests."""
    plains, runs = [], []
    for index in range(rounds):
        plains.append(plain_pytest(tree, repeats=1))
        db = ("--db", str(dbs / f"round-{index}.duckdb")) if dbs is not None else ()
        runs.append(run_mutagate(tree, jobs, *flags, *db, env=env))
    best, verdicts = min(runs, key=lambda run: run[0]["wall_seconds"])
    walls = [run[0]["wall_seconds"] for run in runs]
    plain = min(plains)
    best = {**best, "wall_samples": walls, "plain_pytest_samples": [round(t, 2) for t in plains],
            "ratio_to_plain_pytest": round(best["wall_seconds"] / plain, 2),
            "ratio_of_medians": round(statistics.median(walls) / statistics.median(plains), 2)}
    return plain, best, verdicts


def ai_lines(tree: Path, *extra: str) -> int:
    done = subprocess.run([sys.executable, "-m", "scheduler.cli", "blame", "--json", *extra], cwd=tree,
                          capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    return len(json.loads(done.stdout)["lines"])


def run_mutagate(tree: Path, jobs: int, *flags: str, env: dict[str, str] | None = None) -> tuple[dict, dict[str, str]]:
    """A run with its own new database unless `flags` name one; `env`: added to the environment."""
    db = Path(flags[flags.index("--db") + 1]) if "--db" in flags else tree.parent / f"results-{time.monotonic_ns()}.duckdb"
    flags = flags if "--db" in flags else (*flags, "--db", str(db))
    command = [sys.executable, "-m", "scheduler.cli", "run", "--jobs", str(jobs), "--json", *flags]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent), **(env or {})})
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):
        sys.exit(f"mutagate run {' '.join(flags)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    summary = json.loads(done.stdout)
    verdicts = _verdicts(db, summary["run_id"])
    con = duckdb.connect(str(db), read_only=True)
    modes = dict(con.execute(
        "SELECT phase, count(*) FROM outcomes WHERE run_id = ? GROUP BY phase", [summary["run_id"]]).fetchall())
    con.close()
    figures = {
        "flags": list(flags),
        "mutants": summary["mutants"],
        "killed": summary["killed"],
        "survived": summary["survived"],
        "no_coverage": summary["no_coverage"],
        "timeout": summary["timeout"],
        "score": summary["score"],
        "wall_seconds": round(wall, 2),
        "phase_seconds": summary["timings"],
        "verdicts_by_phase": modes,
        "confirmation": summary.get("confirmation"),
        "baseline": summary.get("baseline"),
        # What the run said was coming once its baseline was in (stderr), to hold against phase_seconds.
        "forecast": next((line.removeprefix("mutagate: ") for line in done.stderr.splitlines()
                          if "mutants to run" in line), None),
    }
    return figures, verdicts


def _differences(probes: dict[str, str], coverage: dict[str, str]) -> list[str]:
    return sorted(f"{m}: {probes.get(m)} (coverage baseline: {coverage.get(m)})"
                  for m in probes.keys() | coverage.keys() if probes.get(m) != coverage.get(m))


def run_mutmut(tree: Path, jobs: int) -> dict:
    copy = tree.parent / "for-mutmut"
    shutil.copytree(tree, copy, ignore=shutil.ignore_patterns(".git"))
    files = sorted({path for path, *_ in [*NIGHTLY_REGIONS, PR_REGION]})
    config = (f"\n[tool.mutmut]\nsource_paths = [\"src\"]\nonly_mutate = {json.dumps(files)}\n"
              "also_copy = [\"pytest.ini\"]\n")
    (copy / "pyproject.toml").write_text((copy / "pyproject.toml").read_text() + config)
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    started = time.perf_counter()
    done = subprocess.run([mutmut, "run", "--max-children", str(jobs)], cwd=copy, capture_output=True, text=True)
    wall = time.perf_counter() - started
    stats_run = subprocess.run([mutmut, "export-cicd-stats"], cwd=copy, capture_output=True, text=True)
    stats_file = copy / "mutants" / "mutmut-cicd-stats.json"
    if done.returncode != 0 or stats_run.returncode != 0 or not stats_file.is_file():
        return {"version": _version("mutmut"), "failed": True, "exit_code": done.returncode,
                "why": (done.stdout + done.stderr).strip().splitlines()[-5:], "wall_seconds": round(wall, 2)}
    stats = json.loads(stats_file.read_text())
    return {"version": _version("mutmut"), "jobs": jobs, "files": files, "mutants": stats["total"],
            "killed": stats["killed"], "survived": stats["survived"], "timeout": stats["timeout"],
            "no_tests": stats["no_tests"], "wall_seconds": round(wall, 2),
            "mutants_per_second": round(stats["total"] / wall, 2) if wall else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--policies", nargs="+", default=["full", "smart", "off"], choices=["full", "smart", "off"])
    parser.add_argument("--no-pr", dest="pr", action="store_false")
    parser.add_argument("--mutmut", action="store_true")
    parser.add_argument("--compare-coverage", action="store_true",
                        help="also run the PR and the smart nightly with the baseline under coverage.py, and diff verdicts")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the PR without a stored map: this many runs, alternated with plain pytest")
    parser.add_argument("--out", type=Path, default=HERE / "bench_suite.json")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    ensure_test_requirements()
    with tempfile.TemporaryDirectory(prefix="mutagate-bench-suite-") as scratch:
        tree = unpack(sdist(), Path(scratch))
        build_history(tree)
        plain = plain_pytest(tree)
        figures: dict = {
            "what": f"{DATEUTIL}: PR- and nightly-sized runs beside plain pytest of the same suite",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "jobs": args.jobs,
            "plain_pytest_seconds": round(plain, 2),
        }
        if args.pr:
            plain_alternated, pr, pr_verdicts = pr_against_plain(tree, args.jobs, args.rounds, "--base", "pr-base")
            pr["ai_lines"] = ai_lines(tree, "--base", "pr-base")
            plain = min(plain, plain_alternated)  # the yardstick of the other runs
            figures["plain_pytest_seconds"] = round(plain, 2)
            figures["pr"] = pr  # its ratios: against the plain runs it alternated with
            if args.compare_coverage:  # the same PR with the baseline under coverage.py: the same verdicts?
                covered, covered_verdicts = run_mutagate(tree, args.jobs, "--base", "pr-base", "--coverage-map")
                covered["ratio_to_plain_pytest"] = round(covered["wall_seconds"] / plain, 2)
                covered["differs_from_probes"] = _differences(pr_verdicts, covered_verdicts)
                figures["pr_coverage_baseline"] = covered
            # The same PR after a nightly run of its base stored a coverage map in the same database.
            history = tree.parent / "history.duckdb"
            git(tree, "checkout", "-q", "pr-base")
            base_nightly, _ = run_mutagate(tree, args.jobs, "--every-mutant", "--coverage-map", "--db", str(history))
            git(tree, "checkout", "-q", "main")
            stored, _ = run_mutagate(tree, args.jobs, "--base", "pr-base", "--db", str(history))
            stored["ratio_to_plain_pytest"] = round(stored["wall_seconds"] / plain, 2)
            stored["nightly_of_the_base_seconds"] = base_nightly["wall_seconds"]
            figures["pr_with_stored_baseline"] = stored
        nightly: dict = {"ai_lines": ai_lines(tree), "policies": {}}
        verdicts: dict[str, dict[str, str]] = {}
        for policy in args.policies:
            run, verdicts[policy] = run_mutagate(tree, args.jobs, "--every-mutant", "--confirm", policy)
            run["ratio_to_plain_pytest_per_100_ai_lines"] = round(
                run["wall_seconds"] / plain / (nightly["ai_lines"] / 100), 2)
            nightly["policies"][policy] = run
        if args.compare_coverage and "smart" in verdicts:
            run, found = run_mutagate(tree, args.jobs, "--every-mutant", "--confirm", "smart", "--coverage-map")
            run["differs_from_probes"] = _differences(verdicts["smart"], found)
            nightly["smart_coverage_baseline"] = run
        if "full" in verdicts:
            for policy, found in verdicts.items():
                nightly["policies"][policy]["differs_from_full"] = sorted(
                    f"{m}: {found[m]} (full: {verdicts['full'][m]})" for m in found if found[m] != verdicts["full"].get(m))
        figures["nightly"] = nightly
        if args.mutmut:
            figures["mutmut"] = run_mutmut(tree, args.jobs)
    print(json.dumps(figures, indent=2))
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
