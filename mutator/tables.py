"""Homogeneous tables: a run of sibling rows of one shape, mutated as one gap.

A table is at least MIN_ROWS consecutive siblings that do the same thing: statements calling the
same function (`register(Chat("gpt-4o", vision=True))`, `x = Model("a", 1)`), or the elements of a
list, tuple, set or dict literal that are calls or containers (`("ABAP", ("abap",), ...)`). A
statement covered by hundreds of tests makes each surviving row cost the whole covering set, and a
test suite that misses `vision=True -> False` on one row misses it on the next: the rows are one
gap. So a row's mutant is keyed by the row's *argument shape* (its syntax with every literal and
name abstracted: `register(Chat(_, vision=_))` and `register(Chat(_, vision=_, tools=_))` differ),
the mutated node's position in the row, the operator and which of its edits: one mutant per key
runs (the first row's), and it `represents` the others, which are not run.
"""

from __future__ import annotations

import ast
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from pathlib import Path

import libcst as cst

from mutator.config import Config
from mutator.git import git_text
from mutator.mutant import Mutant
from mutator.sources import is_test_path

MIN_ROWS = 4

# Tokens and whitespace: a node's position in its row counts only the nodes that carry code, so a
# trailing comma or a parenthesis on one row does not move the others' positions.
_TOKENS = (cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline, cst.Comment,
           cst.Comma, cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
           cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Colon, cst.Dot, cst.AssignEqual, cst.Semicolon)


@dataclass(frozen=True)
class Row:
    table_line: int  # the table's first line: tables are told apart by it within a file
    rows: int  # how many rows the table has
    node: cst.CSTNode
    shape: str  # the row's syntax with literals and names abstracted
    values: tuple[str, ...]  # its string literals' values: what a test naming this row would contain


def find_rows(module: cst.Module, first_line: Callable[[cst.CSTNode], int], min_rows: int = MIN_ROWS) -> list[Row]:
    """Every row of every table in `module` (runs of at least `min_rows` rows); `first_line(node)`
    gives a node's first line."""
    found: list[Row] = []
    for run in sibling_runs(module):
        if len(run) >= min_rows:
            first = first_line(run[0])
            found.extend(Row(first, len(run), row, _shape(row), _values(row)) for row in run)
    return found


_last_walk: tuple[cst.Module, list[list[cst.CSTNode]]] | None = None


def sibling_runs(module: cst.Module) -> list[list[cst.CSTNode]]:
    """Every run of at least two consecutive siblings that do the same thing (`_head`), outer runs
    before the runs nested in their rows. The walk is most of the cost (libcst's `children`: 0.2 s
    on a 2,600-line file), and a file's mutants need it twice (row-rank's rows, tables of
    MIN_ROWS): the last module's runs are kept."""
    global _last_walk
    if _last_walk is not None and _last_walk[0] is module:
        return _last_walk[1]
    runs: list[list[cst.CSTNode]] = []
    for siblings in _sequences(module):
        run: list[cst.CSTNode] = []
        head: object = None
        for node in [*siblings, None]:
            this = _head(node) if node is not None else None
            if this is not None and this == head:
                run.append(node)
                continue
            if head is not None and len(run) >= 2:
                runs.append(run)
            run, head = ([node], this) if this is not None else ([], None)
    _last_walk = (module, runs)
    return runs


