"""Input refused before anything runs, in one line that names what is wrong: configuration values that
would turn the gate off, an interpreter that is not there, refs and paths that do not resolve (none of
which may leave an empty database behind), and a results database asked for where none can be written."""

from __future__ import annotations

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
