"""What a person reads, checked through a pipe (as a CI log gets it) at a narrow width: the user's text
exactly as written (brackets are not Rich markup), whole lines for each undetected mutant, progress
while the run goes, and tables that never cut a path. Real repository, real CLI, real pytest runs."""

from __future__ import annotations

import io
import re
import time

import pytest
from rich.console import Console

from scheduler.cli.display import ProgressDisplay
from tests.cli import mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

MODULE = "a_module_name_long_enough_that_sixty_columns_would_cut_it"
LONG = f"pkg/{MODULE}.py"
DRAFT = "pkg/fix[draft].py"  # `[draft]` is what Rich reads as a style tag, and drops (no test imports it)
NARROW = {"COLUMNS": "60", "MUTAGATE_PROGRESS_SECONDS": "0.1"}  # a narrow log, and progress ticks to see

CODE = '''
def pick(row, b):
    return row[b]


def order(xs):
    return sorted(xs)


def small(a, b):
    return a < b
'''

TESTS = f'''
import pytest

from pkg.{MODULE} import order, pick, small


@pytest.mark.parametrize("row", [[1, 2], [3, 4], [5, 6]])
def test_pick(row):
    pick(row, 0)  # no assertion: the pick mutants survive all three


def test_order():
    assert order([1]) == [1]


def test_small():
    assert small(1, 2)
'''

DRAFT_CODE = "def wrap(x):\n    return [x]\n"  # no test imports it: no coverage


@pytest.fixture(scope="module")
def piped_run(tmp_path_factory) -> tuple[GitRepo, str, str]:
    """One run, stdout and stderr captured through pipes at 60 columns; the gate fails (exit 3)."""
    repo = GitRepo(tmp_path_factory.mktemp("output") / "repo")
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "",
                                         "pyproject.toml": "[tool.mutagate]\ntimeout-floor = 1.5\n"})
    repo.commit(CLAUDE, files={LONG: CODE, "tests/test_mod.py": TESTS, DRAFT: DRAFT_CODE})
    result = mutagate("run", "--jobs", "2", "--fail-under", "99", cwd=repo.root, env=NARROW)
    assert result.returncode == 3, result.stderr
    return repo, result.stdout, result.stderr


@pytest.mark.slow
def test_brackets_in_code_test_ids_and_paths_are_printed_as_written(piped_run) -> None:
    repo, stdout, _ = piped_run
    weak = mutagate("weak-tests", cwd=repo.root, env=NARROW)
    assert weak.returncode == 0, weak.stderr
    for case in ("row0", "row1", "row2"):  # three tests, not `test_pick` three times
        assert f"tests/test_mod.py::test_pick[{case}]" in weak.stdout
    assert f"↳ {LONG}:2 return-value: row[b] → None" in weak.stdout
    mutants = mutagate("mutants", cwd=repo.root, env=NARROW)
    assert f"return-value  claude-code  {DRAFT}:2" in mutants.stdout and "-    return [x]" in mutants.stdout
    blame = mutagate("blame", cwd=repo.root, env=NARROW)
    assert DRAFT in blame.stdout.splitlines()
    assert any(line.startswith(f" {DRAFT} ") for line in stdout.splitlines())  # the run's "By file" row
    assert f"  {LONG}:2  return-value  return row[b] → return None  (claude-code, survived)" in _without_ids(stdout)
    assert f"  {DRAFT}:2  return-value  return [x] → return None  (claude-code, no test covers it)" in _without_ids(stdout)


def _without_ids(stdout: str) -> list[str]:
    """The summary's lines, each undetected mutant's id (its last word, for `mutagate show ID`) cut off."""
    return [re.sub(r"\)  [0-9a-f]{12}$", ")", line) for line in stdout.splitlines()]


@pytest.mark.slow
def test_undetected_mutants_show_their_whole_lines(piped_run) -> None:
    repo, stdout, _ = piped_run
    lines = _without_ids(stdout)
    # each ends with the mutant's id, so `mutagate show ID` is one copy away
    assert all(re.search(r"\)  [0-9a-f]{12}$", line) for line in stdout.splitlines() if " → " in line)
    assert f"  {LONG}:6  sorted-reverse  return sorted(xs) → return sorted(xs, reverse=True)  (claude-code, survived)" in lines
    assert f"  {LONG}:10  comparison-boundary  return a < b → return a <= b  (claude-code, survived)" in lines
    markdown = mutagate("report", "--format", "markdown", cwd=repo.root).stdout
    assert f"`{LONG}:10`** `comparison-boundary`" in markdown
    assert "```diff\n-    return a < b\n+    return a <= b\n```" in markdown
    assert "```diff\n-    return sorted(xs)\n+    return sorted(xs, reverse=True)\n```" in markdown
    assert "```diff\n-    return row[b]\n+    return None\n```" in markdown


@pytest.mark.slow
def test_piped_tables_and_lines_are_never_cut_to_the_width(piped_run) -> None:
    _, stdout, stderr = piped_run
    assert any(line.startswith(f" {LONG} ") for line in stdout.splitlines())  # 60 columns could not hold it
    assert "…" not in stdout
    summary = re.fullmatch(r"score (\S+) \(\S+ on covered code\) — (\d+) mutants: (\d+) killed, (\d+) timeout, .*; run \S+",
                           stdout.splitlines()[-1])
    assert summary, stdout  # the summary is one line, however long
    assert "\x1b[" not in stdout + stderr  # no terminal codes in a log
    # the gate's message shows the summary's score, with the counts it comes from
    detected = int(summary[3]) + int(summary[4])
    assert stderr.splitlines()[-1] == (f"mutagate: score {summary[1]} ({detected} of {summary[2]} mutants detected)"
                                       " is below --fail-under 99%")


