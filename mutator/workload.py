"""What a run works on: the attributed lines in scope and the mutants made on them.

Plain values in, plain values out, so a Python caller (or a hook, or the demo) runs the same
path as the command line without building an argparse namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mutator.attribution import Attribution, Scope, attribute
from mutator.config import Config
from mutator.generate import generate_mutants
from mutator.git import Repo
from mutator.mutant import Mutant


@dataclass(frozen=True)
class Workload:
    attribution: Attribution
    config: Config
    mutants: tuple[Mutant, ...]
    one_per_line: bool  # PR mode: at most one mutant per line


def collect_workload(
    repo: Repo,
    scope: Scope,
    config: Config,
    one_per_line: bool | None = None,
    priority: Mapping[str, float] | None = None,
) -> Workload:
    """`one_per_line` None: PR mode with a base ref (unless the config turns it off), else every mutant.
    `priority`: operator -> how often its mutants survived in stored runs (PR mode picks by it)."""
    attribution = attribute(repo, scope, config)
    if one_per_line is None:
        one_per_line = bool(scope.base and config.pr_one_per_line)
    mutants = generate_mutants(attribution, config, one_per_line=one_per_line, priority=priority)
    return Workload(attribution, config, tuple(mutants), one_per_line)
