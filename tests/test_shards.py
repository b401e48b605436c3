"""`mutagate run --shard K/N` and `mutagate merge`: shards split a run by stable mutant id, each stores its
part and the whole run's plan, and the merge of all N is the unsharded run, verdict for verdict; a set of
shards that is not one whole run is refused in one line."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from results.schema import MIGRATIONS, SCHEMA_VERSION, TABLES
from results.shards import Shard, ShardPlan, plan_digest, shard_of
from results.store import ResultStore
from tests.cli import assert_bad_input, mutagate, run_json
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE, PRICES, PRICES_TESTS, build_sample


def verdicts(db: Path, run_id: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """mutant id -> (status, killing tests) of one stored run."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT mutant_id, status, killed_by FROM outcomes WHERE run_id = ?", [run_id]).fetchall()
    # Killers sorted: they are recorded fastest first, by each baseline's own timings (which vary run to run).
    return {mutant: (status, tuple(sorted(killed or ()))) for mutant, status, killed in rows}


def merge(root: Path, *args: str | Path) -> object:
    return mutagate("merge", *map(str, args), cwd=root)


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


# -- real runs -------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_three_shards_merged_are_the_unsharded_run(tmp_path: Path) -> None:
    """The sample project (killed, timeout, survived, no coverage, a kill only the whole suite sees):
    unsharded, then 1/3, 2/3, 3/3 into three files, merged: the same verdict and killers per mutant id."""
    repo = build_sample(GitRepo(tmp_path / "repo"))
    whole = run_json(repo.root, tmp_path / "whole.duckdb", "--no-bail", jobs=2)
    files, ids = [], []
    for k in (1, 2, 3):
        db = tmp_path / f"shard{k}.duckdb"
        summary = run_json(repo.root, db, "--no-bail", "--shard", f"{k}/3", jobs=2)
        assert summary["shard"]["index"] == k and summary["shard"]["count"] == 3
        assert summary["shard"]["run_mutants"] == whole["mutants"]
        with duckdb.connect(str(db), read_only=True) as con:
            stored = con.execute("SELECT shard_index, shard_count, head_commit, plan_digest, len(mutant_ids)"
                                 " FROM shard_plans").fetchall()
            ids.append({r[0] for r in con.execute("SELECT mutant_id FROM mutants").fetchall()})
        assert stored == [(k, 3, repo.head(), summary["shard"]["plan_digest"], whole["mutants"])]
        assert all(shard_of(i, 3) == k for i in ids[-1])
        files.append(db)
    assert sum(len(i) for i in ids) == whole["mutants"] and all(ids)  # a partition of the run, no part empty
    done = merge(repo.root, *files, "--db", tmp_path / "merged.duckdb", "--json")
    assert done.returncode == 0, done.stderr
    merged = json.loads(done.stdout)
    assert merged["status"] == "finished" and [s["shard"] for s in merged["shards"]] == ["1/3", "2/3", "3/3"]
    before = verdicts(tmp_path / "whole.duckdb", whole["run_id"])
    after = verdicts(tmp_path / "merged.duckdb", merged["run_id"])
    assert after == before
    assert {s for s, _ in before.values()} >= {"killed", "timeout", "survived", "no_coverage"}
    assert (merged["score"], merged["mutants"], merged["killed"]) == (whole["score"], whole["mutants"], whole["killed"])
    # An ordinary run to every reader: runs, the report, the badge, the weak tests, and a comparison.
    db = str(tmp_path / "merged.duckdb")
    runs = json.loads(mutagate("runs", "--json", "--db", db, cwd=repo.root).stdout)["runs"]
    assert runs[0]["run_id"] == merged["run_id"] and runs[0]["score"] == whole["score"]
    report = mutagate("report", "--format", "markdown", "--db", db, cwd=repo.root)
    assert report.returncode == 0 and f"{whole['mutants']} mutants" in report.stdout
    badges = [mutagate("badge", "--format", "endpoint", "--db", str(path), cwd=repo.root).stdout
              for path in (tmp_path / "merged.duckdb", tmp_path / "whole.duckdb")]
    assert badges[0] == badges[1] and "%" in json.loads(badges[0])["message"]
    site = mutagate("dashboard", "-o", str(tmp_path / "site"), "--db", db, cwd=repo.root)
    assert site.returncode == 0, site.stderr
    assert (tmp_path / "site" / "reports" / f"{merged['run_id']}.html").is_file()
    assert merged["run_id"] in (tmp_path / "site" / "data.js").read_text()
    shutil.copy(tmp_path / "whole.duckdb", tmp_path / "history.duckdb")
    again = merge(repo.root, *files, "--db", tmp_path / "history.duckdb", "--json")
    rerun = json.loads(again.stdout)["run_id"]
    compared = mutagate("report", "--format", "markdown", "--run", rerun, "--compare-to", whole["run_id"],
                        "--db", str(tmp_path / "history.duckdb"), cwd=repo.root)
    assert compared.returncode == 0, compared.stderr
    assert "No new undetected mutant" in compared.stdout, compared.stdout


