"""The work copy guard undoes a mutant's writes, and notices them without asking git each time."""

from __future__ import annotations

import shutil
import sys

import pytest

from scheduler.workcopy_guard import WorkCopyGuard
from tests.gitrepo import GitRepo


@pytest.fixture
def guarded(repo: GitRepo):
    repo.commit("init", files={"pkg/mod.py": "X = 1\n", "pkg/deep/data.txt": "data\n", "README": "hi\n"})
    guard = WorkCopyGuard(repo.root)
    yield repo.root, guard
    guard.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_watches_every_directory_on_linux(guarded) -> None:
    _, guard = guarded
    assert guard.watching


def test_nothing_written_nothing_undone(guarded) -> None:
    root, guard = guarded
    (root / "pkg" / "mod.py").read_text()
    assert guard.restore() is False


def test_writes_anywhere_are_undone(guarded) -> None:
    root, guard = guarded
    (root / "pkg" / "deep" / "data.txt").write_text("changed\n")
    (root / "pkg" / "new.txt").write_text("new\n")
    (root / "README").unlink()
    assert guard.restore() is True
    assert (root / "pkg" / "deep" / "data.txt").read_text() == "data\n"
    assert not (root / "pkg" / "new.txt").exists()
    assert (root / "README").read_text() == "hi\n"
    assert guard.restore() is False  # git's own writes while undoing are not a change


def test_a_removed_directory_is_watched_again_once_restored(guarded) -> None:
    root, guard = guarded
    shutil.rmtree(root / "pkg" / "deep")
    assert guard.restore() is True
    (root / "pkg" / "deep" / "data.txt").write_text("changed again\n")  # in the re-created directory
    assert guard.restore() is True
    assert (root / "pkg" / "deep" / "data.txt").read_text() == "data\n"


def test_a_file_written_back_unchanged_costs_one_check(guarded) -> None:
    root, guard = guarded
    (root / "README").write_text("hi\n")
    assert guard.restore() is False
    (root / "README").write_text("bye\n")
    assert guard.restore() is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_a_mutant_written_back_alone_needs_no_git_but_any_other_write_does(guarded, monkeypatch) -> None:
    root, guard = guarded
    target = root / "pkg" / "mod.py"
    target.write_text("X = 2\n")  # the mutant on disk for a fresh run, then the original back
    target.write_text("X = 1\n")
    monkeypatch.setenv("PATH", "")  # no git to run: the check must not need it
    assert guard.restore(written_back=target) is False
    monkeypatch.undo()
    target.write_text("X = 2\n")
    target.write_text("X = 1\n")
    (root / "pkg" / "deep" / "data.txt").write_text("written by a test\n")
    assert guard.restore(written_back=target) is True
    assert (root / "pkg" / "deep" / "data.txt").read_text() == "data\n"
