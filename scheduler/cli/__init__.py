"""The `mutagate` command line. Every bad input ends as one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from mutator.errors import BadInput
from results.errors import ResultsError
from scheduler.cli.common import EXIT_BAD_INPUT, EXIT_FAULT, EXIT_OK

# One module per command, each with `register(subparsers)`, which adds the command with a `handler`.
COMMAND_MODULES = ("blame", "mutants", "run", "weak_tests", "report", "badge", "runs", "show", "apply", "import_mutmut", "merge",
                   "demo", "dashboard", "serve", "ci", "hook", "mcp")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (still exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mutagate", description="Mutation testing for the code AI coding agents write.")
    parser.add_argument("-C", "--repo", default=".", metavar="DIR", help="the repository (default: .)")
    parser.add_argument("--version", action="version", version=version_line(),
                        help="the version, the Python running it and where it is installed, then exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(commands)
    return parser


def version_line() -> str:
    """`mutagate 0.3.0 (Python 3.11.2, /path/to/site-packages)`: the interpreter and the place say which
    of several installs answered, the usual question after `--version`."""
    from scheduler.provenance import TOOL_VERSION

    where = Path(__file__).resolve().parents[2]
    return f"mutagate {TOOL_VERSION} (Python {platform.python_version()}, {where})"


class Stopped(KeyboardInterrupt):
    """SIGTERM (what CI sends a cancelled or timed-out job) or SIGHUP: stopped as Ctrl-C stops a
    run — workers and their process groups ended, what was measured kept, the run stored as
    interrupted, scratch removed — then exit 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    for other in (signal.SIGTERM, signal.SIGHUP):  # a second signal must not cut the clean-up short
        signal.signal(other, signal.SIG_IGN)
    raise Stopped(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _stop)
    try:
        return int(args.handler(args) or EXIT_OK)
    except (BadInput, ResultsError) as exc:
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
        print(f"mutagate: internal error: {type(exc).__name__}: {exc} (MUTAGATE_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_FAULT


if __name__ == "__main__":
    sys.exit(main())
