"""The classic operator set (on par with mutmut 3 and cosmic-ray)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import libcst as cst

from mutator.mutant import Edit
from mutator.operators.base import ATOMS, Ctx, call_name, int_value, is_none, operator
from mutator.operators.rows import row_ranked

ARITHMETIC = {
    cst.Add: "-", cst.Subtract: "+", cst.Multiply: "/", cst.Divide: "*",
    cst.FloorDivide: "/", cst.Modulo: "*", cst.Power: "*",
}
BITWISE = {
    cst.BitAnd: "|", cst.BitOr: "&", cst.BitXor: "&", cst.LeftShift: ">>", cst.RightShift: "<<",
}


@operator("arithmetic", "arithmetic", cst.BinaryOperation, ("a + b", "a - b"), rank=210)
def arithmetic(node: cst.BinaryOperation, ctx: Ctx) -> Iterator[Edit]:
    new = ARITHMETIC.get(type(node.operator))
    if new:
        yield ctx.replace(node.operator, new)


@operator("bitwise", "arithmetic", cst.BinaryOperation, ("flags & MASK", "flags | MASK"))
def bitwise(node: cst.BinaryOperation, ctx: Ctx) -> Iterator[Edit]:
    new = BITWISE.get(type(node.operator))
    if new:
        yield ctx.replace(node.operator, new)


BOUNDARY = {cst.LessThan: "<=", cst.LessThanEqual: "<", cst.GreaterThan: ">=", cst.GreaterThanEqual: ">"}
NEGATED = {cst.Equal: "!=", cst.NotEqual: "==", cst.Is: "is not", cst.IsNot: "is", cst.In: "not in", cst.NotIn: "in"}


def _is_len_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and call_name(node) == "len"


@operator("comparison-boundary", "comparison", cst.Comparison, ("i < n", "i <= n"), rank=50)
def comparison_boundary(node: cst.Comparison, ctx: Ctx) -> Iterator[Edit]:
    left = node.left
    for target in node.comparisons:
        new = BOUNDARY.get(type(target.operator))
        # `len(x) > 0` -> `len(x) >= 0` is a tautology, not a bug anyone writes: arid.
        len_vs_zero = (_is_len_call(left) and int_value(target.comparator) == 0) or (
            int_value(left) == 0 and _is_len_call(target.comparator)
        )
        if new and not len_vs_zero:
            yield ctx.replace(target.operator, new)
        left = target.comparator


@operator("comparison-negate", "comparison", cst.Comparison, ("x is None", "x is not None"), rank=170)
def comparison_negate(node: cst.Comparison, ctx: Ctx) -> Iterator[Edit]:
    for target in node.comparisons:
        new = NEGATED.get(type(target.operator))
        if new:
            yield ctx.replace(target.operator, new)


@operator("boolean-operator", "boolean", cst.BooleanOperation, ("a and b", "a or b"), rank=180)
def boolean_operator(node: cst.BooleanOperation, ctx: Ctx) -> Iterator[Edit]:
    yield ctx.replace(node.operator, "or" if isinstance(node.operator, cst.And) else "and")


@operator("remove-not", "boolean", cst.UnaryOperation, ("if not ok:\n    retry()", "if ok:\n    retry()"), rank=190)
def remove_not(node: cst.UnaryOperation, ctx: Ctx) -> Iterator[Edit]:
    if isinstance(node.operator, cst.Not):
        inner = ctx.module.code_for_node(node.expression)
        if not isinstance(node.expression, ATOMS) and not node.expression.lpar:
            inner = f"({inner})"
        yield ctx.replace(node, inner)


@operator("unary-sign", "arithmetic", cst.UnaryOperation, ("-delta", "delta"))
def unary_sign(node: cst.UnaryOperation, ctx: Ctx) -> Iterator[Edit]:
    if isinstance(node.operator, (cst.Minus, cst.BitInvert)):
        yield ctx.replace(node.operator, "")
    elif isinstance(node.operator, cst.Plus):
        yield ctx.replace(node.operator, "-")


@operator("number", "constant", cst.Integer, ("limit = 3", "limit = 4"), rank=220)
def number(node: cst.Integer, ctx: Ctx) -> Iterator[Edit]:
    if row_ranked(node, ctx):  # in a row of similar calls, n + 1 keeps the row's rank: row-rank's
        return
    value = int(ast.literal_eval(node.value))
    yield ctx.replace(node, {0: "1", 1: "0"}.get(value, str(value + 1)))


@operator("float", "constant", cst.Float, ("ratio = 0.5", "ratio = 1.5"))
def float_number(node: cst.Float, ctx: Ctx) -> Iterator[Edit]:
    yield ctx.replace(node, repr(float(ast.literal_eval(node.value)) + 1.0))


@operator("string", "constant", cst.SimpleString, ('sep = ","', 'sep = "XX,XX"'))
def string(node: cst.SimpleString, ctx: Ctx) -> Iterator[Edit]:
    text = node.value
    prefix_len = len(node.prefix)
    quote = node.quote
    body = text[prefix_len + len(quote) : len(text) - len(quote)]
    yield ctx.replace(node, f"{text[:prefix_len]}{quote}XX{body}XX{quote}")


@operator("boolean-constant", "constant", cst.Name, ("strict = True", "strict = False"))
def boolean_constant(node: cst.Name, ctx: Ctx) -> Iterator[Edit]:
    if node.value in ("True", "False"):
        yield ctx.replace(node, "False" if node.value == "True" else "True")


@operator("break-continue", "loop", cst.Break, ("for x in xs:\n    break", "for x in xs:\n    continue"))
def break_to_continue(node: cst.Break, ctx: Ctx) -> Iterator[Edit]:
    yield ctx.replace(node, "continue")


@operator("continue-break", "loop", cst.Continue, ("for x in xs:\n    continue", "for x in xs:\n    break"))
def continue_to_break(node: cst.Continue, ctx: Ctx) -> Iterator[Edit]:
    yield ctx.replace(node, "break")


AUGMENTED = {
    cst.AddAssign: "-=", cst.SubtractAssign: "+=", cst.MultiplyAssign: "/=", cst.DivideAssign: "*=",
    cst.FloorDivideAssign: "/=", cst.ModuloAssign: "*=", cst.PowerAssign: "*=", cst.BitOrAssign: "&=",
    cst.BitAndAssign: "|=", cst.BitXorAssign: "&=", cst.LeftShiftAssign: ">>=", cst.RightShiftAssign: "<<=",
}


@operator("augmented-assignment", "assignment", cst.AugAssign, ("total += x", "total -= x"))
def augmented_assignment(node: cst.AugAssign, ctx: Ctx) -> Iterator[Edit]:
    new = AUGMENTED.get(type(node.operator))
    if new:
        yield ctx.replace(node.operator, new)


@operator("augmented-to-plain", "assignment", cst.AugAssign, ("total += x", "total = x"))
def augmented_to_plain(node: cst.AugAssign, ctx: Ctx) -> Iterator[Edit]:
    yield ctx.replace(node.operator, "=")


@operator("return-value", "return", cst.Return, ("def f(xs):\n    return sum(xs)", "def f(xs):\n    return None"), rank=200)
def return_value(node: cst.Return, ctx: Ctx) -> Iterator[Edit]:
    if node.value is not None and not is_none(node.value):
        yield ctx.replace(node.value, "None")


@operator("return-negate", "return", cst.Return, ("def f(a, b):\n    return a < b", "def f(a, b):\n    return not (a < b)"))
def return_negate(node: cst.Return, ctx: Ctx) -> Iterator[Edit]:
    if isinstance(node.value, (cst.Comparison, cst.BooleanOperation)):
        yield ctx.replace(node.value, f"not ({ctx.text(node.value)})")


@operator("assign-none", "assignment", cst.Assign, ("result = compute(x)", "result = None"))
def assign_none(node: cst.Assign, ctx: Ctx) -> Iterator[Edit]:
    if not is_none(node.value):
        yield ctx.replace(node.value, "None")


@operator("remove-call", "statement", cst.Expr, ("cache.clear()", "pass"))
def remove_call(node: cst.Expr, ctx: Ctx) -> Iterator[Edit]:
    value = node.value.expression if isinstance(node.value, cst.Await) else node.value
    if isinstance(value, cst.Call):
        yield ctx.replace(node, "pass")


@operator("lambda-body", "lambda", cst.Lambda, ("key=lambda r: r.score", "key=lambda r: None"))
def lambda_body(node: cst.Lambda, ctx: Ctx) -> Iterator[Edit]:
    yield ctx.replace(node.body, "0" if is_none(node.body) else "None")


@operator("default-argument", "signature", cst.Param, ("def f(limit=10):\n    pass", "def f(limit=None):\n    pass"))
def default_argument(node: cst.Param, ctx: Ctx) -> Iterator[Edit]:
    default = node.default
    if default is not None and not is_none(default):
        # The whole default, its parentheses too (libcst's span leaves them out): `tools=()` reads
        # `()` -> `None`, not `` -> `None` with `tools=(None)` as its diff.
        first = default.lpar[0] if getattr(default, "lpar", None) else default
        last = default.rpar[-1] if getattr(default, "rpar", None) else default
        yield ctx.replace_range(first, last, "None")
