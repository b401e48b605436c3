"""An operator is one module: its context (Preparers) and its PR-mode rank live with it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import libcst as cst
import pytest

from mutator.config import Config
from mutator.generate import generate_file, select_one_per_line
from mutator.mutant import Edit, Mutant
from mutator.operators import default_priority
from mutator.operators.base import REGISTRY, Ctx, Operator, Preparer, operator

# PR mode's pick order without history, as it was hard-coded before ranks existed.
DOCUMENTED_PRIORITY = [
    "remove-guard", "swallow-exception", "broaden-except", "remove-raise", "comparison-boundary",
    "slice-off-by-one", "range-off-by-one", "index-off-by-one", "drop-keyword-argument", "dict-get-default",
    "swap-arguments", "method-swap", "sorted-reverse", "min-max", "any-all", "remove-early-return",
    "comparison-negate", "boolean-operator", "remove-not", "return-value", "arithmetic", "row-rank", "number",
]


@pytest.fixture
def registry() -> Iterator[list[Operator]]:
    """REGISTRY, restored afterwards: other tests check it holds exactly the real operators."""
    saved = list(REGISTRY)
    try:
        yield REGISTRY
    finally:
        REGISTRY[:] = saved  # in place: every module shares this one list


def gen(source: str, config: Config = Config()) -> list[Mutant]:
    source = textwrap.dedent(source).lstrip("\n")
    return generate_file("m.py", source, {n: "claude-code" for n in range(1, source.count("\n") + 2)}, config)


def test_a_preparer_feeds_its_operator_and_runs_only_when_an_operator_declaring_it_is_enabled(
    registry: list[Operator],
) -> None:
    calls: list[str] = []

    def enter_loop(node: cst.CSTNode, ctx: Ctx) -> None:
        calls.append("enter for")
        ctx.facts["loop-depth"] = ctx.facts.get("loop-depth", 0) + 1

    def leave_loop(node: cst.CSTNode, ctx: Ctx) -> None:
        calls.append("leave for")
        ctx.facts["loop-depth"] -= 1

    def enter_if(node: cst.CSTNode, ctx: Ctx) -> None:
        calls.append("enter if")

    def leave_if(node: cst.CSTNode, ctx: Ctx) -> None:
        calls.append("leave if")

    loops = Preparer(cst.For, enter_loop, leave_loop)
    ifs = Preparer(cst.If, enter_if, leave_if)

    @operator("loop-depth", "test-only", cst.Integer, ("1", "10"), prepares=(loops, ifs))
    def loop_depth(node: cst.CSTNode, ctx: Ctx) -> Iterator[Edit]:
        assert isinstance(node, cst.Integer)
        yield ctx.replace(node, f"{node.value}{ctx.facts.get('loop-depth', 0)}")

    # A second operator declaring the same preparer must not make it run twice per node.
    @operator("loop-depth-twin", "test-only", cst.Float, ("1.5", "1.5"), prepares=(loops,))
    def loop_depth_twin(node: cst.CSTNode, ctx: Ctx) -> Iterator[Edit]:
        return iter(())

    source = """
        a = 1
        for x in xs:
            b = 2
            for y in ys:
                c = 3
        d = 4
        if ok:
            e = 5
        if TYPE_CHECKING:
            f = 6
    """
    mutants = gen(source)
    # Depth at each integer: the preparer's on_visit and on_leave reached the operator through ctx.
    assert {m.original: m.replacement for m in mutants if m.operator == "loop-depth"} == {
        "1": "10", "2": "21", "3": "32", "4": "40", "5": "50",
    }
    # Once per node despite two declarers; never for the arid `if TYPE_CHECKING:` (not even on_leave).
    assert calls == ["enter for", "enter for", "leave for", "leave for", "enter if", "leave if"]

    calls.clear()
    gen(source, Config(disable_operators=("loop-depth",)))
    assert calls == ["enter for", "enter for", "leave for", "leave for"]  # the twin still needs `loops`

    calls.clear()
    assert not [m for m in gen(source, Config(disable_operators=("test-only",))) if m.operator.startswith("loop")]
    assert calls == []


def test_builtin_context_is_computed_only_for_enabled_operators() -> None:
    # Guard exits are marked only when remove-guard is on; then its `pass` covers the exit itself.
    source = """
        def f(x):
            if x is None:
                raise ValueError(x)
            return x
    """
    assert {m.operator for m in gen(source) if m.original.startswith("raise")} == set()
    without_guard = gen(source, Config(disable_operators=("remove-guard",)))
    assert {m.operator for m in without_guard if m.original.startswith("raise")} == {"remove-raise"}


def test_default_priority_is_the_documented_order() -> None:
    assert default_priority() == DOCUMENTED_PRIORITY
    ranks = [op.rank for op in REGISTRY if op.rank is not None]
    assert len(ranks) == len(set(ranks)), "two operators share a rank: their PR-mode order would be arbitrary"


def test_a_new_operators_rank_places_it_in_pr_mode(registry: list[Operator]) -> None:
    @operator("first-pick", "test-only", cst.Integer, ("1", "2"), rank=1)
    def first_pick(node: cst.CSTNode, ctx: Ctx) -> Iterator[Edit]:
        yield ctx.replace(node, "2")

    assert default_priority()[:2] == ["first-pick", "remove-guard"]
    (chosen,) = select_one_per_line(gen("x = a + 1\n"))
    assert chosen.operator == "first-pick"
