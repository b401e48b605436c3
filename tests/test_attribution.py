"""The diff analyzer on real repositories: line-level records, history shapes, scopes, config."""

from __future__ import annotations

import json

from mutator.attribution import MOVED_RULE, Scope, attribute
from scheduler.run_request import moved_text
from tests.cli import mutagate, run_json
from tests.gitrepo import GitRepo

CLAUDE = "feat\n\nCo-Authored-By: Claude <noreply@anthropic.com>"
CURSOR_BOT = ("Cursor Agent", "cursoragent@cursor.com")
SIX = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\n"


def agents_by_line(result) -> dict[tuple[str, int], str]:
    return {(line.file, line.line): line.agent for line in result.lines}


def test_blank_and_comment_lines_are_never_ai(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"m.py": "# header\n\nx = 1\n    # indented comment\ny = (\n    2\n)\n"})
    assert sorted(agents_by_line(attribute(repo.root))) == [("m.py", 3), ("m.py", 5), ("m.py", 6), ("m.py", 7)]


def test_tests_and_non_python_files_are_not_source(repo: GitRepo) -> None:
    repo.commit(
        CLAUDE,
        files={
            "pkg/m.py": "x = 1\n",
            "tests/test_m.py": "def test(): pass\n",
            "pkg/test_inline.py": "y = 1\n",
            "conftest.py": "z = 1\n",
            "notes.txt": "w\n",
        },
    )
    assert agents_by_line(attribute(repo.root)) == {("pkg/m.py", 1): "claude-code"}


def test_git_ai_note_wins_over_trailer_and_maps_through_later_edits(repo: GitRepo) -> None:
    sha = repo.commit(CLAUDE, files={"pkg/mod.py": SIX})
    note = (
        "pkg/mod.py\n"
        "  s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-2\n"
        "  h_31dce776f88375 3-4\n"
        "---\n"
        + json.dumps(
            {
                "schema_version": "authorship/3.0.0",
                "humans": {"h_31dce776f88375": {"author": "Dev <dev@example.com>"}},
                "sessions": {"s_c9883b05a2487d": {"agent_id": {"tool": "cursor", "id": "6ef2", "model": "x"}}},
            }
        )
    )
    repo.git("notes", "--ref=refs/notes/ai", "add", "-m", note, sha)
    # A human later inserts three lines on top: the note's line numbers are those of `sha`.
    repo.commit("human header", files={"pkg/mod.py": "import os\nimport sys\nimport re\n" + SIX})
    result = attribute(repo.root)
    assert agents_by_line(result) == {("pkg/mod.py", 4): "cursor", ("pkg/mod.py", 5): "cursor"}
    assert {line.evidence for line in result.lines} == {"git-ai note"}
    # Lines 3-4 (human key) and 5-6 (not listed) are human although the commit has a Claude trailer.
    everyone = agents_by_line(attribute(repo.root, Scope(all_authors=True)))
    assert everyone[("pkg/mod.py", 6)] == everyone[("pkg/mod.py", 9)] == "human"


def test_git_ai_legacy_prompt_key_and_quoted_path(repo: GitRepo) -> None:
    sha = repo.commit("plain", files={"my pkg/mod.py": SIX})
    note = '"my pkg/mod.py"\n  0123456789abcdef 2-3\n---\n' + json.dumps(
        {"prompts": {"0123456789abcdef": {"agent_id": {"tool": "claude"}}}}
    )
    repo.git("notes", "--ref=refs/notes/ai", "add", "-m", note, sha)
    assert agents_by_line(attribute(repo.root)) == {("my pkg/mod.py", 2): "claude-code", ("my pkg/mod.py", 3): "claude-code"}


