"""What of a module runs when it is imported: its shape without the function bodies, and the
functions the import itself calls.

A stored coverage map says which tests ran which lines during their own run; it cannot say which
tests depend on what a module does while it is imported (a constant another module reads, a class
attribute, an object built by a call at module level or in a `parametrize`), because that ran before
any test. A change to a function body moves only the tests that ran it, unless the import ran it
too; a change to the shape can move any test (scheduler/baseline_reuse.py).
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Function:
    qualname: str  # `Class.method`, `outer.inner`
    body: tuple[int, int]  # its body's lines, 1-based, inclusive
    digest: str  # of its whole definition


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):  # what this Python cannot parse
        return None


def _digest(node: ast.AST) -> str:
    return hashlib.sha256(ast.dump(node).encode()).hexdigest()[:32]


def import_shape(source: str) -> str | None:
    """A digest of the module with every function body emptied (signatures, defaults and decorators
    kept); None when this Python cannot parse it."""
    module = _parse(source)
    if module is None:
        return None
    for node in ast.walk(module):
        if isinstance(node, _FUNCTIONS):
            node.body = []
    return _digest(module)


def functions(source: str) -> list[Function]:
    """Every function of the module, methods and nested ones too."""
    module = _parse(source)
    found: list[Function] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (*_FUNCTIONS, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if isinstance(child, _FUNCTIONS):
                    found.append(Function(name, (child.body[0].lineno, child.end_lineno or child.lineno), _digest(child)))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    if module is not None:
        visit(module, "")
    return found
