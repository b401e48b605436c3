"""How the fork server changes a live module to run one mutant: the mutated function's code object,
or its parameters' default values, swapped into the function objects the tests already hold.

Runs inside the *target's* interpreter, in the fork server (serve.py): the standard library only.
"""

from __future__ import annotations

import gc
import os
import sys
import types
from typing import NamedTuple


def normalise(qualname: str) -> str:
    return qualname.replace(".<locals>", "")


def live_functions(root: str) -> dict[tuple[str, str], list[types.FunctionType]]:
    """Every function object defined in a file under `root`, by (file, qualified name)."""
    index: dict[tuple[str, str], list[types.FunctionType]] = {}
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType):
            code = obj.__code__
            if code.co_filename.startswith(root):
                index.setdefault((os.path.realpath(code.co_filename), normalise(code.co_qualname)), []).append(obj)
    return index


def find_code(code: types.CodeType, qualname: str, first_line: int) -> types.CodeType | None:
    if normalise(code.co_qualname) == qualname and code.co_name != "<module>" and code.co_firstlineno == first_line:
        return code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found = find_code(const, qualname, first_line)
            if found is not None:
                return found
    return None


class Patcher:
    """Finds the live functions around an edit and compiles their mutated code.

    Compiling happens in the server, before the fork: in a forked child the compiler's allocations
    fault in copy-on-write pages and cost twice as much. Sources are read once, when the server
    starts on a clean work copy, because a survivor's confirmation puts the mutant on disk."""

    def __init__(self, index: dict) -> None:
        self.index = index
        self.sources: dict[str, bytes] = {}
        self.layouts: dict[str, Layout] = {}  # parsed when a mutant first needs one: most files have none
        for path, _ in index:
            if path not in self.sources:
                with open(path, "rb") as handle:
                    self.sources[path] = handle.read()

    def prepare(self, request: dict) -> Patch | str:
        """What to change in the live functions, or why the mutant cannot be patched."""
        path = request["file"]
        data = self.sources.get(path)
        if data is None:
            return f"no live function in {path}"
        layout = self.layouts.get(path)
        if layout is None:
            layout = self.layouts[path] = Layout.of(data)
        if request.get("defaults_of"):
            return self._prepare_defaults(request, data, layout)
        qualname = request["qualname"]
        while qualname:
            span = layout.around(qualname, request["start"], request["end"])
            # Same qualname, different functions: a property's getter and setter, redefinitions.
            functions = [f for f in self.index.get((path, qualname), ()) if span and f.__code__.co_firstlineno == span.first]
            if functions:
                break
            qualname = qualname.rpartition(".")[0]
        else:
            return f"no live function for {request['qualname']}"
        snippet = layout.function_source(data, span, request) if span.classes is not None else None
        try:
            if snippet is not None:  # the function alone, on its own lines: a fraction of the module's compile
                code = compile(snippet, path, "exec", flags=layout.future_flags, dont_inherit=True)
            else:
                mutated = data[: request["start"]] + request["replacement"].encode() + data[request["end"] :]
                code = compile(mutated, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            return f"does not compile: {exc}"
        new_code = find_code(code, qualname, span.first)
        if new_code is None:
            return f"no code object for {qualname}"
        if new_code.co_freevars != functions[0].__code__.co_freevars:
            return "the mutation changes the closure's free variables"
        return CodePatch(functions, new_code)

    def _prepare_defaults(self, request: dict, data: bytes, layout: Layout) -> Patch | str:
        """A mutant in a parameter's default value: the def's default expressions, compiled here
        and evaluated in the child where the def evaluated them (module globals, class namespace)."""
        import ast

        path, qualname = request["file"], request["defaults_of"]
        span = layout.around(qualname, request["start"], request["end"])
        if span is None or span.classes is None:
            return f"no stand-alone function {qualname} around the edit"
        functions = [f for f in self.index.get((path, qualname), ()) if f.__code__.co_firstlineno == span.first]
        snippet = layout.function_source(data, span, request)
        if not functions or snippet is None:
            return f"no live function for {qualname}"
        try:
            tree = ast.parse(snippet)
        except (SyntaxError, ValueError) as exc:
            return f"does not compile: {exc}"
        node = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and min([n.lineno, *(d.lineno for d in n.decorator_list)]) == span.first), None)
        if node is None:
            return f"no definition of {qualname} in the mutated text"

        def compiled(expression: ast.expr) -> types.CodeType:
            return compile(ast.Expression(expression), path, "eval", flags=layout.future_flags, dont_inherit=True)

        try:
            positional = [compiled(e) for e in node.args.defaults]
            keyword = {a.arg: compiled(e) for a, e in zip(node.args.kwonlyargs, node.args.kw_defaults) if e is not None}
        except (SyntaxError, ValueError) as exc:
            return f"does not compile: {exc}"
        function = functions[0]
        if len(positional) != len(function.__defaults__ or ()) or set(keyword) != set(function.__kwdefaults__ or {}):
            return "the mutation changes which parameters have defaults"
        owner = sys.modules.get(function.__module__)
        for name in span.classes:  # the class whose body ran the def: its names are in scope there
            owner = getattr(owner, name, None)
        if owner is None:
            return f"cannot find the class of {qualname}"
        namespace = vars(owner) if span.classes else None
        return DefaultsPatch(functions, positional, keyword, function.__globals__, namespace)


