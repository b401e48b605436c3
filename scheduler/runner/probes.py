"""Probes: statement-start markers compiled into the mutated modules, recorded per test with no
trace function at all.

coverage.py on Python 3.11 traces through `sys.settrace`, so every Python call of the whole suite
pays for it (1.75x plain pytest on dateutil). A run knows its mutants before its baseline, and
needs only one answer per mutant: which tests started its statement (or entered the code its
value reaches). So the baseline imports the modules that hold mutants through a loader that
inserts `__mutagate_probe__(k)` before those statements, line numbers untouched, and each call
adds `k` to the current test's set (a C method bound in `builtins`: no Python frame, no tracer).

Which statements get a probe, for a requested line range [a, b] (a mutant's statement span, the
body of a function whose defaults it changes, the code a class attribute reaches):
- in every block, the first statement whose own lines (a simple statement's; a compound one's
  header) overlap the range: a test that reached any later overlapping statement of that block
  started this one first, so one probe per block gives a superset of the covering tests, and a
  superset is safe (a test too many costs time, a test too few a wrong verdict);
- a block nested in a probed statement needs none of its own (entering it means the statement
  started), except a function's body, which runs when it is called, not when it is defined;
- the body of a lambda or a generator expression overlapping the range runs later, maybe in
  another test: it gets a probe of its own, `(__mutagate_probe__(k), body)[1]`.
A probe that fires outside any test marks its lines as run at import, as coverage's empty
context does. Docstrings and `from __future__` imports are never preceded by a probe (either
would stop being what it is): the next statement is probed instead.
"""

from __future__ import annotations

import ast
import builtins
import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Iterator

PROBE = "__mutagate_probe__"
IMPORT_TIME = ""  # the context of probes fired outside any test, as coverage.py names it

Range = tuple[int, int]


class Probes:
    """The requested ranges per file (real paths), the probe sites compiled into them, and which
    tests fired which site."""

    def __init__(self, requests: dict[str, list[Range]]) -> None:
        self.requests = {os.path.realpath(path): [tuple(r) for r in ranges] for path, ranges in requests.items()}
        self.sites: list[tuple[str, list[int]]] = []  # site -> (file, the lines it reports for)
        self.fired: dict[str, set[int]] = {}  # test (IMPORT_TIME outside tests) -> sites it fired
        self._current: set[int] = set()
        self._name = IMPORT_TIME

    def install(self) -> None:
        self.fired[IMPORT_TIME] = self._current
        setattr(builtins, PROBE, self._current.add)
        sys.meta_path.insert(0, _ProbeFinder(self))

    def switch(self, test: str) -> None:
        """From now on, probes fire for `test` (IMPORT_TIME: outside any test)."""
        current = self.fired.setdefault(test, set())
        self._current, self._name = current, test
        setattr(builtins, PROBE, current.add)

    def lines(self) -> dict[str, dict[str, list[str]]]:
        """{file: {line: [tests]}} in coverage's shape (IMPORT_TIME for import time)."""
        by_site: dict[int, set[str]] = {}
        for test, sites in self.fired.items():
            for site in sites:
                by_site.setdefault(site, set()).add(test)
        out: dict[str, dict[str, list[str]]] = {}
        for site, tests in by_site.items():
            path, lines = self.sites[site]
            for line in lines:
                merged = out.setdefault(path, {}).setdefault(str(line), [])
                merged.extend(t for t in tests if t not in merged)
        return out

    def instrument(self, path: str, source: bytes) -> ast.Module:
        tree = ast.parse(source, path)
        _Instrumenter(self, path).apply(tree, self.requests.get(path, []))
        return tree


class _ProbeFinder(importlib.abc.MetaPathFinder):
    """Finds the modules with probes (by asking the path finder, only for names that can be
    them) and loads them through `_ProbeLoader`; every other import is left alone."""

    def __init__(self, probes: Probes) -> None:
        self.probes = probes
        self.names = {_module_name(path) for path in probes.requests}

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname.rpartition(".")[2] not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)  # type: ignore[arg-type]
        if spec is None or not spec.has_location or not spec.origin or not spec.origin.endswith(".py"):
            return None
        if os.path.realpath(spec.origin) not in self.probes.requests:
            return None
        spec.loader = _ProbeLoader(fullname, spec.origin, self.probes)
        return spec


class _ProbeLoader(importlib.machinery.SourceFileLoader):
    """Compiles the module with its probes; never reads or writes cached bytecode (a cached copy
    with probes would outlive the baseline, and one without them would skip the probes)."""

    def __init__(self, fullname: str, path: str, probes: Probes) -> None:
        super().__init__(fullname, path)
        self.probes = probes

    def get_code(self, fullname: str):  # noqa: ANN201 - a code object
        source = self.get_data(self.path)
        tree = self.probes.instrument(os.path.realpath(self.path), source)
        return compile(tree, self.path, "exec", dont_inherit=True)


def _module_name(path: str) -> str:
    base = os.path.basename(path)
    return os.path.basename(os.path.dirname(path)) if base == "__init__.py" else base[:-3]


