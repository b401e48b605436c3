"""The MCP server behind `mutagate mcp` (official `mcp` SDK, stdio): mutagate's checks as tools a
coding agent calls itself.

- `check_changes` — the agent's uncommitted work (and, with `base`, everything since the merge-base)
  under a time budget: the same check as the stop hooks (`scheduler.agents.check`).
- `explain_mutant` — one stored mutant: its diff, covering and killing tests, its fate in every run
  (what `mutagate show` reads).
- `weak_tests` — the tests that run AI mutants and let them survive (what `mutagate weak-tests` reads).

Each tool answers with JSON structured content plus a short text; bad input is a tool error
(`isError`) carrying the same one line the command line prints, never a crash of the server. On the wire
(`serve_stdio`), a line that is not JSON gets the JSON-RPC parse error (-32700, id null) and a message that
is not JSON-RPC or carries an over-long id gets "invalid request" (-32600, id null): the SDK alone answers
neither and echoes any id whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import mcp_types
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

from mutator.errors import BadInput
from mutator.git import open_repo
from results.errors import ResultsError
from results.mutant_text import mutant_diff
from results.runs import load_mutant
from results.weak_tests import weak_tests as read_weak_tests
from scheduler.agents.check import DEFAULT_BUDGET, check_changes as run_check
from scheduler.provenance import TOOL_VERSION
from scheduler.results_db import default_db

INSTRUCTIONS = (
    "mutagate mutation-tests the code an AI agent wrote: it changes that code in small ways (mutants) and runs "
    "the tests that cover each change. An undetected mutant is a change no test noticed: add a test that fails "
    "on it. Call check_changes after editing code and before saying you are done."
)


# A request id longer than this is refused rather than echoed: a reply must repeat the id, and a 5 MB one
# would make every reply (and the client's log of it) 5 MB.
MAX_ID_CHARS = 256
# A one-line argument error stays readable in an agent's transcript.
MAX_ERROR_CHARS = 300


class _Server(MCPServer):
    """The SDK's server with argument errors said in one bounded line (the SDK's own are pydantic's
    multi-line texts with a documentation link)."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            raise ToolError(_one_line(name, exc.__cause__)) from exc.__cause__


def _one_line(tool: str, error: ValidationError) -> str:
    problems = "; ".join(f"{'.'.join(str(part) for part in detail['loc']) or 'arguments'}: {detail['msg']}"
                         for detail in error.errors(include_url=False, include_input=False))
    return _bounded(f"bad arguments for {tool}: {problems}".replace("\n", " "))


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS - 3] + "..."


def build_server(directory: Path) -> MCPServer:
    """The server for the repository at `directory` (each call opens it afresh: it may change)."""
    server = _Server("mutagate", version=TOOL_VERSION, instructions=INSTRUCTIONS)

    @server.tool()
    def check_changes(agent: str = "claude-code", base: str | None = None,
                      budget_seconds: float | None = DEFAULT_BUDGET, paths: list[str] | None = None,
                      fail_under: float | None = None) -> CallToolResult:
        """Mutation-test your changes: the uncommitted lines (attributed to `agent`), plus with `base` every
        line changed since the merge-base with that ref. Runs mutants best first within `budget_seconds`
        (null: no limit). Returns the score, numbers per file, and each undetected mutant with its diff:
        add a test that fails on each."""
        if budget_seconds is not None and not budget_seconds > 0:
            raise ToolError("budget_seconds must be a positive number of seconds")
        if fail_under is not None and not 0 <= fail_under <= 100:
            raise ToolError("fail_under must be a percentage between 0 and 100")
        check = _call(lambda: run_check(directory, agent, base=base, budget=budget_seconds, fail_under=fail_under,
                                        paths=tuple(paths or ())))
        summary = check.summary
        data: dict[str, Any] = {
            **{k: summary.get(k) for k in ("run_id", "score", "score_covered", "mutants", "killed", "survived",
                                             "no_coverage", "timeout", "note", "budget") if k in summary},
            "by_file": summary.get("by_file", {}),
            "undetected": [finding.as_json() for finding in check.findings],
            "gate": check.threshold,
        }
        if not check.measured:
            text = f"Nothing measured: {summary.get('note')}."
        else:
            total = check.report.total
            text = (f"score {total.score_text()} on {total.mutants} mutants ({check.report.budget_text() or 'no budget'}); "
                    f"{len(check.findings)} undetected" + ("" if not check.findings else ":\n" + "\n".join(
                        f"- {finding.sentence()} (mutant {finding.id})" for finding in check.findings)))
        return _result(data, text)

    @server.tool()
    def explain_mutant(mutant_id: str, run_id: str | None = None) -> CallToolResult:
        """One mutant of a stored run (an id, or a unique prefix of one; default run: the latest finished):
        its diff, who wrote the line, its verdict, the tests that cover and kill it, and its status in
        every stored run."""
        mutant = _call(lambda: load_mutant(_db(directory), mutant_id, run_id))
        data = {**mutant.as_json(), "diff": mutant_diff(mutant, mutant.repo, mutant.head_commit, directory)}
        killers = ", ".join(mutant.killed_by) or "none"
        text = (f"{mutant.id} {mutant.operator} {mutant.status or 'not measured'} at {mutant.file}:{mutant.line} "
                f"(run {mutant.run_id}); covered by {len(mutant.covering_tests)} tests, killed by {killers}; "
                f"in {len(mutant.history)} stored runs\n{data['diff']}")
        return _result(data, text)

    @server.tool()
    def weak_tests(limit: int = 10, run_id: str | None = None) -> CallToolResult:
        """The tests that run AI-written code but let its mutants survive, best place for a new assertion
        first, each with the surviving mutants it should have caught."""
        if limit < 1:
            raise ToolError("limit must be at least 1")
        run, rows = _call(lambda: read_weak_tests(_db(directory), run_id, limit))
        data = {"run_id": run, "weak_tests": [row.as_json() for row in rows]}
        text = (f"run {run}: " + ("no weak tests" if not rows else "; ".join(
            f"{row.test} lets {row.surviving_mutants} of {row.covered_mutants} mutants survive" for row in rows)))
        return _result(data, text)

    return server