class Patch:
    def apply(self) -> None:
        raise NotImplementedError


class CodePatch(Patch):
    """The mutated code object swapped into the live functions: every reference runs it."""

    def __init__(self, functions: list[types.FunctionType], code: types.CodeType) -> None:
        self.functions, self.code = functions, code

    def apply(self) -> None:
        for function in self.functions:
            function.__code__ = self.code


class DefaultsPatch(Patch):
    """The mutated default values, evaluated as the def would have (in the child: their side
    effects and objects stay there), set on the live functions."""

    def __init__(self, functions: list, positional: list, keyword: dict, globals_: dict, namespace) -> None:
        self.functions, self.positional, self.keyword = functions, positional, keyword
        self.globals, self.namespace = globals_, namespace

    def apply(self) -> None:
        positional = tuple(eval(code, self.globals, self.namespace) for code in self.positional)  # noqa: S307
        keyword = {name: eval(code, self.globals, self.namespace) for name, code in self.keyword.items()}  # noqa: S307
        for function in self.functions:
            function.__defaults__ = positional or None
            function.__kwdefaults__ = keyword or None


class Span(NamedTuple):
    first: int  # the first decorator's line, or the def's: the code object's co_firstlineno
    last: int
    begin: int  # byte offsets of the first line's start and of the end of the last line
    end: int
    classes: tuple[str, ...] | None  # the enclosing classes; None inside another function


class Layout:
    """Where each function of a module lies. Module-level functions and methods of (nested)
    classes compile on their own, under stand-ins for their classes; a function inside a function
    needs its enclosing function's variables to compile the same, so it takes the whole module."""

    def __init__(self, spans: dict[str, list[Span]], future_flags: int, imported: tuple[str, ...] = ()) -> None:
        self.spans = spans
        self.future_flags = future_flags
        # The compiler calls methods of imported names differently (no LOAD_METHOD): the snippet
        # declares the module's imported names too, so its bytecode is the module's own.
        self.imports = b"import " + ", ".join(imported).encode() + b"\n" if imported else b""

    @classmethod
    def of(cls, data: bytes) -> Layout:
        import __future__
        import ast

        starts = [0]
        for line in data.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            return cls({}, 0)
        head = data.split(b"\n", 2)[:2]
        standalone = not any(b"coding" in line for line in head)  # a declared encoding a snippet would lose
        flags = 0
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                for alias in node.names:  # the rest are no-ops today, and not recorded as such
                    if alias.name in ("annotations", "barry_as_FLUFL"):
                        flags |= getattr(__future__, alias.name).compiler_flag
        imported: set[str] = set()
        scope = list(tree.body)
        while scope:  # the module's own scope: into if/try/with blocks, not into functions or classes
            node = scope.pop()
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imported.update((a.asname or a.name).partition(".")[0] for a in node.names if a.name != "*")
            elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt | ast.excepthandler))
        spans: dict[str, list[Span]] = {}

        def visit(body: list, scope: tuple[str, ...], classes: tuple[str, ...] | None) -> None:
            for node in body:
                if isinstance(node, ast.ClassDef):
                    visit(node.body, (*scope, node.name), None if classes is None else (*classes, node.name))
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    last = node.end_lineno or node.lineno
                    span = Span(first, last, starts[first - 1], starts[min(last, len(starts) - 1)], classes)
                    spans.setdefault(".".join((*scope, node.name)), []).append(span)
                    visit(node.body, (*scope, node.name), None)
                else:  # functions under if/try/with/... blocks
                    for field in ("body", "orelse", "finalbody", "handlers"):
                        visit([n for n in getattr(node, field, ()) if isinstance(n, ast.AST)], scope, None)

        visit(tree.body, (), () if standalone else None)
        return cls(spans, flags, tuple(sorted(imported)))

    def around(self, qualname: str, start: int, end: int) -> Span | None:
        """The function of this name whose text holds the edit."""
        for span in self.spans.get(qualname, ()):
            if span.begin <= start <= end <= span.end:
                return span
        return None

    def function_source(self, data: bytes, span: Span, request: dict) -> bytes | None:
        """The mutated function under stand-ins for its classes, on its own line numbers; None when
        there is no line left above it to declare the imports on."""
        line = data[span.begin : span.end]
        indent = line[: len(line) - len(line.lstrip(b" \t"))]
        headers = b"".join(indent[:depth] + b"class " + name.encode() + b":\n"
                           for depth, name in enumerate(span.classes))
        body = data[span.begin : request["start"]] + request["replacement"].encode() + data[request["end"] : span.end]
        blank = span.first - 1 - len(span.classes)
        if self.imports:
            if blank < 1:
                return None
            return self.imports + b"\n" * (blank - 1) + headers + body
        return b"\n" * blank + headers + body
