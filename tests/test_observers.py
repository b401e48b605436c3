"""The baseline's audit hook: which tests a survivor's confirmation must always run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from scheduler.runner.baseline import _Observers


def test_the_baseline_names_tests_that_start_processes_or_read_a_mutated_file(tmp_path: Path) -> None:
    mutated = tmp_path / "pkg" / "mod.py"
    mutated.parent.mkdir()
    mutated.write_text("X = 1\n")
    observers = _Observers([str(mutated)])
    events = {  # what the interpreter passes to audit hooks
        "reads_it": ("open", (mutated, "r", 0)),  # a Path, as inspect and linecache may pass it
        "reads_it_as_bytes": ("open", (os.fsencode(str(mutated)), "rb", 0)),
        "reads_another": ("open", (str(tmp_path / "other.py"), "r", 0)),
        "spawns": ("subprocess.Popen", (sys.executable, [sys.executable], None, None)),
        "forks": ("os.fork", ()),
        "opens_a_descriptor": ("open", (3, "r", 0)),
    }
    for test, (event, args) in events.items():
        observers.current = test
        observers(event, args)
    observers.current = None
    observers("open", (str(mutated), "r", 0))  # outside any test: collection, imports
    assert observers.found == {"reads_it", "reads_it_as_bytes", "spawns", "forks"}