def test_agent_trace_ranges_at_their_revision(repo: GitRepo) -> None:
    sha = repo.commit("plain human commit", files={"pkg/mod.py": SIX})
    record = {
        "version": "0.1.0",
        "id": "3f1c6a1e-0000-4000-8000-000000000001",
        "timestamp": "2026-01-01T00:00:00Z",
        "vcs": {"type": "git", "revision": sha},
        "tool": {"name": "claude-code", "version": "2.1"},
        "files": [
            {
                "path": "pkg/mod.py",
                "conversations": [
                    {"contributor": {"type": "ai", "model_id": "anthropic/claude-opus-4-5"},
                     "ranges": [{"start_line": 2, "end_line": 3}, {"start_line": 5, "end_line": 5,
                                                                    "contributor": {"type": "human"}}]},
                ],
            }
        ],
    }
    repo.commit("add trace", files={".agent-trace/traces.jsonl": json.dumps(record) + "\nnot json\n"})
    repo.commit("shift", files={"pkg/mod.py": "import os\n" + SIX})
    result = attribute(repo.root)
    assert agents_by_line(result) == {("pkg/mod.py", 3): "claude-code", ("pkg/mod.py", 4): "claude-code"}
    assert {line.evidence for line in result.lines} == {"agent-trace"}


def test_agent_trace_unknown_contributor_falls_back_to_commit_signals(repo: GitRepo) -> None:
    sha = repo.commit(CLAUDE, files={"pkg/mod.py": "x = 1\n"})
    record = {"version": "0.1.0", "id": "u", "timestamp": "t", "vcs": {"type": "git", "revision": sha[:12]},
              "files": [{"path": "pkg/mod.py", "conversations": [{"contributor": {"type": "unknown"},
                                                                   "ranges": [{"start_line": 1, "end_line": 1}]}]}]}
    repo.write(".agent-trace/traces.jsonl", json.dumps(record) + "\n")  # local only, not committed
    result = attribute(repo.root)
    assert [(line.agent, line.evidence.split(":")[0]) for line in result.lines] == [("claude-code", "co-author")]


def test_rename_keeps_the_agent(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"pkg/old.py": SIX})
    repo.git("mv", "pkg/old.py", "pkg/new.py")
    repo.commit("rename module")
    result = attribute(repo.root)
    assert set(agents_by_line(result)) == {("pkg/new.py", n) for n in range(1, 7)}
    assert set(agents_by_line(result).values()) == {"claude-code"}


def test_lines_moved_to_another_file_keep_their_agent(repo: GitRepo) -> None:
    body = "def compute_totals(orders):\n    totals = {}\n    for order in orders:\n" \
           "        totals[order.customer] = totals.get(order.customer, 0) + order.amount\n    return totals\n"
    repo.commit(CLAUDE, files={"pkg/a.py": "import os\n\n\n" + body})
    repo.commit("move compute_totals to its own module", files={"pkg/a.py": "import os\n", "pkg/b.py": body})
    result = attribute(repo.root)
    assert set(agents_by_line(result)) == {("pkg/a.py", 1)} | {("pkg/b.py", n) for n in range(1, 6)}
    assert {line.commit for line in result.lines} == {repo.git("rev-parse", "HEAD~1").strip()}


def _ai_function_moved_by_a_human_on_a_branch(repo: GitRepo) -> str:
    """Claude writes compute_totals, merged to main; a human's PR moves it, unchanged, to pkg/b.py."""
    body = "def compute_totals(orders):\n    totals = {}\n    for order in orders:\n" \
           "        totals[order.customer] = totals.get(order.customer, 0) + order.amount\n    return totals\n"
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "",
                                         "tests/test_b.py": "def test_nothing():\n    assert True\n"})
    repo.commit(CLAUDE, files={"pkg/a.py": "import os\n\n\n" + body})
    repo.git("checkout", "-q", "-b", "move")
    repo.commit("move compute_totals to its own module", files={"pkg/a.py": "import os\n", "pkg/b.py": body})
    return body


