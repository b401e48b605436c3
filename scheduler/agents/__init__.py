"""Agents as users: their stop hooks run mutagate on the agent's uncommitted work and send the
agent back to the tests that miss its changes (`mutagate hook AGENT`, `mutagate hook install AGENT`).

Each agent's protocol is a small table of its own (what it reads, what it answers, where it is
installed); the check behind them all is `check.check_changes`, which the MCP server uses too."""

from __future__ import annotations

from mutator.errors import BadInput
from scheduler.agents.claude_code import CLAUDE_CODE
from scheduler.agents.cursor import CURSOR
from scheduler.agents.gemini import GEMINI
from scheduler.agents.protocol import AgentProtocol

AGENTS: dict[str, AgentProtocol] = {p.name: p for p in (CLAUDE_CODE, CURSOR, GEMINI)}


def agent_protocol(name: str) -> AgentProtocol:
    try:
        return AGENTS[name]
    except KeyError:
        raise BadInput(f"no hook for agent {name!r} (known: {', '.join(AGENTS)})") from None
