"""Agents' stop hooks: real hook-input JSON on the real command's stdin, in real repositories holding
an agent's uncommitted work, with real pytest runs; and `hook install` merging real settings files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from scheduler.runner.reaper import children
from tests.cli import ENTRY, PROJECT, assert_bad_input, mutagate
from tests.gitrepo import GitRepo

pytestmark = pytest.mark.slow  # each agent's hook around a real run

PRICES_BEFORE = '''
def discount(price, rate):
    return price
'''

# The agent's change: a discount above 100. Its tests never sit at the boundary.
PRICES_AFTER = '''
def discount(price, rate):
    if price > 100:
        return price * (1 - rate)
    return price
'''

TESTS_BEFORE = '''
from pkg.prices import discount


def test_small_order():
    assert discount(50, 0.5) == 50
'''

WEAK_TESTS = TESTS_BEFORE + '''

def test_big_order():
    assert discount(200, 0.5) == 100
'''

STRONG_TESTS = WEAK_TESTS + '''

def test_at_the_boundary():
    assert discount(100, 0.5) == 100
'''


def claude_input(cwd: Path, active: bool = False, event: str = "Stop") -> str:
    """What Claude Code sends a Stop hook (https://code.claude.com/docs/en/hooks)."""
    return json.dumps({"session_id": "abc123", "transcript_path": str(cwd / "transcript.jsonl"), "cwd": str(cwd),
                       "permission_mode": "default", "hook_event_name": event, "stop_hook_active": active})


def cursor_input(root: Path, loop_count: int = 0, status: str = "completed") -> str:
    """What Cursor sends a stop hook (https://cursor.com/docs/agent/hooks)."""
    return json.dumps({"conversation_id": "c-1", "generation_id": "g-1", "hook_event_name": "stop",
                       "workspace_roots": [str(root)], "status": status, "loop_count": loop_count})


def gemini_input(cwd: Path, active: bool = False) -> str:
    """What Gemini CLI sends an AfterAgent hook (https://geminicli.com/docs/hooks/reference)."""
    return json.dumps({"session_id": "s-1", "transcript_path": str(cwd / "t.json"), "cwd": str(cwd),
                       "hook_event_name": "AfterAgent", "timestamp": "2026-01-01T10:30:00Z", "prompt": "add a discount",
                       "prompt_response": "Done.", "stop_hook_active": active})


def hook(agent: str, stdin: str, cwd: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """The real `mutagate hook AGENT`, fed its input on stdin as the agent feeds it."""
    return subprocess.run([sys.executable, "-c", ENTRY, "hook", agent, "--jobs", "1", *flags], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)})


def agent_repo(root: Path, tests: str, more: dict[str, str] | None = None) -> GitRepo:
    """A human's committed project (with `more` files), and an agent's uncommitted change to it with `tests`."""
    repo = GitRepo(root)
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/prices.py": PRICES_BEFORE,
                                         "tests/test_prices.py": TESTS_BEFORE, **(more or {})})
    repo.write("pkg/prices.py", PRICES_AFTER)
    repo.write("tests/test_prices.py", tests)
    return repo


@pytest.fixture(scope="module")
def weak(tmp_path_factory) -> GitRepo:
    return agent_repo(tmp_path_factory.mktemp("weak") / "repo", WEAK_TESTS)


def test_a_weak_change_sends_claude_back_with_the_survivor_and_the_command_to_recheck(weak) -> None:
    result = hook("claude-code", claude_input(weak.root), weak.root)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["decision"] == "block" and set(answer) == {"decision", "reason"}
    reason = answer["reason"]
    assert ("in `pkg/prices.py:2` `if price > 100:` became `if price >= 100:` and every test still passed: "
            "add a test that fails on it") in reason
    assert "`mutagate run --agent claude-code --survivors`" in reason
    # The check ran on the agent's uncommitted work, attributed to the agent, and is stored like any run.
    with duckdb.connect(str(weak.root / ".mutagate" / "results.duckdb"), read_only=True) as con:
        agents = {r[0] for r in con.execute("SELECT DISTINCT agent FROM mutants").fetchall()}
    assert agents == {"claude-code"}


