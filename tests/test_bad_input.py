"""Input refused before anything runs, in one line that names what is wrong: configuration values that
would turn the gate off, an interpreter that is not there, refs and paths that do not resolve (none of
which may leave an empty database behind), and a results database asked for where none can be written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli import assert_bad_input, mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

FILES = {
    "pkg/__init__.py": "",
    "pkg/mod.py": "def double(x):\n    return x * 2\n",
    "tests/__init__.py": "",
    "tests/test_mod.py": "from pkg.mod import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
}


@pytest.fixture
def ai_repo(repo: GitRepo) -> GitRepo:
    repo.commit(CLAUDE, files=FILES)
    return repo


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("timeout-floor = -5", "timeout-floor"),  # 51 of 52 mutants timed out: a score of 98.1 %
        ("timeout-floor = 0", "timeout-floor"),  # 30 false timeouts
        ("timeout-floor = inf", "timeout-floor"),  # a hung mutant would hang the run
        ("timeout-multiplier = 0", "timeout-multiplier"),
        ("timeout-multiplier = -2.5", "timeout-multiplier"),
        ("fail-under = 150", "fail-under"),
        ("fail-under = -1", "fail-under"),
        ("fail-under = nan", "fail-under"),  # no score is below nan: a gate that never fails
        ("thresholds = {high = 120}", "thresholds.high"),
        ("thresholds = {low = -5}", "thresholds.low"),
        ("thresholds = {high = 50, low = 70}", "thresholds.low"),
        ('thresholds = {high = "x"}', "thresholds.high"),
    ],
)
def test_config_values_that_would_turn_the_gate_off_are_refused(ai_repo: GitRepo, setting: str, key: str) -> None:
    ai_repo.commit("human: config", files={"pyproject.toml": f"[tool.mutagate]\n{setting}\n"})
    assert_bad_input(mutagate("run", cwd=ai_repo.root), "[tool.mutagate]", key)
    assert not (ai_repo.root / ".mutagate").exists()


@pytest.mark.slow
def test_refused_runs_leave_no_database_behind(ai_repo: GitRepo, tmp_path: Path) -> None:
    not_executable = tmp_path / "python"
    not_executable.write_text("#!/bin/sh\n")  # no x bit: even root may not execute it
    refusals = [
        (("--python", "/nope/python"), ("--python /nope/python", "no such file")),
        (("--python", str(not_executable)), ("not an executable file",)),
        (("--python", str(tmp_path)), ("not an executable file",)),
        (("--base", "nonexistent"), ("nonexistent",)),
        ((str(tmp_path),), ("outside the repository",)),
        (("--fail-under", "150"), ("--fail-under",)),
    ]
    for args, fragments in refusals:
        assert_bad_input(mutagate("run", *args, cwd=ai_repo.root), *fragments)
        assert not (ai_repo.root / ".mutagate").exists(), args


def test_a_database_path_that_cannot_be_written_says_why(ai_repo: GitRepo, tmp_path: Path) -> None:
    """A file where the database's folder should be, and a folder given as the database: both used to
    read "cannot create …: File exists" and "is not a readable mutagate DuckDB file"."""
    plain = tmp_path / "plain.txt"
    plain.write_text("not a folder")
    assert_bad_input(mutagate("run", "--db", str(plain / "results.duckdb"), cwd=ai_repo.root),
                     f"cannot write the results database {plain / 'results.duckdb'}", f"{plain} is a file, not a directory")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert_bad_input(mutagate("run", "--db", str(folder), cwd=ai_repo.root),
                     f"cannot write the results database {folder}", "it is a directory")


def _refuses_new_files(folder: Path) -> bool:
    """Whether the system refuses to create a file in `folder` (probed, and cleaned up if it did not)."""
    probe = folder / "mutagate-probe.duckdb"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except OSError:
        return True
    probe.unlink()
    return False


@pytest.mark.skipif(not Path("/sys").is_dir() or not _refuses_new_files(Path("/sys")),
                    reason="needs a folder where the system refuses new files")
def test_a_folder_that_refuses_new_files_is_named_as_not_writable(ai_repo: GitRepo) -> None:
    """What this exercises, honestly: tests run as root here, so chmod cannot make a folder unwritable
    and no read-only mount is at hand. sysfs refuses to create files even for root (EACCES), which
    reaches the store exactly as a read-only file system's EROFS does: DuckDB's "Cannot open file",
    which the store used to report as an unreadable database file."""
    assert_bad_input(mutagate("run", "--db", "/sys/results.duckdb", cwd=ai_repo.root),
                     "cannot write the results database /sys/results.duckdb", "its folder /sys is not writable")


def test_a_lock_wait_that_is_not_a_number_is_bad_input(repo: GitRepo) -> None:
    repo.commit("init", files={"pkg/m.py": "X = 1\n"})
    for value in ("abc", "-1", "nan"):
        assert_bad_input(mutagate("runs", cwd=repo.root, env={"MUTAGATE_LOCK_WAIT": value}),
                         "MUTAGATE_LOCK_WAIT must be a number of seconds")


@pytest.mark.parametrize(
    ("pyproject", "fragments"),
    [
        ("tool = 5\n", ("[tool] must be a table",)),
        ("[tool]\nmutagate = 5\n", ("[tool.mutagate] must be a table", "int '5'")),
        ("[tool.mutagate]\nagents = 5\n", ("agents must be a list of rules",)),
        ('[[tool.mutagate.agents]]\nagent = "bot"\nauthor = 5\n', ("author of the rule for 'bot' must be a regex string",)),
        ('[tool.mutagate]\ndisable-operators = ["comparision"]\n', ("disable-operators", "'comparision'")),
        ('[tool.mutagate]\ndisable-operators = ["no-such-*"]\n', ("disable-operators", "'no-such-*'")),
    ],
)
def test_wrong_typed_config_and_unknown_operators_are_bad_input(ai_repo: GitRepo, pyproject: str,
                                                                fragments: tuple[str, ...]) -> None:
    """Each used to be "internal error" and exit 1 (the first four), or silently ignored (a misspelt
    operator stayed on)."""
    ai_repo.commit("human: config", files={"pyproject.toml": pyproject})
    assert_bad_input(mutagate("mutants", cwd=ai_repo.root), "pyproject.toml", *fragments)


def test_known_operator_names_families_and_globs_are_accepted(ai_repo: GitRepo) -> None:
    def operators() -> set[str]:
        result = mutagate("mutants", "--json", cwd=ai_repo.root)
        assert result.returncode == 0, result.stderr
        return {m["operator"] for m in json.loads(result.stdout)["mutants"]}

    assert operators() == {"return-value", "arithmetic", "number"}
    # A family (return), a name (number), and a glob that matches operators though none here (swap-*).
    ai_repo.commit("human: config", files={"pyproject.toml": '[tool.mutagate]\n'
                                           'disable-operators = ["return", "number", "swap-*"]\n'})
    assert operators() == {"arithmetic"}


@pytest.mark.parametrize("junk", ['{"hooks": {"Stop": [{"hooks": 5}]}}',
                                  '{"hooks": {"Stop": [{"matcher": "", "hooks": {"command": "x"}}]}}',
                                  '{"hooks": {"SubagentStop": [{"hooks": true}]}}'])
def test_junk_hook_entries_in_claude_settings_are_bad_input_and_left_alone(ai_repo: GitRepo, junk: str) -> None:
    settings = ai_repo.root / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(junk)
    assert_bad_input(mutagate("hook", "install", "claude-code", cwd=ai_repo.root), str(settings), "is not a list")
    assert settings.read_text() == junk


def test_an_empty_agent_name_is_refused(ai_repo: GitRepo) -> None:
    """`--agent ''` used to mean no --agent at all: the uncommitted work it named was left out."""
    for name in ("", "  "):
        assert_bad_input(mutagate("blame", "--agent", name, cwd=ai_repo.root), "--agent", "non-empty")
    (ai_repo.root / "pkg" / "mod.py").write_text("def double(x):\n    return x * 2\n\n\ndef triple(x):\n    return x * 3\n")
    result = mutagate("blame", "--json", "--agent", "Cursor", cwd=ai_repo.root)
    assert result.returncode == 0, result.stderr
    assert {(line["line"], line["agent"]) for line in json.loads(result.stdout)["lines"]} >= {(5, "cursor"), (6, "cursor")}


@pytest.mark.slow
def test_a_truncated_results_database_is_bad_input(ai_repo: GitRepo, tmp_path: Path) -> None:
    """A database cut short (a copy interrupted, a disk that filled) opens, and fails at its first missing
    block: that was "internal error: IOException" and exit 1 from every reader and from `run`."""
    db = tmp_path / "results.duckdb"
    stored = mutagate("run", "--jobs", "1", "--db", str(db), cwd=ai_repo.root)
    assert stored.returncode == 0, stored.stderr
    whole = db.read_bytes()
    db.write_bytes(whole[: len(whole) // 2])
    for command in (("runs",), ("report",), ("run", "--jobs", "1")):
        assert_bad_input(mutagate(*command, "--db", str(db), cwd=ai_repo.root), str(db), "is damaged or cannot be read")