def _call(action: Any) -> Any:
    """Bad input as a tool error with its one line, as the command line would say it."""
    try:
        return action()
    except (BadInput, ResultsError) as exc:
        raise ToolError(str(exc)) from None


def _db(directory: Path) -> Path:
    db = default_db(None, _call(lambda: open_repo(directory)), create=False)
    if not db.is_file():
        raise ToolError(f"no results database at {db}: call check_changes first")
    return db


def _result(data: dict[str, Any], text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def serve_stdio(server: MCPServer) -> None:
    """Serve `server` over stdin/stdout like the SDK's `run("stdio")`, answering bad lines (see the module)."""

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            lowlevel = server._lowlevel_server  # the SDK's own stdio runner does exactly this
            await lowlevel.run(_Screened(read_stream, write_stream), write_stream,
                               lowlevel.create_initialization_options())

    anyio.run(main)


class _Screened:
    """The transport's read side with what the SDK would drop or echo answered here instead: each
    unreadable line and each request with an over-long id gets its JSON-RPC error (id null) on the write
    side and is not passed on."""

    def __init__(self, inner: Any, write_stream: Any) -> None:
        self._inner = inner
        self._write = write_stream

    @property
    def last_context(self) -> Any:  # the dispatcher restores the sender's context from it
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        while True:
            item = await self._inner.receive()
            error = _refusal(item)
            if error is None:
                return item
            await self._write.send(SessionMessage(mcp_types.JSONRPCError(jsonrpc="2.0", id=None, error=error)))

    def __aiter__(self) -> _Screened:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _Screened:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self._inner.__aexit__(*exc)


def _refusal(item: SessionMessage | Exception) -> mcp_types.ErrorData | None:
    """The error to answer `item` with, or None to pass it on."""
    if isinstance(item, ValidationError):
        if any(detail["type"] == "json_invalid" for detail in item.errors()):
            return mcp_types.ErrorData(code=mcp_types.PARSE_ERROR, message="Parse error: the line is not JSON")
        return mcp_types.ErrorData(code=mcp_types.INVALID_REQUEST,
                                   message="Invalid Request: not a JSON-RPC 2.0 message")
    if isinstance(item, Exception):
        return mcp_types.ErrorData(code=mcp_types.INVALID_REQUEST, message="Invalid Request: unreadable message")
    message = item.message
    request_id = getattr(message, "id", None)
    if isinstance(request_id, str) and len(request_id) > MAX_ID_CHARS:
        return mcp_types.ErrorData(code=mcp_types.INVALID_REQUEST,
                                   message=f"Invalid Request: an id of {len(request_id)} characters "
                                           f"(at most {MAX_ID_CHARS})")
    return None
