"""Every commit-level signal of the signal table (mutator/signals.py), on real commits."""

from __future__ import annotations

import pytest

from mutator.attribution import attribute
from tests.gitrepo import HUMAN, GitRepo

CODE = "def f(x):\n    return x + 1\n"

# (agent id, author, committer, message)
CASES = [
    ("claude-code", HUMAN, None, "feat\n\nCo-Authored-By: Claude Opus 4.7 (1M context) <noreply@anthropic.com>"),
    ("claude-code", HUMAN, None, "feat\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)"),
    ("claude-code", HUMAN, None, "feat\n\n🤖 Generated with [Claude Code](https://claude.ai/code)"),
    ("claude-code", HUMAN, None, "feat\n\nClaude-Session: https://claude.ai/code/session_01abc"),
    ("claude-code", ("claude[bot]", "209825114+claude[bot]@users.noreply.github.com"), None, "feat"),
    ("claude-code", ("claude-code-action[bot]", "x@users.noreply.github.com"), None, "feat"),
    ("cursor", HUMAN, None, "feat\n\nCo-authored-by: Cursor <cursoragent@cursor.com>"),
    ("cursor", HUMAN, None, "feat\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>"),
    ("cursor", ("Cursor Agent", "cursoragent@cursor.com"), None, "feat"),
    ("cursor", ("cursor[bot]", "1+cursor[bot]@users.noreply.github.com"), None, "feat"),
    ("copilot", ("Copilot", "198982749+Copilot@users.noreply.github.com"), ("GitHub", "noreply@github.com"), "feat"),
    ("copilot", ("copilot-swe-agent[bot]", "x@users.noreply.github.com"), None, "feat"),
    ("copilot", HUMAN, None, "feat\n\nCo-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>"),
    ("copilot", HUMAN, None, "feat\n\nCo-authored-by: Copilot <copilot@github.com>"),
    ("codex", HUMAN, None, "feat\n\nCo-authored-by: Codex <noreply@openai.com>"),
    ("codex", HUMAN, None, "feat\n\nCo-authored-by: codex <codex@openai.com>"),
    ("codex", ("chatgpt-codex-connector[bot]", "x@users.noreply.github.com"), None, "feat"),
    ("codex", ("openai-codex[bot]", "x@users.noreply.github.com"), None, "feat"),
    ("aider", HUMAN, None, "feat\n\nCo-authored-by: aider (openai/gpt-5) <aider@aider.chat>"),
    ("aider", ("Dana Dev (aider)", "dana@example.com"), None, "feat"),
    ("aider", HUMAN, ("Dana Dev (aider)", "dana@example.com"), "feat"),
    ("aider", HUMAN, None, "aider: add f"),
    ("devin", ("devin-ai-integration[bot]", "x@users.noreply.github.com"), None, "feat"),
    ("jules", ("google-labs-jules[bot]", "x@users.noreply.github.com"), None, "feat"),
    ("jules", HUMAN, None, "feat\n\nCo-authored-by: google-labs-jules[bot] <x@users.noreply.github.com>"),
    ("amazon-q", ("amazon-q-developer[bot]", "x@users.noreply.github.com"), None, "feat"),
    ("amp", HUMAN, None, "feat\n\nCo-authored-by: Amp <amp@ampcode.com>"),
    ("amp", HUMAN, None, "feat\n\nAmp-Thread-ID: https://ampcode.com/threads/T-1"),
    ("amp", HUMAN, None, "feat\n\nAmp-Thread: https://ampcode.com/threads/T-1"),
    ("qwen-code", HUMAN, None, "feat\n\nCo-authored-by: Qwen-Coder <qwen-coder@alibabacloud.com>"),
    ("factory-droid", HUMAN, None, "feat\n\nCo-authored-by: factory-droid[bot] <x@users.noreply.github.com>"),
    ("crush", HUMAN, None, "feat\n\nAssisted-by: Crush:claude-sonnet-4"),
    ("crush", HUMAN, None, "feat\n\nCo-Authored-By: Crush <crush@charm.land>"),
    ("crush", HUMAN, None, "feat\n\n💘 Generated with Crush"),
    ("opencode", HUMAN, None, "feat\n\nCo-authored-by: opencode <noreply@opencode.ai>"),
    ("replit", HUMAN, None, "feat\n\nReplit-Commit-Author: Agent\nReplit-Commit-Session-Id: 42"),
    ("replit", HUMAN, None, "feat\n\nReplit-Commit-Author: Assistant"),
    ("claude-code", HUMAN, None, "feat\n\nAssisted-by: Claude:claude-opus-4-7 coccinelle"),
    ("gemini", HUMAN, None, "feat\n\nGenerated-by: Gemini CLI"),
    # Cloud agents' links on a line of their own (the forms are quoted from public commits and PR bodies;
    # a squash merge with "pull request title and description" carries the PR body into the commit).
    ("claude-code", HUMAN, None, "perf: use virtual threads\n\n- pools replaced\n\nhttps://claude.ai/code/session_01Jy5VPT7aRfKskDEcYVSXDq"),
    ("codex", HUMAN, None, "Add structured logging (#12)\n\n## Summary\n- add log_event helpers\n\n## Testing\n"
                           "- python -m compileall backend/app\n\n------\n"
                           "[Codex Task](https://chatgpt.com/codex/tasks/task_e_6941e4ddf7448325988b0bcab26c87a2)"),
    ("jules", HUMAN, None, "Add plan generator (#7)\n\nAdds a plan template.\n\n---\n*PR created automatically by Jules for "
                           "task [9534672763496798450](https://jules.google.com/task/9534672763496798450) started by @dana*"),
    ("devin", HUMAN, None, "Support CONTAINS in DuckDB (#31)\n\nAdds the function translation.\n\n"
                           "Link to Devin run: https://app.devin.ai/sessions/2c3220b9df8c476f93d6fe5c376f0c3f\n\n"
                           "Requested by: dana@example.com"),
    ("devin", HUMAN, None, "Phase III (#36)\n\nLinks\n- Link to Devin run: https://app.devin.ai/sessions/e9f4be62eb0641d59476d217e5f582c9"),
    ("cursor", HUMAN, None, "Add missing German strings (#14135)\n\nFixes #14134.\n\n<div><a href=\"https://cursor.com/"
                            "background-agent?bcId=bc-91c3ebfc-7a65-4b69-bbb4-2710e856c6a4\"><picture>"
                            "<img alt=\"Open in Cursor\"></picture></a></div>"),
    ("cursor", HUMAN, None, "Add missing German strings (#14135)\n\n<div><a href=\"https://cursor.com/agents/"
                            "bc-bc20e6bc-7ae3-54d3-8d93-828e889b3637?cursor_ref=pr_footer&cursor_cta=open_in_web\">"
                            "Open in Web</a></div>"),
]


