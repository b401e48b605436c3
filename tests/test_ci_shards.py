"""`mutagate ci github|gitlab --shards N`: the nightly split over N jobs and merged in one. The GitHub workflow
passes actionlint (shellcheck on every `run:`); both files are replayed on a real repository: each shard
job's script as written (with the variables the matrix or `parallel:` sets), its results file handed over
as the artifact steps would, then the merge job's script as written. The merged run is the unsharded run,
verdict for verdict."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.cli import PROJECT, assert_bad_input, mutagate, run_json
from tests.gitrepo import GitRepo
from tests.sample_project import build_sample
from tests.test_ci_github import PEP621, _project, _tool


def test_the_sharded_github_nightly_passes_actionlint_and_has_a_matrix_and_a_merge(repo: GitRepo) -> None:
    _project(repo, PEP621)
    done = mutagate("ci", "github", "--shards", "4", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    folder = repo.root / ".github/workflows"
    lint = subprocess.run([_tool("actionlint"), "-shellcheck", _tool("shellcheck"), "-no-color",
                           str(folder / "mutagate-pr.yml"), str(folder / "mutagate-nightly.yml")],
                          capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    nightly = yaml.safe_load((folder / "mutagate-nightly.yml").read_text())
    shard, merge, publish = (nightly["jobs"][name] for name in ("shard", "merge", "publish"))
    assert shard["strategy"]["matrix"]["shard"] == [1, 2, 3, 4] and shard["strategy"]["fail-fast"] is False
    assert shard["env"]["SHARDS"] == "4" and shard["env"]["SHARD"] == "${{ matrix.shard }}"
    steps = {s.get("name") or s["uses"]: s for s in shard["steps"]}
    assert steps["actions/checkout@v5"]["with"]["fetch-depth"] == 0
    run = next(s["run"] for name, s in steps.items() if name.startswith("Mutation run of this shard"))
    assert 'mutagate run --no-bail --shard "$SHARD/$SHARDS" --db "mutagate-shard-$SHARD.duckdb"' in run
    upload = steps["Keep the shard's results for the merge"]
    assert upload["uses"] == "actions/upload-artifact@v6" and upload["with"]["name"] == "mutagate-shard-${{ matrix.shard }}"
    assert merge["needs"] == "shard" and merge["if"] == "${{ !cancelled() }}"
    merge_steps = {s.get("name") or s["uses"]: s for s in merge["steps"]}
    download = merge_steps["Download the shards' results"]["with"]
    assert download == {"pattern": "mutagate-shard-*", "path": "mutagate-shards", "merge-multiple": True}
    assert "mutagate merge mutagate-shards/mutagate-shard-*.duckdb" in merge_steps["Merge the shards into one run"]["run"]
    assert merge_steps["Restore the results history"]["uses"] == "actions/cache/restore@v5"
    assert merge_steps["Save the results history"]["uses"] == "actions/cache/save@v5"
    assert "actions/upload-pages-artifact@v4" in merge_steps
    assert publish["needs"] == "merge" and publish["steps"][0]["uses"] == "actions/deploy-pages@v5"
    # Without --shards: the single-job nightly, as before.
    again = mutagate("ci", "github", "--force", cwd=repo.root)
    assert again.returncode == 0 and "run" in yaml.safe_load((folder / "mutagate-nightly.yml").read_text())["jobs"]


def test_the_sharded_gitlab_nightly_has_a_parallel_job_and_a_merge(repo: GitRepo) -> None:
    _project(repo, PEP621)
    done = mutagate("ci", "gitlab", "--shards", "4", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    ci = yaml.safe_load((repo.root / "mutagate.gitlab-ci.yml").read_text())
    assert {"mutagate-mr", "mutagate-nightly-shard", "mutagate-nightly"} <= set(ci)
    shard, merge = ci["mutagate-nightly-shard"], ci["mutagate-nightly"]
    assert shard["parallel"] == 4 and shard["artifacts"]["paths"] == ["mutagate-shard-*.duckdb"]
    assert '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in shard["script"][0]
    assert merge["needs"] == ["mutagate-nightly-shard"] and "mutagate merge mutagate-shard-*.duckdb" in merge["script"][0]
    assert merge["cache"]["paths"] == [".mutagate/results.duckdb"]


def test_bad_shard_counts_are_one_line(repo: GitRepo) -> None:
    _project(repo, PEP621)
    for platform, bad, said in (("github", "1", "takes 2 to 256"), ("github", "257", "takes 2 to 256"),
                                ("gitlab", "201", "takes 2 to 200"), ("github", "0", "at least 1"),
                                ("gitlab", "x", "not a whole number")):
        assert_bad_input(mutagate("ci", platform, "--shards", bad, cwd=repo.root), "--shards", said)
    assert not (repo.root / ".github").exists() and not (repo.root / "mutagate.gitlab-ci.yml").exists()


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` step (or a GitLab script item) as the runner runs it: `bash --noprofile --norc -eo pipefail`."""
    path = Path(env["RUNNER_TEMP"]) / "step.sh"
    path.write_text(script)
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _runner_env(temp: Path, **more: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "CI_"))},
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(PROJECT),
            "RUNNER_TEMP": str(temp), "MUTAGATE_PROGRESS_SECONDS": "0", "MUTAGATE_PIP": "mutagate", **more}


