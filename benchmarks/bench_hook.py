"""Does an agent's stop hook answer within its budget on real suites?

For each real-library bed (dateutil from bench_suite.py, sqlite-utils and Markdown from bench_libs.py)
the PR's commit is made uncommitted again (`git reset --soft pr-base`): the state an agent leaves when
it stops. Then `mutagate hook claude-code` answers Claude Code's real Stop event on stdin, once with the
default budget (60 s), once with a budget of half the plain suite's time, which the baseline alone
cannot fit (it is cut: the tests nearest the change first), and once with 1 s, which even the check's
start (interpreter, libcst's parse, the snapshot) cannot fit: the hook answers without the check
(scheduler/agents/on_time.py). Measured: the hook's wall time against its budget, what it answered,
the note it left on stderr, and how much it measured.

    python benchmarks/bench_hook.py                 # every bed; writes bench_hook.json
    python benchmarks/bench_hook.py --lib markdown
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_libs
import bench_suite
import duckdb
from bench_run import git

HERE = Path(__file__).parent
DEFAULT_BUDGET = 60.0  # scheduler.agents.check.DEFAULT_BUDGET
START_BUDGET = 1.0  # less than the check's own start takes on these beds


def dateutil_repo(into: Path) -> Path:
    bench_suite.ensure_test_requirements()
    tree = bench_suite.unpack(bench_suite.sdist(), into)
    bench_suite.build_history(tree)
    return tree


def beds(names: list[str], scratch: Path) -> dict[str, Path]:
    """Each bed's repository, copied into `scratch` (the hook's run leaves its database there)."""
    found: dict[str, Path] = {}
    for name in names:
        if name == "dateutil":
            found[name] = dateutil_repo(scratch / "dateutil")
            continue
        bed = bench_libs.BEDS[name]
        bench_libs.ensure_test_requirements(bed)
        copy = scratch / name
        shutil.copytree(bench_libs.prepare(bed), copy)
        found[name] = copy
    return found


def answer(repo: Path, budget: float, db: Path) -> dict:
    event = {"session_id": "bench", "hook_event_name": "Stop", "stop_hook_active": False, "cwd": str(repo)}
    command = [sys.executable, "-m", "scheduler.cli", "hook", "claude-code", "--budget", f"{budget:g}", "--db", str(db)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=repo, input=json.dumps(event), capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    wall = time.perf_counter() - started
    reply = json.loads(done.stdout) if done.stdout.strip() else {}
    figures = {"budget_seconds": budget, "wall_seconds": round(wall, 2), "within_budget": wall <= budget,
               "exit_code": done.returncode, "decision": reply.get("decision", "allow"),
               "reason_first_line": (reply.get("reason") or "").splitlines()[0][:200] if reply.get("reason") else "",
               "note": (done.stderr.strip().splitlines() or [""])[-1][:240]}
    figures["verdicts"] = stored_verdicts(db)
    return figures


def stored_verdicts(db: Path, patience: float = 30.0) -> dict | None:
    """The hook's run as stored: a check stopped at the deadline may still be storing it (the database
    locked, or not yet made), so ask again for a while; None: nothing was stored."""
    ends = time.monotonic() + patience
    while True:
        try:
            if not db.is_file():
                return None
            with duckdb.connect(str(db), read_only=True) as con:
                row = con.execute("SELECT run_id FROM runs ORDER BY started DESC LIMIT 1").fetchone()
                if row is None:
                    return None
                return dict(con.execute("SELECT status, count(*) FROM outcomes WHERE run_id = ? GROUP BY status",
                                        [row[0]]).fetchall())
        except duckdb.CatalogException:  # stopped before its tables were made
            return None
        except duckdb.Error:  # locked by the check still cleaning up
            if time.monotonic() > ends:
                return None
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=["dateutil", *sorted(bench_libs.BEDS)], action="append")
    parser.add_argument("--out", type=Path, default=HERE / "bench_hook.json")
    args = parser.parse_args()
    names = args.lib or ["dateutil", *sorted(bench_libs.BEDS)]
    results: dict = {"what": "mutagate hook claude-code on an uncommitted PR: default, tight and 1 s budgets",
                     "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory(prefix="mutagate-bench-hook-") as scratch:
        for name, repo in beds(names, Path(scratch)).items():
            git(repo, "reset", "-q", "--soft", "pr-base")  # the PR's lines: an agent's uncommitted work
            plain = bench_suite.plain_pytest(repo)
            tight = max(2.0, round(plain / 2, 1))
            results[name] = {
                "plain_pytest_seconds": round(plain, 2),
                "default_budget": answer(repo, DEFAULT_BUDGET, Path(scratch) / f"{name}-default.duckdb"),
                "half_the_suite": answer(repo, tight, Path(scratch) / f"{name}-tight.duckdb"),
                "under_its_start": answer(repo, START_BUDGET, Path(scratch) / f"{name}-start.duckdb"),
            }
            print(json.dumps({name: results[name]}, indent=2), flush=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
