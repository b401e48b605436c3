"""What a run works on: the attributed lines in scope and the mutants made on them.

Plain values in, plain values out, so a Python caller (or a hook, or the demo) runs the same
path as the command line without building an argparse namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from mutator.attribution import Attribution, Scope, attribute
from mutator.config import Config
from mutator.errors import BadInput
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


def keep_mutants(workload: Workload, wanted: tuple[str, ...], prefixes: bool = True) -> tuple[Workload, tuple[str, ...]]:
    """Only the mutants named in `wanted` (stable ids; with `prefixes`, a unique prefix is enough);
    returns the workload and the names that match no mutant of the current code (its code changed,
    or a typo). An ambiguous prefix is bad input, with its candidates."""
    keep: dict[str, Mutant] = {}
    missing = []
    for name in wanted:
        found = [m for m in workload.mutants if m.id == name or (prefixes and m.id.startswith(name))]
        exact = [m for m in found if m.id == name]
        if exact:
            found = exact
        if len(found) > 1:
            shown = ", ".join(m.id for m in found[:5])
            raise BadInput(f"mutant id {name!r} is ambiguous: {shown}{' ...' if len(found) > 5 else ''}")
        if found:
            keep[found[0].id] = found[0]
        else:
            missing.append(name)
    return replace(workload, mutants=tuple(m for m in workload.mutants if m.id in keep)), tuple(missing)
