"""`mutagate demo`: README's first command shows the whole pipeline on a sample repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.cli import assert_bad_input, mutagate

pytestmark = pytest.mark.slow  # the whole demo pipeline


def test_demo_runs_the_whole_pipeline(tmp_path: Path) -> None:
    target = tmp_path / "shop"
    result = mutagate("demo", "--dir", str(target), "--jobs", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for agent in ("claude-code", "cursor", "aider"):
        assert agent in result.stdout
    assert "Undetected mutants" in result.stdout and "score" in result.stdout
    with duckdb.connect(str(target / ".mutagate" / "results.duckdb"), read_only=True) as con:
        rates = dict(con.execute("SELECT agent, score FROM kill_rate_by_agent").fetchall())
    assert set(rates) == {"claude-code", "cursor", "aider"}
    assert rates["cursor"] < rates["claude-code"]  # the inventory tests are the weak ones
    assert "human" not in rates
    # Every line true: the progress counts the mutants that ran, and the summary says how many ran and
    # why the others did not (the no-coverage one is settled without running).
    ran = re.search(r"^mutagate: mutants (\d+)/\1, .*; done in", result.stderr, re.MULTILINE)
    counts = re.search(r"— (\d+) mutants: .*; (\d+) run, (\d+) reused from earlier runs, (\d+) not run \(no test covers them\)",
                       result.stdout)
    assert ran and counts, (result.stdout, result.stderr)
    total, run, reused, not_run = map(int, counts.groups())
    assert run == int(ran[1]) and run + reused + not_run == total and not_run == 1
    # The suggested query works with what mutagate installs (there is no `duckdb` CLI).
    suggestions = result.stdout.split("Try:\n", 1)[1].splitlines()
    assert not any(line.strip().startswith("duckdb ") for line in suggestions)
    query = next(line for line in suggestions if "import duckdb" in line)
    shown = subprocess.run(query, shell=True, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "claude-code" in shown.stdout, shown.stderr


def test_demo_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "keep.txt").write_text("mine")
    assert_bad_input(mutagate("demo", "--dir", str(tmp_path / "shop"), cwd=tmp_path), "not empty")
