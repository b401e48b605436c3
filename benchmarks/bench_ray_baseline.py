"""Issue 23 item 4: the baseline's shards on Ray workers, 1 vs 2 workers, against the local shards.

The bed: sqlite-utils 4.2.1 of bench_libs.py (its whole suite, ~1,000 tests). The baseline measured
is the nightly's: `--coverage-map --fresh-baseline` (every test under coverage, its map of every line
stored), with one mutant (`--mutant`, the first of `mutagate mutants`) so that the run is nearly all
baseline. Configurations: local shards with --jobs 1 and 2; a two-node Ray cluster on this machine
(`ray start`, one CPU per node, 127.0.0.2) with --jobs 1 and 2, where the shards run on the workers.

Measured per configuration (best of REPEATS runs, each under the machine's CPU lock): the run's
baseline phase (as the summary's `timings.baseline` counts it: for Ray it includes joining the
cluster, which uploads the snapshot as the job's working_dir, and starting the actors and their
work copies), each shard's own wall time (its interpreter, collection and tests), where each shard
ran, and a digest of the stored map, which must be the same in every configuration.

    python benchmarks/bench_libs.py --lib sqlite-utils --prepare-only   # the bed (prints its path)
    python benchmarks/bench_ray_baseline.py                             # writes bench_ray_baseline.json
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench_ray import RAY_ENV, stop_cluster, two_node_cluster  # noqa: E402
from bench_shards import BED, cpu_lock  # noqa: E402

REPEATS = 2


def mutagate(*args: str, lock: bool = True) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {**os.environ, **RAY_ENV, "PYTHONPATH": str(HERE.parent), "MUTAGATE_PROGRESS_SECONDS": "0"}
    command = [sys.executable, "-m", "scheduler.cli", *args]
    if lock:
        with cpu_lock():
            started = time.perf_counter()
            done = subprocess.run(command, cwd=BED, capture_output=True, text=True, env=env)
    else:
        started = time.perf_counter()
        done = subprocess.run(command, cwd=BED, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):
        sys.exit(f"mutagate {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return wall, done


def map_digest(db: Path, run_id: str) -> tuple[str, int, int]:
    """The stored map by test name (not position): its tests in order, and each line's tests."""
    con = duckdb.connect(str(db), read_only=True)
    tests = [name for (name,) in con.execute(
        "SELECT test FROM baseline_tests WHERE run_id = ? ORDER BY position", [run_id]).fetchall()]
    lines = sorted((file, line, sorted(tests[p] for p in positions), bool(at_import)) for file, line, positions, at_import
                   in con.execute("SELECT file, line, tests, at_import FROM baseline_lines WHERE run_id = ?",
                                  [run_id]).fetchall())
    con.close()
    text = json.dumps([tests, lines])
    return hashlib.sha256(text.encode()).hexdigest()[:16], len(tests), len(lines)


def baseline_run(label: str, mutant: str, jobs: int, executor: str, *extra: str, lock: bool = True) -> dict:
    db = BED.parent / "ray-baseline-dbs" / f"{label.replace(' ', '-')}-{time.monotonic_ns()}.duckdb"
    db.parent.mkdir(exist_ok=True)
    wall, done = mutagate("run", "--coverage-map", "--fresh-baseline", "--mutant", mutant, "--jobs", str(jobs),
                          "--executor", executor, "--db", str(db), "--json", *extra, lock=lock)
    summary = json.loads(done.stdout)
    digest, tests, lines = map_digest(db, summary["run_id"])
    shards = summary["baseline"].get("shards", [])
    return {
        "wall_seconds": round(wall, 2),
        "baseline_seconds": summary["timings"]["baseline"],
        "tests": tests,
        "map_lines": lines,
        "map_digest": digest,
        "shard_seconds": [s["seconds"] for s in sorted(shards, key=lambda s: s["shard"])],
        "shards_on": sorted({s["worker"] for s in shards}),
        "nodes": len({s["node"] for s in shards}),
        "lost_attempts": sum(1 for s in shards if s["lost"]),
    }


def best(runs: list[dict]) -> dict:
    chosen = min(runs, key=lambda r: r["baseline_seconds"])
    return {**chosen, "baseline_seconds_all": [r["baseline_seconds"] for r in runs]}


def main() -> None:
    if not BED.is_dir():
        sys.exit(f"no bed at {BED}: python benchmarks/bench_libs.py --lib sqlite-utils --prepare-only")
    os.environ.update(RAY_ENV)
    _, listed = mutagate("mutants", "--json")
    mutant = json.loads(listed.stdout)["mutants"][0]["id"]
    results: dict[str, dict] = {}
    for jobs in (1, 2):
        label = f"local, {jobs} shard(s)"
        results[label] = best([baseline_run(label, mutant, jobs, "local") for _ in range(REPEATS)])
        print(label, results[label], flush=True)
    temp = tempfile.mkdtemp(prefix="mgbb-", dir="/tmp")
    try:
        with cpu_lock():
            address = two_node_cluster(temp)
        for jobs in (1, 2):
            label = f"ray two-node cluster, {jobs} worker(s)"
            results[label] = best([baseline_run(label, mutant, jobs, "ray", "--ray-address", address)
                                   for _ in range(REPEATS)])
            print(label, results[label], flush=True)
    finally:
        stop_cluster(temp)
        shutil.rmtree(temp, ignore_errors=True)

    def ratio(a: str, b: str, key: str = "baseline_seconds") -> float:
        return round(results[a][key] / results[b][key], 2)

    ray1, ray2 = "ray two-node cluster, 1 worker(s)", "ray two-node cluster, 2 worker(s)"
    figures = {
        "what": "the nightly's baseline (--coverage-map, whole suite) of sqlite-utils 4.2.1, local shards vs "
                "shards on Ray workers; best of %d runs each" % REPEATS,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "mutant": mutant,
        "runs": results,
        "scaling_local_1_to_2_shards": ratio("local, 1 shard(s)", "local, 2 shard(s)"),
        "scaling_ray_1_to_2_workers": ratio(ray1, ray2),
        "ray_overhead_seconds_vs_local_same_shards": {
            str(jobs): round(results[f"ray two-node cluster, {jobs} worker(s)"]["baseline_seconds"]
                             - results[f"local, {jobs} shard(s)"]["baseline_seconds"], 2) for jobs in (1, 2)},
        "same_map_everywhere": len({r["map_digest"] for r in results.values()}) == 1,
        "note": f"measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on the shared machine, each run "
                "under the CPU lock; the two Ray nodes share this machine's cores",
    }
    print(json.dumps(figures, indent=2))
    (HERE / "bench_ray_baseline.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
