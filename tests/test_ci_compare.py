"""The PR workflow that `mutagate ci github` writes, played step by step on a real repository: a real
`origin` with a nightly-like run of `main` stored in the results database (what the Actions cache hands
the PR job), a pull request branch with a new weakly tested AI change and a fix for one of main's
survivors, and the environment a GitHub runner sets. The shell of each `run:` step is the generated
file's own, run by bash as the runner runs it; `uses:` steps are GitHub's (the cache restore is the
copy of the nightly's database)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.cli import PROJECT, mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE, PRICES
from tests.sample_project import PRICES_TESTS as TESTS

pytestmark = pytest.mark.slow  # a CI job replayed: real nightly and PR runs compared

# An agent touches the boundary line (a comment): the line is in the PR's diff, its mutants keep their ids.
PRICES_TOUCHED = PRICES.replace("if price > 100:", "if price > 100:  # bulk orders")


BOUNDARY_TESTS = '''

def test_at_the_boundary():
    assert discount(100, 0.5) == 100
    assert discount(101, 0.5) == 50.5
'''

SHIPPING = '''
def shipping(weight):
    if weight > 10:
        return 5.0
    return 0.0
'''

WEAK_TEST = '''
from pkg.shipping import shipping


def test_shipping_runs():
    shipping(20)
'''

PYPROJECT = '''
[tool.mutagate]
timeout-floor = 2.0
'''

BRANCH = "agent/shipping"
SLUG = "acme/shop"


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` step as GitHub's ubuntu runner runs it: `bash --noprofile --norc -eo pipefail {0}`."""
    path = Path(env["RUNNER_TEMP"]) / "step.sh"
    path.write_text(script)
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _event(fork: bool) -> dict:
    head_repo = "someone/shop" if fork else SLUG
    return {
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"ref": BRANCH, "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "repo": {"full_name": SLUG}},
        },
        "repository": {"full_name": SLUG, "default_branch": "main"},
    }


@dataclass(frozen=True)
class Replay:
    workflow: dict
    checkout: Path
    env: dict[str, str]
    steps: dict[str, subprocess.CompletedProcess[str]]  # by step name, those that ran
    summary: str
    outputs: str
    nightly: dict  # `run --json` of main's nightly


def _condition(expression: str | None, event: dict, outputs: str) -> bool:
    """The `if:` expressions the generated PR workflow uses, evaluated as GitHub would; an expression
    this table does not know fails the test (so a changed workflow is replayed, not skipped)."""
    same_repo = event["pull_request"]["head"]["repo"]["full_name"] == event["repository"]["full_name"]
    known = {
        None: True,
        "github.event.pull_request.head.repo.full_name == github.repository": same_repo,
        "github.event.pull_request.head.repo.full_name != github.repository": not same_repo,
        "steps.run.outputs.code == '3'": "code=3" in outputs.splitlines(),
    }
    assert expression in known, f"the replay does not know the condition {expression!r}"
    return known[expression]


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Replay:
    base = tmp_path_factory.mktemp("ci")
    origin = GitRepo(base / "origin")
    origin.commit("human: project", files={"pyproject.toml": PYPROJECT, "pkg/__init__.py": "", "tests/__init__.py": ""})
    origin.commit(CLAUDE, files={"pkg/prices.py": PRICES})
    origin.commit("human: tests", files={"tests/test_prices.py": TESTS})

    # The nightly on main, in a clone as actions/checkout makes it (full history), its database kept.
    nightly_checkout = base / "nightly"
    subprocess.run(["git", "clone", "-q", str(origin.root), str(nightly_checkout)], check=True)
    nightly = mutagate("run", "--no-bail", "--json", "--jobs", "1", cwd=nightly_checkout, env={"BRANCH_NAME": "main"})
    assert nightly.returncode == 0, nightly.stderr

    # The pull request: a new AI function with a test that asserts nothing, and main's boundary fixed.
    origin.git("checkout", "-q", "-b", BRANCH)
    origin.commit(CLAUDE, files={"pkg/prices.py": PRICES_TOUCHED, "pkg/shipping.py": SHIPPING})
    origin.commit("human: tests", files={"tests/test_prices.py": TESTS + BOUNDARY_TESTS, "tests/test_shipping.py": WEAK_TEST})
    origin.git("checkout", "-q", "main")

    # The workflow, written by the real command into the repository it will run in.
    pr = base / "pr"
    subprocess.run(["git", "clone", "-q", str(origin.root), str(pr)], check=True)
    written = mutagate("ci", "github", "--install", "mutagate", cwd=pr)
    assert written.returncode == 0, written.stderr
    workflow = yaml.safe_load((pr / ".github/workflows/mutagate-pr.yml").read_text())
    subprocess.run(["git", "checkout", "-q", "--detach", f"origin/{BRANCH}"], cwd=pr, check=True)
    # The cache restore: the nightly's database.
    (pr / ".mutagate").mkdir()
    shutil.copy(nightly_checkout / ".mutagate/results.duckdb", pr / ".mutagate/results.duckdb")

    temp = base / "runner"
    temp.mkdir()
    event_path = temp / "event.json"
    event = _event(fork=False)
    event_path.write_text(json.dumps(event))
    summary, outputs = temp / "step_summary.md", temp / "output"
    summary.touch()
    outputs.touch()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "CI_"))},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(PROJECT),
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs),
        "GITHUB_BASE_REF": "main", "GITHUB_HEAD_REF": BRANCH, "GITHUB_REF": "refs/pull/7/merge",
        "GITHUB_REF_NAME": "7/merge", "GITHUB_REPOSITORY": SLUG, "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_SHA": subprocess.run(["git", "rev-parse", "HEAD"], cwd=pr, capture_output=True, text=True).stdout.strip(),
        "GITHUB_WORKSPACE": str(pr), "RUNNER_TEMP": str(temp), "MUTAGATE_PIP": "mutagate",
    }
    ran: dict[str, subprocess.CompletedProcess[str]] = {}
    for step in workflow["jobs"]["mutagate"]["steps"]:
        if "run" not in step or step["name"].startswith("Install"):  # GitHub's actions; the install is done
            continue
        if not _condition(step.get("if"), event, outputs.read_text()):
            continue
        ran[step["name"]] = _bash(step["run"], pr, env)
    return Replay(workflow, pr, env, ran, summary.read_text(), outputs.read_text(), json.loads(nightly.stdout))


