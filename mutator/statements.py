"""Where a mutant's coverage is read from: the statement around its edit, not the edit's own lines.

coverage.py records the lines on which the interpreter reports execution, and for a statement
spread over several lines that is some of them, not all: which ones depends on the bytecode. A
test that ran `raise Error("a " <newline> "b")` may be recorded on the first line only, and one
that evaluated only the first operand of a multi-line `and` never reaches the operator's line.
So a mutant is covered by every test that ran any line of its smallest enclosing simple
statement, or of the header of its compound statement (an `if`/`while` condition, a `for` target
and iterable, a `with` item, a `def`'s decorators and signature, a `class`'s bases). An `except`
clause's own edits (the exception types) are covered by the tests that ran its `try` body: those
are exactly the tests in which a broadened or narrowed handler could catch something else.
Per statement, not per function: selection stays as precise as the code allows.
"""

from __future__ import annotations

import libcst as cst

from mutator.operators.base import Ctx

# Compound statements whose header (from the keyword, decorators included, to the body) is a
# statement of its own for coverage; their bodies hold statements of their own.
_HEADERS = (cst.If, cst.While, cst.For, cst.With, cst.FunctionDef, cst.ClassDef, cst.Try, cst.TryStar,
            cst.Match, cst.MatchCase)
_SIMPLE = (cst.SimpleStatementLine, cst.SimpleStatementSuite)
_HANDLERS = (cst.ExceptHandler, cst.ExceptStarHandler)
_SIMPLE_KIND, _HEADER_KIND, _HANDLER_KIND = 1, 2, 3
_KIND: dict[type, int] = {**dict.fromkeys(_SIMPLE, _SIMPLE_KIND), **dict.fromkeys(_HEADERS, _HEADER_KIND),
                          **dict.fromkeys(_HANDLERS, _HANDLER_KIND)}


class StatementSpans:
    """Follows the visitor down the tree; `current` is the byte span whose lines decide coverage."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self._spans: list[tuple[int, int]] = []
        self._try_bodies: list[tuple[int, int]] = []

    @property
    def current(self) -> tuple[int, int] | None:
        return self._spans[-1] if self._spans else None

    def enter(self, node: cst.CSTNode) -> None:
        kind = _KIND.get(type(node))  # one dict lookup: this runs on every node of every file
        if kind is None:
            return
        if kind == _SIMPLE_KIND:
            self._spans.append(self.ctx.span(node))
        elif kind == _HEADER_KIND:
            start, _ = self.ctx.span(node)
            body = node.cases[0] if isinstance(node, cst.Match) else node.body  # a match has cases, no body
            self._spans.append((start, self._header_end(start, body)))
            if isinstance(node, (cst.Try, cst.TryStar)):
                self._try_bodies.append(self.ctx.span(node.body))
        elif self._try_bodies:  # an except clause: from the try body to this clause's header
            body_start, _ = self._try_bodies[-1]
            self._spans.append((body_start, self._header_end(body_start, node.body)))

    def _header_end(self, start: int, body: cst.CSTNode) -> int:
        """Where a header ends: the end of the line before an indented body (whose span starts at
        its first statement), or where a body on the header's own line starts."""
        body_start, _ = self.ctx.span(body)
        if isinstance(body, (cst.IndentedBlock, cst.MatchCase)):
            newline = self.ctx.source.rfind(b"\n", start, body_start)
            if newline >= 0:
                return newline + 1
        return body_start

    def leave(self, node: cst.CSTNode) -> None:
        kind = _KIND.get(type(node))
        if kind is None:
            return
        if kind != _HANDLER_KIND or self._try_bodies:
            self._spans.pop()
        if isinstance(node, (cst.Try, cst.TryStar)):
            self._try_bodies.pop()
