"""Scratch folders of runs killed outright are removed by the next run; live ones never are."""

from __future__ import annotations

import os
import subprocess
import sys

from scheduler.scratch import OWNER_FILE, new_scratch, remove_abandoned


def test_abandoned_scratch_is_removed_and_a_live_one_kept() -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    live = new_scratch("mutagate-test-")  # ours
    unrelated = new_scratch("mutagate-test-")
    (unrelated / OWNER_FILE).unlink()  # not a folder we can vouch for
    abandoned = new_scratch("mutagate-test-")
    (abandoned / OWNER_FILE).write_text(ended.stdout.strip())  # its owner has exited
    (abandoned / "work").mkdir()
    try:
        assert remove_abandoned("mutagate-test-") == [abandoned]
        assert not abandoned.exists() and live.exists() and unrelated.exists()
        assert (live / OWNER_FILE).read_text() == str(os.getpid())
    finally:
        for path in (live, unrelated):
            subprocess.run(["rm", "-rf", str(path)], check=True)


def test_the_shared_bytecode_cache_forgets_a_removed_scratch(tmp_path, monkeypatch) -> None:
    from scheduler.scratch import bytecode_cache, remove_scratch

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    scratch = new_scratch("mutagate-test-")
    cache = bytecode_cache(scratch)
    assert cache == tmp_path / "cache" / "mutagate" / "pycache"
    # Python mirrors a source's absolute path under the prefix, as it did for this scratch's files.
    mirrored = cache / scratch.resolve().relative_to("/") / "worker-0" / "pkg"
    mirrored.mkdir(parents=True)
    (mirrored / "mod.cpython-311.pyc").write_bytes(b"")
    (cache / "usr" / "lib").mkdir(parents=True)  # the standard library's, kept for the next run
    remove_scratch(scratch)
    assert not scratch.exists()
    assert not (cache / scratch.resolve().relative_to("/")).exists()
    assert (cache / "usr" / "lib").is_dir()
