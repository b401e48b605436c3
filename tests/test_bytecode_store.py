"""Bytecode compiled in one copy of a project is used by the next copy of the same files, by real
Python and real pytest, and never for a file whose content differs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.bytecode_store import harvest, mirror, seed
from scheduler.scratch import bytecode_store

TEST_MODULE = """\
from pkg.mod import double


def test_double():
    assert double(2) == 4


def test_fails_here():
    assert double(3) == 5


def test_the_code_names_this_file():
    import sys
    assert sys._getframe().f_code.co_filename == __file__
"""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    found = bytecode_store()
    assert found == tmp_path / "xdg" / "mutagate" / "bytecode-by-content"
    return found


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text("def double(x):\n    return x * 2\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_mod.py").write_text(TEST_MODULE)
    return root


def _pytest(copy: Path, cache: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONPYCACHEPREFIX": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=copy,
                          env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr  # one test fails on purpose: its traceback shows the path
    return done.stdout


def _cached(cache: Path, copy: Path) -> dict[str, float]:
    folder = mirror(cache, copy)
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*.pyc")}


def _rewritten(cached: dict[str, float]) -> set[str]:
    return {name for name in cached if "-pytest-" in name}


def test_a_new_copy_runs_the_test_modules_an_earlier_copy_rewrote(tmp_path: Path, store: Path) -> None:
    cache = tmp_path / "xdg" / "mutagate" / "pycache"
    first = _project(tmp_path / "run-1" / "snapshot")
    _pytest(first, cache)
    rewritten = _rewritten(_cached(cache, first))
    assert [name.split(".")[0] for name in rewritten] == ["tests/test_mod"]
    assert harvest(tmp_path / "run-1", cache, store) == 1  # Python's own timestamp files are not kept
    assert harvest(tmp_path / "run-1", cache, store) == 0  # kept once

    second = tmp_path / "run-2" / "worker-0"
    shutil.copytree(first, second)
    assert seed(second, cache, store) == 1
    placed = _cached(cache, second)
    assert _rewritten(placed) == rewritten
    output = _pytest(second, cache)
    # pytest rewrote nothing again: the cached file is the one placed.
    assert {name: placed[name] for name in rewritten} == {name: _cached(cache, second)[name] for name in rewritten}
    assert "assert 6 == 5" in output  # the rewritten assert, from the placed file
    # Its code names this copy's file, not the copy it was compiled in (pytest corrects a moved file).
    assert "1 failed, 2 passed" in output


def test_a_changed_file_gets_nothing_and_a_stale_cached_file_is_not_kept(tmp_path: Path, store: Path) -> None:
    cache = tmp_path / "xdg" / "mutagate" / "pycache"
    first = _project(tmp_path / "run-1" / "snapshot")
    _pytest(first, cache)
    # A mutant written over the test module after it was rewritten, with the original's size and
    # mtime: its cached file is stale, and kept under no content.
    test_module = first / "tests" / "test_mod.py"
    stat = test_module.stat()
    test_module.write_text(TEST_MODULE.replace("== 5", "== 6"))
    os.utime(test_module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert harvest(tmp_path / "run-1", cache, store) == 0
    assert seed(_project(tmp_path / "run-2" / "worker-0"), cache, store) == 0

    test_module.write_text(TEST_MODULE)
    harvest(tmp_path / "run-1", cache, store)
    third = tmp_path / "run-3" / "worker-0"
    shutil.copytree(first, third)
    (third / "tests" / "test_mod.py").write_text(TEST_MODULE.replace("== 5", "== 7"))  # changed since
    assert seed(third, cache, store) == 0
    assert "assert 6 == 7" in _pytest(third, cache)


def test_no_store_when_the_cache_folder_is_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    (tmp_path / "file").write_text("not a folder")
    assert bytecode_store() is None
    assert seed(_project(tmp_path / "copy"), tmp_path / "cache", None) == 0


def test_the_store_never_fails_a_run(tmp_path: Path, store: Path) -> None:
    cache = tmp_path / "xdg" / "mutagate" / "pycache"
    first = _project(tmp_path / "run-1" / "snapshot")
    (first / "pkg" / "gone.py").symlink_to(tmp_path / "nowhere.py")  # a dangling link, as git keeps one
    _pytest(first, cache)
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("")
    assert harvest(tmp_path / "run-1", cache, not_a_folder) == 0  # every write fails: nothing raised
    assert harvest(tmp_path / "run-1", cache, store) == 1
    assert seed(first, tmp_path / "other-cache", store) == 1  # the dangling link is passed over
    assert seed(first, tmp_path / "other-cache", not_a_folder) == 0