@pytest.mark.slow
def test_a_log_gets_progress_lines_while_the_run_goes(piped_run) -> None:
    _, stdout, stderr = piped_run
    lines = stderr.splitlines()
    # ticks every 0.1 s while the baseline runs (it takes a good second), then its end
    assert len([line for line in lines if re.fullmatch(r"mutagate: baseline 0/1; (\d+|under 1) s so far", line)]) >= 2
    assert "mutagate: baseline 1/1; done in" in stderr
    done = [re.fullmatch(r"mutagate: mutants (\d+)/(\d+), killed (\d+), survived (\d+); done in (\d+|under 1) s", line)
            for line in lines]
    ran = [m for m in done if m]
    assert len(ran) == 1 and ran[0][1] == ran[0][2]
    # the summary counts the same mutants as run, and names the others (the draft file's) by their status
    counts = re.search(r"— (\d+) mutants: .*, (\d+) no coverage; (\d+) run, 0 reused from earlier runs, (\d+) no coverage "
                       r"\(no test to run\);", stdout)
    assert counts and counts[3] == ran[0][1] and int(counts[3]) + int(counts[4]) == int(counts[1])
    assert int(counts[4]) == int(counts[2]) == stdout.count(f"{DRAFT}:") > 0
    assert "not run" not in stdout  # `not_run` is the status of mutants a budget left out: none here
    # a second or less is said as such, never "0 s" (which reads as nothing done)
    assert not re.search(r"(?<![\d.])0 s\b", stdout + stderr), stderr  # "2.0 s" is a time, "0 s" is not
    coming = r"mutagate: \d+ mutants to run .*; (about \d+(\.\d)? s|under 1 s) on \d+ workers?$"
    assert re.search(coming, stderr, re.MULTILINE), stderr


def test_progress_lines_estimate_the_time_left_and_say_where_a_stop_came() -> None:
    log = io.StringIO()  # not a terminal: the plain lines
    with pytest.raises(KeyboardInterrupt):
        with ProgressDisplay(Console(file=log, width=60), interval=0.05) as progress:
            progress.phase("mutants", 4)
            progress.advance("killed")
            progress.advance("survived")
            time.sleep(0.3)
            raise KeyboardInterrupt
    lines = log.getvalue().splitlines()
    assert any(re.fullmatch(r"mutagate: mutants 2/4, killed 1, survived 1; under 1 s so far, under 1 s left", line)
               for line in lines)
    assert lines[-1] == "mutagate: mutants 2/4, killed 1, survived 1; stopped after under 1 s"


def test_the_eta_reads_the_pace_from_the_verdicts_not_from_the_guesses() -> None:
    """Four mutants expected at 1 s each (a fifth of a survivor's price, the rest a kill's); a kill and a
    survivor done cost 4 s by the model, in 4 s of wall after the workers' 1 s start: the other two
    take their expected 2 s at that pace (a pace read against their 2 s of guesses would say 5 s).
    Before a tenth of the phase is done, the forecast's own: 1 s of start, then 4 s over 2 workers."""
    progress = ProgressDisplay(Console(file=io.StringIO()), interval=0)
    progress.phase("mutants", 4, seconds=4.0, start=1.0, workers=2)
    progress.advance("killed", 1.0, spent=0.1)  # a kill: a tenth of its guess, under a tenth of the phase
    assert progress._left(1.5) == pytest.approx(1.0 + 4.0 / 2 - 1.5)
    progress.advance("survived", 1.0, spent=3.9, at=5.0)
    assert progress._left(5.0) == pytest.approx((5.0 - 1.0) / 4.0 * 2.0)
    # Then it counts down while the other two run (a pace read at 6 s would say 2.5 s left), and says
    # nothing once they are overdue.
    assert progress._left(6.0) == pytest.approx(1.0)
    assert progress._left(7.5) is None


def test_the_terminal_keeps_its_bar_and_no_plain_lines() -> None:
    terminal = io.StringIO()
    with ProgressDisplay(Console(file=terminal, width=80, force_terminal=True), interval=0.01) as progress:
        progress.phase("mutants", 2)
        progress.advance("killed")
        time.sleep(0.1)
    assert "mutagate: mutants" not in terminal.getvalue()


def test_a_run_refused_before_the_first_tick_prints_no_progress() -> None:
    """A failing baseline is bad input: one line on stderr, with no progress line before it."""
    log = io.StringIO()
    with pytest.raises(RuntimeError):
        with ProgressDisplay(Console(file=log), interval=10) as progress:
            progress.phase("baseline", 1)
            raise RuntimeError("the baseline failed")
    assert log.getvalue() == ""


def test_version_names_the_release_the_python_and_the_install(tmp_path) -> None:
    import platform
    import tomllib

    from tests.cli import PROJECT

    result = mutagate("--version", cwd=tmp_path)  # outside any repository: it needs none
    assert result.returncode == 0, result.stderr
    release = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["version"]
    assert result.stdout.strip() == f"mutagate {release} (Python {platform.python_version()}, {PROJECT})"
