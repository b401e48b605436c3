"""`mutagate hook AGENT`: an agent's stop hook (reads the hook's JSON on stdin, answers in that agent's
protocol on stdout), and `mutagate hook install AGENT`: the hook added to the agent's settings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from rich.text import Text

from scheduler.agents import AGENTS, agent_protocol
from scheduler.agents.answer import HookAnswer, allowed, answer_hook
from scheduler.agents.check import DEFAULT_BUDGET
from scheduler.agents.on_time import answer_on_time, process_started, write_if_room
from scheduler.agents.settings import install_hook
from scheduler.cli.common import add_db_argument, budget_seconds, job_count, percent, stdout_console, target_repo
from scheduler.runner.reaper import leave


def register(commands: argparse._SubParsersAction) -> None:
    hook = commands.add_parser("hook", help="an agent's stop hook: send it back to the tests that miss its changes")
    agents = hook.add_subparsers(dest="hook_agent", metavar="AGENT", parser_class=type(hook))
    agents.required = True
    for protocol in AGENTS.values():
        parser = agents.add_parser(protocol.name, help=f"{protocol.title}'s {'/'.join(protocol.events)} hook "
                                                       f"({protocol.docs})")
        parser.add_argument("--budget", type=budget_seconds, default=DEFAULT_BUDGET, metavar="SECONDS",
                            help=f"the check's time, baseline included (default: {DEFAULT_BUDGET:g})")
        parser.add_argument("--fail-under", type=percent, metavar="PERCENT",
                            help="let the agent stop at this score (default: [tool.mutagate] fail-under, else 100)")
        parser.add_argument("--jobs", type=job_count, metavar="N", help="parallel workers (default: the cores)")
        add_db_argument(parser)
        parser.set_defaults(handler=run_hook, protocol_name=protocol.name)
    install = agents.add_parser("install", help="add the hook to the agent's project settings (merged, idempotent)")
    install.add_argument("agent", choices=list(AGENTS), metavar="AGENT", help=f"one of: {', '.join(AGENTS)}")
    install.set_defaults(handler=run_install)


def run_hook(args: argparse.Namespace) -> NoReturn:
    """Always exits 0: the answer is on stdout in the agent's protocol, and an error is one line on
    stderr that lets the agent stop. The check runs apart from this process, which answers within
    the budget whatever the check does (scheduler/agents/on_time.py)."""
    started = process_started()  # the interpreter's start counts: the agent's clock began before it
    protocol = agent_protocol(args.protocol_name)
    hook_input = sys.stdin.read()

    def check() -> HookAnswer:
        return answer_hook(protocol, hook_input, Path(args.repo), budget=args.budget, fail_under=args.fail_under,
                           jobs=args.jobs, db=args.db, started=started)

    answer = answer_on_time(check, lambda why: allowed(protocol, f"mutagate hook {protocol.name}: {why}; the agent may stop"),
                            started, args.budget)
    sys.stdout.write(answer.stdout)
    sys.stdout.flush()
    note = (answer.stderr + "\n").encode() if answer.stderr else b""
    sys.stderr.flush()
    while note and (written := write_if_room(2, note)):  # after the answer, and only as far as stderr takes it
        note = note[written:]
    leave(0)  # the agent waits for the process's end, not only its answer: no interpreter teardown (0.05-0.1 s)


def run_install(args: argparse.Namespace) -> int:
    protocol = agent_protocol(args.agent)
    installed = install_hook(protocol, target_repo(args).root)
    console = stdout_console()
    events = ", ".join(protocol.events)
    if installed.added or installed.updated:
        how = "; ".join(part for part in (f"added on {', '.join(installed.added)}" if installed.added else "",
                                          f"replaced an earlier mutagate command on {', '.join(installed.updated)}"
                                          if installed.updated else "") if part)
        console.print(Text(f"{installed.path}: `{installed.command}` ({how})"), soft_wrap=True)
        console.print(Text(f"the command: {installed.why}"), soft_wrap=True)
    else:
        console.print(Text(f"{installed.path} already runs `{installed.command}` on {events}: nothing changed"),
                      soft_wrap=True)
    return 0
