"""The golden test of a mutant as text: one real repository, an agent's change checked by the stop hook
while uncommitted and then run again once committed, and every front end that shows a stored mutant
(the run's summary, `show`, the PR comment, the HTML report, `weak-tests`, the MCP server's
explain_mutant, the hook's reason) read back for the same run. Where they show the same thing they must
agree, and a few lines are pinned exactly: one module renders them all (results/mutant_text.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from tests.cli import ENTRY, PROJECT, mutagate
from tests.gitrepo import GitRepo

pytestmark = pytest.mark.slow  # two real runs, then every front end as a real command

CLAUDE = "feat: prices\n\nCo-Authored-By: Claude <noreply@anthropic.com>"

PRICES_BEFORE = '''
def discount(price, rate):
    return price
'''

# The agent's change: a boundary no test sits at, a message, a string, a statement over three lines
# (its whole lines must show, joined on one line where one line is all there is), and untested code.
PRICES_AFTER = '''
def discount(price, rate):
    if price > 100:
        return price * (1 - rate)
    return price


def label(price):
    if price < 0:
        raise ValueError("a price is never negative")
    return "EUR " + str(price)


def total(prices, start=0):
    return sum(
        (p for p in prices), start
    )


def untested(a, b):
    return a - b
'''

TESTS_BEFORE = '''
from pkg.prices import discount


def test_small_order():
    assert discount(50, 0.5) == 50
'''

TESTS_AFTER = '''
from pkg.prices import discount, label, total


def test_small_order():
    assert discount(50, 0.5) == 50


def test_big_order():
    assert discount(200, 0.5) == 100


def test_label():
    assert label(3)


def test_total():
    assert total([1, 2]) != "x"
'''

BOUNDARY = "8330d67fb313"  # `if price > 100:` -> `if price >= 100:` (ids are stable: a hash of what changes)
SPREAD = "079c43ca2d3a"  # `return sum(...)` over lines 14-16 -> `return None`
STRING = "26c9930e1940"  # `"EUR "` -> `"XXEUR XX"`


@dataclass(frozen=True)
class Golden:
    repo: GitRepo
    reason: str  # the stop hook's, on the uncommitted change
    hook_run: str
    summary: str  # `mutagate run`'s, on the committed change
    run: str


def _hook(root: Path) -> str:
    stdin = json.dumps({"session_id": "s", "transcript_path": str(root / "t.jsonl"), "cwd": str(root),
                        "permission_mode": "default", "hook_event_name": "Stop", "stop_hook_active": False})
    result = subprocess.run([sys.executable, "-c", ENTRY, "hook", "claude-code", "--jobs", "1"], cwd=root,
                            input=stdin, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["reason"]


def _runs(root: Path) -> list[str]:
    listed = mutagate("runs", "--json", cwd=root)
    assert listed.returncode == 0, listed.stderr
    return [run["run_id"] for run in json.loads(listed.stdout)["runs"]]  # newest first


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Golden:
    repo = GitRepo(tmp_path_factory.mktemp("golden") / "repo")
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/prices.py": PRICES_BEFORE,
                                         "tests/test_prices.py": TESTS_BEFORE})
    repo.write("pkg/prices.py", PRICES_AFTER)
    repo.write("tests/test_prices.py", TESTS_AFTER)
    reason = _hook(repo.root)
    hook_run = _runs(repo.root)[0]
    repo.commit(CLAUDE)  # the results database lives in .mutagate/, which mutagate keeps out of git
    run = mutagate("run", "--jobs", "1", cwd=repo.root)
    assert run.returncode == 0, run.stderr
    return Golden(repo, reason, hook_run, run.stdout, _runs(repo.root)[0])


def _ok(golden: Golden, *args: str) -> str:
    result = mutagate(*args, cwd=golden.repo.root)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _summary_lines(summary: str) -> dict[str, str]:
    """The run summary's undetected mutants: id -> `operator  before → after` (each side on one line)."""
    found = {}
    for line in summary.splitlines():
        if match := re.fullmatch(r"  \S+:\d+  (\S+  .*)  \(.*\)  ([0-9a-f]{12})", line):
            found[match[2]] = match[1]
    return found


