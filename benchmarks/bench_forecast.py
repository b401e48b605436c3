"""Forecasts against what happened: the "what is coming" estimate and the progress line's ETA, on the
three real libraries (issue 22, item 4).

For each bed a PR run (`--base pr-base`) and a nightly-sized run (`--every-mutant`), once each, each
with its own new database (no stored history: the default survival rate), `--jobs 2`; with
`--history` also the PR once a nightly run of its base is stored (the operators' survival rates from it):

- the forecast: `--json`'s `forecast.seconds` (the number behind the "what is coming" line), against
  the actual mutant + confirmation phases (`timings.mutants + timings.confirm`), and whether the actual
  fell inside `forecast.likely` (the range the line gives where survivors may take it past ±30 %);
- the ETA: every progress line of the mutant phase (one each MUTAGATE_PROGRESS_SECONDS, set to 2 here:
  `mutants 12/51, ...; 4 s so far, about 6 s left`), as the phase's predicted length (so far + left)
  against the phase's actual length, as the worst error over the lines once a tenth of the mutants
  is done (before that an ETA is a guess by any model).

The beds: dateutil is built in a temporary folder from its sdist (bench_suite.py), sqlite-utils and
Markdown are the repositories bench_libs.py keeps in the cache (build them with `python
benchmarks/bench_libs.py --lib X --prepare-only`); the script leaves them as it found them.

    python benchmarks/bench_forecast.py                                   # all three, writes bench_forecast.json
    python benchmarks/bench_forecast.py --bed markdown --cache /work/main/benchmarks/.cache
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_suite import ROOT, build_history, ensure_test_requirements, unpack

HERE = Path(__file__).parent
BEDS = ("dateutil", "sqlite-utils", "markdown")
PROGRESS = re.compile(r"^mutagate: mutants (\d+)/(\d+).*; (.+) so far, about (.+) left$")


def seconds_of(text: str) -> float:
    """`1 min 20 s`, `12 s`, `under 1 s` (as the progress line says them) in seconds."""
    if text.startswith("under"):
        return 0.5
    found = re.fullmatch(r"(?:(\d+) min )?(\d+) s", text)
    if found is None:
        raise ValueError(f"not a duration: {text!r}")
    return 60 * int(found[1] or 0) + int(found[2])


def run(repo: Path, scratch: Path, *flags: str, db: Path | None = None) -> dict:
    db = db or scratch / f"results-{time.monotonic_ns()}.duckdb"
    command = [sys.executable, "-m", "scheduler.cli", "run", "--jobs", "2", "--json", "--db", str(db), *flags]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent), "MUTAGATE_PROGRESS_SECONDS": "2"})
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):
        sys.exit(f"mutagate run {' '.join(flags)} in {repo} failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    timings = summary["timings"]
    actual = timings.get("mutants", 0.0) + timings.get("confirm", 0.0)
    forecast = summary["forecast"]["seconds"]
    etas = []
    for line in done.stderr.splitlines():
        found = PROGRESS.match(line)
        if found and int(found[1]) >= int(found[2]) / 10:
            predicted = seconds_of(found[3]) + seconds_of(found[4])
            etas.append({"done": f"{found[1]}/{found[2]}", "so_far_plus_left": predicted,
                         "error_pct": round(100 * (predicted - timings["mutants"]) / timings["mutants"])})
    return {
        "flags": list(flags),
        "mutants": summary["mutants"], "killed": summary["killed"], "survived": summary["survived"],
        "timeout": summary["timeout"],
        "forecast_line": next((line.removeprefix("mutagate: ") for line in done.stderr.splitlines()
                               if "mutants to run" in line), None),
        "forecast": summary["forecast"],
        "actual_mutants_plus_confirm_seconds": round(actual, 2),
        "forecast_error_pct": round(100 * (forecast - actual) / actual) if actual else None,
        "actual_within_likely": (summary["forecast"]["likely"][0] <= actual <= summary["forecast"]["likely"][1]
                                 if summary["forecast"].get("likely") else None),
        "eta_lines": etas,
        "eta_worst_error_pct": max((e["error_pct"] for e in etas), key=abs, default=None),
        "phase_seconds": timings,
        "wall_seconds": round(wall, 2),
    }


def measure(repo: Path, scratch: Path, history: bool) -> dict:
    figures = {"pr": run(repo, scratch, "--base", "pr-base"), "nightly": run(repo, scratch, "--every-mutant")}
    if history:
        figures["pr_after_a_nightly_of_its_base"] = with_history(repo, scratch)
    return figures


def with_history(repo: Path, scratch: Path) -> dict:
    """The PR once a nightly run of its base is stored in the same database: its operators' survival
    rates come from there (the PR's own lines are new: none of its verdicts is reused). In a clone,
    so that the bed's own checkout never moves."""
    clone = scratch / "history-clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    db = scratch / "history.duckdb"
    subprocess.run(["git", "checkout", "-q", "pr-base"], cwd=clone, check=True)
    base = run(clone, scratch, "--every-mutant", db=db)
    subprocess.run(["git", "checkout", "-q", "-"], cwd=clone, check=True)
    figures = run(clone, scratch, "--base", "pr-base", db=db)
    figures["nightly_of_the_base"] = {"mutants": base["mutants"], "survived": base["survived"]}
    return figures


def git_status(repo: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bed", choices=BEDS, action="append", help="one bed (repeatable); default all three")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache",
                        help="where the sdists and bench_libs.py's repositories are (default benchmarks/.cache)")
    parser.add_argument("--out", type=Path, default=HERE / "bench_forecast.json")
    parser.add_argument("--history", action="store_true",
                        help="also the PR after a nightly run of its base in the same database (stored survival rates)")
    args = parser.parse_args()
    figures: dict = json.loads(args.out.read_text()) if args.out.is_file() else {}
    figures["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    figures["jobs"] = 2
    for bed in args.bed or BEDS:
        with tempfile.TemporaryDirectory(prefix="mutagate-bench-forecast-") as scratch:
            if bed == "dateutil":
                ensure_test_requirements()
                repo = unpack(args.cache / f"{ROOT}.tar.gz", Path(scratch))
                build_history(repo)
            else:
                repo = args.cache / f"{bed}-repo"
                if not (repo / ".git").is_dir():
                    sys.exit(f"no {repo}: build it with `python benchmarks/bench_libs.py --lib {bed} --prepare-only`")
                before = git_status(repo)
            figures[bed] = measure(repo, Path(scratch), args.history)
            if bed != "dateutil" and git_status(repo) != before:
                sys.exit(f"{repo} changed during the runs: {git_status(repo)}")
        print(json.dumps({bed: figures[bed]}, indent=2))
        args.out.write_text(json.dumps(figures, indent=2) + "\n")  # one bed's figures kept if the next fails


if __name__ == "__main__":
    main()