def _sequences(module: cst.Module) -> Iterator[list[cst.CSTNode]]:
    """Lists of siblings: the statements of each block, the elements of each collection literal."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Module, cst.IndentedBlock)):
            yield list(node.body)
        elif isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            yield [e.value for e in node.elements if isinstance(e, cst.Element)]
        elif isinstance(node, cst.Dict):
            yield [e for e in node.elements if isinstance(e, cst.DictElement)]
        stack.extend(node.children)


def _head(node: cst.CSTNode) -> object:
    """What makes two siblings rows of one table (None: not a table row): the same statement kind
    calling the same function, or the same kind of container or call as an element."""
    if isinstance(node, cst.SimpleStatementLine):
        if len(node.body) != 1:
            return None
        statement = node.body[0]
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
            return ("expr", _callee(statement.value))
        if isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call):
            return ("assign", len(statement.targets), _callee(statement.value))
        return None
    if isinstance(node, cst.DictElement):
        value = _head(node.value)
        return ("dict", type(node.key).__name__, value) if value is not None else None
    if isinstance(node, cst.Call):
        return ("call", _callee(node))
    if isinstance(node, (cst.Tuple, cst.List, cst.Dict, cst.Set)):
        return (type(node).__name__,)
    return None


def _callee(call: cst.Call) -> str:
    return cst.Module([]).code_for_node(call.func)


class _Abstract(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant(value=type(node.value).__name__)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.Name(id="_", ctx=node.ctx)


def _shape(node: cst.CSTNode) -> str:
    code = cst.Module([]).code_for_node(node).strip()
    if isinstance(node, cst.DictElement):
        code = "{" + code.rstrip(",") + "}"
    try:
        tree = ast.parse(f"({code})" if not isinstance(node, cst.SimpleStatementLine) else code)
    except SyntaxError:  # a piece that does not stand alone: its text is its shape
        return code
    return ast.dump(_Abstract().visit(tree))


def _values(node: cst.CSTNode) -> tuple[str, ...]:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.SimpleString):
            value = current.evaluated_value
            if isinstance(value, str) and value.strip():
                found.append(value)
        stack.extend(current.children)
    return tuple(sorted(set(found)))


def positions(row: Row) -> dict[cst.CSTNode, tuple[int, ...]]:
    """Each code-carrying node of the row -> its path of child indices from the row (tokens skipped)."""
    return node_positions(row.node)


def node_positions(top: cst.CSTNode) -> dict[cst.CSTNode, tuple[int, ...]]:
    paths: dict[cst.CSTNode, tuple[int, ...]] = {}
    stack: list[tuple[cst.CSTNode, tuple[int, ...]]] = [(top, ())]
    while stack:
        node, path = stack.pop()
        paths[node] = path
        children = [c for c in node.children if not isinstance(c, _TOKENS)]
        stack.extend((child, (*path, i)) for i, child in enumerate(children))
    return paths


def group_key(file: str, row: Row, path: tuple[int, ...], node: cst.CSTNode, operator: str, ordinal: int,
              original: str) -> str:
    """Mutants with one key are one gap: same table, same argument shape, same place in the row, same
    operator and edit. The shape holds every operator and attribute; of the values it abstracts, a
    literal's does not count (`"gpt-4o"` and `"o1"` are one place, so are two rows' removed calls) but
    a name's does (`True` and `False` flip to different things)."""
    what = original if isinstance(node, cst.Name) else ""
    key = "\0".join([file, str(row.table_line), row.shape, repr(path), operator, str(ordinal), what])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def named_in_tests(root: Path, config: Config) -> frozenset[str]:
    """The string constants of the repository's test files (of the working tree, tracked or not)."""
    listed = git_text(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.py")
    found: set[str] = set()
    for file in listed.split("\0"):
        if not file or not is_test_path(file, config):
            continue
        try:
            tree = ast.parse((root / file).read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        found.update(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return frozenset(found)


def group_tables(mutants: list[Mutant], named: frozenset[str] = frozenset()) -> list[Mutant]:
    """One mutant per table key runs, the first; it `represents` the others (dropped here). A row whose
    string a test names (`'olist'`, `"gpt-4o"`) is a gap of its own: that test looks at that row, and on
    Markdown such rows were killed where their representative survived (benchmarks/bench_libs.json)."""
    groups: dict[str, list[Mutant]] = defaultdict(list)
    for mutant in mutants:
        if mutant.table_key:
            own = any(len(value) > 1 and value in named for value in mutant.row_values)
            groups[mutant.id if own else mutant.table_key].append(mutant)
    kept: dict[str, Mutant] = {}
    for members in groups.values():
        first = min(members, key=lambda m: (m.file, m.start))
        kept[first.id] = replace(first, represents=len(members) - 1)
    out = []
    for mutant in mutants:
        if not mutant.table_key:
            out.append(mutant)
        elif mutant.id in kept:
            out.append(kept[mutant.id])
    return out


@dataclass(frozen=True)
class Grouping:
    """What a run grouped, for its summary: tables, their rows, and the mutants represented."""

    tables: int
    rows: int
    run: int  # table mutants that run
    represented: int  # mutants not run, counted by their representative

    def text(self) -> str:
        return (f"{self.tables} table{'s' if self.tables != 1 else ''} of similar rows ({self.rows} rows): "
                f"{self.run} mutants run for {self.run + self.represented}, "
                f"each standing for its argument shape's other rows")


def grouping(mutants: list[Mutant]) -> Grouping | None:
    tables = {(m.file, m.table_line): m.table_rows for m in mutants if m.table_key}
    if not tables:
        return None
    table_mutants = [m for m in mutants if m.table_key]
    return Grouping(len(tables), sum(tables.values()), len(table_mutants), sum(m.represents for m in table_mutants))
