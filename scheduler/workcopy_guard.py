"""Undoing what a mutant wrote into a work copy, at a cost only when it wrote something.

git's status check (a few milliseconds: a process start and a walk of the tree) finds any write,
but most mutants write nothing. On Linux an inotify watch on every directory of the work copy
says, in microseconds, whether anything changed since the last task; git then runs only when it
did. Elsewhere, or when the watches cannot be set, every task pays for the check.
"""

from __future__ import annotations

import os
from pathlib import Path

from scheduler.workcopy import restore_if_dirty

try:
    from inotify_simple import INotify, flags
except ImportError:  # not Linux, or not installed
    INotify = None

_CHANGES = 0
if INotify is not None:
    _CHANGES = (flags.MODIFY | flags.ATTRIB | flags.CLOSE_WRITE | flags.MOVED_FROM | flags.MOVED_TO
                | flags.CREATE | flags.DELETE | flags.DELETE_SELF | flags.MOVE_SELF)


class WorkCopyGuard:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._notify = None
        self._watched: dict[int, str] = {}  # watch descriptor -> its directory
        self._watch()

    @property
    def watching(self) -> bool:
        return self._notify is not None

    def _watch(self) -> None:
        """A fresh set of watches: git may have re-created directories a mutant removed."""
        self.close()
        if INotify is None:
            return
        try:
            notify = INotify()
        except OSError:  # out of inotify instances, or none here
            return
        watched: dict[int, str] = {}
        try:
            for directory, subdirs, _ in os.walk(self.root):
                subdirs[:] = [d for d in subdirs if d != ".git"]  # git's own bookkeeping is not the work copy
                watched[notify.add_watch(directory, _CHANGES)] = directory
        except OSError:  # out of watches
            notify.close()
            return
        self._notify, self._watched = notify, watched

    def restore(self, written_back: Path | None = None) -> bool:
        """Undo every change since the last call; True if there was one to undo. `written_back`: a
        file the caller changed and has since written back byte for byte (a mutant put on disk):
        changes to it alone need no git (its check costs a process start, ~30 ms: semver's import-time
        mutants and confirmations on disk paid it 126 times a run)."""
        if self._notify is not None:
            events = self._notify.read(timeout=0)
            if not events:
                return False
            if written_back is not None and all(
                    os.path.join(self._watched.get(e.wd, ""), e.name) == str(written_back) for e in events):
                return False
        undone = restore_if_dirty(self.root)
        if self._notify is not None:
            if undone:
                self._watch()
            else:
                self._notify.read(timeout=0)  # nothing git calls a change (a file written back as it was)
        return undone

    def close(self) -> None:
        if self._notify is not None:
            self._notify.close()
            self._notify = None
