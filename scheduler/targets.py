"""From command-line arguments to the mutants a run would test (shared by `mutants` and `run`)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

from mutator.attribution import Attribution, Scope, attribute, relative_paths
from mutator.config import Config, load_config
from mutator.generate import generate_mutants
from mutator.git import open_repo
from mutator.mutant import Mutant
from scheduler.cli_common import repo_path


@dataclass(frozen=True)
class Targets:
    attribution: Attribution
    config: Config
    mutants: tuple[Mutant, ...]
    one_per_line: bool


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--one-per-line", dest="one_per_line", action="store_true", default=None,
                       help="PR mode: at most one mutant per line (default with --base)")
    group.add_argument("--every-mutant", dest="one_per_line", action="store_false",
                       help="every mutant of every line (default without --base)")


def scope_from_args(args: argparse.Namespace, paths: list[str] | None = None) -> Scope:
    root = open_repo(repo_path(args)).root
    return Scope(
        base=args.base,
        agent=args.agent.lower() if args.agent else None,
        paths=relative_paths(root, paths or []),
        all_authors=args.all_authors,
    )


def collect_targets(args: argparse.Namespace, priority: Mapping[str, float] | None = None) -> Targets:
    scope = scope_from_args(args, getattr(args, "paths", None))
    config = load_config(open_repo(repo_path(args)).root)
    attribution = attribute(repo_path(args), scope, config)
    one_per_line = args.one_per_line if args.one_per_line is not None else bool(args.base and config.pr_one_per_line)
    mutants = generate_mutants(attribution, config, one_per_line=one_per_line, priority=priority)
    return Targets(attribution, config, tuple(mutants), one_per_line)
