"""`mutagate blame` end to end: the JSON contract, the table, and every bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli import assert_bad_input, mutagate
from tests.gitrepo import GitRepo

CLAUDE = "feat\n\nCo-Authored-By: Claude <noreply@anthropic.com>"


def test_json_contract(repo: GitRepo) -> None:
    sha = repo.commit(CLAUDE, files={"pkg/mod.py": "def f(x):\n    return x\n"})
    repo.commit("human", files={"pkg/h.py": "y = 1\n"})
    result = mutagate("blame", "--json", cwd=repo.root)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["agents"] == {"claude-code": 2}
    assert [(d["file"], d["line"], d["agent"], d["commit"]) for d in data["lines"]] == [
        ("pkg/mod.py", 1, "claude-code", sha),
        ("pkg/mod.py", 2, "claude-code", sha),
    ]


def test_table_groups_runs_and_shows_evidence_on_request(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"pkg/mod.py": "a = 1\nb = 2\nc = 3\n"})
    plain = mutagate("blame", cwd=repo.root)
    assert plain.returncode == 0
    assert "pkg/mod.py" in plain.stdout and "1-3" in plain.stdout and "claude-code" in plain.stdout
    assert "noreply@anthropic.com" not in plain.stdout
    audited = mutagate("blame", "--evidence", cwd=repo.root)
    assert "noreply@anthropic.com" in audited.stdout


def test_paths_relative_to_the_current_folder(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"pkg/a.py": "a = 1\n", "lib/b.py": "b = 1\n"})
    result = mutagate("blame", "--json", "a.py", cwd=repo.root / "pkg")
    assert [d["file"] for d in json.loads(result.stdout)["lines"]] == ["pkg/a.py"]


def test_not_a_git_repository(tmp_path: Path) -> None:
    assert_bad_input(mutagate("blame", cwd=tmp_path), "not a git repository")


def test_empty_repository(repo: GitRepo) -> None:
    assert_bad_input(mutagate("blame", cwd=repo.root), "no commits")


def test_shallow_clone_says_how_to_deepen(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit(CLAUDE, files={"m.py": "x = 1\n"})
    repo.commit("more", files={"n.py": "y = 1\n"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True)
    assert_bad_input(mutagate("blame", cwd=clone), "shallow clone", "git fetch --unshallow")


def test_unknown_ref(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"m.py": "x = 1\n"})
    assert_bad_input(mutagate("blame", "--base", "no-such-branch", cwd=repo.root), "unknown git ref", "no-such-branch")


def test_path_outside_the_repository(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit(CLAUDE, files={"m.py": "x = 1\n"})
    assert_bad_input(mutagate("blame", str(tmp_path), cwd=repo.root), "outside the repository")


def test_no_python_files(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"README.md": "hello\n"})
    assert_bad_input(mutagate("blame", cwd=repo.root), "no Python source files")


def test_unknown_flag_and_bad_config(repo: GitRepo) -> None:
    repo.commit(CLAUDE, files={"m.py": "x = 1\n"})
    assert_bad_input(mutagate("blame", "--frobnicate", cwd=repo.root), "--frobnicate")
    repo.commit("config", files={"pyproject.toml": "[tool.mutagate]\nsorce = ['src']\n"})
    assert_bad_input(mutagate("blame", cwd=repo.root), "unknown key 'sorce'")


def test_binary_and_non_utf8_files_are_skipped_with_a_warning(repo: GitRepo) -> None:
    repo.write("good.py", "x = 1\n")
    (repo.root / "latin.py").write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    (repo.root / "blob.py").write_bytes(b"\x00\x01\x02binary")
    repo.commit(CLAUDE)
    result = mutagate("blame", "--json", cwd=repo.root)
    assert result.returncode == 0
    assert [d["file"] for d in json.loads(result.stdout)["lines"]] == ["good.py"]
    assert "latin.py" in result.stderr and "blob.py" in result.stderr and "Traceback" not in result.stderr
