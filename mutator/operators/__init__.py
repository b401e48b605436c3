"""Mutation operators. Importing this package registers every operator in REGISTRY, in a fixed order."""

from __future__ import annotations

import fnmatch

from mutator.operators import ai_failures, classic, rows  # noqa: F401  (registration)
from mutator.operators.base import REGISTRY, Operator


def operator_names() -> list[str]:
    return [op.name for op in REGISTRY]


def enabled_operators(disabled: tuple[str, ...] = ()) -> list[Operator]:
    """Operators left after `disable-operators`: each entry is a name, a family, or a glob."""
    return [
        op
        for op in REGISTRY
        if not any(pattern == op.family or fnmatch.fnmatchcase(op.name, pattern) for pattern in disabled)
    ]


def default_priority() -> list[str]:
    """PR mode's pick order without history: the ranked operators, lowest rank first (ties in
    registration order). Unranked operators are left out: they come after all of these."""
    ranked = sorted((op.rank, index, op.name) for index, op in enumerate(REGISTRY) if op.rank is not None)
    return [name for _, _, name in ranked]
