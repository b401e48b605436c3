from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli import run_json
from tests.gitrepo import GitRepo
from tests.sample_project import build_sample


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@dataclass(frozen=True)
class SampleRun:
    repo: GitRepo
    db: Path
    summary: dict  # `mutagate run --json`'s


@pytest.fixture(scope="session")
def sample_run_shared(tmp_path_factory: pytest.TempPathFactory) -> SampleRun:
    """One real run of the sample project (every kind of verdict: killed, timeout, survived, no
    coverage), shared by the tests that only read it (the reports, Ray's reference verdicts). A test
    that writes to the repository or its database builds its own."""
    repo = build_sample(GitRepo(tmp_path_factory.mktemp("sample-run") / "repo"))
    db = repo.root.parent / "results.duckdb"
    return SampleRun(repo, db, run_json(repo.root, db, jobs=2))
