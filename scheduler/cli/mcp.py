"""`mutagate mcp`: a Model Context Protocol server over stdio (see scheduler/agents/mcp_server.py for its tools)."""

from __future__ import annotations

import argparse
from pathlib import Path

from scheduler.cli.common import target_repo


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("mcp", help="an MCP server over stdio: check_changes, explain_mutant, weak_tests")
    parser.set_defaults(handler=run_mcp)


def run_mcp(args: argparse.Namespace) -> int:
    from scheduler.agents.mcp_server import build_server, serve_stdio  # the SDK loads only for this command

    root: Path = target_repo(args).root  # a bad -C is one line and exit 2, before the protocol starts
    serve_stdio(build_server(root))
    return 0
