"""`mutagate demo`: build the sample repository and run the whole pipeline on it."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from mutator.errors import BadInput
from scheduler.commands_blame import print_blame_tables
from scheduler.commands_run import run_command
from mutator.attribution import attribute


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="build a small sample repository and run everything on it")
    parser.add_argument("--dir", type=Path, metavar="DIR", help="where to build it (default: a new temporary folder)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="parallel workers (default: cores)")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from scheduler.cli import build_parser
    from scheduler.demo import build_demo_repo

    target = args.dir or Path(tempfile.mkdtemp(prefix="mutagate-demo-")) / "shop"
    if target.exists() and any(target.iterdir()):
        raise BadInput(f"{target} is not empty; pass an empty or new --dir")
    build_demo_repo(target)
    console = Console(file=sys.stdout, highlight=False)
    console.rule("[bold]1. who wrote what: mutagate blame")
    print_blame_tables(attribute(target), evidence=True)
    console.rule("[bold]2. mutation run: mutagate run")
    run_args = ["-C", str(target), "run"] + (["--jobs", str(args.jobs)] if args.jobs else [])
    code = run_command(build_parser().parse_args(run_args))
    console.rule("[bold]next")
    console.print(f"The sample repository is in {target}. Try:\n"
                  f"  mutagate -C {target} mutants\n"
                  f"  mutagate -C {target} run --json\n"
                  f"  mutagate -C {target} weak-tests\n"
                  f"  mutagate -C {target} report --format markdown\n"
                  f"  mutagate -C {target} report --format html -o report.html\n"
                  f"  mutagate -C {target} badge -o badge.svg\n"
                  f"  duckdb {target}/.mutagate/results.duckdb \"SELECT * FROM kill_rate_by_agent\"")
    return code
