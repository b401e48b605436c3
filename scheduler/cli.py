"""The `mutagate` command line. Every bad input ends as one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mutator.errors import BadInput

EXIT_OK, EXIT_FAULT, EXIT_BAD_INPUT, EXIT_BELOW_THRESHOLD = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (still exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mutagate",
        description="Mutation testing for the code AI coding agents write.",
    )
    parser.add_argument("-C", "--repo", default=".", metavar="DIR", help="the repository (default: .)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for register in _REGISTRY:
        register(commands)
    return parser


_REGISTRY: list[Callable[[argparse._SubParsersAction], None]] = []


def command(register: Callable[[argparse._SubParsersAction], None]) -> Callable:
    _REGISTRY.append(register)
    return register


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", metavar="REF", help="only lines changed since the merge-base with REF")
    parser.add_argument(
        "--agent",
        metavar="NAME",
        help="also take uncommitted and staged changes, attributed to agent NAME (an agent's stop hook)",
    )
    parser.add_argument("--all-authors", action="store_true", help="keep human lines too (agent 'human')")


def main(argv: Sequence[str] | None = None) -> int:
    # Import for their @command registrations.
    from scheduler import commands_blame  # noqa: F401

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or EXIT_OK)
    except BadInput as exc:
        print(f"mutagate: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("mutagate: interrupted", file=sys.stderr)
        return 130


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def repo_path(args: argparse.Namespace) -> Path:
    return Path(args.repo)
