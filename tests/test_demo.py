"""`mutagate demo`: README's first command shows the whole pipeline on a sample repository."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.cli import assert_bad_input, mutagate


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


def test_demo_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "keep.txt").write_text("mine")
    assert_bad_input(mutagate("demo", "--dir", str(tmp_path / "shop"), cwd=tmp_path), "not empty")
