"""pytest's rewritten test modules, kept by content across work copies and runs.

Every run works in new copies of the project (the snapshot for the baseline, one per worker), and
Python caches bytecode by path (PYTHONPYCACHEPREFIX mirrors each copy's absolute path, scratch.py):
each copy rewrote every test module's asserts again, in the baseline and in each worker's fork
server — on sqlite-utils 2 s of a 2.6 s collection, three times per run. The store keeps each
rewritten module under its source's hash, and a new copy is given the entries for its files before
its first process starts.

Only files whose header says "checked hash" (PEP 552) are kept: pytest writes its rewritten modules
so since version 9, and every reader checks the hash against the source, so a file placed for the
original can never stand in for a mutant. pytest also corrects a moved file's code to its new path.
Python's own timestamp files are left alone: a mutant written in the same second with the same
size would pass their check (compiling them is a tenth of rewriting on sqlite-utils).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import struct
import tempfile
import time
from pathlib import Path

HEADER = 16  # magic, flags, then mtime and size or the source's hash
CHECKED_HASH = 3
KEEP_DAYS = 30  # an entry no copy used for this long is removed when the store is next written


def mirror(cache: Path, folder: Path) -> Path:
    """Where PYTHONPYCACHEPREFIX puts the cached files of the sources in `folder`: pytest names a
    test module by its real path (from the working directory), so the mirror is of the real path."""
    return cache / Path(*folder.resolve().parts[1:])


def seed(copy: Path, cache: Path, store: Path | None) -> int:
    """Give `copy`'s Python files what `store` has for their content, in `cache` (the processes'
    PYTHONPYCACHEPREFIX); how many files placed. The store is only a saving: whatever fails here
    (a full disk, an entry another run pruned meanwhile, a dangling link) leaves the file to be
    compiled as before."""
    try:
        return _seed(copy, cache, store) if store is not None else 0
    except OSError:
        return 0


def harvest(folder: Path, cache: Path, store: Path | None) -> int:
    """Store the checked-hash files cached for the sources under `folder` (a scratch folder: the
    copies in it) whose hash is the source's as it is now; how many entries were new. Never fails:
    it runs as a run ends, whatever ended it."""
    try:
        return _harvest(folder, cache, store) if store is not None else 0
    except OSError:
        return 0


def _seed(copy: Path, cache: Path, store: Path) -> int:
    stored: dict[str, list[str]] = {}
    for name in os.listdir(store):
        digest, _, tail = name.partition(".")
        stored.setdefault(digest, []).append(tail)
    if not stored:
        return 0
    placed = 0
    for source in _python_files(copy):
        try:
            digest = _digest(source.read_bytes())
            for tail in stored.get(digest, ()):
                entry = store / f"{digest}.{tail}"
                _write_atomically(mirror(cache, source.parent) / f"{source.stem}.{tail}", entry.read_bytes())
                os.utime(entry)  # in use: not pruned
                placed += 1
        except OSError:
            continue
    return placed


def _harvest(folder: Path, cache: Path, store: Path) -> int:
    cached = mirror(cache, folder)
    if not cached.is_dir():
        return 0
    added = 0
    for directory, _, names in os.walk(cached):
        sources = folder / Path(directory).relative_to(cached)
        for name in names:
            stem, _, tail = name.partition(".")
            source = sources / f"{stem}.py"
            if not tail.endswith(".pyc") or not source.is_file():
                continue
            try:
                compiled, text = (Path(directory) / name).read_bytes(), source.read_bytes()
                if not _checked(compiled, text):
                    continue
                entry = store / f"{_digest(text)}.{tail}"
                if not entry.exists():
                    _write_atomically(entry, compiled)
                    added += 1
            except OSError:
                continue
    if added:
        _prune(store)
    return added


def _python_files(copy: Path):  # noqa: ANN202 - a generator of paths
    for directory, folders, names in os.walk(copy):
        folders[:] = [f for f in folders if not f.startswith(".") and f != "__pycache__"]
        for name in names:
            if name.endswith(".py"):
                yield Path(directory) / name


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _checked(compiled: bytes, source: bytes) -> bool:
    """A checked-hash header (flags 3) for this source."""
    return (len(compiled) >= HEADER and struct.unpack("<I", compiled[4:8])[0] == CHECKED_HASH
            and compiled[8:HEADER] == importlib.util.source_hash(source))


def _write_atomically(target: Path, data: bytes) -> None:
    """Whole or not at all: a process starting elsewhere may read the store or the cache meanwhile."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _prune(store: Path) -> None:
    oldest = time.time() - KEEP_DAYS * 86400
    for entry in store.iterdir():
        try:
            if entry.stat().st_mtime < oldest:
                entry.unlink()
        except OSError:
            pass  # removed by another run meanwhile