def _markdown_blocks(markdown: str) -> dict[tuple[str, str], tuple[list[str], list[str]]]:
    """The PR comment's diff blocks: (file:line, operator) -> (- lines, + lines)."""
    found = {}
    for where, operator, body in re.findall(r"\*\*`([^`]+)`\*\* `([^`]+)` \([^)]*\)\n\n```diff\n(.*?)\n```", markdown,
                                            re.S):
        lines = body.split("\n")
        found[(where, operator)] = ([x[1:] for x in lines if x.startswith("-")], [x[1:] for x in lines if x.startswith("+")])
    return found


def _diff_sides(diff: str) -> tuple[list[str], list[str]]:
    """The changed lines of a unified diff, its file headers left out."""
    lines = [x for x in diff.splitlines() if not x.startswith(("---", "+++", "@@"))]
    return [x[1:] for x in lines if x.startswith("-")], [x[1:] for x in lines if x.startswith("+")]


def _one_line(lines: list[str]) -> str:
    return " ↵ ".join(x.strip() for x in lines)


def _explain(root: Path, mutant_id: str, run_id: str):
    from scheduler.agents.mcp_server import build_server

    server = build_server(root)

    async def call():
        return await server.call_tool("explain_mutant", {"mutant_id": mutant_id, "run_id": run_id})

    return anyio.run(call)


def test_the_committed_run_reads_the_same_in_every_front_end(golden: Golden) -> None:
    summary = _summary_lines(golden.summary)
    # Pinned: one line each, the whole lines before and after, a statement over three lines joined by ↵.
    assert summary[BOUNDARY] == "comparison-boundary  if price > 100: → if price >= 100:"
    assert summary[SPREAD] == "return-value  return sum( ↵ (p for p in prices), start ↵ ) → return None"
    assert len(summary) == 11

    markdown = _ok(golden, "report", "--format", "markdown", "--run", golden.run)
    blocks = _markdown_blocks(markdown)
    assert blocks[("pkg/prices.py:2", "comparison-boundary")] == (["    if price > 100:"], ["    if price >= 100:"])
    assert "```diff\n-    return sum(\n-        (p for p in prices), start\n-    )\n+    return None\n```" in markdown
    assert ('- `pkg/prices.py:10` (claude-code, survived): `return "EUR " + str(price)` → '
            '`return "XXEUR XX" + str(price)`') in markdown

    stored = {}
    for mutant_id in (BOUNDARY, SPREAD, STRING):
        shown = json.loads(_ok(golden, "show", mutant_id, "--json", "--run", golden.run))
        stored[mutant_id] = shown
        before, after = _diff_sides(shown["diff"])
        # The summary, the PR comment and `show` show the same whole lines.
        assert f"{shown['operator']}  {_one_line(before)} → {_one_line(after)}" == summary[mutant_id]
        block = blocks.get((f"{shown['file']}:{shown['line']}", shown["operator"]))
        if block is not None:  # changed strings are listed on one line each, below the blocks
            assert block == (before, after)
        # The MCP server explains the same mutant with the same diff as `show`, in the same words.
        explained = _explain(golden.repo.root, mutant_id, golden.run)
        assert not explained.is_error
        assert explained.structured_content == {**shown, "diff": shown["diff"]}
        assert explained.content[0].text.endswith("\n" + shown["diff"])
    assert stored[BOUNDARY]["diff"] == (
        "--- a/pkg/prices.py\n+++ b/pkg/prices.py\n@@ -1,5 +1,5 @@\n def discount(price, rate):\n"
        "-    if price > 100:\n+    if price >= 100:\n         return price * (1 - rate)\n     return price\n \n")
    text = _ok(golden, "show", SPREAD, "--run", golden.run)
    assert "-    return sum(\n-        (p for p in prices), start\n-    )\n+    return None\n" in text
    assert _explain(golden.repo.root, SPREAD, golden.run).content[0].text.startswith(
        f"{SPREAD} return-value survived at pkg/prices.py:14 (run {golden.run}); covered by 1 tests, "
        "killed by none; in 2 stored runs\n")

    # The HTML report carries each mutant where `show` says it is, with the same replacement.
    html = _ok(golden, "report", "--format", "html", "--run", golden.run)
    data = json.loads(re.search(r"\.report = (\{.*\});\n</script>", html, re.S)[1].replace("<\\/", "</"))
    mutants = {m["id"]: m for m in data["files"]["pkg/prices.py"]["mutants"]}
    assert data["files"]["pkg/prices.py"]["source"] == golden.repo.root.joinpath("pkg/prices.py").read_text()
    for mutant_id, shown in stored.items():
        assert mutants[mutant_id]["replacement"] == shown["replacement"]
        assert mutants[mutant_id]["location"] == {"start": {"line": shown["line"], "column": shown["col"]},
                                                  "end": {"line": shown["end_line"], "column": shown["end_col"]}}

    # `weak-tests` names a test's first survivor by its edit, and the id the other front ends use.
    weak = _ok(golden, "weak-tests", "--run", golden.run)
    assert "↳ pkg/prices.py:2 comparison-boundary: > → >=  (8330d67fb313; 1 more)" in weak
    weak_json = json.loads(_ok(golden, "weak-tests", "--json", "--run", golden.run))
    first = {row["test"]: row["survivors"][0] for row in weak_json["weak_tests"]}["tests/test_prices.py::test_big_order"]
    assert first == {key: stored[BOUNDARY][key]
                     for key in ("id", "file", "line", "operator", "original", "replacement", "agent")}