@pytest.mark.parametrize(("agent", "author", "committer", "message"), CASES)
def test_commit_signal_names_agent(repo: GitRepo, agent, author, committer, message) -> None:
    repo.commit("human base", files={"pkg/base.py": "X = 1\n"})
    repo.commit(message, author=author, committer=committer, files={"pkg/mod.py": CODE})
    result = attribute(repo.root)
    assert {(line.file, line.line) for line in result.lines} == {("pkg/mod.py", 1), ("pkg/mod.py", 2)}
    assert {line.agent for line in result.lines} == {agent}
    assert all(line.evidence for line in result.lines)


@pytest.mark.parametrize(
    ("author", "committer", "message"),
    [
        (HUMAN, ("GitHub", "noreply@github.com"), "Merge pull request #1 from dana/feature"),
        (HUMAN, None, "fix claude's typo\n\nReviewed-by: Someone <s@example.com>"),
        (("gemini-code-assist[bot]", "x@users.noreply.github.com"), None, "apply review suggestion"),
        (HUMAN, None, "Co-authored-by: Pat <pat@example.com>"),
        # A link cited inside a sentence is someone pointing at a session, not the agent's own footer.
        (HUMAN, None, "docs: roadmap\n\nSee [Codex Task](https://chatgpt.com/codex/tasks/task_e_6942d181) for the design."),
        (HUMAN, None, "fix: what the session at https://claude.ai/code/session_01abc got wrong"),
    ],
)
def test_human_commits_name_no_agent(repo: GitRepo, author, committer, message) -> None:
    repo.commit(message, author=author, committer=committer, files={"pkg/mod.py": CODE})
    assert attribute(repo.root).lines == ()