def test_base_scope_leaves_out_lines_a_human_only_moved(repo: GitRepo) -> None:
    _ai_function_moved_by_a_human_on_a_branch(repo)
    assert {line.agent for line in attribute(repo.root).lines} == {"claude-code"}  # whole tree: still Claude's code
    result = attribute(repo.root, Scope(base="main"))
    assert result.lines == () and result.moved_lines == 5
    # A line the change writes anew stays in scope, even when its text repeats an old line.
    repo.commit(CLAUDE, files={"pkg/c.py": "def other(totals):\n    return totals\n"})
    result = attribute(repo.root, Scope(base="main"))
    assert agents_by_line(result) == {("pkg/c.py", 1): "claude-code", ("pkg/c.py", 2): "claude-code"}
    assert result.moved_lines == 5


def test_a_run_of_a_move_pr_mutates_nothing_and_says_why(repo: GitRepo, tmp_path) -> None:
    _ai_function_moved_by_a_human_on_a_branch(repo)
    summary = run_json(repo.root, tmp_path / "results.duckdb", "--base", "main")
    assert summary["mutants"] == 0 and summary["score"] is None
    assert summary["moved_not_changed"]["lines"] == 5
    assert "5 moved lines left out (moved, not changed" in summary["note"]
    shown = mutagate("run", "--base", "main", "--db", str(tmp_path / "results.duckdb"), cwd=repo.root)
    assert shown.returncode == 0, shown.stderr
    assert "Nothing to measure: no AI-attributed lines changed since" in shown.stdout
    assert "5 moved lines left out" in shown.stdout
    listed = mutagate("mutants", "--base", "main", cwd=repo.root)
    assert listed.returncode == 0, listed.stderr
    assert "0 mutants (one per line) on 0 AI lines" in listed.stdout and "5 moved lines left out" in listed.stdout


def test_blame_and_mutants_say_the_moved_rule_as_run_does(repo: GitRepo) -> None:
    """`blame --base` and `mutants --base` leave the same lines out as `run` and say so the same way:
    the count in the table's scope line, the rule in the JSON (present in --base scope even at 0)."""
    _ai_function_moved_by_a_human_on_a_branch(repo)
    repo.commit(CLAUDE, files={"pkg/c.py": "def other(totals):\n    return totals + 1\n"})
    blamed = mutagate("blame", "--base", "main", "--json", cwd=repo.root)
    assert blamed.returncode == 0, blamed.stderr
    shown = json.loads(blamed.stdout)
    assert {(line["file"], line["line"]) for line in shown["lines"]} == {("pkg/c.py", 1), ("pkg/c.py", 2)}
    assert shown["moved_not_changed"] == {"lines": 5, "rule": MOVED_RULE, "text": moved_text(5)}
    listed = mutagate("mutants", "--base", "main", "--json", cwd=repo.root)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["moved_not_changed"] == shown["moved_not_changed"]
    table = mutagate("blame", "--base", "main", cwd=repo.root)
    assert table.returncode == 0, table.stderr
    assert "pkg/c.py" in table.stdout and "scope: 5 moved lines left out (moved, not changed" in table.stdout
    # The whole tree is no --base scope: no rule to state, the moved lines are Claude's.
    whole = json.loads(mutagate("blame", "--json", cwd=repo.root).stdout)
    assert "moved_not_changed" not in whole and any(line["file"] == "pkg/b.py" for line in whole["lines"])
    # Nothing left in scope: the count is still said.
    repo.git("reset", "-q", "--hard", "HEAD~1")
    empty = mutagate("blame", "--base", "main", cwd=repo.root)
    assert "No AI-attributed lines in scope." in empty.stdout and "scope: 5 moved lines left out" in empty.stdout


