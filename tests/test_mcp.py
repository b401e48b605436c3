"""`mutagate mcp`: the real server started as a subprocess, spoken to with the official SDK's own stdio
client, on a real repository holding an agent's uncommitted work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.cli import ENTRY, PROJECT
from tests.test_agent_hooks import WEAK_TESTS, agent_repo

pytestmark = pytest.mark.slow  # the MCP server around a real run


def _server(root: Path) -> StdioServerParameters:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "TMPDIR", "VIRTUAL_ENV") if key in os.environ}
    return StdioServerParameters(command=sys.executable, args=["-c", ENTRY, "mcp"], cwd=root,
                                 env={**env, "PYTHONPATH": str(PROJECT)})


def _talk(root: Path, conversation) -> dict:
    """Start the server, initialize a session, run `conversation(session)`; what it returns."""
    found: dict = {}

    async def main() -> None:
        with open(os.devnull, "w") as quiet:  # the server's log on stderr is not under test
            async with stdio_client(_server(root), errlog=quiet) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    found.update(await conversation(session))

    anyio.run(main)
    return found


def test_the_mcp_server_checks_changes_explains_a_survivor_and_lists_weak_tests(tmp_path) -> None:
    repo = agent_repo(tmp_path / "repo", WEAK_TESTS)

    async def conversation(session: ClientSession) -> dict:
        tools = await session.list_tools()
        checked = await session.call_tool("check_changes", {"agent": "claude-code", "budget_seconds": 300})
        survivor = checked.structured_content["undetected"][0]
        explained = await session.call_tool("explain_mutant", {"mutant_id": survivor["id"][:8]})
        weak = await session.call_tool("weak_tests", {"limit": 5})
        return {"tools": tools, "checked": checked, "explained": explained, "weak": weak}

    found = _talk(repo.root, conversation)
    assert {tool.name for tool in found["tools"].tools} == {"check_changes", "explain_mutant", "weak_tests"}

    checked = found["checked"]
    assert not checked.is_error
    data = checked.structured_content
    assert data["mutants"] == 2 and data["killed"] == 1 and data["survived"] == 1 and data["score"] == 50.0
    assert data["by_file"]["pkg/prices.py"]["survived"] == 1
    [survivor] = data["undetected"]
    assert (survivor["file"], survivor["line"], survivor["status"]) == ("pkg/prices.py", 2, "survived")
    assert survivor["before"] == ["    if price > 100:"] and survivor["after"] == ["    if price >= 100:"]
    assert "-    if price > 100:\n" in survivor["diff"] and "+    if price >= 100:\n" in survivor["diff"]
    assert "in `pkg/prices.py:2` `if price > 100:` became `if price >= 100:`" in checked.content[0].text

    explained = found["explained"]
    assert not explained.is_error
    mutant = explained.structured_content
    assert mutant["id"] == survivor["id"] and mutant["status"] == "survived" and mutant["killed_by"] == []
    assert "tests/test_prices.py::test_big_order" in mutant["covering_tests"]
    assert [h["status"] for h in mutant["history"]] == ["survived"]
    assert "+    if price >= 100:\n" in mutant["diff"]  # from the working tree: the run's commit lacks the line

    weak = found["weak"].structured_content
    assert weak["run_id"] == data["run_id"]
    # Both tests run the `if` line (the small order too) and neither detects the boundary.
    assert sorted(row["test"] for row in weak["weak_tests"]) == ["tests/test_prices.py::test_big_order",
                                                                "tests/test_prices.py::test_small_order"]
    assert all(row["survivors"][0]["id"] == survivor["id"] for row in weak["weak_tests"])


def test_bad_arguments_are_tool_errors_and_the_server_keeps_serving(tmp_path) -> None:
    repo = agent_repo(tmp_path / "repo", WEAK_TESTS)

    async def conversation(session: ClientSession) -> dict:
        return {
            "budget": await session.call_tool("check_changes", {"budget_seconds": -1}),
            "base": await session.call_tool("check_changes", {"base": "no-such-ref", "budget_seconds": 60}),
            "no_db": await session.call_tool("explain_mutant", {"mutant_id": "abc"}),
            "typed": await session.call_tool("weak_tests", {"limit": "many"}),
            "after": await session.list_tools(),
        }

    found = _talk(repo.root, conversation)
    for name in ("budget", "base", "no_db", "typed"):
        assert found[name].is_error, name
        assert "Traceback" not in found[name].content[0].text
    for name in ("budget", "base", "no_db", "typed"):  # the one line the command line would print
        assert len(found[name].content[0].text.splitlines()) == 1, found[name].content[0].text
    assert "limit" in found["typed"].content[0].text  # the SDK's own check of the input schema, said in one line
    assert "budget_seconds must be a positive number" in found["budget"].content[0].text
    assert "no-such-ref" in found["base"].content[0].text
    assert "call check_changes first" in found["no_db"].content[0].text
    assert len(found["after"].tools) == 3  # still serving


def test_bad_lines_on_the_wire_get_json_rpc_errors_and_a_huge_id_is_not_echoed(tmp_path) -> None:
    """Raw lines on the server's real stdin, as a broken or hostile client would write them."""
    repo = agent_repo(tmp_path / "repo", WEAK_TESTS)
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                             "clientInfo": {"name": "probe", "version": "1"}}}
    lines = [initialize, {"jsonrpc": "2.0", "method": "notifications/initialized"}, "this is not json {",
             {"jsonrpc": "2.0", "id": "x" * 5_000_000, "method": "tools/list"},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
              "params": {"name": "weak_tests", "arguments": {"limit": "many"}}},
             {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}]
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    server = _server(repo.root)
    process = subprocess.Popen([server.command, *server.args], cwd=server.cwd, env=server.env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(text)
    process.stdin.flush()
    replies = []
    for _ in range(5):  # initialize, the parse error, the refused id, the tool error, tools/list
        line = process.stdout.readline()
        assert len(line) < 10_000, line[:200]  # nothing echoes the 5 MB id
        replies.append(json.loads(line))
    process.stdin.close()
    assert process.wait(timeout=30) == 0
    by_id = {reply["id"]: reply for reply in replies if reply["id"] is not None}
    errors = [reply["error"] for reply in replies if reply["id"] is None]
    assert sorted(error["code"] for error in errors) == [-32700, -32600]
    assert any("5000000 characters" in error["message"] for error in errors)
    tool_error = by_id[2]["result"]
    assert tool_error["isError"]
    [message] = tool_error["content"][0]["text"].splitlines()  # one line, not pydantic's four
    assert "limit" in message and "integer" in message and "pydantic.dev" not in message
    assert {tool["name"] for tool in by_id[3]["result"]["tools"]} == {"check_changes", "explain_mutant", "weak_tests"}
