"""What an operator is, and the context it sees.

An operator is a function `(node, ctx) -> Iterable[Edit]` registered for one libcst node type.
It emits exact byte-range edits, usually of a single token (the `+` of `a + b`), so that the
replacement never depends on how libcst would re-render the surrounding code.

An operator that needs more than its node (is this `raise` inside an `except`?) declares
Preparers: hooks the visitor runs on entering and leaving a node type, before any operator sees
that node, which record the facts in `Ctx`. So a new operator, its context and its PR-mode rank
all live in the one module that defines it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import CodeSpan

from mutator.mutant import Edit

OperatorFunc = Callable[[cst.CSTNode, "Ctx"], Iterable[Edit]]
PrepareFunc = Callable[[cst.CSTNode, "Ctx"], None]


@dataclass(frozen=True)
class Preparer:
    """Context for operators, kept up to date in `Ctx` as the visitor walks the tree.

    `on_visit` runs when the visitor enters a node of exactly `node_type` (before the operators
    see that node), `on_leave` when it leaves it (to undo a count or a stack push). A preparer
    runs once per node however many enabled operators declare it, and never when none does: a
    disabled operator costs nothing and leaves no facts behind for the others.
    """

    node_type: type[cst.CSTNode]
    on_visit: PrepareFunc
    on_leave: PrepareFunc | None = None


@dataclass(frozen=True)
class Operator:
    name: str  # the id users see and disable, e.g. "comparison-boundary"
    family: str  # a group users can disable at once, e.g. "comparison"
    node_type: type[cst.CSTNode]
    func: OperatorFunc
    example: tuple[str, str]  # (before, after), for docs/operators.md and `--help`
    ai_failure_mode: bool = False
    # Place in PR mode's pick order without history (lower first; None: after every ranked one).
    # Spaced by 10 so a new operator slots in without renumbering the others.
    rank: int | None = None
    prepares: tuple[Preparer, ...] = ()  # the context `func` reads from Ctx beyond its node


REGISTRY: list[Operator] = []


def operator(
    name: str,
    family: str,
    node_type: type[cst.CSTNode],
    example: tuple[str, str],
    ai: bool = False,
    *,
    rank: int | None = None,
    prepares: tuple[Preparer, ...] = (),
) -> Callable[[OperatorFunc], OperatorFunc]:
    def register(func: OperatorFunc) -> OperatorFunc:
        REGISTRY.append(Operator(name, family, node_type, func, example, ai, rank, prepares))
        return func

    return register


@dataclass
class Ctx:
    """The file being mutated, and the structural facts operators need about the current node."""

    source: bytes
    module: cst.Module
    spans: Mapping[cst.CSTNode, CodeSpan]
    # Filled by the preparers of the operators that read them (see operators/ai_failures.py).
    handler_depth: int = 0  # > 0 inside an `except` block
    guard_exits: set[int] = field(default_factory=set)  # id() of return/raise that is a removable guard's body
    tail_returns: set[int] = field(default_factory=set)  # id() of returns that end their function
    # Per-file scratch space for the preparers of operators defined elsewhere, so a new operator's
    # context needs no field here; key it by the operator's name.
    facts: dict[str, Any] = field(default_factory=dict)
    arid: Callable[[cst.CSTNode], str | None] = lambda node: None  # why a node is arid, or None

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        s = self.spans[node]
        return s.start, s.start + s.length

    def text(self, node: cst.CSTNode) -> str:
        start, end = self.span(node)
        return self.source[start:end].decode("utf-8")

    def replace(self, node: cst.CSTNode, replacement: str) -> Edit:
        start, end = self.span(node)
        return Edit(start, end, replacement)

    def replace_range(self, first: cst.CSTNode, last: cst.CSTNode, replacement: str) -> Edit:
        return Edit(self.span(first)[0], self.span(last)[1], replacement)

    def between(self, first: cst.CSTNode, second: cst.CSTNode) -> str:
        return self.source[self.span(first)[1] : self.span(second)[0]].decode("utf-8")


# Shared helpers for operators -------------------------------------------------------------------

ATOMS = (cst.Name, cst.Integer, cst.Float, cst.Attribute, cst.Call, cst.Subscript, cst.SimpleString)


def int_value(node: cst.CSTNode) -> int | None:
    """The value of an integer literal, including a negated one (`-1`)."""
    if isinstance(node, cst.Integer):
        return int(ast.literal_eval(node.value))
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, cst.Integer)
        and not node.lpar
    ):
        return -int(ast.literal_eval(node.expression.value))
    return None


def shifted(node: cst.BaseExpression, ctx: Ctx, delta: int) -> str:
    """Source for `node + delta`: a literal is recomputed, anything else gets `+ 1` / `- 1`."""
    value = int_value(node)
    if value is not None:
        return str(value + delta)
    text = ctx.text(node)
    if not isinstance(node, ATOMS) or node.lpar:
        text = f"({text})"
    return f"{text} {'+' if delta > 0 else '-'} {abs(delta)}"


def is_none(node: cst.CSTNode | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def call_name(node: cst.Call) -> str:
    """Dotted name of what is called: `os.environ.get`; `get_logger().info` gives `info`."""
    parts: list[str] = []
    func: cst.BaseExpression = node.func
    while isinstance(func, cst.Attribute):
        parts.append(func.attr.value)
        func = func.value
    if isinstance(func, cst.Name):
        parts.append(func.value)
    return ".".join(reversed(parts))


def remove_arg(call: cst.Call, index: int, ctx: Ctx) -> Edit:
    """Drop argument `index` of `call` together with the comma that joins it to a neighbour."""
    args = call.args
    arg = args[index]
    if index > 0:  # from the end of the previous argument: ", key=3"
        return Edit(ctx.span(args[index - 1])[1], ctx.span(arg)[1], "")
    if len(args) > 1:  # first of several: up to the start of the next one, "key=3, "
        return Edit(ctx.span(arg)[0], ctx.span(args[1])[0], "")
    return ctx.replace(arg, "")
