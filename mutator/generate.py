"""Mutant generation: one parse and one pass per file, mutants on AI lines only."""

from __future__ import annotations

import bisect
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import libcst as cst
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from mutator.arid import AridRules
from mutator.attribution import Attribution
from mutator.config import Config
from mutator.errors import BadInput
from mutator.mutant import DefaultsOf, Edit, Mutant, mutant_id
from mutator.operators import default_priority, enabled_operators
from mutator.operators.base import Ctx, Operator, Preparer
from mutator.readers import ModuleReaders
from mutator.sources import code_lines
from mutator.statements import StatementSpans

PRAGMA = re.compile(r"#\s*pragma:\s*no\s+mutate\b")


class _Found(NamedTuple):
    node: cst.CSTNode
    op: Operator
    edit: Edit
    qualname: str
    in_body: bool  # inside a function body: runs when the function is called
    defaults_of: cst.FunctionDef | None  # the def whose parameter default the edit is in
    statement: tuple[int, int] | None  # byte span of the statement whose lines decide coverage
    reach: tuple[int, int] | None  # a class attribute's class body: the code that reads the value


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
        self.statements = StatementSpans(ctx)
        self.classes: list[tuple[int, int]] = []  # byte spans of the class bodies being visited
        self.found: list[_Found] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.arid.reason(node) is not None:
            self.skipped = node
            return False
        ctx = self.ctx
        self.statements.enter(node)
        for preparer in self.preparers.get(type(node), ()):
            preparer.on_visit(node, ctx)
        ops = self.by_type.get(type(node))
        if ops:
            qualname = ".".join(self.scope) or "<module>"
            in_body = self.function_bodies > 0
            for op in ops:
                for edit in op.func(node, ctx):
                    defaults = None if in_body else self._defaults(node, edit)
                    # A class-level value (not in a method) reaches the program through the class's code.
                    reach = self.classes[-1] if self.classes and not in_body and defaults is None else None
                    self.found.append(_Found(node, op, edit, qualname, in_body, defaults, self.statements.current,
                                             reach))
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
                if getattr(param.default, "lpar", ()):  # `tools=()`: the edit takes the parentheses too
                    start, end = self.ctx.span(param.default.lpar[0])[0], self.ctx.span(param.default.rpar[-1])[1]
                if start <= edit.start and edit.end <= end:
                    return function
        return None

    def on_leave(self, original_node: cst.CSTNode) -> None:
        # libcst calls on_leave even when on_visit returned False (right away: the children are
        # skipped); an arid node's preparers never entered it, so they must not leave it either.
        if original_node is self.skipped:
            self.skipped = None
            return
        self.statements.leave(original_node)
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
            else:
                self.classes.append(self.ctx.span(node.body))

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        if attribute == "params" and isinstance(original_node, cst.FunctionDef):
            self.signatures.pop()
        if attribute == "body" and isinstance(original_node, (cst.FunctionDef, cst.ClassDef)):
            self.scope.pop()
            if isinstance(original_node, cst.ClassDef):
                self.classes.pop()
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
    readers = ModuleReaders(source)

    line_starts = [0] + [m.end() for m in re.finditer(b"\n", data)]
    code = code_lines(source)
    pragma = {n for n, text in enumerate(source.splitlines(), 1) if PRAGMA.search(text)}
    order = {op.name: i for i, op in enumerate(operators)}
    seen: Counter[tuple[str, ...]] = Counter()
    mutants = []
    for node, op, edit, qualname, in_body, defaults_of, statement, reach in sorted(
        visitor.found, key=lambda f: (f.edit.start, f.edit.end, order[f.op.name])
    ):
        line, end_line = _lines(line_starts, edit.start, edit.end)
        stmt_line, stmt_end_line = _lines(line_starts, *statement) if statement else (line, end_line)
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
        # An import-time value reaches the program through the code that reads it.
        module_level = qualname == "<module>" and not in_body and defaults_of is None
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
                stmt_line=min(stmt_line, line),
                stmt_end_line=max(stmt_end_line, end_line),
                reach_lines=(_lines(line_starts, *reach),) if reach else readers.of(line) if module_level else (),
            )
        )
    return _without_duplicates(mutants, operators)


