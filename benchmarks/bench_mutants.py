"""Mutant generation speed on a large real file: the standard library's `_pydecimal.py`.

Every line counts as an AI line (the worst case). Times one parse + one pass, best of 5, then
compiles every mutant to show they are all valid Python.

    python benchmarks/bench_mutants.py      # prints the figures, writes bench_mutants.json
"""

from __future__ import annotations

import _pydecimal
import json
import platform
import time
from collections import Counter
from pathlib import Path

from mutator.generate import generate_file
from mutator.mutant import apply_mutant


def main() -> None:
    path = Path(_pydecimal.__file__)
    source = path.read_text()
    lines = len(source.splitlines())
    ai = {n: "claude-code" for n in range(1, lines + 1)}
    times, mutants = [], []
    for _ in range(5):
        start = time.perf_counter()
        mutants = generate_file(path.name, source, ai)
        times.append(time.perf_counter() - start)
    compiled = 0
    for mutant in mutants:
        compile(apply_mutant(source, mutant), path.name, "exec")
        compiled += 1
    figures = {
        "what": "generate_file on every line of a real file (parse + metadata + one pass)",
        "file": f"CPython {platform.python_version()} Lib/_pydecimal.py",
        "lines": lines,
        "mutants": len(mutants),
        "mutants_that_compile": compiled,
        "operators_used": len({m.operator for m in mutants}),
        "by_operator": dict(Counter(m.operator for m in mutants).most_common()),
        "best_seconds": round(min(times), 3),
        "goal_seconds_for_5000_lines": 2.0,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
    }
    print(json.dumps(figures, indent=2))
    Path(__file__).with_name("bench_mutants.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
