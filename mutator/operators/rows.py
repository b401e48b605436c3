"""`row-rank`: a number in a row of similar calls moved past the same number of its neighbour row.

Registration code ranks its rows by a number (`register(CodeBlockProcessor(p), 'code', 80)` beside
`'indent', 90` and `'hashheader', 70`). `number`'s `80 -> 81` keeps every row's rank there: an
equivalent mutant, which survives and costs every test that builds the registry (on Markdown, all
15 `number` survivors of its nightly, each ~0.75 of the suite). What an agent gets wrong in such a
table is a row out of place, or a neighbour's value copied with the row: so the row's number goes
just past its neighbour's (`80 -> 69`, `'code'` now after `'hashheader'`), which a suite that checks
the order kills, and which stays a wrong value where the column is not a rank (`max_tokens=4096` in
a row beside `8192` -> 8193). Rows are siblings that call the same function (tables.py); a
neighbour's counterpart is the number at the same place of its row, in the same argument (the same
keyword, or both positional); a number keeps `number`'s mutant where no neighbour row holds a
different one there.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from mutator.mutant import Edit
from mutator.operators.base import Ctx, Preparer, int_value, operator
from mutator.tables import node_positions, sibling_runs

NAME = "row-rank"


def _past(value: int, neighbour: int) -> int | None:
    """A value on the other side of `neighbour` from `value`; None if there is none (equal, or it would
    go below zero, where the literal would change its sign)."""
    if neighbour > value:
        return neighbour + 1
    if neighbour < value and neighbour >= 1:
        return neighbour - 1
    return None


def _mark_rows(module: cst.Module, ctx: Ctx) -> None:
    """ctx.facts[NAME]: id() of each number in a row -> its replacement. A table nested in another's
    rows comes after it, and claims its own numbers."""
    targets: dict[int, int] = {}
    for run in sibling_runs(module):
        places = [{path: node for node, path in node_positions(row).items()} for row in run]
        for at, mine in enumerate(places):
            neighbours = [places[i] for i in (at + 1, at - 1) if 0 <= i < len(places)]  # the next row first
            for path, node in mine.items():
                if not isinstance(node, cst.Integer) or len(path) < 2:
                    continue
                for theirs in neighbours:
                    counterpart = theirs.get(path)
                    if isinstance(counterpart, cst.Integer) and _same_slot(mine, theirs, path):
                        value = _past(int_value(node), int_value(counterpart))
                        if value is not None:
                            targets[id(node)] = value
                            break
    ctx.facts[NAME] = targets


def _same_slot(mine: dict, theirs: dict, path: tuple[int, ...]) -> bool:
    """Two numbers at one place of their rows hold the same slot: an argument of calls with as many
    positional arguments and no unpacking (the same keyword, or both positional), an element of
    containers of one kind and length, or a dict entry's key or value. Anything else (a slice's
    bound, an operand, a number with a sign) is not a row's value: `number` keeps it."""
    holder, other = mine[path[:-1]], theirs.get(path[:-1])
    outer, other_outer = mine[path[:-2]], theirs.get(path[:-2])
    if isinstance(holder, cst.Arg) and isinstance(other, cst.Arg):
        return (_keyword(holder) == _keyword(other) and isinstance(outer, cst.Call)
                and isinstance(other_outer, cst.Call) and _arity(outer) == _arity(other_outer) is not None)
    if isinstance(holder, cst.Element) and isinstance(other, cst.Element):
        return (type(outer) is type(other_outer) and isinstance(outer, (cst.Tuple, cst.List, cst.Set))
                and len(outer.elements) == len(other_outer.elements))
    # A dict entry's key or value (the same place in both: the key first).
    return isinstance(holder, cst.DictElement) and isinstance(other, cst.DictElement)


def _keyword(arg: cst.Arg) -> str | None:
    return arg.keyword.value if arg.keyword else None


def _arity(call: cst.Call) -> int | None:
    """Positional arguments of `call`; None if it unpacks any (`*args`, `**kw`)."""
    if any(arg.star for arg in call.args):
        return None
    return sum(arg.keyword is None for arg in call.args)


ROWS = Preparer(cst.Module, _mark_rows)  # ctx.facts["row-rank"]


def row_ranked(node: cst.Integer, ctx: Ctx) -> bool:
    """Whether `row-rank` mutates this number (then `number`'s `n + 1` would be its equivalent twin)."""
    return id(node) in ctx.facts.get(NAME, {})


@operator(
    NAME, "constant", cst.Integer,
    ("register(Code(), 'code', 80)\nregister(Hash(), 'hash', 70)", "register(Code(), 'code', 69)\nregister(Hash(), 'hash', 70)"),
    ai=True, rank=215, prepares=(ROWS,),
)
def row_rank(node: cst.Integer, ctx: Ctx) -> Iterator[Edit]:
    value = ctx.facts.get(NAME, {}).get(id(node))
    if value is not None:
        yield ctx.replace(node, str(value))
