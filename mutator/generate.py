"""Mutant generation: one parse and one pass per file, mutants on AI lines only."""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Mapping

import libcst as cst
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from mutator.arid import AridRules
from mutator.attribution import Attribution
from mutator.config import Config
from mutator.errors import BadInput
from mutator.mutant import DefaultsOf, Edit, Mutant, mutant_id
from mutator.operators import Ctx, Operator, Preparer, default_priority, enabled_operators
from mutator.sources import code_lines

PRAGMA = re.compile(r"#\s*pragma:\s*no\s+mutate\b")


class _Visitor(cst.CSTVisitor):
    """Runs the enabled operators' preparers, then the operators, on every non-arid node."""

    METADATA_DEPENDENCIES = (ByteSpanPositionProvider,)

    def __init__(self, ctx: Ctx, operators: list[Operator], arid: AridRules) -> None:
        super().__init__()
        self.ctx = ctx
        self.arid = arid
        self.by_type: dict[type, list[Operator]] = defaultdict(list)
        for op in operators:
            self.by_type[op.node_type].append(op)
        # Only the enabled operators' preparers, each once even if several operators declare it.
        self.preparers: dict[type, list[Preparer]] = defaultdict(list)
        for preparer in dict.fromkeys(p for op in operators for p in op.prepares):
            self.preparers[preparer.node_type].append(preparer)
        self.skipped: cst.CSTNode | None = None  # the arid node whose on_leave comes next
        self.scope: list[str] = []
        self.function_bodies = 0  # > 0 inside a function body (not its signature or decorators)
        self.signatures: list[cst.FunctionDef] = []  # defs whose parameters are being visited
        # node, op, edit, qualname, in body, the def whose default value the edit is in
        self.found: list[tuple[cst.CSTNode, Operator, Edit, str, bool, cst.FunctionDef | None]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.arid.reason(node) is not None:
            self.skipped = node
            return False
        ctx = self.ctx
        for preparer in self.preparers.get(type(node), ()):
            preparer.on_visit(node, ctx)
        ops = self.by_type.get(type(node))
        if ops:
            qualname = ".".join(self.scope) or "<module>"
            in_body = self.function_bodies > 0
            for op in ops:
                for edit in op.func(node, ctx):
                    self.found.append((node, op, edit, qualname, in_body, None if in_body else self._defaults(node, edit)))
        return True

    def _defaults(self, node: cst.CSTNode, edit: Edit) -> cst.FunctionDef | None:
        """The def whose parameter default value holds the edit, if any (annotations do not count)."""
        if not self.signatures:
            return None
        function = self.signatures[-1]
        params = function.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None:
                start, end = self.ctx.span(param.default)
                if start <= edit.start and edit.end <= end:
                    return function
        return None

    def on_leave(self, original_node: cst.CSTNode) -> None:
        # libcst calls on_leave even when on_visit returned False (right away: the children are
        # skipped); an arid node's preparers never entered it, so they must not leave it either.
        if original_node is self.skipped:
            self.skipped = None
            return
        for preparer in self.preparers.get(type(original_node), ()):
            if preparer.on_leave is not None:
                preparer.on_leave(original_node, self.ctx)

    # A def's defaults and decorators run in the enclosing scope at definition time, so the
    # function's name is pushed only around its body (libcst's attribute-visit hooks).
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if attribute == "params" and isinstance(node, cst.FunctionDef):
            self.signatures.append(node)
        if attribute == "body" and isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.scope.append(node.name.value)
            if isinstance(node, cst.FunctionDef):
                self.function_bodies += 1

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        if attribute == "params" and isinstance(original_node, cst.FunctionDef):
            self.signatures.pop()
        if attribute == "body" and isinstance(original_node, (cst.FunctionDef, cst.ClassDef)):
            self.scope.pop()
            if isinstance(original_node, cst.FunctionDef):
                self.function_bodies -= 1


def generate_file(
    file: str,
    source: str,
    ai_lines: Mapping[int, str],
    config: Config = Config(),
) -> list[Mutant]:
    """All mutants of `source` whose edit starts on an AI line and touches no human line."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise BadInput(f"{file}:{exc.raw_line}: syntax error, cannot mutate a file that does not parse") from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    data = source.encode("utf-8")
    ctx = Ctx(source=data, module=wrapper.module, spans=wrapper.resolve(ByteSpanPositionProvider))
    operators = enabled_operators(config.disable_operators)
    arid = AridRules(config.skip_calls)
    ctx.arid = arid.reason
    visitor = _Visitor(ctx, operators, arid)
    wrapper.visit(visitor)

    line_starts = [0] + [m.end() for m in re.finditer(b"\n", data)]
    code = code_lines(source)
    pragma = {n for n, text in enumerate(source.splitlines(), 1) if PRAGMA.search(text)}
    order = {op.name: i for i, op in enumerate(operators)}
    seen: Counter[tuple[str, ...]] = Counter()
    mutants = []
    for node, op, edit, qualname, in_body, defaults_of in sorted(
        visitor.found, key=lambda f: (f[2].start, f[2].end, order[f[1].name])
    ):
        line = bisect.bisect_right(line_starts, edit.start)
        end_line = bisect.bisect_right(line_starts, max(edit.start, edit.end - 1))
        if line not in ai_lines or line in pragma:
            continue
        if any(n in code and n not in ai_lines for n in range(line, end_line + 1)):
            continue  # the edit would reach into a human line
        original = data[edit.start : edit.end].decode("utf-8")
        if original == edit.replacement:
            continue
        anchor = ctx.text(node)
        key = (qualname, op.name, anchor, original, edit.replacement)
        index = seen[key]
        seen[key] += 1
        column = len(data[line_starts[line - 1] : edit.start].decode("utf-8")) + 1
        end_column = len(data[line_starts[end_line - 1] : edit.end].decode("utf-8")) + 1
        mutants.append(
            Mutant(
                id=mutant_id(file, qualname, op.name, anchor, original, edit.replacement, index),
                file=file,
                line=line,
                end_line=end_line,
                column=column,
                end_column=end_column,
                start=edit.start,
                end=edit.end,
                operator=op.name,
                original=original,
                replacement=edit.replacement,
                agent=ai_lines[line],
                qualname=qualname,
                in_function=in_body,
                defaults_of=_defaults_of(defaults_of, qualname, ctx, line_starts),
            )
        )
    return mutants


def _defaults_of(function: cst.FunctionDef | None, scope: str, ctx: Ctx, line_starts: list[int]) -> DefaultsOf | None:
    """Which function's default values an edit changes, and the lines of its body."""
    if function is None:
        return None
    name = function.name.value if scope == "<module>" else f"{scope}.{function.name.value}"
    start, end = ctx.span(function.body)
    first = bisect.bisect_right(line_starts, start)
    last = bisect.bisect_right(line_starts, max(start, end - 1))
    decorators = tuple(ctx.text(d.decorator) for d in function.decorators)
    return DefaultsOf(name, first, last, decorators)


def generate_mutants(
    attribution: Attribution,
    config: Config = Config(),
    one_per_line: bool = False,
    priority: Mapping[str, float] | None = None,
) -> list[Mutant]:
    """Mutants for every attributed line. `one_per_line` is PR mode (Google: on over 90 % of lines
    all mutants share one fate), keeping the operator with the highest `priority` (history's
    survival rate per operator), else the operators' `rank` order (`default_priority()`)."""
    by_file: dict[str, dict[int, str]] = defaultdict(dict)
    for line in attribution.lines:
        by_file[line.file][line.line] = line.agent
    mutants: list[Mutant] = []
    for file in sorted(by_file):
        mutants.extend(generate_file(file, attribution.sources[file], by_file[file], config))
    return select_one_per_line(mutants, priority) if one_per_line else mutants


def select_one_per_line(mutants: list[Mutant], priority: Mapping[str, float] | None = None) -> list[Mutant]:
    order = default_priority()
    rank = {name: len(order) - i for i, name in enumerate(order)}  # unranked operators: 0, last

    def score(m: Mutant) -> tuple[float, int]:
        return ((priority or {}).get(m.operator, -1.0), rank.get(m.operator, 0))

    best: dict[tuple[str, int], Mutant] = {}
    for mutant in mutants:
        key = (mutant.file, mutant.line)
        if key not in best or score(mutant) > score(best[key]):
            best[key] = mutant
    keep = {m.id for m in best.values()}
    return [m for m in mutants if m.id in keep]
