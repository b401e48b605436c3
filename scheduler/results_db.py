"""Where a repository's results live by default: `.mutagate/results.duckdb` at its root, in a folder
git ignores."""

from __future__ import annotations

from pathlib import Path

from mutator.git import Repo, open_repo

DEFAULT_DB = Path(".mutagate") / "results.duckdb"


def default_db(db: Path | None, repo: Repo | Path, create: bool = True) -> Path:
    """`db`, or the repository's own; `create` makes its folder (git-ignored) for a writer."""
    if db:
        return db
    root = repo.root if isinstance(repo, Repo) else open_repo(repo).root
    folder = root / DEFAULT_DB.parent
    if create:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# written by mutagate: results stay out of git\n*\n")
    return root / DEFAULT_DB
