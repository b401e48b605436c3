"""Survivor text a reviewer can act on: the PR comment and the stop hook's instruction lead with changed
behaviour, put a string mutant around an error message last (not first among the test gaps), and
say how many more there are. A real repository, real runs, the real hook on its real stdin."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.cli import ENTRY, PROJECT, mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

# Seven lines whose mutants go undetected, one per line in PR mode. The first, in file order, is the
# error message (alone on its line, so PR mode picks its string mutant), exactly the one a reviewer
# should not be sent after first.
CHARGE = '''
def charge(amount, fee):
    if amount <= 0:
        raise ValueError(
            "amount must be positive"
        )
    total = amount + fee
    if total > 1000:
        total = total - 10
    if fee > 50:
        total = total + 1
    if amount > 500:
        total = total * 2
    return total
'''

TESTS = '''
import pytest

from pkg.charge import charge


def test_small():
    assert charge(5, 1) == 6


def test_refused():
    with pytest.raises(ValueError):  # the message is nobody's contract
        charge(0, 1)
'''

MESSAGE_LINE = '"amount must be positive"'


def _project(repo: GitRepo) -> None:
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "",
                                         "pkg/charge.py": "def charge(amount, fee):\n    return amount\n"})


def test_the_pr_comment_leads_with_behaviour_and_sets_the_message_apart(tmp_path) -> None:
    repo = GitRepo(tmp_path / "repo")
    _project(repo)
    repo.commit(CLAUDE, files={"pkg/charge.py": CHARGE, "tests/test_charge.py": TESTS})
    db = tmp_path / "results.duckdb"
    run = mutagate("run", "--json", "--jobs", "1", "--db", str(db), cwd=repo.root)
    assert run.returncode == 0, run.stderr
    survivors = json.loads(run.stdout)["survivors"]
    assert any(s["operator"] == "string" and s["line"] == 4 for s in survivors)  # the message survives
    comment = mutagate("report", "--format", "markdown", "--db", str(db), cwd=repo.root).stdout
    diffs = [m.start() for m in re.finditer(r"^\*\*`pkg/charge\.py:\d+`\*\* `", comment, re.MULTILINE)]
    strings = comment.index("**Changed strings** (1, 1 in an error or log message)")
    assert diffs and max(diffs) < strings  # every changed behaviour comes before the strings
    assert f"- `pkg/charge.py:4` (claude-code, survived, in a message): `{MESSAGE_LINE}` → " in comment
    assert f"-            {MESSAGE_LINE}" not in comment  # not shown as a diff among the test gaps
    # at most 7 diffs per file, then how many more there are
    more = int(re.search(r"^… and (\d+) more \(`mutagate report --format html` shows them all\)\.$", comment,
                         re.MULTILINE)[1])
    assert len(diffs) == 7 and len(diffs) + 1 + more == len(survivors)


def test_the_hook_lists_behaviour_first_and_counts_the_rest_by_kind(tmp_path) -> None:
    repo = GitRepo(tmp_path / "repo")
    _project(repo)
    repo.write("pkg/charge.py", CHARGE)  # the agent's uncommitted work
    repo.write("tests/test_charge.py", TESTS)
    stdin = json.dumps({"session_id": "s", "transcript_path": str(repo.root / "t.jsonl"), "cwd": str(repo.root),
                        "permission_mode": "default", "hook_event_name": "Stop", "stop_hook_active": False})
    result = subprocess.run([sys.executable, "-c", ENTRY, "hook", "claude-code", "--jobs", "1"], cwd=repo.root,
                            input=stdin, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert result.returncode == 0, result.stderr
    reason = json.loads(result.stdout)["reason"]
    listed = [line for line in reason.splitlines() if re.match(r"\d+\. ", line)]
    total = int(re.search(r"(\d+) of \d+ small changes", reason)[1])
    assert len(listed) == 5 and total == 7, reason
    assert not any("XX" in line or "must be positive" in line for line in listed)  # behaviour only, first
    assert "… and 2 more (1 of them a changed string in an error or log message): the re-check lists them all." in reason
