"""`mutagate ci github|gitlab [-o DIR] [--force] [--install SPEC]`: the CI files for the per-PR gate and the
nightly run, filled in from the project; says what it guessed, what it wrote and the one step left."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.text import Text

from scheduler.ci.files import write_new
from mutator.errors import BadInput
from scheduler.ci.github import MAX_GITHUB_SHARDS, github_workflows
from scheduler.ci.gitlab import MAX_GITLAB_SHARDS, gitlab_ci
from scheduler.ci.install import install_spec
from scheduler.ci.project import read_project
from scheduler.cli.common import positive_int, stdout_console, target_repo


def register(commands: argparse._SubParsersAction) -> None:
    ci = commands.add_parser("ci", help="write the CI files: the per-PR gate and comment, the nightly run and badge")
    platforms = ci.add_subparsers(dest="platform", metavar="PLATFORM")
    platforms.required = True
    for name, where, what in (
        ("github", ".github/workflows", "GitHub Actions: mutagate-pr.yml and mutagate-nightly.yml"),
        ("gitlab", "the repository root", "GitLab CI: mutagate.gitlab-ci.yml (and .gitlab-ci.yml including it, if none)"),
    ):
        parser = platforms.add_parser(name, help=what, description=what)
        parser.add_argument("-o", "--output", type=Path, metavar="DIR", help=f"write into DIR (default: {where})")
        parser.add_argument("--force", action="store_true", help="overwrite files that exist")
        parser.add_argument("--install", metavar="SPEC",
                            help="how CI installs mutagate, as a pip requirement (default: pinned to this copy's "
                                 "origin: its git URL and commit, else mutagate==VERSION)")
        parser.add_argument("--shards", type=positive_int, metavar="N",
                            help="split the nightly over N parallel jobs (`mutagate run --shard K/N`), then merge "
                                 "them in one job (`mutagate merge`) that publishes as the unsharded nightly does")
        parser.set_defaults(handler=run_ci)


def run_ci(args: argparse.Namespace) -> int:
    limit = MAX_GITHUB_SHARDS if args.platform == "github" else MAX_GITLAB_SHARDS
    if args.shards is not None and not 2 <= args.shards <= limit:
        where = "a GitHub Actions matrix" if args.platform == "github" else "GitLab's parallel:"
        raise BadInput(f"--shards {args.shards}: {where} takes 2 to {limit} jobs")
    repo = target_repo(args)
    project = read_project(repo.root)
    spec, why = install_spec(args.install)
    output = args.output.resolve() if args.output else None
    if args.platform == "github":
        folder = output or repo.root / ".github" / "workflows"
        generated = github_workflows(project, folder, spec, why, args.shards)
    else:
        generated = gitlab_ci(project, output or repo.root, spec, why, write_root_ci=output is None, shards=args.shards)
    written = write_new(generated.files, args.force)
    console = stdout_console()
    console.print(Text("what mutagate read and guessed (the files' header says the same):"))
    for line in (*project.said, f"mutagate installed in CI as {json.dumps(spec)} ({why})"):
        console.print(Text(f"  {line}"), soft_wrap=True)
    for path in written:
        console.print(Text(f"wrote {_shown(path, repo.root)}"), soft_wrap=True)
    console.print(Text(f"badge for your README: {generated.badge_markdown}"), soft_wrap=True)
    console.print(Text.assemble(("one step left: ", "bold"), generated.manual_step), soft_wrap=True)
    return 0


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)
