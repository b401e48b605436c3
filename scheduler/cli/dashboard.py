"""`mutagate dashboard`: the weak-tests dashboard as a static site (file:// or GitHub Pages)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.text import Text

from mutator.errors import BadInput
from results.dashboard.data import DEFAULT_RUNS
from results.dashboard.site import write_site
from scheduler.cli.common import add_db_argument, positive_int, read_db, stdout_console, thresholds


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("dashboard", help="the dashboard as a static site: score trend per agent, files, weak tests")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                        help="the site's folder (made if missing; only mutagate's own files in it are overwritten)")
    add_db_argument(parser)
    parser.add_argument("--runs", type=positive_int, default=DEFAULT_RUNS, metavar="N",
                        help=f"finished runs charted, the latest (default: {DEFAULT_RUNS})")
    parser.set_defaults(handler=run_dashboard)


def run_dashboard(args: argparse.Namespace) -> int:
    folder: Path = args.output
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"--output {folder} is a file: give a folder for the site")
    high, low = thresholds(args)
    site = write_site(read_db(args), folder, args.runs, round(high), round(low))
    index = (folder / "index.html").resolve()
    stdout_console().print(Text(f"wrote {index}: {site.runs} finished run{'s' if site.runs != 1 else ''} charted, "
                                f"{len(site.reports)} run report{'s' if len(site.reports) != 1 else ''}"))
    return 0
