"""The `mutagate` command line. Every bad input ends as one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from mutator.errors import BadInput
from results.errors import ResultsError
from scheduler.cli.common import EXIT_BAD_INPUT, EXIT_FAULT, EXIT_OK
from scheduler.stops import Stopped, handle_stops, received

# One module per command, each with `register(subparsers)`, which adds the command with a `handler`.
COMMAND_MODULES = ("blame", "mutants", "run", "weak_tests", "report", "badge", "runs", "show", "apply", "import_mutmut", "merge",
                   "demo", "dashboard", "serve", "ci", "hook", "mcp")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (still exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Every command, or only the one `argv` names: importing all seventeen modules costs ~55 ms of every
    run and stop hook. Help, an unknown command or none get them all (as `argv` None does)."""
    parser = _Parser(prog="mutagate", description="Mutation testing for the code AI coding agents write.")
    parser.add_argument("-C", "--repo", default=".", metavar="DIR", help="the repository (default: .)")
    parser.add_argument("--version", action="version", version=version_line(),
                        help="the version, the Python running it and where it is installed, then exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    named = _named_command(argv) if argv is not None else None
    for name in (named,) if named else COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(commands)
    return parser


def _named_command(argv: Sequence[str]) -> str | None:
    """The module of the command in `argv` (after the global `-C DIR`), if it is one of ours."""
    words = iter(argv)
    for word in words:
        if word in ("-C", "--repo"):
            next(words, None)
        elif word.startswith("--repo=") or (word.startswith("-C") and len(word) > 2):
            continue
        elif word.startswith("-"):
            return None  # --help, --version, or a usage error: the whole parser answers
        else:
            name = word.replace("-", "_")
            return name if name in COMMAND_MODULES else None
    return None


def version_line() -> str:
    """`mutagate 0.3.0 (Python 3.11.2, /path/to/site-packages)`: the interpreter and the place say which
    of several installs answered, the usual question after `--version`."""
    from scheduler.provenance import TOOL_VERSION

    where = Path(__file__).resolve().parents[2]
    return f"mutagate {TOOL_VERSION} (Python {platform.python_version()}, {where})"


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        handle_stops()
    try:
        return int(args.handler(args) or EXIT_OK)
    except (BadInput, ResultsError) as exc:
        if (stopped := received()) is not None:  # a stop a library turned into its own error (DuckDB's)
            return _stopped_by(stopped)
        print(f"mutagate: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        stopped = exc if isinstance(exc, Stopped) else None
        print(f"mutagate: {'stopped by ' + str(stopped) if stopped else 'interrupted'}", file=sys.stderr)
        return 128 + stopped.signum if stopped else 130
    except BrokenPipeError:  # `mutagate mutants | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # an internal fault: one line, exit 1; the traceback on request
        if os.environ.get("MUTAGATE_DEBUG"):
            raise
        if (stopped := received()) is not None:  # a stop a library turned into its own error (DuckDB's)
            return _stopped_by(stopped)
        print(f"mutagate: internal error: {type(exc).__name__}: {exc} (MUTAGATE_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_FAULT


def _stopped_by(stopped: Stopped) -> int:
    print(f"mutagate: stopped by {stopped}", file=sys.stderr)
    return 128 + stopped.signum


if __name__ == "__main__":
    sys.exit(main())
