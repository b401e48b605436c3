"""The Ray executor on the semver benchmark of bench_run.py: local pool vs a private Ray instance
vs a two-node Ray cluster on this machine, at 1 and 2 workers.

Reports wall time per configuration and Ray's overhead per mutant against the local pool with the
same number of workers. Ray's start-up (a few seconds) is part of the wall time, as a user sees it.

    python benchmarks/bench_ray.py      # prints the figures, writes bench_ray.json (a few minutes)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_run import HERE, build_history, run_mutagate, sdist, unpack

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def two_node_cluster(temp: str) -> str:
    """`ray start` a head and a worker node, one CPU each, on 127.0.0.2; returns the address."""
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        port = s.getsockname()[1]
    ray_bin = str(Path(sys.executable).with_name("ray"))
    common = ["--num-cpus=1", "--node-ip-address=127.0.0.2", f"--temp-dir={temp}", "--disable-usage-stats"]
    env = {**os.environ, **RAY_ENV, "PYTHONPATH": str(HERE.parent)}  # workers import mutagate from this checkout
    subprocess.run([ray_bin, "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
                   check=True, capture_output=True, env=env)
    subprocess.run([ray_bin, "start", f"--address=127.0.0.2:{port}", *common], check=True, capture_output=True, env=env)
    return f"127.0.0.2:{port}"


def stop_cluster(temp: str) -> None:
    """Only the processes of this cluster (`ray stop` would end every Ray on the machine)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if temp.encode() in (entry / "cmdline").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                continue


def brief(figures: dict) -> dict:
    keep = ("executor", "jobs", "mutants", "killed", "survived", "wall_seconds", "mutants_per_second",
            "phase_seconds", "workers")
    return {k: figures[k] for k in keep}


def main() -> None:
    os.environ.update(RAY_ENV)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="mutagate-bench-") as scratch:
        tree = unpack(sdist(), Path(scratch))
        build_history(tree)
        for jobs in (1, 2):
            results[f"local, {jobs} worker(s)"] = brief(run_mutagate(tree, jobs, "local"))
            results[f"ray private instance, {jobs} worker(s)"] = brief(run_mutagate(tree, jobs, "ray"))
        temp = tempfile.mkdtemp(prefix="mgbc-", dir="/tmp")
        try:
            address = two_node_cluster(temp)
            results["ray two-node cluster, 2 workers (working_dir upload)"] = brief(
                run_mutagate(tree, 2, "ray", "--ray-address", address))
        finally:
            stop_cluster(temp)
            shutil.rmtree(temp, ignore_errors=True)
    mutants = results["local, 2 worker(s)"]["mutants"]
    overhead = {
        name: round(1000 * (r["wall_seconds"] - results[f"local, {r['jobs']} worker(s)"]["wall_seconds"]) / mutants, 1)
        for name, r in results.items() if r["executor"] == "ray"
    }
    figures = {
        "what": "bench_run.py's semver run (every mutant of the AI lines) by executor and workers",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "runs": results,
        "ray_overhead_ms_per_mutant_vs_local_same_workers": overhead,
        "scaling_local_1_to_2_workers": round(results["local, 1 worker(s)"]["wall_seconds"]
                                              / results["local, 2 worker(s)"]["wall_seconds"], 2),
        "scaling_ray_1_to_2_workers": round(results["ray private instance, 1 worker(s)"]["wall_seconds"]
                                            / results["ray private instance, 2 worker(s)"]["wall_seconds"], 2),
    }
    print(json.dumps(figures, indent=2))
    (HERE / "bench_ray.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
