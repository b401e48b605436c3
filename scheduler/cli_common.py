"""Pieces shared by the subcommands of the `mutagate` CLI."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_FAULT, EXIT_BAD_INPUT, EXIT_BELOW_THRESHOLD = 0, 1, 2, 3


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", metavar="REF", help="only lines changed since the merge-base with REF")
    parser.add_argument(
        "--agent",
        metavar="NAME",
        help="also take uncommitted and staged changes, attributed to agent NAME (an agent's stop hook)",
    )
    parser.add_argument("--all-authors", action="store_true", help="keep human lines too (agent 'human')")


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def repo_path(args: argparse.Namespace) -> Path:
    return Path(args.repo)
