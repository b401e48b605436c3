"""The user's checkout is never changed by a run, whatever a mutant does.

Mutants run in work copies, but code that writes by absolute path (a path constant, a mutated
condition) reaches the real checkout. Two layers:

1. Where the platform allows (Linux, root, `unshare` and `mount` at hand), the target's processes
   run in a private mount namespace where the checkout is bind-mounted read-only: the write fails
   and the mutant is killed by it.
2. In every case the checkout is fingerprinted before the run (every tracked and untracked,
   not-ignored file: its bytes' hash and mode) and verified after it; whatever changed is put back
   byte for byte (tracked files from git's objects when they were clean, others from a copy kept
   in memory), and files a mutant created are removed. An inotify watch (Linux) tells after each
   mutant whether the checkout changed, so the summary names the mutants that tried.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

try:
    from inotify_simple import INotify, flags
except ImportError:  # not Linux, or not installed
    INotify = None

OURS = ".mutagate"  # the results database's folder: the run itself writes there
_KEEP_LIMIT = 64 * 1024 * 1024  # bytes of dirty or untracked files kept in memory to restore them


@dataclass(frozen=True)
class Entry:
    digest: str
    mode: int
    blob: str | None  # git's object for the bytes, when they are the index's (restored from git)
    data: bytes | None  # the bytes themselves otherwise (None past the memory limit)


@dataclass(frozen=True)
class Fingerprint:
    root: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    own: frozenset[str] = frozenset()  # paths the run itself writes (a --db inside the checkout): never restored


def _git(root: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=True).stdout


def _listed(root: Path, own: frozenset[str] = frozenset()) -> tuple[dict[str, str], list[str]]:
    """The index's blob per tracked path, and every tracked or untracked, not-ignored path."""
    index: dict[str, str] = {}
    for record in _git(root, "ls-files", "-s", "-z").split(b"\0"):
        if record:
            meta, _, path = record.partition(b"\t")
            index[os.fsdecode(path)] = meta.split()[1].decode()
    others = [os.fsdecode(p) for p in _git(root, "ls-files", "-z", "--others", "--exclude-standard").split(b"\0") if p]
    paths = [p for p in [*index, *others] if p.split("/", 1)[0] != OURS and p not in own]
    return index, paths


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's object id


def own_paths(root: Path, files: tuple[Path, ...]) -> frozenset[str]:
    """The run's own output files (its results database, with DuckDB's write-ahead log) that lie inside the
    checkout, relative to it: `--db shard-1.duckdb` in the checkout is the run's to write, not a mutant's."""
    root = root.resolve()
    inside = set()
    for file in files:
        full = Path(file).resolve()
        for path in (full, full.with_name(full.name + ".wal")):
            if root in path.parents:
                inside.add(path.relative_to(root).as_posix())
    return frozenset(inside)


def take(root: Path, own: frozenset[str] = frozenset()) -> Fingerprint:
    index, paths = _listed(root, own)
    entries: dict[str, Entry] = {}
    kept = 0
    for path in paths:
        full = root / path
        try:
            info = full.lstat()
            data = os.readlink(full).encode() if stat.S_ISLNK(info.st_mode) else full.read_bytes()
        except (OSError, ValueError):
            continue  # listed but gone (a deleted tracked file), or a folder (a submodule)
        blob = index.get(path)
        clean = blob is not None and not stat.S_ISLNK(info.st_mode) and _blob_id(data) == blob
        keep = None if clean or kept + len(data) > _KEEP_LIMIT else data
        kept += len(keep or b"")
        entries[path] = Entry(hashlib.sha256(data).hexdigest(), info.st_mode, blob if clean else None, keep)
    return Fingerprint(root, entries, own)


@dataclass(frozen=True)
class Damage:
    changed: tuple[str, ...]  # modified or removed, then put back
    created: tuple[str, ...]  # new files, then removed
    unrestorable: tuple[str, ...]  # too large to have been kept
    newer: tuple[str, ...] = ()  # changed after the checkout was handed back (`released`): left as they are


def _never() -> float | None:
    return None


# When the checkout was handed back to its owner before the run's end (time.time(); None: it was not):
# a stop hook that answered at its deadline lets the agent edit again while the stopped check cleans up
# (scheduler/agents/on_time.py). A change made after that moment is the agent's, not a mutant's.
released: Callable[[], float | None] = _never
_CLOCK_SLACK = 0.01  # a file system's timestamps may trail the clock by a tick