@pytest.fixture(scope="module")
def shard_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, Path]]:
    """Shard files of a small project: 1/2 and 2/2 of one run, 2/2 under another configuration, 2/3 of
    another split, 2/2 cut by a time budget, and 2/2 of the next commit."""
    folder = tmp_path_factory.mktemp("shards")
    repo = GitRepo(folder / "repo")
    repo.commit("human: project", files={"pyproject.toml": "[tool.mutagate]\ntimeout-floor = 2.0\n",
                                         "pkg/__init__.py": "", "tests/__init__.py": ""})
    repo.commit(CLAUDE, files={"pkg/prices.py": PRICES, "tests/test_prices.py": PRICES_TESTS})
    files = {}
    for name, flags in (("1of2", ("--shard", "1/2")), ("2of2", ("--shard", "2/2")),
                        ("2of2-confirm-off", ("--shard", "2/2", "--confirm", "off")), ("2of3", ("--shard", "2/3")),
                        ("2of2-budget", ("--shard", "2/2", "--budget", "0.01"))):
        files[name] = folder / f"{name}.duckdb"
        run_json(repo.root, files[name], *flags)
    files["whole"] = folder / "whole.duckdb"
    run_json(repo.root, files["whole"])
    repo.commit(CLAUDE, files={"pkg/prices.py": PRICES.replace("return price\n", "return price  # as is\n")})
    files["2of2-next"] = folder / "2of2-next.duckdb"
    run_json(repo.root, files["2of2-next"], "--shard", "2/2")
    return repo, files


@pytest.mark.slow
def test_merge_refuses_a_missing_shard(shard_files, tmp_path: Path) -> None:
    repo, f = shard_files
    assert_bad_input(merge(repo.root, f["1of2"], "--db", tmp_path / "m.duckdb"), "shard 2/2 missing", "given: 1/2")
    assert not (tmp_path / "m.duckdb").exists()


@pytest.mark.slow
def test_merge_refuses_a_shard_given_twice(shard_files, tmp_path: Path) -> None:
    repo, f = shard_files
    copy = tmp_path / "copy.duckdb"
    shutil.copy(f["2of2"], copy)
    assert_bad_input(merge(repo.root, f["1of2"], f["2of2"], copy, "--db", tmp_path / "m.duckdb"),
                     "shard 2/2 given twice", "2of2.duckdb", "copy.duckdb")
    assert_bad_input(merge(repo.root, f["1of2"], f["1of2"], f["2of2"], "--db", tmp_path / "m.duckdb"),
                     "shard 1/2 given twice")


@pytest.mark.slow
def test_merge_refuses_shards_of_different_commits(shard_files, tmp_path: Path) -> None:
    repo, f = shard_files
    assert_bad_input(merge(repo.root, f["1of2"], f["2of2-next"], "--db", tmp_path / "m.duckdb"),
                     "shards of different commits", "1of2.duckdb", "2of2-next.duckdb")


@pytest.mark.slow
def test_merge_refuses_shards_of_different_configurations(shard_files, tmp_path: Path) -> None:
    repo, f = shard_files
    assert_bad_input(merge(repo.root, f["1of2"], f["2of2-confirm-off"], "--db", tmp_path / "m.duckdb"),
                     "shards of different configurations")


@pytest.mark.slow
def test_merge_refuses_shards_of_different_plans(shard_files, tmp_path: Path) -> None:
    repo, f = shard_files
    assert_bad_input(merge(repo.root, f["1of2"], f["2of3"], "--db", tmp_path / "m.duckdb"),
                     "shards of different plans", "2 shards of", "3 shards of")


@pytest.mark.slow
def test_merge_refuses_files_that_are_no_shards(shard_files, tmp_path: Path) -> None:
    repo, f = shard_files
    assert_bad_input(merge(repo.root, f["1of2"], f["whole"], "--db", tmp_path / "m.duckdb"), "holds no shard run")
    assert_bad_input(merge(repo.root, f["1of2"], tmp_path / "nowhere.duckdb"), "no shard file")
    assert_bad_input(merge(repo.root, f["1of2"], f["2of2"], "--db", f["2of2"]), "is one of the shards")


@pytest.mark.slow
def test_a_budget_cut_shard_is_refused_unless_partial_is_allowed(shard_files, tmp_path: Path) -> None:
    repo, f = shard_files
    target = tmp_path / "m.duckdb"
    assert_bad_input(merge(repo.root, f["1of2"], f["2of2-budget"], "--db", target),
                     "shard 2/2 (2of2-budget.duckdb) is partial (budget-cut", "--allow-partial")
    done = merge(repo.root, f["1of2"], f["2of2-budget"], "--db", target, "--allow-partial", "--json")
    assert done.returncode == 0, done.stderr
    merged = json.loads(done.stdout)
    assert merged["not_run"] > 0 and merged["mutants"] + merged["not_run"] == merged["planned"]
    report = mutagate("report", "--format", "markdown", "--db", str(target), cwd=repo.root)
    assert "budget: " in report.stdout  # read as any budget-cut run
    gated = merge(repo.root, f["1of2"], f["2of2-budget"], "--db", target, "--allow-partial", "--fail-under", "0")
    assert gated.returncode == 0, gated.stderr  # judged on what it measured, as a budget-cut run is