def test_the_re_check_command_in_the_reason_confirms_the_fix(tmp_path) -> None:
    repo = agent_repo(tmp_path / "repo", WEAK_TESTS)
    assert json.loads(hook("claude-code", claude_input(repo.root), repo.root).stdout)["decision"] == "block"
    repo.write("tests/test_prices.py", STRONG_TESTS)  # the agent does what it was told
    again = mutagate("run", "--agent", "claude-code", "--survivors", "--jobs", "1", cwd=repo.root)
    assert again.returncode == 0, again.stderr
    assert "1 fixed, 0 still undetected" in again.stdout


def test_a_strong_change_lets_claude_stop(tmp_path) -> None:
    repo = agent_repo(tmp_path / "repo", STRONG_TESTS)
    result = hook("claude-code", claude_input(repo.root, event="SubagentStop"), repo.root)
    assert result.returncode == 0 and result.stdout == "", (result.stdout, result.stderr)
    assert (repo.root / ".mutagate" / "results.duckdb").is_file()  # it did check


def test_stop_hook_active_never_sends_claude_back_twice(weak, tmp_path) -> None:
    db = tmp_path / "untouched.duckdb"
    result = hook("claude-code", claude_input(weak.root, active=True), weak.root, "--db", str(db))
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert not db.exists()  # nothing ran


def test_no_uncommitted_change_lets_claude_stop_and_stores_the_empty_run_as_mutagate_run_does(tmp_path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: project", files={"pkg/__init__.py": "", "pkg/prices.py": PRICES_BEFORE})
    db = tmp_path / "results.duckdb"
    result = hook("claude-code", claude_input(repo.root), repo.root, "--db", str(db))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    # Every door leaves the same record of a run with nothing to measure: finished, no mutant.
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT status, (SELECT count(*) FROM mutants) FROM runs").fetchall() == [("finished", 0)]


def test_a_broken_repository_lets_the_agent_stop_with_one_line_on_stderr(tmp_path) -> None:
    nowhere = tmp_path / "not-a-repo"
    nowhere.mkdir()
    result = hook("claude-code", claude_input(nowhere), nowhere)
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.startswith("mutagate hook claude-code: ") and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    # The agent's work breaks a test: the baseline fails, and the hook says so without blocking.
    broken = agent_repo(tmp_path / "broken", WEAK_TESTS + "\n\ndef test_broken():\n    assert discount(1, 0) == 2\n")
    result = hook("claude-code", claude_input(broken.root), broken.root)
    assert result.returncode == 0 and result.stdout == ""
    assert "test_broken" in result.stderr and "Traceback" not in result.stderr
    # Input that is not the protocol's: no block either.
    result = hook("claude-code", "{not json", broken.root)
    assert result.returncode == 0 and result.stdout == "" and "not JSON" in result.stderr


def test_the_budget_is_honoured_by_the_hook_with_a_slow_suite(tmp_path) -> None:
    slow = WEAK_TESTS.replace("def test_big_order():\n", "def test_big_order():\n    import time\n    time.sleep(2)\n")
    repo = agent_repo(tmp_path / "repo", slow)
    db = tmp_path / "results.duckdb"
    # A 2.5 s budget, counted from the hook's start: the baseline may take half of what is left when it
    # starts, not the 2 s test; no mutant runs, the agent may stop.
    result = hook("claude-code", claude_input(repo.root), repo.root, "--budget", "2.5", "--db", str(db))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert "nothing measured (budget: 0 of 2 mutants" in result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = [r[0] for r in con.execute("SELECT status FROM outcomes").fetchall()]
    assert statuses == ["not_run", "not_run"]


def test_a_hook_whose_check_outlasts_its_budget_answers_on_time_and_leaves_nothing_running(tmp_path) -> None:
    """The run keeps to its budget phase by phase, but not its fixed costs: here git runs a slow clean
    filter (as git-lfs does on a big repository) on every Python file it reads. The hook answers before
    its budget ends all the same (an agent kills a hook past its timeout, and then gets nothing), lets
    the agent stop, and what the check started is stopped after it."""
    repo = agent_repo(tmp_path / "repo", WEAK_TESTS)
    (repo.root / ".gitattributes").write_text("*.py filter=slow\n")
    config = tmp_path / "gitconfig"
    marker = "37.31"  # this test's sleep, told apart from any other on the machine
    config.write_text(f"[filter \"slow\"]\n\tclean = sleep {marker} && cat\n\tsmudge = cat\n")
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "GIT_CONFIG_GLOBAL": str(config)}
    for agent, hook_input, allow in (("claude-code", claude_input(repo.root), ""),
                                     ("cursor", cursor_input(repo.root), "{}\n")):
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-c", ENTRY, "hook", agent, "--jobs", "1", "--budget", "2",
                                 "--db", str(tmp_path / "results.duckdb")], cwd=repo.root, input=hook_input,
                                capture_output=True, text=True, timeout=120, env=env)
        assert time.monotonic() - started < float(marker)  # it did not wait for git's filter
        assert result.returncode == 0 and result.stdout == allow, result.stderr
        assert (f"mutagate hook {agent}: the check gave no answer within the 2 s budget; it was stopped"
                in result.stderr), result.stderr
        assert "Traceback" not in result.stderr
    assert _eventually(lambda: not _sleeping(marker)), "git's filter was left running"


