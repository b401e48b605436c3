"""Issue 23: a nightly split into shards (`mutagate run --shard K/N`, then `mutagate merge`) against the same
nightly unsharded, on the sqlite-utils bed of bench_libs.py.

The work: every mutant of sqlite_utils/migrations.py, recipes.py and plugins.py (`--all-authors
--every-mutant --no-bail`: the nightly's flags; 153 mutants), a subset of the 1,051-mutant nightly that fits
the shared 2-core machine (each run here takes the CPU lock, /tmp/mutagate-cpu.lock, for itself).

Measured: the unsharded run's wall; then N = 2 and N = 4 shards run ONE AFTER ANOTHER on this machine
(each shard with --jobs JOBS, its own database), and the merge. The projected wall of the sharded nightly
on N parallel runners is the slowest shard plus the merge (every runner assumed no faster than this
machine: a hosted runner's 4 cores would only shorten it). The merged run's verdicts are compared with the
unsharded run's, mutant id by mutant id.

The full nightly (`--work full`, writes bench_shards_full.json): 1,051 mutants, the size of the sqlite-utils
nightly in issue 23. On this bed the AI-attributed nightly has only 74 mutants and every mutant of every author
7,150, so the full work is every author's lines of sqlite_utils/cli.py and recipes.py, one mutant per line
(`--all-authors --one-per-line --no-bail`): 1,029 + 22 = 1,051 mutants, over the CLI's 1,000-odd tests.

    python benchmarks/bench_libs.py --lib sqlite-utils --prepare-only   # the bed (prints its path)
    python benchmarks/bench_shards.py                                   # writes bench_shards.json
    python benchmarks/bench_shards.py --work full                       # writes bench_shards_full.json
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

HERE = Path(__file__).parent
BED = HERE / ".cache" / "sqlite-utils-repo"
# The work: (flags, paths) per --work.
WORK: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "subset": (("--all-authors", "--every-mutant", "--no-bail"),
               ("sqlite_utils/migrations.py", "sqlite_utils/recipes.py", "sqlite_utils/plugins.py")),
    "full": (("--all-authors", "--one-per-line", "--no-bail"), ("sqlite_utils/cli.py", "sqlite_utils/recipes.py")),
}
LOCK = Path("/tmp/mutagate-cpu.lock")


@contextmanager
def cpu_lock():
    """The machine's shared CPU lock, one run at a time (the HELPERS rule), if the lock file's place exists."""
    with LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def mutagate(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    with cpu_lock():
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "scheduler.cli", *args], cwd=BED, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(HERE.parent), "MUTAGATE_PROGRESS_SECONDS": "0"})
        wall = time.perf_counter() - started
    if done.returncode not in (0, 3):
        sys.exit(f"mutagate {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return wall, done


def verdicts(db: Path, run_id: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT mutant_id, status, killed_by FROM outcomes WHERE run_id = ?", [run_id]).fetchall()
    return {m: (s, tuple(k or ())) for m, s, k in rows}


def agreement(reference: dict, found: dict) -> dict:
    """The merged run against the unsharded one, by mutant id: the status (the verdict), the set of killing
    tests (--no-bail records every one), and their order only (fastest first, by each baseline's own timings)."""
    ids = reference.keys() | found.keys()
    status = sorted(m for m in ids if (reference.get(m) or ("",))[0] != (found.get(m) or ("",))[0])
    killers = sorted(m for m in ids if m not in status
                     and set((reference.get(m) or ("", ()))[1]) != set((found.get(m) or ("", ()))[1]))
    order = [m for m in ids if m not in status and m not in killers and reference.get(m) != found.get(m)]
    return {"mutants_compared": len(ids), "status_differs": len(status), "status_differs_ids": status[:20],
            "killing_test_sets_differ": len(killers), "killing_test_sets_differ_ids": killers[:20],
            "killing_tests_in_another_order_only": len(order)}


def run(db: Path, jobs: int, work: str, *extra: str) -> dict:
    flags, paths = WORK[work]
    wall, done = mutagate("run", "--json", "--jobs", str(jobs), "--db", str(db), *flags, *extra, *paths)
    summary = json.loads(done.stdout)
    return {"wall_seconds": round(wall, 2), "mutants": summary["mutants"], "score": summary["score"],
            "phase_seconds": summary["timings"], "run_id": summary["run_id"],
            "probes": (summary.get("baseline") or {}).get("probes")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--shards", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--work", choices=sorted(WORK), default="subset")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.out = args.out or HERE / ("bench_shards.json" if args.work == "subset" else f"bench_shards_{args.work}.json")
    if not BED.is_dir():
        sys.exit(f"no bed at {BED}: python benchmarks/bench_libs.py --lib sqlite-utils --prepare-only")
    dbs = HERE / ".cache" / f"shard-dbs-{args.work}"
    dbs.mkdir(parents=True, exist_ok=True)
    for old in dbs.glob("*.duckdb"):
        old.unlink()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=BED, capture_output=True, text=True).stdout.strip()
    figures: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                     "bed": "sqlite-utils 4.2.1 (benchmarks/bench_libs.py)", "commit": head, "jobs": args.jobs,
                     "command": ["mutagate", "run", *WORK[args.work][0], *WORK[args.work][1]]}
    whole = run(dbs / "whole.duckdb", args.jobs, args.work)
    figures["unsharded"] = whole
    print(json.dumps(whole), flush=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    reference = verdicts(dbs / "whole.duckdb", whole["run_id"])
    for n in args.shards:
        shards = []
        for k in range(1, n + 1):
            shard = run(dbs / f"{n}-{k}.duckdb", args.jobs, args.work, "--shard", f"{k}/{n}")
            shards.append(shard)
            print(json.dumps({"shard": f"{k}/{n}", **shard}), flush=True)
        merged_db = dbs / f"merged-{n}.duckdb"
        merge_wall, done = mutagate("merge", *(str(dbs / f"{n}-{k}.duckdb") for k in range(1, n + 1)),
                                    "--db", str(merged_db), "--json")
        merged = json.loads(done.stdout)
        found = verdicts(merged_db, merged["run_id"])
        sequential = sum(s["wall_seconds"] for s in shards)
        projected = max(s["wall_seconds"] for s in shards) + merge_wall
        figures[f"shards_{n}"] = {
            "shards": [{k: v for k, v in s.items() if k != "run_id"} for s in shards],
            "mutants_per_shard": [s["mutants"] for s in shards],
            "sequential_wall_seconds": round(sequential, 2),
            "merge_seconds": round(merge_wall, 2),
            "projected_parallel_wall_seconds": round(projected, 2),
            "projected_speedup": round(whole["wall_seconds"] / projected, 2),
            "baseline_seconds_per_shard": [s["phase_seconds"].get("baseline") for s in shards],
            "merged_score": merged["score"], "merged_mutants": merged["mutants"],
            "merged_vs_unsharded": agreement(reference, found),
        }
        print(json.dumps(figures[f"shards_{n}"]), flush=True)
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    figures["unsharded"].pop("run_id")
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
