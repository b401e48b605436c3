"""`mutagate run --shard K/N` and `mutagate merge`: shards split a run by stable mutant id, each stores its
part and the whole run's plan, and the merge of all N is the unsharded run, verdict for verdict; a set of
shards that is not one whole run is refused in one line."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from results.schema import MIGRATIONS, SCHEMA_VERSION, TABLES
from results.shards import Shard, ShardPlan, plan_digest, shard_of
from results.store import ResultStore
from tests.cli import assert_bad_input, mutagate


# -- the rule and the plan (no run) ---------------------------------------------------------------------------

def test_the_split_is_stable_even_and_a_partition() -> None:
    ids = [f"{i:012x}" for i in range(3000)]
    # Fixed values: a changed rule would split tomorrow's shards differently from the plans stored today.
    assert [shard_of("8330d67fb313", 4), shard_of("000000000000", 3), shard_of("a1b2c3d4e5f6", 7)] == [4, 1, 5]
    for n in (1, 2, 3, 4, 7):
        parts = Counter(shard_of(i, n) for i in ids)
        assert set(parts) == set(range(1, n + 1))
        assert all(abs(c - len(ids) / n) < 0.2 * len(ids) / n for c in parts.values())  # about even
        holders = [[k for k in range(1, n + 1) if Shard(k, n).holds(i)] for i in ids]
        assert all(len(h) == 1 for h in holders)  # every mutant in exactly one shard
    plan = ShardPlan(Shard(2, 3), "c" * 40, "d", tuple(sorted(ids)))
    assert set(plan.own_ids()) == {i for i in ids if shard_of(i, 3) == 2}
    assert plan.digest == plan_digest(reversed(ids))  # the order ids come in does not matter


def test_bad_shard_values_are_one_line_and_exit_2(tmp_path: Path) -> None:
    for bad, said in (("0/3", "K must be between 1 and N"), ("4/3", "K must be between 1 and N"),
                      ("x", "expected K/N"), ("3/0", "N must be between 1"), ("1/3/2", "expected K/N"),
                      ("-1/3", "expected K/N")):
        assert_bad_input(mutagate("run", f"--shard={bad}", "--db", str(tmp_path / "x.duckdb"), cwd=tmp_path),
                         "--shard", said)
    assert not (tmp_path / "x.duckdb").exists()


def test_a_version_4_database_gains_the_shard_plans_table(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(TABLES)
        for step in range(2, 5):
            con.execute(MIGRATIONS[step])
        con.execute("INSERT INTO schema_info VALUES (4)")
        con.execute("INSERT INTO runs (run_id, status) VALUES ('r', 'finished')")
    ResultStore(db).operator_survival()  # opening it migrates
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT max(version) FROM schema_info").fetchone()[0] == SCHEMA_VERSION >= 5
        assert con.execute("SELECT count(*) FROM shard_plans").fetchone()[0] == 0  # an old run: a whole run
        assert con.execute("SELECT run_id FROM runs").fetchall() == [("r",)]
