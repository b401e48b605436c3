"""`mutagate serve`: the dashboard, live from the results database (read-only, loopback by default)."""

from __future__ import annotations

import argparse
import sys

from rich.text import Text

from mutator.errors import BadInput
from results.dashboard.data import DEFAULT_RUNS
from results.dashboard.server import DashboardServer, ServeOptions, allowed_hosts, is_loopback
from results.errors import StoreError
from scheduler.cli.common import add_db_argument, positive_int, print_warnings, read_db, stdout_console, thresholds


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535 (0: any free port)")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="the dashboard live from the results database (read-only)")
    add_db_argument(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=port_number, default=8000, help="port (default: 8000; 0: any free port)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a --host other machines can reach (results and source lines become readable there)")
    parser.add_argument("--runs", type=positive_int, default=DEFAULT_RUNS, metavar="N",
                        help=f"finished runs charted, the latest (default: {DEFAULT_RUNS})")
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    db = read_db(args)
    if not db.is_file():
        raise StoreError(f"no results database at {db} (run `mutagate run` first, or pass --db)")
    loopback = is_loopback(args.host)
    if not loopback and not args.allow_remote:
        raise BadInput(f"--host {args.host} is reachable from other machines: pass --allow-remote to serve the results there")
    high, low = thresholds(args)
    options = ServeOptions(db, args.runs, round(high), round(low), allowed_hosts(args.host) if loopback else None)
    try:
        server = DashboardServer(args.host, args.port, options)
    except OSError as exc:
        raise BadInput(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    if not loopback:
        print_warnings([f"serving {db} to every machine that can reach {args.host}: no login, no encryption"])
    with server:
        stdout_console().print(Text(f"serving {db} at {server.url} (read-only; Ctrl-C stops)"))
        sys.stdout.flush()  # a script (or a test) waits for this line to know the port
        server.serve_forever()
    return 0