@pytest.mark.slow
def test_an_interrupted_shard_is_refused_unless_partial_is_allowed_and_then_the_run_is_partial(
        shard_files, tmp_path: Path) -> None:
    repo, f = shard_files
    # What a shard job killed half-way leaves: its run stored as interrupted, some mutants without a verdict.
    cut = tmp_path / "2of2-cut.duckdb"
    shutil.copy(f["2of2"], cut)
    with duckdb.connect(str(cut)) as con:
        run_id = con.execute("SELECT run_id FROM runs").fetchone()[0]
        con.execute("UPDATE runs SET status = 'interrupted' WHERE run_id = ?", [run_id])
        con.execute("DELETE FROM outcomes WHERE mutant_id = (SELECT min(mutant_id) FROM outcomes)")
    target = tmp_path / "m.duckdb"
    assert_bad_input(merge(repo.root, f["1of2"], cut, "--db", target), "shard 2/2", "is partial (interrupted")
    done = merge(repo.root, f["1of2"], cut, "--db", target, "--allow-partial", "--json")
    assert done.returncode == 0, done.stderr
    merged = json.loads(done.stdout)
    assert merged["status"] == "interrupted" and merged["mutants"] == merged["planned"] - 1
    runs = json.loads(mutagate("runs", "--json", "--db", str(target), cwd=repo.root).stdout)["runs"]
    assert runs[0]["status"] == "interrupted" and runs[0]["score"] is None  # partial: no headline score
    gated = merge(repo.root, f["1of2"], cut, "--db", target, "--allow-partial", "--fail-under", "0")
    assert gated.returncode == 3 and "partial run cannot pass" in gated.stderr


@pytest.mark.slow
def test_a_results_file_inside_the_checkout_is_the_runs_own_not_a_mutants_write(tmp_path: Path) -> None:
    # A CI shard job writes `--db mutagate-shard-K.duckdb` in its checkout: the checkout guard once took the
    # run's own writes there for a mutant's and put the file back as it was before the run (empty).
    repo = GitRepo(tmp_path / "repo")
    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/prices.py": PRICES,
                               "tests/test_prices.py": PRICES_TESTS})
    done = mutagate("run", "--json", "--jobs", "1", "--shard", "1/1", "--db", "shard-1.duckdb", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["mutants"] > 0 and "wrote to your checkout" not in done.stderr
    assert verdicts(repo.root / "shard-1.duckdb", summary["run_id"])
    # Said as a part of a run, on a terminal's summary too.
    text = mutagate("run", "--jobs", "1", "--shard", "1/1", "--db", "shard-2.duckdb", cwd=repo.root)
    assert text.returncode == 0, text.stderr
    assert f"shard 1/1: {summary['mutants']} of the run's {summary['mutants']} mutants; `mutagate merge`" in text.stdout
    merged = mutagate("merge", "shard-1.duckdb", "--db", str(tmp_path / "m.duckdb"), cwd=repo.root)
    assert merged.returncode == 0 and "merged 1 shard into run" in merged.stdout and "score " in merged.stdout


@pytest.mark.slow
def test_a_merged_nightly_keeps_a_coverage_map_for_the_runs_after_it(tmp_path: Path) -> None:
    """With `--coverage-map` (the nightly's choice) the unsharded run stores its map of every line for later
    runs (a PR's baseline then measures only what a change moved); each shard measured that same whole map,
    so the merged run keeps one in the history: a sharded nightly leaves what an unsharded one does."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": ""})
    repo.commit(CLAUDE, files={"pkg/prices.py": PRICES, "tests/test_prices.py": PRICES_TESTS})
    files = [tmp_path / f"shard{k}.duckdb" for k in (1, 2)]
    for k, db in enumerate(files, start=1):
        run_json(repo.root, db, "--coverage-map", "--shard", f"{k}/2")
    history = tmp_path / "history.duckdb"
    done = merge(repo.root, *files, "--db", history, "--json")
    assert done.returncode == 0, done.stderr
    merged = json.loads(done.stdout)["run_id"]
    with duckdb.connect(str(history), read_only=True) as con:
        maps = con.execute("SELECT run_id, coalesce(partial, false), probes FROM baseline_maps").fetchall()
        tests = con.execute("SELECT count(*) FROM baseline_tests WHERE run_id = ?", [merged]).fetchone()[0]
    assert maps == [(merged, False, None)] and tests > 0
    after = run_json(repo.root, history, "--coverage-map")
    assert after["baseline"]["reused_from"] == merged, after["baseline"]
    assert after["baseline"]["measured"] < after["baseline"]["tests"]
