"""Private scratch folders for runs and Ray actors, and the removal of abandoned ones.

A run removes its scratch when it ends, even on Ctrl-C; a run killed outright (SIGKILL, a lost
machine) cannot. Each scratch names its owner's process id, so the next run on the machine removes
the folders whose owner is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

OWNER_FILE = "owner.pid"


def new_scratch(prefix: str) -> Path:
    remove_abandoned(prefix)
    path = Path(tempfile.mkdtemp(prefix=prefix))
    (path / OWNER_FILE).write_text(str(os.getpid()))
    return path


def remove_abandoned(prefix: str) -> list[Path]:
    """Remove the scratch folders with this prefix whose owner process has ended."""
    removed = []
    for candidate in Path(tempfile.gettempdir()).glob(prefix + "*"):
        try:
            owner = int((candidate / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not a scratch folder, or one still being made
        if not _alive(owner):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True
