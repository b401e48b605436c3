"""Operators for the ways AI-written code fails: swallowed errors, missing None checks,
off-by-one boundaries, plausible-but-wrong calls that still type-check."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import libcst as cst

from mutator.mutant import Edit
from mutator.operators.base import Ctx, Preparer, call_name, int_value, is_none, operator, remove_arg, shifted

# Exceptions -------------------------------------------------------------------------------------


def _enter_handler(node: cst.ExceptHandler, ctx: Ctx) -> None:
    ctx.handler_depth += 1


def _leave_handler(node: cst.ExceptHandler, ctx: Ctx) -> None:
    ctx.handler_depth -= 1


IN_HANDLER = Preparer(cst.ExceptHandler, _enter_handler, _leave_handler)  # ctx.handler_depth

# swallow-exception and remove-raise also skip guard exits, but do not declare GUARD_EXITS: those
# are left out only when remove-guard is enabled, whose `pass` over the whole guard covers them.


@operator(
    "swallow-exception", "exception", cst.Raise,
    ("try:\n    load()\nexcept KeyError:\n    raise", "try:\n    load()\nexcept KeyError:\n    pass"),
    ai=True, rank=20, prepares=(IN_HANDLER,),
)
def swallow_exception(node: cst.Raise, ctx: Ctx) -> Iterator[Edit]:
    if ctx.handler_depth > 0 and id(node) not in ctx.guard_exits:
        yield ctx.replace(node, "pass")


@operator(
    "remove-raise", "exception", cst.Raise,
    ("if n < 0:\n    raise ValueError(n)", "if n < 0:\n    pass"),
    ai=True, rank=40, prepares=(IN_HANDLER,),
)
def remove_raise(node: cst.Raise, ctx: Ctx) -> Iterator[Edit]:
    if ctx.handler_depth == 0 and id(node) not in ctx.guard_exits:
        yield ctx.replace(node, "pass")


BROAD = {"Exception", "BaseException"}


@operator(
    "broaden-except", "exception", cst.ExceptHandler,
    ("try:\n    load()\nexcept KeyError:\n    pass", "try:\n    load()\nexcept Exception:\n    pass"),
    ai=True, rank=30,
)
def broaden_except(node: cst.ExceptHandler, ctx: Ctx) -> Iterator[Edit]:
    if node.type is not None and not (isinstance(node.type, cst.Name) and node.type.value in BROAD):
        yield ctx.replace(node.type, "Exception")


# Guards and early exits -------------------------------------------------------------------------

EXITS = (cst.Return, cst.Raise, cst.Continue, cst.Break)


def guard_exit(node: cst.If) -> cst.BaseSmallStatement | None:
    """The single exit statement of an `if` with no else (`if x is None: return 0`), if any."""
    if node.orelse is not None:
        return None
    body = node.body.body
    if len(body) != 1:
        return None
    line = body[0]
    if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and isinstance(line.body[0], EXITS):
        return line.body[0]
    if isinstance(node.body, cst.SimpleStatementSuite) and len(body) == 1 and isinstance(body[0], EXITS):
        return body[0]
    return None


def is_none_or_empty_check(test: cst.BaseExpression) -> bool:
    """`x is None`, `x == None`, `not x`, `len(x) == 0`, `not len(x)`, and `or`/`and` of those."""
    if isinstance(test, cst.BooleanOperation):
        return is_none_or_empty_check(test.left) or is_none_or_empty_check(test.right)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return True
    if isinstance(test, cst.Comparison):
        operands = [test.left, *(t.comparator for t in test.comparisons)]
        if any(is_none(o) for o in operands):
            return True
        has_len = any(isinstance(o, cst.Call) and call_name(o) == "len" for o in operands)
        return has_len and any(int_value(o) in (0, 1) for o in operands)
    return False


def _mark_guard_exit(node: cst.If, ctx: Ctx) -> None:
    exit_stmt = guard_exit(node)
    if exit_stmt is not None and is_none_or_empty_check(node.test):
        ctx.guard_exits.add(id(exit_stmt))


# ctx.guard_exits: the exits remove-guard removes with their guard, which the exit-removing
# operators (swallow-exception, remove-raise, remove-early-return) skip to avoid a duplicate mutant.
GUARD_EXITS = Preparer(cst.If, _mark_guard_exit)


@operator(
    "remove-guard", "guard", cst.If,
    (
        "def roles(user):\n    if user is None:\n        return []\n    return user.roles",
        "def roles(user):\n    pass\n    return user.roles",
    ),
    ai=True, rank=10, prepares=(GUARD_EXITS,),
)
def remove_guard(node: cst.If, ctx: Ctx) -> Iterator[Edit]:
    if guard_exit(node) is not None and is_none_or_empty_check(node.test):
        yield ctx.replace(node, "pass")


def _tail_returns(body: Iterable[cst.BaseStatement]) -> list[cst.Return]:
    """Returns after which the function would end anyway (removing them = returning None)."""
    statements = list(body)
    if not statements:
        return []
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return [last.body[-1]] if isinstance(last.body[-1], cst.Return) else []
    if isinstance(last, cst.If):
        found = _tail_returns(last.body.body)
        if isinstance(last.orelse, cst.If):
            found += _tail_returns([last.orelse])
        elif isinstance(last.orelse, cst.Else):
            found += _tail_returns(last.orelse.body.body)
        return found
    if isinstance(last, (cst.With, cst.Try)):
        found = _tail_returns(last.body.body)
        if isinstance(last, cst.Try):
            for handler in last.handlers:
                found += _tail_returns(handler.body.body)
        return found
    return []


def _mark_tail_returns(node: cst.FunctionDef, ctx: Ctx) -> None:
    ctx.tail_returns.update(id(r) for r in _tail_returns(node.body.body))


TAIL_RETURNS = Preparer(cst.FunctionDef, _mark_tail_returns)  # ctx.tail_returns


@operator(
    "remove-early-return", "guard", cst.Return,
    ("for item in items:\n    if item.ok:\n        return item", "for item in items:\n    if item.ok:\n        pass"),
    ai=True, rank=160, prepares=(TAIL_RETURNS,),
)
def remove_early_return(node: cst.Return, ctx: Ctx) -> Iterator[Edit]:
    # A return that ends its function only becomes `return None` (return-value covers that).
    if id(node) not in ctx.tail_returns and id(node) not in ctx.guard_exits:
        yield ctx.replace(node, "pass")


# Off by one -------------------------------------------------------------------------------------


@operator("slice-off-by-one", "off-by-one", cst.Subscript, ("items[1:n]", "items[1:n - 1]"), ai=True, rank=60)
def slice_off_by_one(node: cst.Subscript, ctx: Ctx) -> Iterator[Edit]:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Slice):
        return
    bounds = node.slice[0].slice
    if bounds.lower is not None:
        yield ctx.replace(bounds.lower, shifted(bounds.lower, ctx, +1))
    if bounds.upper is not None:
        yield ctx.replace(bounds.upper, shifted(bounds.upper, ctx, -1))


INDEX_NAME = re.compile(
    r"^(i|j|k|n|idx|index|pos|position|start|end|stop|mid|lo|hi|low|high|first|last|offset|.*_(idx|index|pos))$"
)


@operator("index-off-by-one", "off-by-one", cst.Subscript, ("row[i]", "row[i + 1]"), ai=True, rank=80)
def index_off_by_one(node: cst.Subscript, ctx: Ctx) -> Iterator[Edit]:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return
    value = node.slice[0].slice.value
    indexish = (
        int_value(value) is not None
        or (isinstance(value, cst.Name) and INDEX_NAME.match(value.value))
        or (isinstance(value, cst.BinaryOperation) and isinstance(value.operator, (cst.Add, cst.Subtract)))
    )
    if indexish:
        yield ctx.replace(value, shifted(value, ctx, +1))


@operator("range-off-by-one", "off-by-one", cst.Call, ("range(1, n)", "range(1, n + 1)"), ai=True, rank=70)
def range_off_by_one(node: cst.Call, ctx: Ctx) -> Iterator[Edit]:
    if call_name(node) != "range" or not 1 <= len(node.args) <= 3 or any(a.keyword or a.star for a in node.args):
        return
    stop = node.args[0] if len(node.args) == 1 else node.args[1]
    yield ctx.replace(stop.value, shifted(stop.value, ctx, +1))
    if len(node.args) >= 2:
        start = node.args[0]
        yield ctx.replace(start.value, shifted(start.value, ctx, +1))


# Plausible-but-wrong calls ----------------------------------------------------------------------

# Calls whose arguments commute: swapping them is an equivalent mutant.
COMMUTATIVE = {"max", "min", "math.hypot", "math.gcd", "math.lcm", "operator.add", "operator.mul",
               "operator.eq", "operator.ne", "set", "frozenset", "zip"}


def _same_kind(a: cst.BaseExpression, b: cst.BaseExpression) -> bool:
    kinds = (cst.Name, cst.Attribute, cst.Integer, cst.Float, cst.SimpleString)
    return any(isinstance(a, k) and isinstance(b, k) for k in kinds)


@operator("swap-arguments", "call", cst.Call, ("copy(src, dst)", "copy(dst, src)"), ai=True, rank=110)
def swap_arguments(node: cst.Call, ctx: Ctx) -> Iterator[Edit]:
    if call_name(node) in COMMUTATIVE:
        return
    positional = [a for a in node.args if not a.keyword and not a.star]
    for first, second in zip(positional, positional[1:]):
        if node.args.index(second) != node.args.index(first) + 1:
            continue
        a, b = ctx.text(first.value), ctx.text(second.value)
        if a != b and _same_kind(first.value, second.value) and not is_none(first.value) and not is_none(second.value):
            yield ctx.replace_range(first.value, second.value, b + ctx.between(first.value, second.value) + a)
            return  # one swap per call is enough to show the arguments are checked


@operator("drop-keyword-argument", "call", cst.Call, ("open(p, encoding=\"utf-8\")", "open(p)"), ai=True, rank=90)
def drop_keyword_argument(node: cst.Call, ctx: Ctx) -> Iterator[Edit]:
    sorting = call_name(node).split(".")[-1] in ("sorted", "sort")
    for index, arg in enumerate(node.args):
        if arg.keyword is None or arg.star:
            continue
        if sorting and arg.keyword.value == "reverse":
            continue  # sorted-reverse flips it; dropping `reverse=True` would be the same mutant
        if ctx.arid(arg):
            continue  # e.g. `timeout=10`: dropping it is as useless as changing it
        yield remove_arg(node, index, ctx)


SWAPPED_BUILTINS = {"min": "max", "max": "min", "any": "all", "all": "any"}


@operator("min-max", "call", cst.Call, ("max(scores)", "min(scores)"), ai=True, rank=140)
def min_max(node: cst.Call, ctx: Ctx) -> Iterator[Edit]:
    if isinstance(node.func, cst.Name) and node.func.value in ("min", "max"):
        yield ctx.replace(node.func, SWAPPED_BUILTINS[node.func.value])


@operator("any-all", "call", cst.Call, ("any(checks)", "all(checks)"), ai=True, rank=150)
def any_all(node: cst.Call, ctx: Ctx) -> Iterator[Edit]:
    if isinstance(node.func, cst.Name) and node.func.value in ("any", "all"):
        yield ctx.replace(node.func, SWAPPED_BUILTINS[node.func.value])


@operator("sorted-reverse", "call", cst.Call, ("sorted(xs, key=f)", "sorted(xs, key=f, reverse=True)"), ai=True, rank=130)
def sorted_reverse(node: cst.Call, ctx: Ctx) -> Iterator[Edit]:
    name = call_name(node)
    if name != "sorted" and not (isinstance(node.func, cst.Attribute) and node.func.attr.value == "sort"):
        return
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == "reverse":
            value = arg.value
            if isinstance(value, cst.Name) and value.value in ("True", "False"):
                yield ctx.replace(value, "False" if value.value == "True" else "True")
            else:
                yield ctx.replace(value, f"not ({ctx.text(value)})")
            return
    if any(a.star for a in node.args):
        return  # **kwargs may already carry reverse=
    if node.args:
        end = ctx.span(node.args[-1])[1]
        yield Edit(end, end, ", reverse=True")
    else:
        close = ctx.span(node)[1] - 1  # the `)` of `xs.sort()`
        yield Edit(close, close, "reverse=True")


@operator("dict-get-default", "call", cst.Call, ("cfg.get(\"port\", 8080)", "cfg.get(\"port\")"), ai=True, rank=100)
def dict_get_default(node: cst.Call, ctx: Ctx) -> Iterator[Edit]:
    if (
        isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "get"
        and len(node.args) == 2
        and not any(a.keyword or a.star for a in node.args)
        and not is_none(node.args[1].value)
    ):
        yield remove_arg(node, 1, ctx)


# Methods that are easy to confuse and take the same arguments, so the swap still runs.
METHOD_SWAPS = {
    "append": "extend", "extend": "append", "startswith": "endswith", "endswith": "startswith",
    "lstrip": "rstrip", "rstrip": "lstrip", "find": "rfind", "rfind": "find", "upper": "lower",
    "lower": "upper", "keys": "values", "values": "keys", "ljust": "rjust", "rjust": "ljust",
    "removeprefix": "removesuffix", "removesuffix": "removeprefix", "partition": "rpartition",
    "rpartition": "partition", "setdefault": "get", "split": "rsplit", "rsplit": "split",
}


@operator("method-swap", "call", cst.Call, ("rows.append(batch)", "rows.extend(batch)"), ai=True, rank=120)
def method_swap(node: cst.Call, ctx: Ctx) -> Iterator[Edit]:
    if not isinstance(node.func, cst.Attribute):
        return
    name = node.func.attr.value
    new = METHOD_SWAPS.get(name)
    if new is None:
        return
    if name in ("split", "rsplit") and len(node.args) < 2:
        return  # without maxsplit, split and rsplit agree: an equivalent mutant
    yield ctx.replace(node.func.attr, new)