def _step(replay: Replay, prefix: str) -> subprocess.CompletedProcess[str]:
    [name] = [n for n in replay.steps if n.startswith(prefix)]
    return replay.steps[name]


def test_the_notes_fetch_tolerates_an_origin_without_notes(replay) -> None:
    fetched = _step(replay, "Fetch attribution notes")
    assert fetched.returncode == 0, fetched.stderr


def test_the_run_step_fails_the_gate_but_lets_the_reports_go_out(replay) -> None:
    run = _step(replay, "Mutation run")
    assert run.returncode == 0, run.stderr  # the gate's verdict is carried to the last step
    assert "code=3" in replay.outputs.splitlines()
    assert "is below --fail-under 60%" in run.stderr
    gate = _step(replay, "Gate")
    assert gate.returncode == 3 and "::error title=mutagate::" in gate.stdout


def test_annotations_name_the_new_survivors_on_stdout(replay) -> None:
    run = _step(replay, "Mutation run")
    warnings = [line for line in run.stdout.splitlines() if line.startswith("::warning ")]
    assert warnings, run.stdout
    assert all(re.match(r"^::warning file=pkg/[a-z]+\.py,line=\d+,endLine=\d+,title=mutagate%3A [^:]+::", w) for w in warnings)
    assert any(w.startswith("::warning file=pkg/shipping.py,line=") for w in warnings)
    # the message is one line: its newlines are escaped
    assert all("%0A" in w for w in warnings)


def test_the_job_summary_holds_the_table(replay) -> None:
    assert "## mutagate: mutation score" in replay.summary
    assert "| agent | mutants | killed | timeout | survived | no coverage | score |" in replay.summary
    assert "| claude-code |" in replay.summary


def test_the_comment_compares_with_mains_nightly(replay) -> None:
    reports = _step(replay, "Reports")
    assert reports.returncode == 0, reports.stderr
    comment = (replay.checkout / "mutagate-comment.md").read_text()
    nightly_run = replay.nightly["run_id"]
    assert f"Compared with run {nightly_run} on `main`" in comment
    assert "| overall |" in comment and "| claude-code |" in comment
    # new survivors first, with links to the PR's commit, then the fixed survivor of main
    new, fixed = comment.index("### New undetected mutants"), comment.index("### Fixed")
    assert new < fixed
    assert f"https://github.com/{SLUG}/blob/{replay.env['GITHUB_SHA']}/pkg/shipping.py#L" in comment[new:fixed]
    main_survivors = {s["id"] for s in replay.nightly["survivors"] if s["file"] == "pkg/prices.py"}
    fixed_text = comment[fixed:]
    assert "pkg/prices.py:2" in fixed_text and "killed by `tests/test_prices.py::test_at_the_boundary`" in fixed_text
    assert "pkg/shipping.py" not in fixed_text
    assert main_survivors  # main really had the boundary survivors the PR fixes


