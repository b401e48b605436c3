"""The MCP server behind `mutagate mcp` (official `mcp` SDK, stdio): mutagate's checks as tools a
coding agent calls itself.

- `check_changes` — the agent's uncommitted work (and, with `base`, everything since the merge-base)
  under a time budget: the same check as the stop hooks (`scheduler.agents.check`).
- `explain_mutant` — one stored mutant: its diff, covering and killing tests, its fate in every run
  (what `mutagate show` reads).
- `weak_tests` — the tests that run AI mutants and let them survive (what `mutagate weak-tests` reads).

Each tool answers with JSON structured content plus a short text; bad input is a tool error
(`isError`) carrying the same one line the command line prints, never a crash of the server.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent

from mutator.errors import BadInput
from mutator.git import open_repo
from results.errors import ResultsError
from results.runs import load_mutant
from results.weak_tests import weak_tests as read_weak_tests
from scheduler.agents.check import DEFAULT_BUDGET, check_changes as run_check
from scheduler.provenance import TOOL_VERSION
from scheduler.mutant_text import CONTEXT_LINES, mutant_diff, splice
from scheduler.results_db import default_db

INSTRUCTIONS = (
    "mutagate mutation-tests the code an AI agent wrote: it changes that code in small ways (mutants) and runs "
    "the tests that cover each change. An undetected mutant is a change no test noticed: add a test that fails "
    "on it. Call check_changes after editing code and before saying you are done."
)


def build_server(directory: Path) -> MCPServer:
    """The server for the repository at `directory` (each call opens it afresh: it may change)."""
    server = MCPServer("mutagate", version=TOOL_VERSION, instructions=INSTRUCTIONS)

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
        data = {**mutant.as_json(), "diff": _diff(mutant, directory)}
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
        data = {"run_id": run, "weak_tests": [row.__dict__ for row in rows]}
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


def _diff(mutant: Any, directory: Path) -> str:
    """`mutagate show`'s diff; for a mutant of uncommitted work (not in the run's commit), the diff
    against the working tree's file, which holds it."""
    diff = mutant_diff(mutant, directory)
    if not diff.startswith("@@"):
        return diff
    path = Path(mutant.repo) / mutant.file
    source = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    mutated = splice(source, mutant) if source is not None else None
    if source is None or mutated is None:
        return diff
    lines = difflib.unified_diff(source.splitlines(keepends=True), mutated.splitlines(keepends=True),
                                 f"a/{mutant.file}", f"b/{mutant.file}", n=CONTEXT_LINES)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _result(data: dict[str, Any], text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
