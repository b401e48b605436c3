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