def _without_duplicates(mutants: list[Mutant], operators: list[Operator]) -> list[Mutant]:
    """One mutant per resulting source: `x[0]` -> `x[1]` is both index-off-by-one and number, and
    `reverse=True` flipped both sorted-reverse and boolean-constant. The more specific operator
    stays: an AI-failure operator, then the better PR rank, then the registry's order."""
    preference = {op.name: (not op.ai_failure_mode, op.rank if op.rank is not None else 10**6, i)
                  for i, op in enumerate(operators)}
    chosen: dict[tuple[int, int, str], Mutant] = {}
    for mutant in mutants:
        key = _minimal_edit(mutant)
        kept = chosen.get(key)
        if kept is None or preference[mutant.operator] < preference[kept.operator]:
            chosen[key] = mutant
    keep = {m.id for m in chosen.values()}
    return [m for m in mutants if m.id in keep]


def _minimal_edit(mutant: Mutant) -> tuple[int, int, str]:
    """The edit without the text its original and replacement share at either end: two edits that
    give the same source have the same minimal edit."""
    original, replacement = mutant.original, mutant.replacement
    prefix = len(os.path.commonprefix([original, replacement]))
    suffix = len(os.path.commonprefix([original[prefix:][::-1], replacement[prefix:][::-1]]))
    start = mutant.start + len(original[:prefix].encode("utf-8"))
    end = mutant.end - len(original[len(original) - suffix:].encode("utf-8")) if suffix else mutant.end
    return start, end, replacement[prefix: len(replacement) - suffix]


def _lines(line_starts: list[int], start: int, end: int) -> tuple[int, int]:
    """The 1-based first and last line of the byte range [start, end)."""
    return bisect.bisect_right(line_starts, start), bisect.bisect_right(line_starts, max(start, end - 1))


def _defaults_of(function: cst.FunctionDef | None, scope: str, ctx: Ctx, line_starts: list[int]) -> DefaultsOf | None:
    """Which function's default values an edit changes, and the lines of its body."""
    if function is None:
        return None
    name = function.name.value if scope == "<module>" else f"{scope}.{function.name.value}"
    first, last = _lines(line_starts, *ctx.span(function.body))
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


def operator_preference(priority: Mapping[str, float] | None = None) -> Callable[[str], tuple[bool, float, int]]:
    """PR mode's ranking of an operator (higher first): not a string, then `priority` (history's
    survival rate per operator), then the operators' `rank` order (`default_priority()`)."""
    order = default_priority()
    rank = {name: len(order) - i for i, name in enumerate(order)}  # unranked operators: 0, last

    def score(operator: str) -> tuple[bool, float, int]:
        # Strings (mostly messages) come last whatever their history: a reviewer reads one
        # `"..." -> "XX...XX"` per line at most, and only when nothing else is on it.
        return (operator != "string", (priority or {}).get(operator, -1.0), rank.get(operator, 0))

    return score


def by_priority(mutants: Iterable[Mutant], priority: Mapping[str, float] | None = None) -> list[Mutant]:
    """Mutants best first by `operator_preference` (a time budget runs them in this order); equals
    keep their order."""
    score = operator_preference(priority)
    return sorted(mutants, key=lambda m: score(m.operator), reverse=True)  # reverse keeps the sort stable


def select_one_per_line(mutants: list[Mutant], priority: Mapping[str, float] | None = None) -> list[Mutant]:
    preference = operator_preference(priority)

    def score(m: Mutant) -> tuple[bool, float, int]:
        return preference(m.operator)

    # The pieces of one implicitly concatenated message are one mutant's worth: keep the first.
    first_piece: dict[tuple[str, int, int], str] = {}
    for mutant in mutants:
        if mutant.operator == "string":
            first_piece.setdefault((mutant.file, *mutant.coverage_lines), mutant.id)
    pieces = set(first_piece.values())
    mutants = [m for m in mutants if m.operator != "string" or m.id in pieces]
    best: dict[tuple[str, int], Mutant] = {}
    for mutant in mutants:
        key = (mutant.file, mutant.line)
        if key not in best or score(mutant) > score(best[key]):
            best[key] = mutant
    keep = {m.id for m in best.values()}
    return [m for m in mutants if m.id in keep]
