"""Blame speed: all Python files of a ~10,000-line, 1,000-commit repository.

Builds the repository with `git fast-import` (seeded, so every run builds the same one): 50
modules of 200 lines, then 1,000 commits by a human and five agents, each rewriting a few lines
of one module. Then times `mutagate blame --json` end to end, best of 5.

    python benchmarks/bench_blame.py            # prints a table, writes bench_blame.json
"""

from __future__ import annotations

import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODULES, LINES_PER_MODULE, COMMITS = 50, 200, 1000
AUTHORS = [
    ("Dana Dev", "dana@example.com", ""),
    ("Dana Dev", "dana@example.com", "\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"),
    ("Cursor Agent", "cursoragent@cursor.com", ""),
    ("Copilot", "198982749+Copilot@users.noreply.github.com", ""),
    ("Dana Dev", "dana@example.com", "\n\nCo-authored-by: Codex <noreply@openai.com>\n"),
    ("Dana Dev (aider)", "dana@example.com", ""),
]


def module_line(rng: random.Random, i: int) -> str:
    return rng.choice(
        [
            f"    total_{i} = value_{i} + {rng.randint(0, 99)}",
            f"    if count_{i} > {rng.randint(0, 9)}:",
            f"        items.append(item_{i})",
            f"    result = compute_{i}(a, b, key={rng.randint(0, 5)})",
            f"def function_{i}(a, b):",
            f"    return sorted(values_{i}, reverse=True)",
        ]
    )


def build(root: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    files = {f"pkg/mod_{m:02d}.py": [module_line(rng, i) for i in range(LINES_PER_MODULE)] for m in range(MODULES)}
    stream: list[bytes] = []

    def blob(text: str) -> None:
        data = text.encode()
        stream.append(b"data %d\n" % len(data) + data + b"\n")

    def commit(n: int, who: tuple[str, str, str], changed: dict[str, list[str]]) -> None:
        name, email, trailer = who
        stamp = 1700000000 + n * 60
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"author {name} <{email}> {stamp} +0000\ncommitter {name} <{email}> {stamp} +0000\n".encode())
        blob(f"change {n}{trailer}")
        for path, lines in changed.items():
            stream.append(f"M 100644 inline {path}\n".encode())
            blob("\n".join(lines) + "\n")
        stream.append(b"\n")

    commit(0, AUTHORS[0], files)
    for n in range(1, COMMITS):
        path = rng.choice(sorted(files))
        lines = files[path]
        start = rng.randrange(len(lines) - 8)
        for k in range(start, start + rng.randint(1, 8)):
            lines[k] = module_line(rng, k) + f"  # c{n}"
        commit(n, rng.choice(AUTHORS), {path: lines})
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(stream), check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        build(root)
        lines = sum(len(p.read_text().splitlines()) for p in root.glob("pkg/*.py"))
        commits = int(subprocess.check_output(["git", "rev-list", "--count", "HEAD"], cwd=root))
        command = [sys.executable, "-m", "scheduler.cli", "blame", "--json"]
        project = Path(__file__).resolve().parents[1]
        times, output = [], ""
        for _ in range(5):
            start = time.perf_counter()
            proc = subprocess.run(
                command, cwd=root, capture_output=True, text=True, check=False,
                env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
            )
            if proc.returncode != 0:
                raise SystemExit(f"blame failed: {proc.stderr.strip()}")
            output = proc.stdout
            times.append(time.perf_counter() - start)
        agents = json.loads(output)["agents"]
    figures = {
        "what": "mutagate blame --json, whole repository, end to end (process start included)",
        "python_lines": lines,
        "commits": commits,
        "ai_lines": sum(agents.values()),
        "agents": agents,
        "best_seconds": round(min(times), 3),
        "median_seconds": round(statistics.median(times), 3),
        "goal_seconds": 2.0,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
    }
    print(json.dumps(figures, indent=2))
    (Path(__file__).with_name("bench_blame.json")).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
