"""Does a table row's representative tell the truth about the rows it stands for? (bench_libs.py)

Run in a bed's repository with two finished nightly runs of it, one with `group-tables = false`
(every row's mutant run) and one with grouping on: for every row mutant, its own verdict against its
representative's. Prints JSON: how many agree, and each that does not.

    python benchmarks/table_agreement.py OFF.duckdb ON.duckdb      # in the repository, PYTHONPATH=mutagate
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import duckdb

import mutator.generate
from mutator.attribution import Scope, attribute
from mutator.config import load_config
from mutator.generate import generate_mutants
from mutator.mutant import Mutant
from mutator.tables import named_in_tests


def verdicts(db: Path) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        run_id = con.execute("SELECT run_id FROM runs ORDER BY started DESC LIMIT 1").fetchone()[0]
        # The last verdict of each mutant (a confirmation's comes after its selection's).
        return dict(con.execute("SELECT mutant_id, status FROM outcomes WHERE run_id = ? ORDER BY recorded",
                                [run_id]).fetchall())


def main() -> None:
    off, on = verdicts(Path(sys.argv[1])), verdicts(Path(sys.argv[2]))
    config = load_config(Path("."))
    attribution = attribute(Path("."), Scope(), config)
    named = named_in_tests(Path("."), config)

    def gap(mutant: Mutant) -> str:  # as group_tables decides: a row a test names is a gap of its own
        own = any(len(value) > 1 and value in named for value in mutant.row_values)
        return mutant.id if own else mutant.table_key

    representative = {gap(m): m for m in generate_mutants(attribution, config) if m.table_key}
    mutator.generate.group_tables = lambda mutants, named: mutants  # every row's mutant, as the `off` run had
    members: dict[str, list] = defaultdict(list)
    for mutant in generate_mutants(attribution, config):
        if mutant.table_key:
            members[gap(mutant)].append(mutant)
    detected = {"killed", "timeout"}
    agree, same_side, differ = 0, 0, []
    for key, rows in members.items():
        said = on.get(representative[key].id)
        for m in rows:
            own = off.get(m.id)
            agree += own == said
            same_side += (own in detected) == (said in detected)
            if own != said:
                differ.append(f"{m.file}:{m.line} {m.operator} {m.original[:40]!r}: {own}, its representative "
                              f"(line {representative[key].line}): {said}")
    print(json.dumps({"row_mutants": sum(map(len, members.values())), "same_verdict": agree,
                      "same_detected_or_not": same_side, "differ": differ}, indent=2))


if __name__ == "__main__":
    main()