class _Instrumenter:
    def __init__(self, probes: Probes, path: str) -> None:
        self.probes = probes
        self.path = path
        self.before: dict[int, int] = {}  # id(statement) -> the site of the probe before it
        self.lazy: dict[int, int] = {}  # id(lambda or generator expression) -> the site in its body
        self.lazy_nodes: list[tuple[ast.Lambda | ast.GeneratorExp, int]] = []

    def apply(self, tree: ast.Module, ranges: list[Range]) -> None:
        for first, last in ranges:
            self._block(tree.body, first, last, docstring=True)
        self._insert(tree)
        for node, site in self.lazy_nodes:
            _wrap(node, site)
        ast.fix_missing_locations(tree)

    def _site(self, table: dict[int, int], node: ast.AST, line: int, first: int, last: int) -> int | None:
        """`node`'s site (None: it is new), now also reporting for the range's clamp of `line`."""
        site = table.get(id(node))
        new = site is None
        if site is None:
            site = table[id(node)] = len(self.probes.sites)
            self.probes.sites.append((self.path, []))
        reported = self.probes.sites[site][1]
        line = min(max(line, first), last)
        if line not in reported:
            reported.append(line)
        return site if new else None

    def _block(self, body: list[ast.stmt], first: int, last: int, docstring: bool = False) -> None:
        placed = False
        for index, stmt in enumerate(body):
            start = _start(stmt)
            if stmt.end_lineno < first or start > last:  # type: ignore[operator]
                continue
            own_first, own_last = start, _header_end(stmt)
            skip = (index == 0 and docstring and _is_docstring(stmt)) or _is_future(stmt)
            if not placed and not skip and own_first <= last and own_last >= first:
                self._site(self.before, stmt, start, first, last)
                placed = True
            for node in _lazy_bodies(stmt):
                if node.lineno <= last and node.end_lineno >= first:  # type: ignore[operator]
                    site = self._site(self.lazy, node, node.lineno, first, last)
                    if site is not None:
                        self.lazy_nodes.append((node, site))
            for block, separate_frame in _blocks(stmt):
                if separate_frame or not placed:
                    self._block(block, first, last, docstring=separate_frame or isinstance(stmt, ast.ClassDef))

    def _insert(self, node: ast.AST) -> None:
        """Every statement list in the tree, with the probe calls before their statements."""
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                for child in value:
                    if isinstance(child, ast.AST):
                        self._insert(child)
                if value and isinstance(value[0], ast.stmt):
                    new: list[ast.stmt] = []
                    for stmt in value:
                        site = self.before.get(id(stmt))
                        if site is not None:
                            new.append(ast.copy_location(_call(site), stmt))
                        new.append(stmt)
                    setattr(node, field, new)
            elif isinstance(value, ast.AST):
                self._insert(value)


def _call(site: int) -> ast.Expr:
    return ast.Expr(ast.Call(ast.Name(PROBE, ast.Load()), [ast.Constant(site)], []))


def _wrap(node: ast.Lambda | ast.GeneratorExp, site: int) -> None:
    """`lambda: x` -> `lambda: (probe(k), x)[1]`; `(e for ...)` -> `((probe(k), e)[1] for ...)`."""
    field = "body" if isinstance(node, ast.Lambda) else "elt"
    inner = getattr(node, field)
    probe = ast.Call(ast.Name(PROBE, ast.Load()), [ast.Constant(site)], [])
    pair = ast.Subscript(ast.Tuple([probe, inner], ast.Load()), ast.Constant(1), ast.Load())
    setattr(node, field, ast.copy_location(pair, inner))


def _start(node: ast.AST) -> int:
    """A statement's first line: its first decorator's, for a decorated definition."""
    decorators = getattr(node, "decorator_list", None)
    return min([node.lineno, *(d.lineno for d in decorators)]) if decorators else node.lineno  # type: ignore[attr-defined]


def _header_end(stmt: ast.stmt) -> int:
    """The last line of a statement's own lines: a simple statement's last line; a compound one's
    header, up to its body; a `match`, its whole extent (its case patterns are its own lines)."""
    if isinstance(stmt, ast.Match):
        return stmt.end_lineno  # type: ignore[return-value]
    body = getattr(stmt, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        return max(stmt.lineno, _start(body[0]) - 1)
    return stmt.end_lineno  # type: ignore[return-value]


def _blocks(stmt: ast.stmt) -> Iterator[tuple[list[ast.stmt], bool]]:
    """The statement's blocks, each with whether it runs in a frame of its own (a function's body)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield stmt.body, True
        return
    for field in ("body", "orelse", "finalbody"):
        block = getattr(stmt, field, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block, False
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body, False
    for case in getattr(stmt, "cases", ()):
        yield case.body, False


def _lazy_bodies(stmt: ast.stmt) -> Iterator[ast.Lambda | ast.GeneratorExp]:
    """Lambdas and generator expressions in the statement's own lines (not in nested blocks)."""
    roots: list[ast.AST]
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        roots = [*stmt.decorator_list, *getattr(stmt, "bases", ()), *getattr(stmt, "keywords", ())]
        if not isinstance(stmt, ast.ClassDef):
            roots += [*stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d is not None)]
    elif isinstance(stmt, ast.Match):
        roots = [stmt.subject, *(c.guard for c in stmt.cases if c.guard is not None)]
    else:
        body = {id(b) for field in ("body", "orelse", "finalbody", "handlers") for b in (getattr(stmt, field, None) or ())}
        roots = [child for child in ast.iter_child_nodes(stmt) if id(child) not in body]
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, (ast.Lambda, ast.GeneratorExp)):
                yield node


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _is_future(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