def test_a_hook_the_agent_kills_still_stops_its_check_which_stores_what_it_measured(tmp_path) -> None:
    """An agent that gives up on a hook kills it: the check it started is stopped as SIGTERM stops a
    run (the run stored as interrupted, the checkout as it was), and none of its processes lives on."""
    running = tmp_path / "baseline-running"  # the slow test says when the baseline has reached it
    slow = WEAK_TESTS.replace("def test_big_order():\n", "def test_big_order():\n    import pathlib, time\n"
                              f"    pathlib.Path({str(running)!r}).touch()\n    time.sleep(5)\n")
    repo = agent_repo(tmp_path / "repo", slow)
    before = repo.git("status", "--porcelain")
    db = tmp_path / "results.duckdb"
    agent = subprocess.Popen([sys.executable, "-c", ENTRY, "hook", "claude-code", "--jobs", "1", "--budget", "60",
                              "--db", str(db)], cwd=repo.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    agent.stdin.write(claude_input(repo.root).encode())
    agent.stdin.close()
    below: set[int] = set()

    def at_work() -> bool:  # the keeper, the check, and the baseline's processes
        below.update(_descendants(agent.pid))
        return running.exists()

    assert _eventually(at_work), "the baseline never reached the slow test"
    agent.kill()
    agent.wait()
    assert _eventually(lambda: not [pid for pid in below if Path(f"/proc/{pid}").exists()]), \
        "the check outlived its hook"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    assert repo.git("status", "--porcelain") == before


def test_after_a_late_answer_the_agent_edits_again_and_its_edits_stay(tmp_path) -> None:
    """The hook answered at its deadline while its stopped check still cleans up (here a test that
    holds every stop until its 8 s sleep ends). The agent edits at once: its edits and new files stay,
    and what the baseline's test wrote into the checkout before the answer is still put back."""
    repo_root = tmp_path / "repo"
    slow = WEAK_TESTS.replace("def test_big_order():\n", "def test_big_order():\n    import pathlib, signal, time\n"
                              f"    pathlib.Path({str(repo_root / 'NOTES')!r}).write_text('a test wrote here')\n"
                              "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT, "
                              "signal.SIGUSR2})\n    time.sleep(8)\n")
    repo = agent_repo(repo_root, slow, {"NOTES": "the user's notes\n"})
    db = tmp_path / "results.duckdb"
    hook = subprocess.Popen([sys.executable, "-c", ENTRY, "hook", "claude-code", "--jobs", "1", "--budget", "6",
                             "--db", str(db)], cwd=repo.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(PROJECT), "MUTAGATE_READONLY_CHECKOUT": "0"})
    below: set[int] = set()
    hook.stdin.write(claude_input(repo.root))
    hook.stdin.close()
    while hook.poll() is None:  # everything the hook starts, to wait for its end below
        below.update(_descendants(hook.pid))
        time.sleep(0.05)
    stdout, stderr = hook.stdout.read(), hook.stderr.read()
    assert hook.returncode == 0 and stdout == "", stderr
    assert "it was stopped and cleans up on its own" in stderr, stderr
    (repo.root / "pkg/prices.py").write_text("def discount(price, rate):\n    return price  # the agent again\n")
    (repo.root / "pkg/more.py").write_text("MORE = 1\n")
    assert _eventually(lambda: not [pid for pid in below if Path(f"/proc/{pid}").exists()], seconds=60)
    assert (repo.root / "NOTES").read_text() == "the user's notes\n"  # the test's write, from before the answer
    assert (repo.root / "pkg/prices.py").read_text().endswith("# the agent again\n")
    assert (repo.root / "pkg/more.py").exists()


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _eventually(condition, seconds: float = 30.0) -> bool:
    """True once `condition()` holds, asking again for up to `seconds`."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.1)
    return True


def _sleeping(seconds: str) -> list[str]:
    def runs_sleep(pid: str) -> bool:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", seconds.encode()]
        except OSError:
            return False

    return [pid for pid in os.listdir("/proc") if pid.isdigit() and runs_sleep(pid)]


def test_cursor_gets_a_followup_message_and_its_loop_guard(weak) -> None:
    result = hook("cursor", cursor_input(weak.root), weak.root)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"followup_message"}
    assert "in `pkg/prices.py:2` `if price > 100:` became `if price >= 100:`" in answer["followup_message"]
    assert "`mutagate run --agent cursor --survivors`" in answer["followup_message"]
    for again in (cursor_input(weak.root, loop_count=1), cursor_input(weak.root, status="aborted")):
        result = hook("cursor", again, weak.root)
        assert result.returncode == 0 and json.loads(result.stdout) == {}


def test_gemini_gets_a_deny_with_the_reason_and_its_loop_guard(weak) -> None:
    result = hook("gemini", gemini_input(weak.root), weak.root)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["decision"] == "deny" and "`pkg/prices.py:2`" in answer["reason"]
    result = hook("gemini", gemini_input(weak.root, active=True), weak.root)
    assert result.returncode == 0 and json.loads(result.stdout) == {}


# -- hook install ---------------------------------------------------------------------------------

def test_install_merges_into_claude_settings_keeping_other_hooks_and_keys_and_is_idempotent(tmp_path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: start", files={"README": "x"})
    existing = {
        "permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}],
            "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}],
        },
    }
    settings = repo.root / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps(existing))
    for _ in range(2):
        result = mutagate("hook", "install", "claude-code", cwd=repo.root)
        assert result.returncode == 0, result.stderr
    assert "nothing changed" in result.stdout
    merged = json.loads(settings.read_text())
    assert merged["permissions"] == existing["permissions"]
    assert merged["hooks"]["PreToolUse"] == existing["hooks"]["PreToolUse"]
    stop = merged["hooks"]["Stop"]
    assert stop[0] == existing["hooks"]["Stop"][0] and len(stop) == 2  # ours added once, theirs kept first
    ours = stop[1]["hooks"][0]
    assert ours["type"] == "command" and ours["command"].endswith("hook claude-code") and ours["timeout"] >= 60
    assert [g["hooks"][0]["command"] for g in merged["hooks"]["SubagentStop"]] == [ours["command"]]


def test_the_installed_command_runs_from_a_shell_without_the_virtual_environment(weak, tmp_path) -> None:
    """An agent's shell rarely has mutagate's venv active: the command must not need it on PATH."""
    settings = weak.root / ".claude" / "settings.json"
    try:
        result = mutagate("hook", "install", "claude-code", cwd=weak.root)
        assert result.returncode == 0, result.stderr
        command = json.loads(settings.read_text())["hooks"]["Stop"][0]["hooks"][0]["command"]
    finally:
        settings.unlink(missing_ok=True)  # the module's repository stays as the other tests expect it
    words = command.split()
    python = words[2] if words[0] == "env" else words[0]  # `env PYTHONPATH=<source tree>` when not installed
    assert python == sys.executable and os.path.isabs(python) and "hook claude-code" in command
    assert "the command: " in result.stdout and "absolute path" in result.stdout
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no venv, no PYTHONPATH: as the agent starts it
    assert subprocess.run(["sh", "-c", "command -v mutagate"], env=bare, capture_output=True).returncode != 0
    answered = subprocess.run(["sh", "-c", command], cwd=weak.root, env=bare, input=claude_input(weak.root),
                              capture_output=True, text=True, timeout=600)
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["decision"] == "block"  # it ran the check and answered


def test_install_replaces_a_bare_mutagate_command_and_writes_through_a_symlink(tmp_path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: start", files={"README": "x"})
    shared = tmp_path / "dotfiles" / "claude-settings.json"  # settings shared from elsewhere, linked in
    shared.parent.mkdir()
    shared.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "mutagate hook claude-code",
                                                                 "timeout": 180}]}]}}))
    link = repo.root / ".claude" / "settings.json"
    link.parent.mkdir()
    link.symlink_to(shared)
    result = mutagate("hook", "install", "claude-code", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and link.resolve() == shared.resolve()  # still the user's link
    merged = json.loads(shared.read_text())
    [stop] = merged["hooks"]["Stop"]  # the earlier bare command replaced, not a second entry beside it
    assert stop["hooks"][0]["command"] != "mutagate hook claude-code" and "scheduler.cli hook claude-code" in \
        stop["hooks"][0]["command"]
    assert "replaced an earlier mutagate command on Stop" in result.stdout and "added on SubagentStop" in result.stdout
    again = mutagate("hook", "install", "claude-code", cwd=repo.root)
    assert "nothing changed" in again.stdout and link.is_symlink()


def test_install_creates_the_cursor_and_gemini_files_and_merges_an_existing_one(tmp_path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: start", files={"README": "x"})
    cursor = repo.root / ".cursor" / "hooks.json"
    cursor.parent.mkdir()
    cursor.write_text(json.dumps({"version": 1, "hooks": {"stop": [{"command": "./notify.sh"}],
                                                          "afterFileEdit": [{"command": "./format.sh"}]}}))
    assert mutagate("hook", "install", "cursor", cwd=repo.root).returncode == 0
    merged = json.loads(cursor.read_text())
    assert merged["version"] == 1 and merged["hooks"]["afterFileEdit"] == [{"command": "./format.sh"}]
    assert merged["hooks"]["stop"][0] == {"command": "./notify.sh"}
    assert merged["hooks"]["stop"][1]["command"].endswith("hook cursor")
    assert mutagate("hook", "install", "gemini", cwd=repo.root).returncode == 0
    gemini = json.loads((repo.root / ".gemini" / "settings.json").read_text())
    [group] = gemini["hooks"]["AfterAgent"]
    assert group["hooks"][0]["command"].endswith("hook gemini") and group["hooks"][0]["timeout"] >= 60_000


def test_install_refuses_a_settings_file_it_cannot_read_and_leaves_it_alone(tmp_path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("human: start", files={"README": "x"})
    settings = repo.root / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"hooks": {"Stop": [}')
    assert_bad_input(mutagate("hook", "install", "claude-code", cwd=repo.root), "settings.json", "not valid JSON")
    assert settings.read_text() == '{"hooks": {"Stop": [}'
    settings.write_text('{"hooks": []}')
    assert_bad_input(mutagate("hook", "install", "claude-code", cwd=repo.root), "`hooks` is not a JSON object")
    assert_bad_input(mutagate("hook", "install", "vim", cwd=repo.root), "vim")