def test_merge_keeps_branch_agents(repo: GitRepo) -> None:
    repo.commit("base", files={"pkg/base.py": "x = 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature", author=CURSOR_BOT, files={"pkg/feat.py": "y = 2\nz = 3\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("human work", files={"pkg/other.py": "w = 4\n"})
    repo.git("merge", "--no-ff", "-q", "-m", "Merge branch 'feature'", "feature")
    assert agents_by_line(attribute(repo.root)) == {("pkg/feat.py", 1): "cursor", ("pkg/feat.py", 2): "cursor"}


def test_squash_commit_keeps_every_agent_and_counts_the_first(repo: GitRepo) -> None:
    message = (
        "Add reports (#12)\n\n* first part\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n\n"
        "* second part\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"
    )
    repo.commit(message, files={"pkg/r.py": "x = 1\n"})
    (line,) = attribute(repo.root).lines
    assert line.agent == "cursor"
    assert line.agents == ("cursor", "claude-code")


def test_human_edit_of_an_ai_line_makes_it_human(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"m.py": "def f(x):\n    return x + 1\n"})
    repo.commit("fix", files={"m.py": "def f(x):\n    return x + 2\n"})
    assert agents_by_line(attribute(repo.root)) == {("m.py", 1): "claude-code"}


def test_base_scope_keeps_only_lines_changed_since_merge_base(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"pkg/old.py": "x = 1\n"})
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit(CLAUDE, files={"pkg/old.py": "x = 1\ny = 2\n", "pkg/new.py": "z = 3\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main moves on", files={"pkg/main_only.py": "m = 1\n"})
    repo.git("checkout", "-q", "pr")
    result = attribute(repo.root, Scope(base="main"))
    assert agents_by_line(result) == {("pkg/old.py", 2): "claude-code", ("pkg/new.py", 1): "claude-code"}
    assert result.merge_base == repo.git("merge-base", "main", "pr").strip()


def test_working_tree_scope_attributes_unfinished_work_to_the_agent(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"pkg/m.py": "x = 1\n", "pkg/s.py": "s = 1\n"})
    repo.write("pkg/m.py", "x = 1\ny = 2\n")  # unstaged edit
    repo.write("pkg/s.py", "s = 1\nt = 2\n")
    repo.git("add", "pkg/s.py")  # staged edit
    repo.write("pkg/fresh.py", "f = 1\n")  # untracked file
    result = attribute(repo.root, Scope(agent="codex"))
    assert agents_by_line(result) == {("pkg/m.py", 2): "codex", ("pkg/s.py", 2): "codex", ("pkg/fresh.py", 1): "codex"}
    assert result.sources["pkg/m.py"] == "x = 1\ny = 2\n"
    with_base = attribute(repo.root, Scope(agent="codex", base="HEAD~0"))
    assert agents_by_line(with_base) == agents_by_line(result)


def test_head_scope_ignores_uncommitted_changes(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"m.py": "x = 1\n"})
    repo.write("m.py", "x = 1\ny = 2\n")
    result = attribute(repo.root)
    assert agents_by_line(result) == {("m.py", 1): "claude-code"}
    assert result.sources["m.py"] == "x = 1\n"


def test_config_rules_source_and_exclude(repo: GitRepo) -> None:
    repo.write(
        "pyproject.toml",
        """
        [tool.mutagate]
        source = ["src"]
        exclude = ["src/gen/*"]
        agents = [
          { agent = "acme-bot", author = "acme-coder\\\\[bot\\\\]" },
          { agent = "helper", trailer = "^X-Helper-Session:" },
        ]
        """,
    )
    repo.commit("config")
    repo.commit("a", author=("acme-coder[bot]", "bot@acme.test"), files={"src/a.py": "a = 1\n"})
    repo.commit("b\n\nX-Helper-Session: 77", files={"src/b.py": "b = 1\n", "src/gen/g.py": "g = 1\n"})
    repo.commit(CLAUDE, files={"scripts/tool.py": "t = 1\n"})  # outside source
    result = attribute(repo.root)
    assert agents_by_line(result) == {("src/a.py", 1): "acme-bot", ("src/b.py", 1): "helper"}
    assert result.lines[0].evidence.startswith("config rule")


def test_paths_limit_the_answer(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"pkg/a.py": "a = 1\n", "pkg/sub/b.py": "b = 1\n"})
    result = attribute(repo.root, Scope(paths=("pkg/sub",)))
    assert agents_by_line(result) == {("pkg/sub/b.py", 1): "claude-code"}
