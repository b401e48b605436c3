"""`mutagate apply ID`: a stored mutant written into the working tree, to run a test against it by hand;
`mutagate apply --revert ID` puts the file back byte for byte."""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from mutator.errors import BadInput
from mutator.git import GitError, Repo, run_git
from results.mutant_text import EDIT_CHARS, RunSources, edit_text, splice
from results.runs import load_mutant, mutant_in_runs
from results.stored_mutant import StoredMutant
from scheduler.cli.common import add_read_arguments, read_db, target_repo


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("apply", help="write a mutant into the working tree to test it by hand")
    parser.add_argument("id", metavar="ID", help="a mutant id, or a unique prefix of one")
    parser.add_argument("--revert", action="store_true", help="put the file back as HEAD has it")
    add_read_arguments(parser, output=False)
    parser.set_defaults(handler=run_apply)


def run_apply(args: argparse.Namespace) -> int:
    repo = target_repo(args)
    db = read_db(args)
    mutant = load_mutant(db, args.id, args.run)
    path = repo.root / mutant.file
    if not path.is_file():
        raise BadInput(f"{mutant.file} is not in {repo.root}: is this the repository run {mutant.run_id} tested?")
    head_bytes = _head_bytes(repo, mutant.file)
    if args.revert:
        print(_revert(repo, db, mutant, path, head_bytes, args.run))
    else:
        print(_apply(repo, mutant, path, head_bytes, _revert_command(args, mutant.id)))
    return 0


def _apply(repo: Repo, mutant: StoredMutant, path: Path, head_bytes: bytes, revert_command: str) -> str:
    # A clean file is HEAD's: that is what makes `--revert` exact (and never loses an edit of the user's).
    if run_git(repo.root, "status", "--porcelain", "--", mutant.file).strip():
        raise BadInput(f"{mutant.file} has uncommitted changes (a mutant applied already? `mutagate apply --revert ID`);"
                       " commit or stash them first")
    current = path.read_bytes()
    if current != head_bytes:  # clean to git yet not HEAD's bytes (assume-unchanged, skip-worktree)
        raise BadInput(f"{mutant.file} differs from HEAD's copy; commit or restore it first")
    text = _decode(current, mutant.file)
    mutated = splice(text, mutant)
    # The span alone can be fooled (`>` still sits at its column after `> 100` became `>= 100`): the
    # mutant's whole lines must read as in the run's commit, when that commit is at hand.
    then = RunSources(mutant.repo, mutant.head_commit, repo.root).committed(mutant.file)
    if mutated is None or (then is not None and _lines(then, mutant) != _lines(text, mutant)):
        raise BadInput(f"{mutant.file}:{mutant.line} no longer holds the mutant's original "
                       f"`{edit_text(mutant.original, EDIT_CHARS)}` as run {mutant.run_id} saw it (changed since?);"
                       " run mutagate again")
    _write(path, mutated.encode("utf-8"))
    return (f"applied {mutant.id} to {mutant.file}:{mutant.line} (`{edit_text(mutant.original, EDIT_CHARS)}` → "
            f"`{edit_text(mutant.replacement, EDIT_CHARS)}`); revert with: {revert_command}")


def _revert(repo: Repo, db: Path, mutant: StoredMutant, path: Path, head_bytes: bytes, run_id: str | None) -> str:
    current = path.read_bytes()
    if current == head_bytes:
        return f"nothing to revert: {mutant.file} is as HEAD has it"
    head_text = _decode(head_bytes, mutant.file)
    # The mutant may have been applied from an older run, where it sat at another line: any stored place counts.
    for stored in mutant_in_runs(db, mutant.id, run_id):
        if stored.file == mutant.file and (mutated := splice(head_text, stored)) is not None \
                and mutated.encode("utf-8") == current:
            _write(path, head_bytes)
            return f"reverted {mutant.id}: {mutant.file} is as HEAD has it again"
    raise BadInput(f"{mutant.file} is not HEAD's text with {mutant.id} applied (edited since?); nothing written:"
                   f" `git diff -- {mutant.file}` shows what differs")


def _lines(text: str, mutant: StoredMutant) -> list[str]:
    return text.split("\n")[mutant.line - 1 : mutant.end_line]


def _head_bytes(repo: Repo, file: str) -> bytes:
    """The file as HEAD has it, in its working-tree form (`--filters`: line endings, smudge filters)."""
    try:
        return run_git(repo.root, "cat-file", "--filters", f"HEAD:{file}")
    except GitError:
        raise BadInput(f"{file} is not committed at HEAD: apply needs HEAD's copy to revert to") from None


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{file} is not UTF-8 text") from None


def _write(path: Path, data: bytes) -> None:
    """Write in place (the file keeps its mode) so that no bytecode cache can stand in for the new text.
    A .pyc is keyed by its source's mtime in whole seconds and size: a same-size edit within the
    second of the previous write would run the old code. So the new text gets another second, and
    the caches beside the file go (they are rebuilt on import)."""
    before = path.stat()
    path.write_bytes(data)
    after = path.stat()
    if int(after.st_mtime) == int(before.st_mtime):
        os.utime(path, ns=(after.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        cached.unlink(missing_ok=True)


def _revert_command(args: argparse.Namespace, mutant_id: str) -> str:
    """The command that undoes this apply, with the options that found the mutant."""
    words = ["mutagate"]
    if args.repo != ".":
        words += ["-C", args.repo]
    words += ["apply", "--revert", mutant_id]
    if args.run:
        words += ["--run", args.run]
    if args.db:
        words += ["--db", str(args.db)]
    return shlex.join(words)