def verify_and_restore(before: Fingerprint) -> Damage:
    """Compare the checkout with its fingerprint and put back every difference, except what changed
    after the checkout was `released`."""
    after = take(before.root, before.own)
    changed, unrestorable, newer = [], [], []
    for path, entry in before.entries.items():
        now = after.entries.get(path)
        if now is not None and now.digest == entry.digest and now.mode == entry.mode:
            continue
        if _changed_since_release(before.root / path):
            newer.append(path)
            continue
        data = entry.data if entry.data is not None else (
            _git(before.root, "cat-file", "blob", entry.blob) if entry.blob else None)
        if data is None:
            unrestorable.append(path)
            continue
        _put_back(before.root / path, data, entry.mode)
        changed.append(path)
    created = []
    for path in (p for p in after.entries if p not in before.entries):
        target = before.root / path
        if _changed_since_release(target):
            newer.append(path)
        elif target.is_symlink() or target.is_file():
            target.unlink()
            created.append(path)
    return Damage(tuple(changed), tuple(created), tuple(unrestorable), tuple(newer))


def _changed_since_release(target: Path) -> bool:
    """Written, created or renamed after `released()`: its status-change time, which no process sets
    at will as it can a modification time (local file systems: a network one's clock is the server's).
    A removed file is put back whenever it went: nothing says who removed it (its folder's time moves
    with every file in it, the restore's own too), and a deletion left standing may lose a file."""
    moment = released()
    if moment is None:
        return False
    try:
        return target.lstat().st_ctime >= moment - _CLOCK_SLACK
    except OSError:
        return False


def _put_back(target: Path, data: bytes, mode: int) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if stat.S_ISLNK(mode):
        os.symlink(os.fsdecode(data), target)
        return
    target.write_bytes(data)
    os.chmod(target, stat.S_IMODE(mode))


class Watch:
    """Which mutants were running when the checkout changed (Linux inotify; elsewhere nobody is
    named, the end-of-run check still restores)."""

    def __init__(self, before: Fingerprint) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self.suspects: list[str] = []
        self._notify = None
        self._ignored = {OURS, *(Path(p).name for p in before.own)}
        if INotify is None:
            return
        events = (flags.MODIFY | flags.ATTRIB | flags.CLOSE_WRITE | flags.MOVED_FROM | flags.MOVED_TO
                  | flags.CREATE | flags.DELETE)
        folders = {before.root} | {(before.root / p).parent for p in before.entries}
        try:
            self._notify = INotify()
            for folder in folders:
                self._notify.add_watch(folder, events)
        except OSError:  # out of instances or watches: the end-of-run check still holds
            self.close()

    def started(self, mutant_id: str) -> None:
        with self._lock:
            self._running[mutant_id] = self._running.get(mutant_id, 0) + 1

    def finished(self, mutant_id: str) -> None:
        with self._lock:
            if self._notify is not None and any(e.name not in self._ignored for e in self._notify.read(timeout=0)):
                for suspect in [*self._running, mutant_id]:
                    if suspect not in self.suspects:
                        self.suspects.append(suspect)
            if self._running.get(mutant_id, 0) <= 1:
                self._running.pop(mutant_id, None)
            else:
                self._running[mutant_id] -= 1

    def close(self) -> None:
        if self._notify is not None:
            self._notify.close()
            self._notify = None


# The run's watch, for the workers of this process (a Ray worker elsewhere has none: the
# end-of-run check still restores).
current: Watch | None = None


def readonly_prefix(checkout: Path, scratch: Path) -> tuple[str, ...]:
    """A command prefix that runs a process with the checkout read-only, or () where this cannot be
    done: not Linux, not root, no `unshare`, a namespace refused (a container without
    CAP_SYS_ADMIN), or the run's scratch inside the checkout. MUTAGATE_READONLY_CHECKOUT=0 turns it
    off (the fingerprint still guards)."""
    if (not sys.platform.startswith("linux") or os.environ.get("MUTAGATE_READONLY_CHECKOUT") == "0"
            or not hasattr(os, "geteuid") or os.geteuid() != 0
            or shutil.which("unshare") is None or shutil.which("mount") is None):
        return ()
    root, inside = checkout.resolve(), scratch.resolve()
    if inside == root or root in inside.parents:
        return ()
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(root))
    try:
        probe = subprocess.run([*prefix, "sh", "-c", f'! touch "{root}/.mutagate-probe" 2>/dev/null'],
                               capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    (root / ".mutagate-probe").unlink(missing_ok=True)
    return prefix if probe.returncode == 0 else ()
