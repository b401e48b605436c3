"""`mutagate demo`: build the sample repository and run the whole pipeline on it."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.text import Text

from mutator.attribution import Scope, attribute
from mutator.errors import BadInput
from mutator.git import open_repo
from scheduler.cli.display import perform_run, print_blame_tables
from scheduler.demo_repo import build_demo_repo
from scheduler.results_db import DEFAULT_DB
from scheduler.run_request import RunRequest


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="build a small sample repository and run everything on it")
    parser.add_argument("--dir", type=Path, metavar="DIR", help="where to build it (default: a new temporary folder)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="parallel workers (default: cores)")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    target = args.dir or Path(tempfile.mkdtemp(prefix="mutagate-demo-")) / "shop"
    if target.exists() and any(target.iterdir()):
        raise BadInput(f"{target} is not empty; pass an empty or new --dir")
    build_demo_repo(target)
    console = Console(file=sys.stdout, highlight=False)
    console.rule("[bold]1. who wrote what: mutagate blame")
    repo = open_repo(target)
    print_blame_tables(attribute(repo), evidence=True)
    console.rule("[bold]2. mutation run: mutagate run")
    code = perform_run(RunRequest(repo=repo, scope=Scope(), jobs=args.jobs))
    console.rule("[bold]next")
    where = shlex.quote(str(target))
    # The SQL views through the duckdb module mutagate itself runs on (the install has no `duckdb` CLI).
    query = (f"import duckdb; duckdb.connect({json.dumps(str(target / DEFAULT_DB))}, read_only=True)"
             '.sql("SELECT agent, mutants, killed, survived, score FROM kill_rate_by_agent").show()')
    console.print(Text(f"The sample repository is in {target}. Try:\n"
                       f"  mutagate -C {where} mutants\n"
                       f"  mutagate -C {where} run --json\n"
                       f"  mutagate -C {where} weak-tests\n"
                       f"  mutagate -C {where} report --format markdown\n"
                       f"  mutagate -C {where} report --format html -o report.html\n"
                       f"  mutagate -C {where} badge -o badge.svg\n"
                       f"  {shlex.quote(sys.executable)} -c {shlex.quote(query)}"), soft_wrap=True)
    return code
