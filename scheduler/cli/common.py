"""Pieces shared by the subcommands: exit codes, shared options, and turning them into plain values."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from mutator.attribution import Scope, relative_paths
from mutator.config import load_config
from mutator.errors import BadInput
from mutator.git import Repo, open_repo
from results.shards import Shard
from scheduler.results_db import DEFAULT_DB, default_db

EXIT_OK, EXIT_FAULT, EXIT_BAD_INPUT, EXIT_BELOW_THRESHOLD = 0, 1, 2, 3

PIPED_WIDTH = 10_000  # Rich's width when stdout is not a terminal: wide enough that nothing wraps


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", metavar="REF", help="only lines changed since the merge-base with REF")
    parser.add_argument(
        "--agent",
        metavar="NAME",
        type=agent_name,
        help="also take uncommitted and staged changes, attributed to agent NAME (an agent's stop hook)",
    )
    parser.add_argument("--all-authors", action="store_true", help="keep human lines too (agent 'human')")


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--one-per-line", dest="one_per_line", action="store_true", default=None,
                       help="PR mode: at most one mutant per line (default with --base)")
    group.add_argument("--every-mutant", dest="one_per_line", action="store_false",
                       help="every mutant of every line (default without --base)")


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, metavar="PATH", help=f"results database (default: <repo>/{DEFAULT_DB})")


def agent_name(text: str) -> str:
    """--agent: an agent id (lower-cased, as stored). An empty or blank name used to mean "no --agent" without
    a word: the uncommitted changes the caller meant to attribute were left out."""
    if not text.strip() or any(not c.isprintable() for c in text):
        raise argparse.ArgumentTypeError(f"an agent name must be a non-empty printable name, got {text!r}")
    return text.strip().lower()


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


MAX_JOBS = 1024  # far past any machine's cores or a cluster's fair share: beyond it, a typo


def job_count(text: str) -> int:
    """--jobs: at least 1, at most MAX_JOBS (each worker clones a work copy)."""
    value = positive_int(text)
    if value > MAX_JOBS:
        raise argparse.ArgumentTypeError(f"at most {MAX_JOBS} workers, got {value}")
    return value


MAX_SHARDS = 10_000  # past a CI matrix's jobs (GitHub: 256) by far: beyond it, a typo


def shard_spec(text: str) -> Shard:
    """--shard K/N: whole numbers, 1 <= K <= N."""
    index, slash, count = text.strip().partition("/")
    if not slash or not index.strip().isdigit() or not count.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected K/N (e.g. 2/4), got {text!r}")
    k, n = int(index), int(count)
    if not 1 <= n <= MAX_SHARDS:
        raise argparse.ArgumentTypeError(f"N must be between 1 and {MAX_SHARDS}, got {text!r}")
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"K must be between 1 and N, got {text!r}")
    return Shard(k, n)


def percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


def stdout_console() -> Console:
    """Rich on stdout for people. On a terminal it fits the window; piped (a CI log, a file) there is
    no window, so nothing wraps and no table column is cut to an ellipsis: a path stays whole."""
    if Console(file=sys.stdout).is_terminal:
        return Console(file=sys.stdout, highlight=False)
    return Console(file=sys.stdout, highlight=False, width=PIPED_WIDTH, soft_wrap=True)


def print_warnings(warnings: Iterable[str]) -> None:
    """Warnings on stderr, one line each: the text is the user's (paths, refs), never Rich markup."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    for warning in warnings:
        console.print(Text.assemble(("warning:", "yellow"), " ", warning))


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def target_repo(args: argparse.Namespace) -> Repo:
    """The user's repository (`-C DIR`), checked once per command."""
    return open_repo(Path(args.repo))


def scope_from_args(args: argparse.Namespace, repo: Repo) -> Scope:
    return Scope(
        base=args.base,
        agent=args.agent.lower() if args.agent else None,
        paths=relative_paths(repo.root, getattr(args, "paths", None) or []),
        all_authors=args.all_authors,
    )


def add_read_arguments(parser: argparse.ArgumentParser, output: bool = True) -> None:
    """What every reader of stored results takes: the database, the run, and where to write."""
    add_db_argument(parser)
    parser.add_argument("--run", metavar="ID", help="the run to read (default: the latest)")
    if output:
        parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here instead of stdout")


def read_db(args: argparse.Namespace) -> Path:
    return default_db(args.db, Path(args.repo), create=False)


def thresholds(args: argparse.Namespace) -> tuple[float, float]:
    """[tool.mutagate] thresholds of the repository, when there is one to read."""
    try:
        config = load_config(open_repo(Path(args.repo)).root)
    except BadInput:
        if args.db:  # reading a DB from outside any repository: Stryker's defaults
            return 80.0, 60.0
        raise
    return config.threshold_high, config.threshold_low


def emit(output: Path | None, text: str) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {output}: {exc.strerror}") from None


def budget_seconds(text: str) -> float:
    """--budget: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value
