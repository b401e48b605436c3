"""`mutagate run`: the mutation run, with a live progress bar, a summary, and the score gate."""

from __future__ import annotations

import argparse

from mutator.config import CONFIRM_POLICIES
from scheduler.cli.common import (add_db_argument, add_scope_arguments, add_selection_arguments, budget_seconds, job_count,
                                  percent, scope_from_args, shard_spec, target_repo)
from scheduler.cli.display import perform_run
from scheduler.run_request import RunRequest


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="the mutation run: mutate AI lines, run the tests that cover them")
    add_scope_arguments(parser)
    add_selection_arguments(parser)
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="where the baseline's shards and the mutants run")
    parser.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster (default: a private local one)")
    parser.add_argument("--ray-shared-path", action="store_true",
                        help="every Ray node reads the run's snapshot at the driver's path (a shared file system) "
                             "instead of receiving it as the actors' runtime_env working_dir")
    parser.add_argument("--jobs", type=job_count, metavar="N",
                        help="parallel workers (default: this machine's cores; with Ray, the cluster's CPUs)")
    add_db_argument(parser)
    parser.add_argument("--fail-under", type=percent, metavar="PERCENT", help="exit 3 if the score is below this")
    parser.add_argument("--no-bail", action="store_true", default=None,
                        help="run every covering test of a killed mutant, to record every killer (nightly)")
    parser.add_argument("--confirm", choices=CONFIRM_POLICIES, default=None,
                        help="how survivors are confirmed: smart (default: the covering tests' classes or modules, "
                             "and tests that start processes), full (the whole suite), off (not at all: cheapest)")
    parser.add_argument("--fresh-baseline", action="store_true",
                        help="measure the whole suite, not only what changed since a stored coverage map")
    parser.add_argument("--coverage-map", action="store_true", default=None,
                        help="measure the baseline under coverage.py and store its map of every line, for later runs "
                             "to reuse (the nightly's choice; default: probes in the mutated statements only, about "
                             "the plain suite's price)")
    parser.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                        help="leave out a known-failing test (repeatable)")
    parser.add_argument("--python", metavar="PATH", help="the target's interpreter (default: this one)")
    parser.add_argument("--budget", type=budget_seconds, metavar="SECONDS",
                        help="the whole run's time (baseline included): mutants run best first while they fit, "
                             "the rest are not run (default: [tool.mutagate] budget, else no limit)")
    parser.add_argument("--shard", type=shard_spec, metavar="K/N",
                        help="run only part K of N of the run's mutants (split by stable mutant id; each shard "
                             "its own --db), for `mutagate merge` to put back together")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    retest = parser.add_mutually_exclusive_group()
    retest.add_argument("--survivors", action="store_true",
                        help="retest only the undetected mutants of a run (--run, default the latest) against "
                             "the current tests, and say which are fixed")
    retest.add_argument("--mutant", action="append", default=[], metavar="ID",
                        help="run only this mutant (a unique prefix of its id is enough; repeatable)")
    parser.add_argument("--run", dest="of_run", metavar="ID", help="with --survivors: the run whose survivors to retest")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="limit to these files or folders")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    repo = target_repo(args)
    return perform_run(RunRequest(
        repo=repo, scope=scope_from_args(args, repo), one_per_line=args.one_per_line, executor=args.executor,
        jobs=args.jobs, ray_address=args.ray_address, ray_shared_path=args.ray_shared_path, db=args.db,
        fail_under=args.fail_under, no_bail=args.no_bail, deselect=tuple(args.deselect), python=args.python,
        json=args.json, mutants=tuple(args.mutant), confirm=args.confirm, budget=args.budget,
        fresh_baseline=args.fresh_baseline,
        coverage_map=args.coverage_map, shard=args.shard,
        survivors_of=(args.of_run or "") if args.survivors else None))
