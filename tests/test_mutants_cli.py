"""`mutagate mutants` on a real repository: AI lines only, the JSON contract, PR mode."""

from __future__ import annotations

import json

from tests.cli import assert_bad_input, mutagate
from tests.gitrepo import GitRepo

CLAUDE = "feat\n\nCo-Authored-By: Claude <noreply@anthropic.com>"
HUMAN_CODE = "def human(a, b):\n    return a + b\n"
AI_CODE = "def ai(xs, n):\n    if xs is None:\n        return []\n    return sorted(xs)[1:n]\n"


def test_mutants_are_on_ai_lines_only(repo: GitRepo) -> None:
    repo.commit("human", files={"pkg/h.py": HUMAN_CODE, "pkg/mixed.py": HUMAN_CODE})
    repo.commit(CLAUDE, files={"pkg/ai.py": AI_CODE, "pkg/mixed.py": HUMAN_CODE + "\n\n" + AI_CODE})
    result = mutagate("mutants", "--json", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    mutants = json.loads(result.stdout)["mutants"]
    blamed = json.loads(mutagate("blame", "--json", cwd=repo.root).stdout)["lines"]
    ai_lines = {(line["file"], line["line"]) for line in blamed}
    assert mutants and all((m["file"], m["line"]) in ai_lines for m in mutants)
    assert {m["file"] for m in mutants} == {"pkg/ai.py", "pkg/mixed.py"}
    assert all(m["line"] >= 4 for m in mutants if m["file"] == "pkg/mixed.py")
    assert {m["agent"] for m in mutants} == {"claude-code"}
    assert {"id", "file", "line", "operator", "original", "replacement", "agent"} <= set(mutants[0])
    assert {"remove-guard", "slice-off-by-one", "sorted-reverse"} <= {m["operator"] for m in mutants}


def test_human_output_is_a_diff_per_mutant(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"pkg/ai.py": AI_CODE})
    result = mutagate("mutants", cwd=repo.root)
    assert "--- a/pkg/ai.py" in result.stdout and "+    pass" in result.stdout
    assert "mutants (every mutant) on 4 AI lines" in result.stdout


def test_base_means_pr_mode_with_one_mutant_per_line(repo: GitRepo) -> None:
    repo.commit("human", files={"pkg/h.py": HUMAN_CODE})
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit(CLAUDE, files={"pkg/ai.py": AI_CODE})
    pr = json.loads(mutagate("mutants", "--json", "--base", "main", cwd=repo.root).stdout)["mutants"]
    lines = [(m["file"], m["line"]) for m in pr]
    assert len(lines) == len(set(lines)) == 3  # the `def` line has none
    every = json.loads(mutagate("mutants", "--json", "--base", "main", "--every-mutant", cwd=repo.root).stdout)
    assert len(every["mutants"]) > len(pr)


def test_syntax_error_in_an_ai_file_is_bad_input(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"pkg/broken.py": "def f(:\n    pass\n"})
    assert_bad_input(mutagate("mutants", cwd=repo.root), "pkg/broken.py", "syntax error")