def test_the_hook_reason_names_each_mutant_as_the_other_front_ends_do(golden: Golden) -> None:
    reason = golden.reason.splitlines()
    assert reason[0] == ("mutagate mutation-tested the code you changed: 6 of 8 small changes to it went unnoticed "
                         "by the tests (score 25.0%, the gate is 100%). Keep the code; strengthen the tests:")
    assert reason[4] == ("4. in `pkg/prices.py:14` `return sum( ↵ (p for p in prices), start ↵ )` became `return None` "
                         "and every test still passed: add a test that fails on it")
    assert reason[-1] == "Then re-check with: `mutagate run --agent claude-code --survivors`"
    # Each sentence's before and after are the committed run's summary line for the same place and edit.
    listed = [line for line in golden.summary.splitlines() if line.startswith("  pkg/")]
    for line in reason[1:6]:
        said = re.fullmatch(r"\d\. in `([^`]+)` `(.*)` became `(.*)` and .*", line)
        assert any(x.startswith(f"  {said[1]}  ") and f"  {said[2]} → {said[3]}  " in x for x in listed), line


def test_a_run_of_uncommitted_work_shows_whole_lines_in_every_front_end(golden: Golden) -> None:
    """The hook's run measured lines its commit does not hold (the agent's uncommitted work): every front
    end reads them from the run's working tree, as the hook's reason did, not the bare edit."""
    markdown = _ok(golden, "report", "--format", "markdown", "--run", golden.hook_run)
    blocks = _markdown_blocks(markdown)
    assert blocks[("pkg/prices.py:2", "comparison-boundary")] == (["    if price > 100:"], ["    if price >= 100:"])
    assert blocks[("pkg/prices.py:14", "return-value")] == (
        ["    return sum(", "        (p for p in prices), start", "    )"], ["    return None"])
    shown = json.loads(_ok(golden, "show", SPREAD, "--json", "--run", golden.hook_run))
    assert shown["diff"] == json.loads(_ok(golden, "show", SPREAD, "--json", "--run", golden.run))["diff"]
    assert _explain(golden.repo.root, SPREAD, golden.hook_run).structured_content["diff"] == shown["diff"]
    html = _ok(golden, "report", "--format", "html", "--run", golden.hook_run)
    assert json.dumps(PRICES_AFTER.lstrip("\n"))[1:-1].replace("</", "<\\/") in html  # the source its mutants sit in
    for line in golden.reason.splitlines()[1:6]:
        said = re.fullmatch(r"\d\. in `([^`]+)` `(.*)` became `(.*)` and .*", line)
        if said[1] in ("pkg/prices.py:2", "pkg/prices.py:14"):
            before, after = next(block for (where, _), block in blocks.items() if where == said[1])
            assert (said[2], said[3]) == (_one_line(before), _one_line(after))