def test_sarif_and_the_badge_endpoint_are_written(replay) -> None:
    sarif = json.loads((replay.checkout / "mutagate.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    badge = json.loads((replay.checkout / "mutagate-badge.json").read_text())
    assert badge["schemaVersion"] == 1 and badge["color"] == "red"


def test_a_fork_gets_the_report_in_the_job_summary_and_a_log_line(replay) -> None:
    steps = replay.workflow["jobs"]["mutagate"]["steps"]
    fork = _event(fork=True)
    skipped = [s.get("name", "") for s in steps if not _condition(s.get("if"), fork, "code=3")]
    assert any(n.startswith("Sticky PR comment") for n in skipped)
    assert any(n.startswith("Upload SARIF") for n in skipped)
    [step] = [s for s in steps if s.get("name", "").startswith("Pull request from a fork")]
    summary = Path(replay.env["RUNNER_TEMP"]) / "fork_summary.md"
    done = _bash(step["run"], replay.checkout, {**replay.env, "GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("::notice title=mutagate::This pull request comes from a fork")
    assert "### New undetected mutants" in summary.read_text()
    # the comment step finds its own comment by the hidden marker and updates it in place
    [comment] = [s for s in steps if s.get("name", "").startswith("Sticky PR comment")]
    script = comment["with"]["script"]
    assert "<!-- mutagate -->" in script and "updateComment" in script and "createComment" in script
    assert comment.get("continue-on-error") is True


def test_compare_to_a_run_id_and_to_a_base_with_no_run(replay) -> None:
    db = replay.checkout / ".mutagate/results.duckdb"
    by_id = mutagate("report", "--compare-to", replay.nightly["run_id"], "--db", str(db), cwd=replay.checkout)
    assert by_id.returncode == 0, by_id.stderr
    assert "### New undetected mutants" in by_id.stdout
    none = mutagate("report", "--compare-to", "base", "--db", str(db), cwd=replay.checkout,
                    env={"GITHUB_BASE_REF": "release"})
    assert none.returncode == 0, none.stderr
    assert "No finished run on `release` ($GITHUB_BASE_REF) to compare with yet" in none.stdout
    bad = mutagate("report", "--compare-to", "nope", "--db", str(db), cwd=replay.checkout)
    assert bad.returncode == 2 and "no run 'nope'" in bad.stderr
    wrong = mutagate("report", "--format", "sarif", "--compare-to", "base", "--db", str(db), cwd=replay.checkout)
    assert wrong.returncode == 2 and "--compare-to works with --format markdown" in wrong.stderr


# GitLab Code Quality: the fields GitLab's documentation lists for a report ("Code Quality report
# format"), as a JSON schema: an array of issues, each with these, severity one of GitLab's five.
CODE_QUALITY_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1, "not": {"pattern": "^/"}},
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1}}},
                },
            },
        },
    },
}


def test_codeclimate_report_validates_against_gitlabs_fields(replay) -> None:
    import jsonschema

    db = replay.checkout / ".mutagate/results.duckdb"
    out = replay.checkout / "gl-code-quality-report.json"
    done = mutagate("report", "--format", "codeclimate", "-o", str(out), "--db", str(db), cwd=replay.checkout)
    assert done.returncode == 0, done.stderr
    issues = json.loads(out.read_text())
    jsonschema.validate(issues, CODE_QUALITY_SCHEMA)
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(fingerprints) == len(set(fingerprints)) == 3  # unique: the PR run's three undetected mutants
    assert {(i["location"]["path"], i["location"]["lines"]["begin"], i["severity"]) for i in issues} == {
        ("pkg/shipping.py", 2, "major"), ("pkg/shipping.py", 3, "major"), ("pkg/shipping.py", 4, "minor")}
    assert all(i["check_name"].startswith("mutagate/") for i in issues)


def test_badge_per_agent_and_an_unknown_agent(replay) -> None:
    db = replay.checkout / ".mutagate/results.duckdb"
    badge = mutagate("badge", "--agent", "claude-code", "--format", "endpoint", "--db", str(db), cwd=replay.checkout)
    assert badge.returncode == 0, badge.stderr
    assert json.loads(badge.stdout) == {"schemaVersion": 1, "label": "mutation score (claude-code)",
                                        "message": "25.0%", "color": "red"}
    svg = mutagate("badge", "--agent", "claude-code", "--db", str(db), cwd=replay.checkout)
    assert svg.stdout.startswith("<?xml") and "claude-code" in svg.stdout
    unknown = mutagate("badge", "--agent", "cursor", "--db", str(db), cwd=replay.checkout)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "--agent cursor: no mutant of that agent" in unknown.stderr and "(agents: claude-code)" in unknown.stderr
