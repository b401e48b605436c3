"""The checkout guard after a stop hook's late answer: the agent has its checkout back while the stopped
check still cleans up, so what changed after that moment is the agent's and stays; what changed before
it (a mutant's or a test's write) is put back as always. Real files in a real git repository."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from scheduler import checkout_guard
from tests.gitrepo import GitRepo


@pytest.fixture
def released_at():
    """Set the moment the checkout was handed back, for the guard to read; unset after the test."""
    moment: list[float] = []
    checkout_guard.released = lambda: moment[0] if moment else None
    yield moment
    checkout_guard.released = checkout_guard._never


def test_changes_after_the_release_are_left_and_those_before_it_put_back(tmp_path: Path, released_at) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: start", files={"pkg/a.py": "A = 1\n", "pkg/b.py": "B = 1\n", "pkg/c.py": "C = 1\n",
                                       "README": "readme\n"})
    before = checkout_guard.take(repo.root)
    (repo.root / "pkg/a.py").write_text("A = 'a mutant wrote this'\n")  # before the hook answered
    (repo.root / "stray.txt").write_text("a test left this\n")
    time.sleep(0.05)
    released_at.append(time.time())
    time.sleep(0.05)
    (repo.root / "pkg/b.py").write_text("B = 'the agent edits again'\n")  # after: the agent's
    (repo.root / "pkg/new.py").write_text("NEW = 'the agent adds a file'\n")

    damage = checkout_guard.verify_and_restore(before)

    assert (repo.root / "pkg/a.py").read_text() == "A = 1\n" and not (repo.root / "stray.txt").exists()
    assert (repo.root / "pkg/b.py").read_text() == "B = 'the agent edits again'\n"
    assert (repo.root / "pkg/new.py").exists()
    assert damage.changed == ("pkg/a.py",) and damage.created == ("stray.txt",)
    assert sorted(damage.newer) == ["pkg/b.py", "pkg/new.py"]


def test_a_removed_file_is_put_back_whenever_it_went(tmp_path: Path, released_at) -> None:
    """Nothing tells who removed a file (its folder's time moves with every file in it, the restore's
    own writes too): a mutant's removal left standing could lose a file, so every removal is undone —
    here a whole folder a mutant removed before the release, beside a file changed in it after."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: start", files={"data/x.txt": "x\n", "data/y.txt": "y\n", "pkg/c.py": "C = 1\n"})
    (repo.root / "data/untracked.txt").write_text("kept only in the fingerprint\n")
    before = checkout_guard.take(repo.root)
    for name in ("x.txt", "y.txt", "untracked.txt"):
        (repo.root / "data" / name).unlink()
    (repo.root / "data").rmdir()
    released_at.append(time.time() + 0.05)
    time.sleep(0.1)
    (repo.root / "pkg/c.py").unlink()  # after the release: the agent's, but put back all the same

    damage = checkout_guard.verify_and_restore(before)

    assert sorted(damage.changed) == ["data/untracked.txt", "data/x.txt", "data/y.txt", "pkg/c.py"]
    assert (repo.root / "data/untracked.txt").read_text() == "kept only in the fingerprint\n"
    assert (repo.root / "pkg/c.py").read_text() == "C = 1\n" and damage.newer == ()


def test_without_a_release_every_change_is_put_back(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: start", files={"pkg/a.py": "A = 1\n"})
    before = checkout_guard.take(repo.root)
    (repo.root / "pkg/a.py").write_text("A = 2\n")
    (repo.root / "pkg/new.py").write_text("NEW = 1\n")
    damage = checkout_guard.verify_and_restore(before)
    assert (repo.root / "pkg/a.py").read_text() == "A = 1\n" and not (repo.root / "pkg/new.py").exists()
    assert damage.newer == ()
