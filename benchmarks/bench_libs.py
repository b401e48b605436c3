"""Real-library test beds for issue 22: sqlite-utils and Python-Markdown, PR- and nightly-sized runs.

Like bench_suite.py (dateutil), each bed is a PyPI sdist (cached in benchmarks/.cache) given a
synthetic history: a human commit of the library without the AI regions (and with a `# draft` copy of
the PR's region, so that the PR's base passes its tests), then one Claude Code commit per region
(trailer `Co-Authored-By: Claude <noreply@anthropic.com>`); the PR is the last commit, `pr-base`..HEAD.
The repository is kept in benchmarks/.cache/<lib>-repo, so a run can be repeated there by hand.

- sqlite-utils 4.2.1 (the latest sdist on PyPI; it ships tests/): Claude Code rewrites
  `hash_record` and `flatten` in sqlite_utils/utils.py and `Migrations.pending/applied/apply` in
  sqlite_utils/migrations.py, then `dedupe_keys()` in utils.py (the PR); every AI line at HEAD is
  the nightly-sized set.
- Markdown 3.11.3: the table-like registration code. simonw/llm, the issue's example, is not usable
  here: none of llm's sdists on PyPI (0.19, 0.27.1, 0.36 checked) ships its tests, and github.com is
  not reachable from this machine. Python-Markdown's `build_inlinepatterns()` is the same shape — a
  run of `inlinePatterns.register(XProcessor(X_RE, md), 'name', priority)` calls and a table of
  `X_RE = r'...'` constants — covered by most of its ~1,200 tests (every conversion runs them).
  Claude Code rewrites that region and the three smaller `build_*processors()` tables (the nightly
  set, with the PR), then the PR rewrites `build_block_parser()`, a
  table of 11 `parser.blockprocessors.register(XProcessor(parser), 'name', priority)` calls.

Test requirements, installed into this interpreter if missing (listed in pyproject's `bench` extra):
sqlite-utils needs click-default-group, python-dateutil, sqlite-fts4, tabulate, cogapp, hypothesis;
Markdown needs PyYAML.

For each bed the script measures plain pytest (best of two, the yardstick: as on a fresh CI checkout,
no bytecode written, and `plain_pytest_warm_seconds` as on a developer's machine, from the bytecode of
a first run), `mutagate run --base pr-base` (PR-sized, no stored map) as a machine's first run (a new,
empty ~/.cache/mutagate) and again with the cache it filled (`pr`, as in CI that keeps the cache, or on
a developer's machine), and, with that cache too, `mutagate run --every-mutant` (nightly-sized, every AI line), each with its
phase times from `--json`'s `timings`, verdict counts and the forecast it printed.

    python benchmarks/bench_libs.py --lib sqlite-utils --prepare-only   # builds the repo, prints its path
    python benchmarks/bench_libs.py --lib markdown                      # measures one bed
    python benchmarks/bench_libs.py --lib markdown --grouping off on    # table grouping off, then on
    python benchmarks/bench_libs.py                                     # both; writes bench_libs.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench_suite import Region, ai_lines, build_history, plain_pytest, pr_against_plain, run_mutagate

HERE = Path(__file__).parent
CACHE = HERE / ".cache"


@dataclass(frozen=True)
class Bed:
    name: str
    spec: str  # pip requirement of the sdist
    root: str  # the sdist's top folder
    requirements: dict[str, str]  # module the tests import -> pip name
    files: dict[str, str]  # written into the tree before the human's commit
    nightly: list[Region]
    pr: Region
    human_message: str


SQLITE_UTILS = Bed(
    name="sqlite-utils",
    spec="sqlite-utils==4.2.1",
    root="sqlite_utils-4.2.1",
    requirements={"click_default_group": "click-default-group", "dateutil": "python-dateutil",
                  "sqlite_fts4": "sqlite-fts4", "tabulate": "tabulate", "cog": "cogapp",
                  "hypothesis": "hypothesis"},
    files={
        "pytest.ini": "[pytest]\ntestpaths = tests\naddopts = -p no:cacheprovider\n",
        "pyproject.toml+": '\n[tool.mutagate]\nsource = ["sqlite_utils"]\ntests = ["tests"]\n',
    },
    nightly=[
        ("sqlite_utils/utils.py", 585, 614, "claude"),  # hash_record
        ("sqlite_utils/utils.py", 647, 662, "claude"),  # _flatten, flatten
        ("sqlite_utils/migrations.py", 68, 145, "claude"),  # Migrations.pending, applied, apply
    ],
    pr=("sqlite_utils/utils.py", 616, 645, "claude"),  # dedupe_keys(): 28 AI lines, 15 mutants
    human_message="sqlite-utils without three regions of utils.py and migrations.py",
)

MARKDOWN = Bed(
    name="markdown",
    spec="markdown==3.11.3",
    root="markdown-3.11.3",
    requirements={"yaml": "PyYAML"},
    files={
        "pytest.ini": ("[pytest]\ntestpaths = tests\naddopts = -p no:cacheprovider\n"),
        # test_md_in_html imports unittest.TestSuite by name; pytest 9 refuses to collect it as a class.
        "conftest.py": ("def pytest_pycollect_makeitem(collector, name, obj):\n"
                        "    if name == \"TestSuite\":  # unittest's, imported by a test module: not a test\n"
                        "        return []\n"),
        "pyproject.toml+": '\n[tool.mutagate]\nsource = ["markdown"]\ntests = ["tests"]\n',
    },
    nightly=[
        # build_inlinepatterns(): 14 register() calls, then the table of *_RE constants they use.
        ("markdown/inlinepatterns.py", 54, 145, "claude"),
        ("markdown/treeprocessors.py", 39, 45, "claude"),  # the other build_*() registration tables
        ("markdown/preprocessors.py", 37, 42, "claude"),
        ("markdown/postprocessors.py", 39, 44, "claude"),
    ],
    pr=("markdown/blockprocessors.py", 42, 56, "claude"),  # build_block_parser(): 11 register() calls
    human_message="Markdown without its inline pattern table, and a draft of the block parser's",
)

BEDS = {bed.name: bed for bed in (SQLITE_UTILS, MARKDOWN)}


def sdist(bed: Bed) -> Path:
    CACHE.mkdir(exist_ok=True)
    found = sorted(CACHE.glob(f"{bed.root}.tar.gz"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        bed.spec, "-d", str(CACHE)], check=True)
        found = sorted(CACHE.glob(f"{bed.root}.tar.gz"))
    return found[0]


def ensure_test_requirements(bed: Bed) -> None:
    missing = [pip for module, pip in bed.requirements.items() if subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True).returncode]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)


def prepare(bed: Bed) -> Path:
    """benchmarks/.cache/<lib>-repo, built afresh: the sdist, the bed's files, the synthetic history."""
    repo = CACHE / f"{bed.name}-repo"
    if repo.exists():
        shutil.rmtree(repo)
    unpacked = CACHE / f"{bed.name}-unpack"
    shutil.rmtree(unpacked, ignore_errors=True)
    with tarfile.open(sdist(bed)) as tar:
        tar.extractall(unpacked, filter="data")
    (unpacked / bed.root).rename(repo)
    unpacked.rmdir()
    for name, text in bed.files.items():
        if name.endswith("+"):
            target = repo / name[:-1]
            target.write_text(target.read_text() + text)
        else:
            (repo / name).write_text(text)
    build_history(repo, bed.nightly, bed.pr, bed.human_message)
    return repo


