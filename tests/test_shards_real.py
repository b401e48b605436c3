"""Shards of a real library's run, merged, are the unsharded run, mutant for mutant: semver 3.1.1 from its
PyPI sdist (vendored in tests/data, trimmed of its docs: no network) with its own ~500 pytest tests, in a
git history where Claude Code writes prerelease bumping in `version.py` and Cursor writes the CLI."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import duckdb
import pytest

from results.shards import shard_of
from tests.cli import mutagate, run_json
from tests.gitrepo import GitRepo

SDIST = Path(__file__).parent / "data" / "semver-3.1.1-trimmed.tar.gz"
CLAUDE = "Bump prereleases: numeric parts go up, others get .0\n\nCo-Authored-By: Claude <noreply@anthropic.com>"
CURSOR = ("Cursor Agent", "cursoragent@cursor.com")

# semver's own .pytest.ini without its pytest-cov and doctest options (pytest-cov is not installed here, and
# doctests of the .rst docs need the docs/ folder that the vendored copy leaves out).
PYTEST_INI = """[pytest]
testpaths = tests
pythonpath = src tests
filterwarnings =
    ignore:Function 'semver.*:DeprecationWarning
    ignore:Function 'semver.compare' is deprecated.*:PendingDeprecationWarning
"""
CONFIG = '\n[tool.mutagate]\nsource = ["src"]\ntests = ["tests"]\n'


def cut(text: str, start: str, end: str) -> str:
    """`text` without the part from the line that begins with `start` to the one that begins with `end`."""
    return text[:text.index(start)] + text[text.index(end):]


@pytest.fixture(scope="module")
def semver(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """The library unpacked and committed in three steps: a human's commit of everything but two methods of
    `Version` and the CLI; Claude's commit adding those methods (`Co-Authored-By` trailer); Cursor's commit
    adding the CLI and `__main__.py` (Cursor's agent as the author). HEAD is the sdist's code, byte for byte
    (files are written as they are, not through GitRepo.write's dedent)."""
    folder = tmp_path_factory.mktemp("semver")
    with tarfile.open(SDIST) as tar:
        tar.extractall(folder, filter="data")
    root = folder / "semver-3.1.1"
    (root / ".pytest.ini").write_text(PYTEST_INI)
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text() + CONFIG)
    version = root / "src/semver/version.py"
    whole = version.read_text()
    by_cursor = {path: (root / path).read_text() for path in ("src/semver/cli.py", "src/semver/__main__.py")}
    for path in by_cursor:
        (root / path).unlink()
    version.write_text(cut(cut(whole, "    @staticmethod\n    def _increment_prerelease(", "    def bump_major("),
                           "    def bump_prerelease(", "    def bump_build("))
    repo = GitRepo(root)  # `git init` in the unpacked tree
    repo.commit("semver 3.1.1 without prerelease bumping and the CLI")
    version.write_text(whole)
    repo.commit(CLAUDE)
    for path, text in by_cursor.items():
        (root / path).write_text(text)
    repo.commit("Add the pysemver CLI", author=CURSOR)
    return repo


def verdicts(db: Path, run_id: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """mutant id -> (status, killing tests) of one stored run."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT mutant_id, status, killed_by FROM outcomes WHERE run_id = ?", [run_id]).fetchall()
    # Killers sorted: they are recorded fastest first, by each baseline's own timings (which vary run to run).
    return {mutant: (status, tuple(sorted(killed or ()))) for mutant, status, killed in rows}


def run_row(db: Path, run_id: str) -> tuple[object, ...]:
    """What a stored run says of itself beside its verdicts: where it ran (the executor's kind: its worker
    count is the workers a run used, fewer for a shard of few mutants), its jobs, mode and commit, how many
    tests its baseline timed and how many AI lines it attributed."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT split_part(executor, ':', 1), jobs, mode, head_commit, status,"
            " (SELECT count(*) FROM test_durations t WHERE t.run_id = r.run_id),"
            " (SELECT count(*) FROM attributions a WHERE a.run_id = r.run_id) FROM runs r WHERE run_id = ?",
            [run_id]).fetchone()


def shard_then_merge(repo: GitRepo, folder: Path, count: int, *flags: str) -> tuple[list[dict], dict]:
    """`mutagate run FLAGS --shard K/count` for every K, each into its own file, then `mutagate merge`:
    the shards' summaries and the merge's."""
    files, summaries = [], []
    for k in range(1, count + 1):
        files.append(folder / f"shard-{k}-of-{count}.duckdb")
        summaries.append(run_json(repo.root, files[-1], *flags, "--shard", f"{k}/{count}", jobs=2))
    done = mutagate("merge", *map(str, files), "--db", str(folder / f"merged-{count}.duckdb"), "--json", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    return summaries, json.loads(done.stdout)


@pytest.mark.slow
def test_semver_sharded_in_three_and_merged_is_the_unsharded_nightly(semver: GitRepo, tmp_path: Path) -> None:
    """The nightly's flags (--no-bail, every mutant of every AI line): unsharded, then 1/3, 2/3, 3/3 merged:
    the same mutant ids, and per id the same verdict and the same killing tests."""
    whole = run_json(semver.root, tmp_path / "whole.duckdb", "--no-bail", jobs=2)
    assert set(whole["by_agent"]) == {"claude-code", "cursor"}
    assert whole["mutants"] >= 30 and whole["killed"] > 0 and whole["survived"] > 0  # a real mix, not all one way
    shards, merged = shard_then_merge(semver, tmp_path, 3, "--no-bail")
    assert [s["shard"]["index"] for s in shards] == [1, 2, 3]
    assert {s["shard"]["run_mutants"] for s in shards} == {whole["mutants"]}
    assert len({(s["shard"]["plan_digest"], s["shard"]["config_digest"]) for s in shards}) == 1
    assert all(s["mutants"] > 0 for s in shards) and sum(s["mutants"] for s in shards) == whole["mutants"]

    before = verdicts(tmp_path / "whole.duckdb", whole["run_id"])
    after = verdicts(tmp_path / "merged-3.duckdb", merged["run_id"])
    assert sorted(after) == sorted(before)  # the same mutants
    # Killers too: every one of these mutants runs in the fork server (in a function's body), where --no-bail
    # runs every covering test, so the set of killers is the tests' own answer, not an order's.
    differ = {m: (before[m], after[m]) for m in before if after[m] != before[m]}
    assert not differ, differ
    for k, shard in enumerate(shards, start=1):  # each id measured by the shard its stable id falls in
        own = verdicts(tmp_path / f"shard-{k}-of-3.duckdb", shard["run_id"])
        assert len(own) == shard["mutants"] and all(shard_of(m, 3) == k for m in own)
    assert merged["status"] == "finished" and [s["shard"] for s in merged["shards"]] == ["1/3", "2/3", "3/3"]
    for key in ("score", "mutants", "killed", "survived", "no_coverage", "timeout"):
        assert merged[key] == whole[key], key
    assert sorted(s["id"] for s in merged["survivors"]) == sorted(s["id"] for s in whole["survivors"])
    assert run_row(tmp_path / "merged-3.duckdb", merged["run_id"]) == run_row(tmp_path / "whole.duckdb", whole["run_id"])

    # Read like any other run.
    db = str(tmp_path / "merged-3.duckdb")
    runs = json.loads(mutagate("runs", "--json", "--db", db, cwd=semver.root).stdout)["runs"]
    assert [(r["run_id"], r["score"], r["status"]) for r in runs] == [(merged["run_id"], whole["score"], "finished")]
    report = mutagate("report", "--format", "markdown", "--db", db, cwd=semver.root)
    assert report.returncode == 0, report.stderr
    assert f"{whole['mutants']} mutants" in report.stdout and "src/semver/version.py" in report.stdout
    stryker = mutagate("report", "--format", "stryker", "--db", db, cwd=semver.root)
    assert stryker.returncode == 0, stryker.stderr
    files = json.loads(stryker.stdout)["files"]
    assert sum(len(f["mutants"]) for f in files.values()) == whole["mutants"]


@pytest.mark.slow
def test_a_shard_with_no_mutant_runs_and_merges_even_as_shard_1(semver: GitRepo, tmp_path: Path) -> None:
    """Few mutants (the PR mode's one mutant per line, of `__main__.py` only) and enough shards that shard 1
    holds none of them: the empty shard is a finished run of no mutant that says so and is stored with its
    plan, and the merge of all the shards is the unsharded run, its verdicts and its run row alike (the
    merge once took the run's row and baseline timings from shard 1: executor `none`, no test timed)."""
    scope = ("--one-per-line", "src/semver/__main__.py")
    listed = mutagate("mutants", "--json", *scope, cwd=semver.root)
    assert listed.returncode == 0, listed.stderr
    ids = [m["id"] for m in json.loads(listed.stdout)["mutants"]]
    assert 2 <= len(ids) <= 6
    count = next((n for n in range(2, 17) if all(shard_of(i, n) != 1 for i in ids)), None)
    assert count is not None, f"no split of 2..16 shards leaves shard 1 empty for {ids}"

    whole = run_json(semver.root, tmp_path / "whole.duckdb", *scope, jobs=2)
    before = verdicts(tmp_path / "whole.duckdb", whole["run_id"])
    assert sorted(before) == sorted(ids)  # `mutagate mutants` listed what the run measures
    shards, merged = shard_then_merge(semver, tmp_path, count, *scope)
    empty = shards[0]
    assert empty["mutants"] == 0 and empty["score"] is None
    assert empty["note"] == f"shard 1/{count} holds none of the run's {len(ids)} mutants"
    with duckdb.connect(str(tmp_path / f"shard-1-of-{count}.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT shard_index, shard_count, len(mutant_ids) FROM shard_plans").fetchall()
        status = con.execute("SELECT status FROM runs").fetchall()
    assert stored == [(1, count, len(ids))] and status == [("finished",)]

    assert merged["status"] == "finished" and len(merged["shards"]) == count
    # Statuses only: without --no-bail a killed mutant records its first killer, and which of two tests of
    # about the same time runs first is each baseline's timing (test_main_file_should_call_cli_main[] or [semver]).
    assert {m: v[0] for m, v in verdicts(tmp_path / f"merged-{count}.duckdb", merged["run_id"]).items()} == {
        m: v[0] for m, v in before.items()}
    assert (merged["mutants"], merged["score"]) == (len(ids), whole["score"])
    assert run_row(tmp_path / f"merged-{count}.duckdb", merged["run_id"]) == run_row(tmp_path / "whole.duckdb",
                                                                                     whole["run_id"])
