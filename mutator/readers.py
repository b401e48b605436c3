"""Where a module-level value is read: the functions of its module that mention the names it assigns.

A mutant of `PATTERN = re.compile(...)` runs when the module is imported, so only a fresh
interpreter sees it; but its effect shows only where `PATTERN` is read. The tests that ran those
readers are the ones worth running first. Unknown, and so the whole suite, when the value is also
mentioned at import time (another module-level statement, a class body, a default value or a
decorator: the value travels on where coverage cannot follow) or not read in its module at all.
Readers in other modules are not seen here: a survivor is confirmed against the whole suite.

A name counts wherever it appears, whatever it refers to there (a local of the same name, an
attribute): a reader too many only adds tests, and a mention at import time too many only runs the
whole suite. That makes Python's own `ast` enough, at a fraction of a scope analysis's cost.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

LineRange = tuple[int, int]  # 1-based, inclusive

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class _Index:
    statements: list[ast.stmt]  # the module's top-level statements
    readers: dict[str, list[LineRange]] = field(default_factory=dict)  # name -> function bodies mentioning it
    at_import: dict[str, set[int]] = field(default_factory=dict)  # name -> top-level statements mentioning it


class ModuleReaders:
    """Indexes the module on first use: most files have no module-level AI mutant."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._index: _Index | None = None
        self._failed = False

    def of(self, line: int) -> tuple[LineRange, ...]:
        """The body lines of the functions that read what the module-level assignment on `line`
        assigns; () when unknown (see the module's docstring)."""
        index = self._build()
        if index is None:
            return ()
        position = next((i for i, s in enumerate(index.statements) if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
        if position is None:
            return ()
        names = _assigned_names(index.statements[position])
        readers: dict[LineRange, None] = {}
        for name in names:
            if index.at_import.get(name, set()) - {position}:
                return ()  # also read at import time
            readers.update(dict.fromkeys(index.readers.get(name, ())))
        return tuple(readers)

    def _build(self) -> _Index | None:
        if self._index is None and not self._failed:
            try:
                module = ast.parse(self.source)
            except (SyntaxError, ValueError):  # what libcst parses and this Python's ast does not
                self._failed = True
                return None
            index = _Index(list(module.body))
            for position, statement in enumerate(module.body):
                _index_statement(statement, position, index)
            self._index = index
        return self._index


def _assigned_names(statement: ast.stmt) -> tuple[str, ...]:
    """The plain names a module-level assignment binds; () for anything else (an import, a def's
    decorator, an `if` at module level, `a.b = ...`, tuple unpacking into attributes...)."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    else:
        return ()
    names = []
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                names.append(node.id)
            elif not isinstance(node, (ast.Tuple, ast.List, ast.Starred, ast.expr_context)):
                return ()
    return tuple(names)


def _index_statement(statement: ast.stmt, position: int, index: _Index) -> None:
    """Function bodies (in the module or in its classes) read at call time; everything else of a
    top-level statement — class bodies, decorators, defaults, annotations — runs at import."""
    if isinstance(statement, _FUNCTIONS):
        _mention(index, position, [*statement.decorator_list, statement.args, statement.returns])
        body = (statement.body[0].lineno, statement.end_lineno or statement.lineno)
        for node in statement.body:
            for name in _names(node):
                index.readers.setdefault(name, []).append(body)
    elif isinstance(statement, ast.ClassDef):
        _mention(index, position, [*statement.decorator_list, *statement.bases, *statement.keywords])
        for member in statement.body:
            _index_statement(member, position, index)
    else:
        _mention(index, position, [statement])


def _mention(index: _Index, position: int, nodes: list[ast.AST | None]) -> None:
    for node in nodes:
        if node is not None:
            for name in _names(node):
                index.at_import.setdefault(name, set()).add(position)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