def set_grouping(repo: Path, on: bool) -> None:
    """`group-tables` in the bed's [tool.mutagate] (the last table of its pyproject.toml), uncommitted."""
    path = repo / "pyproject.toml"
    lines = [line for line in path.read_text().splitlines(keepends=True) if not line.startswith("group-tables")]
    path.write_text("".join(lines) + ("" if on else "group-tables = false\n"))


def measure(bed: Bed, repo: Path, jobs: int, groupings: list[str], rounds: int) -> dict:
    """Each run once per grouping (`off`: every table row mutated, as before issue 22's item 3), the
    PR `rounds` times alternated with plain pytest; `pr` and `nightly` are the first grouping's,
    `pr_grouping_on` etc. the others'. The first-run case is measured before the alternated rounds,
    against the plain suite measured before it."""
    plain, plain_warm = plain_pytest(repo), plain_pytest(repo, warm=True)
    dbs = CACHE / f"{bed.name}-dbs"
    shutil.rmtree(dbs, ignore_errors=True)
    dbs.mkdir()
    figures: dict = {"library": bed.spec, "repo": str(repo.relative_to(HERE.parent)),
                     "plain_pytest_seconds": round(plain, 2), "plain_pytest_warm_seconds": round(plain_warm, 2)}
    # The PR as a machine's first run: nothing in ~/.cache/mutagate (no compiled standard library,
    # no rewritten test modules kept by an earlier run). It fills a cache the runs below then use.
    machine_cache = {"XDG_CACHE_HOME": tempfile.mkdtemp(prefix="mutagate-cache-")}
    first, _ = run_mutagate(repo, jobs, "--base", "pr-base", "--db", str(dbs / "pr_first_run.duckdb"), env=machine_cache)
    first["ratio_to_plain_pytest"] = round(first["wall_seconds"] / plain, 2)
    figures["pr_first_run_on_the_machine"] = first
    verdicts: dict[str, dict[str, str]] = {}
    for i, grouping in enumerate(groupings):
        set_grouping(repo, grouping == "on")
        suffix = "" if i == 0 else f"_grouping_{grouping}"
        (dbs / f"pr{suffix}").mkdir()
        plain_alternated, pr, _ = pr_against_plain(repo, jobs, rounds, "--base", "pr-base", dbs=dbs / f"pr{suffix}",
                                                   env=machine_cache)
        plain = min(plain, plain_alternated)  # the yardstick of the nightly-sized runs
        figures["plain_pytest_seconds"] = round(plain, 2)
        pr["ai_lines"] = ai_lines(repo, "--base", "pr-base")  # its ratios: against the plain runs it alternated with
        pr["ratio_to_warm_plain_pytest"] = round(pr["wall_seconds"] / plain_warm, 2)
        pr["group_tables"] = grouping
        figures["pr" + suffix] = pr
        nightly, verdicts[grouping] = run_mutagate(repo, jobs, "--every-mutant", "--db",
                                                   str(dbs / f"nightly{suffix}.duckdb"), env=machine_cache)
        nightly["ai_lines"] = ai_lines(repo)
        nightly["ratio_to_plain_pytest"] = round(nightly["wall_seconds"] / plain, 2)
        nightly["ratio_to_warm_plain_pytest"] = round(nightly["wall_seconds"] / plain_warm, 2)
        nightly["group_tables"] = grouping
        figures["nightly" + suffix] = nightly
    shutil.rmtree(machine_cache["XDG_CACHE_HOME"], ignore_errors=True)
    set_grouping(repo, True)
    if {"on", "off"} <= set(verdicts):
        # A representative's verdict against the verdicts of the rows it stands for, run one by one.
        off, on = (dbs / "nightly.duckdb", dbs / "nightly_grouping_on.duckdb") if groupings[0] == "off" else (
            dbs / "nightly_grouping_off.duckdb", dbs / "nightly.duckdb")
        done = subprocess.run([sys.executable, str(HERE / "table_agreement.py"), str(off), str(on)], cwd=repo,
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(HERE.parent)})
        figures["table_rows_vs_representative"] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=sorted(BEDS), action="append", help="one bed (repeatable); default all")
    parser.add_argument("--prepare-only", action="store_true", help="build the repo(s), print the path(s)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=HERE / "bench_libs.json")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the PR: this many runs, alternated with plain pytest (the best of each)")
    parser.add_argument("--grouping", nargs="+", choices=["off", "on"], default=["on"],
                        help="table grouping (group-tables) for the runs; `off on` measures both")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    beds = [BEDS[name] for name in args.lib or sorted(BEDS)]
    for bed in beds:
        ensure_test_requirements(bed)
    if args.prepare_only:
        for bed in beds:
            print(prepare(bed))
        return
    figures: dict = json.loads(args.out.read_text()) if args.out.is_file() else {}
    figures["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    figures["jobs"] = args.jobs
    for bed in beds:
        figures[bed.name] = measure(bed, prepare(bed), args.jobs, args.grouping, args.rounds)
        print(json.dumps(figures[bed.name], indent=2))
        args.out.write_text(json.dumps(figures, indent=2) + "\n")  # one bed's figures kept if the next fails


if __name__ == "__main__":
    main()