def _verdicts(db: Path, run_id: str | None = None) -> dict[str, tuple[str, tuple[str, ...]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        run_id = run_id or con.execute("SELECT run_id FROM runs ORDER BY started DESC LIMIT 1").fetchone()[0]
        rows = con.execute("SELECT mutant_id, status, killed_by FROM outcomes WHERE run_id = ?", [run_id]).fetchall()
    # Killers sorted: they are recorded fastest first, by each baseline's own timings (which vary run to run).
    return {m: (s, tuple(sorted(k or ()))) for m, s, k in rows}


def _clone(origin: Path, where: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(origin), str(where)], check=True)
    return where


@pytest.mark.slow
def test_the_sharded_github_nightly_replayed_is_the_unsharded_run(tmp_path: Path) -> None:
    origin = build_sample(GitRepo(tmp_path / "origin"))
    whole = run_json(origin.root, tmp_path / "whole.duckdb", "--no-bail", jobs=2)
    written = mutagate("ci", "github", "--shards", "3", "--install", "mutagate", cwd=origin.root)
    assert written.returncode == 0, written.stderr
    workflow = yaml.safe_load((origin.root / ".github/workflows/mutagate-nightly.yml").read_text())
    temp = tmp_path / "runner"
    temp.mkdir()
    artifacts = tmp_path / "artifacts"  # what upload-artifact keeps, by artifact name
    job = workflow["jobs"]["shard"]
    for k in job["strategy"]["matrix"]["shard"]:
        checkout = _clone(origin.root, tmp_path / f"shard-{k}")  # each job on its own runner
        outputs = temp / f"output-{k}"
        outputs.touch()
        job_env = {name: str(value).replace("${{ matrix.shard }}", str(k)).replace("${{ github.ref_name }}", "main")
                   for name, value in job["env"].items()}
        env = _runner_env(temp, GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(outputs), **job_env)
        for step in job["steps"]:
            if "run" in step and not step["name"].startswith("Install"):  # the install is this venv
                done = _bash(step["run"], checkout, env)
                assert done.returncode == 0, (step["name"], done.stderr)
            elif step.get("uses", "").startswith("actions/upload-artifact"):
                name = step["with"]["name"].replace("${{ matrix.shard }}", str(k))
                path = step["with"]["path"].replace("${{ matrix.shard }}", str(k))
                (artifacts / name).mkdir(parents=True)
                shutil.copy(checkout / path, artifacts / name / Path(path).name)
    merge = workflow["jobs"]["merge"]
    checkout = _clone(origin.root, tmp_path / "merge")
    outputs = temp / "output-merge"
    outputs.touch()
    summary = temp / "summary.md"
    env = _runner_env(temp, GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(outputs), GITHUB_STEP_SUMMARY=str(summary))
    ran = []
    for step in merge["steps"]:
        uses = step.get("uses", "")
        if uses.startswith("actions/download-artifact"):  # pattern and merge-multiple: every file in one folder
            into = checkout / step["with"]["path"]
            into.mkdir()
            for folder in artifacts.glob(step["with"]["pattern"]):
                for file in folder.iterdir():
                    shutil.copy(file, into / file.name)
        elif "run" in step and not step["name"].startswith("Install") and step.get("if") is None:
            done = _bash(step["run"], checkout, env)
            assert done.returncode == 0, (step["name"], done.stderr)
            ran.append(step["name"])
    assert ran == ["Merge the shards into one run",
                   "Build the site (the dashboard, badge SVG, shields.io endpoint JSON, HTML report)"]
    assert "code=0" in outputs.read_text().splitlines()
    db = checkout / ".mutagate/results.duckdb"  # the history the cache saves
    assert _verdicts(db) == _verdicts(tmp_path / "whole.duckdb", whole["run_id"])
    assert {s for s, _ in _verdicts(db).values()} >= {"killed", "timeout", "survived", "no_coverage"}
    assert (checkout / "site/index.html").is_file() and (checkout / "site/report.html").is_file()
    assert json.loads((checkout / "site/badge.json").read_text())["message"].endswith("%")
    assert summary.read_text().startswith("## mutagate")  # the job summary, as the unsharded nightly writes it


@pytest.mark.slow
def test_the_sharded_gitlab_nightly_replayed_is_the_unsharded_run(tmp_path: Path) -> None:
    origin = build_sample(GitRepo(tmp_path / "origin"))
    whole = run_json(origin.root, tmp_path / "whole.duckdb", "--no-bail", jobs=2)
    written = mutagate("ci", "gitlab", "--shards", "2", "--install", "mutagate", cwd=origin.root)
    assert written.returncode == 0, written.stderr
    ci = yaml.safe_load((origin.root / "mutagate.gitlab-ci.yml").read_text())
    temp = tmp_path / "runner"
    temp.mkdir()
    shard = ci["mutagate-nightly-shard"]
    merge_checkout = _clone(origin.root, tmp_path / "merge")
    for k in range(1, shard["parallel"] + 1):
        checkout = _clone(origin.root, tmp_path / f"shard-{k}")
        env = _runner_env(temp, CI_NODE_INDEX=str(k), CI_NODE_TOTAL=str(shard["parallel"]), BRANCH_NAME="main")
        for item in shard["script"]:
            done = _bash(item, checkout, env)
            assert done.returncode == 0, done.stderr
        for pattern in shard["artifacts"]["paths"]:  # `needs:` hands the job's artifacts to the merge job
            for file in checkout.glob(pattern):
                shutil.copy(file, merge_checkout / file.name)
    env = _runner_env(temp, BRANCH_NAME="main")
    for item in ci["mutagate-nightly"]["script"]:
        done = _bash(item, merge_checkout, env)
        assert done.returncode == 0, done.stderr
    assert _verdicts(merge_checkout / ".mutagate/results.duckdb") == _verdicts(tmp_path / "whole.duckdb", whole["run_id"])
    assert (merge_checkout / "mutagate-site/badge.svg").is_file()
