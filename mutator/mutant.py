"""The mutant: one small, exact text edit of one source file, with a stable id."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Edit:
    """Replace bytes [start, end) of the UTF-8 source with `replacement`."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class DefaultsOf:
    """A function whose parameters' default values a mutant changes (they are computed when the
    `def` runs, at import time, but only matter where the function is called)."""

    qualname: str
    body_first_line: int
    body_last_line: int
    decorators: tuple[str, ...]  # their source text


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str  # relative to the repo root
    line: int  # 1-based line the edit starts on (the line the mutant belongs to)
    end_line: int
    column: int  # 1-based, in characters
    end_column: int  # 1-based, exclusive (SARIF's convention)
    start: int  # byte offsets of the edit in the UTF-8 source
    end: int
    operator: str
    original: str
    replacement: str
    agent: str
    qualname: str  # enclosing class/function, "<module>" at top level
    in_function: bool = False  # the edit runs when a function is called (not at import time)
    defaults_of: DefaultsOf | None = None  # the edit is in a default value of this function's parameters
    # The lines whose coverage decides which tests run it: its statement, or its compound
    # statement's header (see mutator/statements.py); 0 when unknown (the edit's own lines).
    stmt_line: int = 0
    stmt_end_line: int = 0
    # An import-time value's readers, as line ranges: a class attribute's class (its methods are
    # where the value is used), a module constant's reading functions (see mutator/readers.py); the
    # tests that ran them are the ones to run first in a fresh interpreter. (): unknown.
    reach_lines: tuple[tuple[int, int], ...] = ()
    # A row of a homogeneous table (mutator/tables.py): mutants with one table_key are one gap, of
    # which one runs and `represents` the others; row_values are the row's string literals (the
    # tests that name them are the likeliest killers). "" / 0 / (): not in a table.
    table_key: str = ""
    table_line: int = 0  # the table's first line
    table_rows: int = 0
    represents: int = 0
    row_values: tuple[str, ...] = ()

    @property
    def col(self) -> int:
        """`column` as a stored mutant names it: a generated mutant renders as text as a stored one does."""
        return self.column

    @property
    def end_col(self) -> int:
        return self.end_column

    @property
    def coverage_lines(self) -> tuple[int, int]:
        return (self.stmt_line or self.line, self.stmt_end_line or self.end_line)

    @property
    def probed_ranges(self) -> tuple[tuple[int, int], ...]:
        """Every line range whose tests may see this mutant, where plans read the baseline's map:
        its statement, the body of a function whose defaults it changes, the code its value reaches."""
        body = () if self.defaults_of is None else ((self.defaults_of.body_first_line, self.defaults_of.body_last_line),)
        return (self.coverage_lines, *body, *self.reach_lines)

    def to_json(self) -> dict:
        return asdict(self)


def mutant_id(file: str, qualname: str, operator: str, anchor: str, original: str, replacement: str, index: int) -> str:
    """Stable across edits elsewhere: built from what is mutated and where in the code structure,
    never from line numbers. `index` tells apart equal nodes in one function."""
    key = "\0".join([file, qualname, operator, anchor, original, replacement, str(index)])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def apply_mutant(source: str | bytes, mutant: Mutant) -> str:
    data = source.encode("utf-8") if isinstance(source, str) else source
    return (data[: mutant.start] + mutant.replacement.encode("utf-8") + data[mutant.end :]).decode("utf-8")
