"""Which of a mutant's covering tests are likeliest to kill it: they run first.

A table row's statement is covered by hundreds of tests (every test that builds the registry), and
most never look at that row. The tests whose source names the row's values (`"gpt-4o"`, `'backtick'`)
or whose node id does (a parametrized case) come first, then those whose module imports the changed
module, then the rest; each part keeps its fastest-first order. Any order of the same tests gives the
same verdict: only the time to the first failure changes.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mutator.mutant import Mutant


class SuiteSources:
    """The text of test functions and the modules each test file imports, read once per file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._functions: dict[str, dict[str, str]] = {}
        self._imports: dict[str, frozenset[str]] = {}

    def function(self, test: str) -> str:
        """The source of a test's function (`path::Class::test_x[case]`), "" when it cannot be read."""
        path, _, rest = test.partition("::")
        name = rest.split("[", 1)[0].rsplit("::", 1)[-1]
        return self._read(path)[0].get(name, "")

    def imports(self, test: str) -> frozenset[str]:
        return self._read(test.partition("::")[0])[1]

    def _read(self, path: str) -> tuple[dict[str, str], frozenset[str]]:
        if path not in self._functions:
            functions: dict[str, str] = {}
            imported: set[str] = set()
            try:
                text = (self.root / path).read_text(encoding="utf-8")
                tree = ast.parse(text)
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                text, tree = "", ast.Module(body=[], type_ignores=[])
            # Lines as the parser counts them, split once: ast.get_source_segment splits the whole
            # file again for every function (seconds on a suite of large test modules).
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions[node.name] = "\n".join(lines[node.lineno - 1: node.end_lineno or node.lineno])
                elif isinstance(node, ast.Import):
                    imported.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imported.add(node.module)
                    imported.update(f"{node.module}.{alias.name}" for alias in node.names)
            self._functions[path] = functions
            self._imports[path] = frozenset(imported)
        return self._functions[path], self._imports[path]


def module_names(file: str) -> frozenset[str]:
    """The dotted names a source file may be imported by: `src/pkg/mod.py` -> pkg.mod (and src.pkg.mod)."""
    parts = file.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return frozenset(".".join(parts[i:]) for i in range(len(parts)) if parts[i:])


def likeliest_first(mutant: Mutant, tests: tuple[str, ...], sources: SuiteSources) -> tuple[str, ...]:
    """`tests` (fastest first) with the likeliest killers of a table row's mutant moved to the front."""
    if not mutant.table_key or len(tests) < 2:
        return tests
    names = module_names(mutant.file)
    values = [v for v in mutant.row_values if len(v) > 1]  # a one-letter value is named everywhere

    def rank(test: str) -> int:
        if values:
            text = test + sources.function(test)
            if any(value in text for value in values):
                return 0
        if not names.isdisjoint(sources.imports(test)):
            return 1
        return 2

    ranks = {test: rank(test) for test in tests}
    return tuple(sorted(tests, key=ranks.__getitem__))  # stable: each rank keeps its order
