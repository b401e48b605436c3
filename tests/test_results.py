"""The results store read back: views checked against hand-computed numbers, reports validated
against their official schemas, the badge parsed, and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import jsonschema
import pytest

from results.store import MutantRow, OutcomeRow, ResultStore, RunRecord
from tests.cli import assert_bad_input, mutagate
from tests.gitrepo import GitRepo

DATA = Path(__file__).parent / "data"


# -- the views, on a store whose every number is known -------------------------------------------

def _mutant(mid: str, file: str, line: int, agent: str) -> MutantRow:
    return MutantRow(mid, file, line, line, 5, 6, "arithmetic", "+", "-", agent, "c0ffee", "f", line, line)


def _outcome(mid: str, status: str, covering: tuple[str, ...], killed_by: tuple[str, ...] = ()) -> OutcomeRow:
    return OutcomeRow(mid, status, killed_by, len(covering), covering, 0.1, False, f"key-{mid}", "select")


def _run(store: ResultStore, run_id: str, mutants: list[MutantRow], outcomes: list[OutcomeRow]) -> None:
    store.start_run(RunRecord(run_id, "/repo", "c0ffee" * 6 + "c0ff", None, None, "main", "0.1.0", {}, "local", 1,
                              "nightly"), mutants, [])
    store.record_outcomes(run_id, outcomes)
    store.finish_run(run_id, "finished", "local: 1 worker")


@pytest.fixture()
def known_store(tmp_path: Path) -> Path:
    """Run 1: claude-code has 4 mutants in a.py (2 killed, 1 timeout, 1 survived), cursor 2 in b.py
    (1 survived, 1 no_coverage). test_a covers m1..m4 and kills m1 and m2 (no-bail), test_b covers
    m1 and m6 and kills m1, test_c covers m3, m4, m6 and kills nothing. Run 2: everything killed."""
    db = tmp_path / "known.duckdb"
    store = ResultStore(db)
    mutants = [_mutant("m1", "a.py", 1, "claude-code"), _mutant("m2", "a.py", 2, "claude-code"),
               _mutant("m3", "a.py", 3, "claude-code"), _mutant("m4", "a.py", 4, "claude-code"),
               _mutant("m5", "b.py", 1, "cursor"), _mutant("m6", "b.py", 2, "cursor")]
    _run(store, "run-1", mutants, [
        _outcome("m1", "killed", ("test_a", "test_b"), ("test_a", "test_b")),
        _outcome("m2", "killed", ("test_a",), ("test_a",)),
        _outcome("m3", "timeout", ("test_a", "test_c"), ("test_a",)),
        _outcome("m4", "survived", ("test_a", "test_c")),
        _outcome("m5", "no_coverage", ()),
        _outcome("m6", "survived", ("test_b", "test_c")),
    ])
    _run(store, "run-2", mutants[:2], [_outcome("m1", "killed", ("test_a",), ("test_a",)),
                                       _outcome("m2", "killed", ("test_a",), ("test_a",))])
    return db


def test_kill_rate_views_match_hand_counts(known_store: Path) -> None:
    with duckdb.connect(str(known_store), read_only=True) as con:
        by_file = con.execute("SELECT file, mutants, killed, timeout, survived, no_coverage, score FROM kill_rate_by_file"
                              " WHERE run_id = 'run-1' ORDER BY file").fetchall()
        by_agent = con.execute("SELECT agent, mutants, score FROM kill_rate_by_agent WHERE run_id = 'run-1'"
                               " ORDER BY agent").fetchall()
        trend = con.execute("SELECT run_id, mutants, score FROM score_trend ORDER BY started").fetchall()
    assert by_file == [("a.py", 4, 2, 1, 1, 0, 75.0), ("b.py", 2, 0, 0, 1, 1, 0.0)]
    assert by_agent == [("claude-code", 4, 75.0), ("cursor", 2, 0.0)]
    assert trend == [("run-1", 6, 50.0), ("run-2", 2, 100.0)]


def test_weak_tests_view_and_command_rank_covering_not_killing(known_store: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(known_store), read_only=True) as con:
        rows = con.execute("SELECT test, covered_mutants, killed_mutants, surviving_mutants, kill_rate, survivors"
                           " FROM weak_tests WHERE run_id = 'run-1' ORDER BY test").fetchall()
    assert rows == [("test_a", 4, 3, 1, 75.0, ["m4"]), ("test_b", 2, 1, 1, 50.0, ["m6"]),
                    ("test_c", 3, 0, 2, 0.0, ["m4", "m6"])]
    result = mutagate("weak-tests", "--db", str(known_store), "--run", "run-1", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ranked = json.loads(result.stdout)["weak_tests"]
    # test_c first: two survivors and no kill at all is where an assertion is missing
    assert [r["test"] for r in ranked] == ["test_c", "test_b", "test_a"]
    assert [(s["file"], s["line"]) for s in ranked[0]["survivors"]] == [("a.py", 4), ("b.py", 2)]


# -- reports of a real run --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_run(sample_run_shared) -> tuple[GitRepo, Path, dict]:
    return sample_run_shared.repo, sample_run_shared.db, sample_run_shared.summary


def test_operator_rates_of_a_real_run_are_its_stored_verdicts(real_run) -> None:
    _, db, summary = real_run
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT m.operator, o.status FROM outcomes o JOIN mutants m USING (run_id, mutant_id) "
                           "WHERE o.run_id = ?", [summary["run_id"]]).fetchall()
    by_operator: dict[str, list[str]] = {}
    for operator, status in rows:
        by_operator.setdefault(operator, []).append(status)
    store = ResultStore(db)
    survival, timeouts = store.operator_survival(), store.operator_timeouts()
    assert summary["timeout"] and timeouts  # the sample has a mutant that loops
    for operator, statuses in by_operator.items():
        assert survival[operator] == pytest.approx(
            sum(s in ("survived", "no_coverage") for s in statuses) / len(statuses))
        share = sum(s == "timeout" for s in statuses) / len(statuses)
        assert timeouts.get(operator, 0.0) == pytest.approx(share) and (operator in timeouts) == (share > 0)


def _report(real_run, fmt: str, *extra: str) -> str:
    repo, db, _ = real_run
    result = mutagate("report", "--format", fmt, "--db", str(db), *extra, cwd=repo.root)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_stryker_report_validates_against_the_official_schema(real_run) -> None:
    report = json.loads(_report(real_run, "stryker"))
    schema = json.loads((DATA / "mutation-testing-report-schema.json").read_text())
    jsonschema.validate(report, schema)
    _, _, summary = real_run
    mutants = [m for f in report["files"].values() for m in f["mutants"]]
    assert len(mutants) == summary["mutants"]
    statuses = {m["status"] for m in mutants}
    assert {"Killed", "Survived", "NoCoverage", "Timeout"} <= statuses
    counts = {s: sum(1 for m in mutants if m["status"] == s) for s in statuses}
    assert counts["Killed"] == summary["killed"] and counts["Timeout"] == summary["timeout"]
    assert counts["Survived"] == summary["survived"] and counts["NoCoverage"] == summary["no_coverage"]
    test_ids = {t["id"] for tf in report["testFiles"].values() for t in tf["tests"]}
    assert {k for m in mutants for k in m["killedBy"]} <= test_ids  # every killer is a defined test


@pytest.mark.slow
def test_sarif_log_has_one_result_per_undetected_mutant(real_run) -> None:
    from sarif_pydantic import Sarif

    log = json.loads(_report(real_run, "sarif"))
    Sarif.model_validate(log)  # the SARIF 2.1.0 object model
    assert log["version"] == "2.1.0"
    _, _, summary = real_run
    results = log["runs"][0]["results"]
    assert len(results) == len(summary["survivors"])
    expected = sorted((s["file"], s["line"]) for s in summary["survivors"])
    located = sorted((r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                      r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results)
    assert located == expected
    rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)


@pytest.mark.slow
def test_html_report_is_self_contained(real_run, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    _report(real_run, "html", "-o", str(out))
    html = out.read_text()
    assert "<mutation-test-report-app" in html and "customElements.define" in html
    assert "src=" not in html.split("<body>")[1]  # no external script: works offline
    data = html.split('querySelector("mutation-test-report-app").report = ', 1)[1].split(";\n</script>")[0]
    assert json.loads(data)["schemaVersion"] == "2"


@pytest.mark.slow
def test_markdown_comment_has_score_agents_and_capped_survivors(real_run) -> None:
    _, _, summary = real_run
    text = _report(real_run, "markdown", "--link-base", "https://example.com/blob/abc")
    assert f"mutation score {_score_text(summary)}" in text
    assert "| claude-code |" in text
    first = summary["survivors"][0]
    assert f"[`{first['file']}:{first['line']}`](https://example.com/blob/abc/{first['file']}#L{first['line']})" in text
    assert text.count("```diff") == min(len(summary["survivors"]), 7)  # one file: at most 7 shown


@pytest.mark.slow
def test_badge_svg_and_endpoint(real_run, tmp_path: Path) -> None:
    repo, db, summary = real_run
    svg = tmp_path / "badge.svg"
    result = mutagate("badge", "--db", str(db), "-o", str(svg), cwd=repo.root)
    assert result.returncode == 0, result.stderr
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    assert _score_text(summary) in texts and "mutation score" in texts
    endpoint = json.loads(mutagate("badge", "--format", "endpoint", "--db", str(db), cwd=repo.root).stdout)
    expected = "green" if summary["score"] >= 80 else "orange" if summary["score"] >= 60 else "red"
    assert endpoint == {"schemaVersion": 1, "label": "mutation score", "message": _score_text(summary),
                        "color": expected}


def _score_text(summary: dict) -> str:
    """The score as people read it, from the counts (the JSON's score is rounded to 2 decimals already)."""
    from results.report_data import Tally

    return Tally(summary["mutants"], summary["killed"], summary["timeout"], summary["survived"],
                 summary["no_coverage"]).score_text()


def test_badge_colours_follow_configured_thresholds(known_store: Path, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "cfg")
    repo.commit("human: config", files={"pyproject.toml": "[tool.mutagate]\nthresholds = {high = 40, low = 20}\n"})
    result = mutagate("badge", "--format", "endpoint", "--db", str(known_store), "--run", "run-1", cwd=repo.root)
    assert json.loads(result.stdout)["color"] == "green"  # 50 % >= high 40


def test_one_score_one_rounding_in_terminal_markdown_badge_and_json(tmp_path: Path, capsys) -> None:
    """42 of 51 detected is 82.352…%. Every human-facing figure reads 82.4% (rounded once, from the exact
    fraction); the terminal used to round the JSON's 82.35 again, to 82.3%. The JSON keeps 82.35."""
    from results.report_data import load_report
    from scheduler.cli.display import print_summary
    from scheduler.run import RunResult
    from scheduler.run_request import summarise

    db = tmp_path / "rounding.duckdb"
    mutants = [_mutant(f"m{i}", "a.py", i + 1, "claude-code") for i in range(51)]
    _run(ResultStore(db), "run-r", mutants,
         [_outcome(m.mutant_id, "killed", ("test_a",), ("test_a",)) if i < 42 else _outcome(m.mutant_id, "survived", ("test_a",))
          for i, m in enumerate(mutants)])
    markdown = mutagate("report", "--db", str(db), cwd=tmp_path).stdout
    assert "## mutagate: mutation score 82.4%" in markdown and "| 82.4% |" in markdown
    endpoint = json.loads(mutagate("badge", "--format", "endpoint", "--db", str(db), cwd=tmp_path).stdout)
    assert endpoint["message"] == "82.4%"
    svg = ET.fromstring(mutagate("badge", "--db", str(db), cwd=tmp_path).stdout)
    assert "82.4%" in [t.text for t in svg.iter() if t.tag.endswith("text")]
    report = load_report(db, "run-r")
    result = RunResult("run-r", 0, "local: 1 worker", 0.0, 1.0)
    summary = summarise(result, report)
    assert summary["score"] == 82.35 and summary["by_agent"]["claude-code"]["score"] == 82.35
    print_summary(result, summary, report)  # the terminal's summary, here into a pipe
    terminal = capsys.readouterr().out
    assert "score 82.4% (82.4% on covered code)" in terminal and "│ 82.4%" in terminal
    assert "82.3%" not in terminal


# -- bad input -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_reads_of_missing_empty_unknown_and_newer_databases_are_bad_input(known_store: Path, tmp_path: Path) -> None:
    for command in (("report",), ("badge",), ("weak-tests",)):
        assert_bad_input(mutagate(*command, "--db", str(tmp_path / "none.duckdb"), cwd=tmp_path), "no results database")
    empty = tmp_path / "empty.duckdb"
    ResultStore(empty)
    assert_bad_input(mutagate("report", "--db", str(empty), cwd=tmp_path), "holds no runs")
    assert_bad_input(mutagate("badge", "--db", str(known_store), "--run", "nope", cwd=tmp_path), "no run 'nope'")
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"not a database at all" * 100)
    assert_bad_input(mutagate("weak-tests", "--db", str(corrupt), cwd=tmp_path), "corrupt.duckdb")
    with duckdb.connect(str(known_store)) as con:
        con.execute("UPDATE schema_info SET version = 99")
    assert_bad_input(mutagate("report", "--db", str(known_store), cwd=tmp_path), "newer than this mutagate")


def test_unwritable_output_is_bad_input_and_keeps_the_data(known_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "report.md"
    assert_bad_input(mutagate("report", "--db", str(known_store), "-o", str(target), cwd=tmp_path), "cannot write")
    with duckdb.connect(str(known_store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 8


def _hold_write_lock(db: Path, seconds: float) -> subprocess.Popen:
    """Another process writing: DuckDB lets no one else open the file meanwhile."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(float(sys.argv[2])); con.close()", str(db), str(seconds)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.slow
def test_a_reader_waits_out_a_writer_then_says_so_in_one_line(known_store: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MUTAGATE_LOCK_WAIT", "1")
    holder = _hold_write_lock(known_store, 30)
    try:
        assert_bad_input(mutagate("badge", "--db", str(known_store), cwd=tmp_path), "locked by another process")
    finally:
        holder.kill()
        holder.wait()
    monkeypatch.setenv("MUTAGATE_LOCK_WAIT", "20")
    holder = _hold_write_lock(known_store, 1.5)  # a short write: the reader waits for it and goes on
    try:
        result = mutagate("badge", "--format", "endpoint", "--db", str(known_store), "--run", "run-1", cwd=tmp_path)
    finally:
        holder.wait()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["message"] == "50.0%"
