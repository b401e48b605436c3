"""mutmut 3's results for a tree, located to source lines and stored with per-agent attribution.

mutmut keeps, beside each mutated copy `mutants/<path>`, a `<path>.meta` JSON file (exit code per
mutant key, e.g. `pkg.mod.xǁClassǁmethod__mutmut_3`); the copy holds every variant of a function
as its own `def`. A mutant's line is found by comparing its variant with the `__mutmut_orig` one,
then placing that offset in the original function of `<path>`.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

from results.errors import ResultsError
from results.status import Phase
from results.store import MutantRow, OutcomeRow

# mutmut's own meaning of its exit codes (mutmut/stats.py), folded into mutagate's statuses.
STATUS_BY_EXIT_CODE = {1: "killed", 3: "killed", 37: "killed", -11: "killed", -9: "killed",
                       0: "survived", 5: "no_coverage", 33: "no_coverage",
                       36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}
SEPARATOR = "ǁ"
_DEF = re.compile(r"^\s*(async\s+)?def\s+(\S+?)\s*\(")


def _function_of(mangled: str) -> str:
    """x_func -> func; xǁClassǁmethod -> Class.method."""
    if mangled.startswith("x" + SEPARATOR):
        _, cls, name = mangled.split(SEPARATOR, 2)
        return f"{cls}.{name}"
    return mangled[2:] if mangled.startswith("x_") else mangled


def _renamed(def_line: str, name: str) -> str:
    match = _DEF.match(def_line)
    return def_line[: match.start(2)] + name + def_line[match.end(2):] if match else def_line


def _variant(lines: list[str], node: ast.AST) -> list[str]:
    """The variant's lines from its `def`, its name dropped so that variants compare equal."""
    body = lines[node.lineno - 1:node.end_lineno]
    return [_renamed(body[0], "f")] + body[1:]


def _def_lines(source: str, qualified: bool = True) -> dict[str, ast.AST]:
    """Function nodes by Class.name (or by bare name: mutmut's variants have unique names)."""
    found: dict[str, ast.AST] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(prefix + child.name if qualified else child.name, child)
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + "." if qualified else "")

    visit(ast.parse(source), "")
    return found


def read_mutmut(root: Path, mutants_dir: Path) -> tuple[list[tuple[MutantRow, OutcomeRow]], Counter[str]]:
    """Every checked mutant as the rows to store (its id is mutmut's key, for `mutmut show KEY`; its edit
    is its whole line without the indentation, at column 1; not yet attributed: agent `human`, no
    commit); and a count of what was skipped, and why."""
    if not mutants_dir.is_dir():
        raise ResultsError(f"no mutmut results at {mutants_dir} (run `mutmut run` first, or pass --mutants)")
    skipped: Counter[str] = Counter()
    results: list[tuple[MutantRow, OutcomeRow]] = []
    for meta_path in sorted(mutants_dir.rglob("*.py.meta")):
        copy = meta_path.with_suffix("")
        relative = copy.relative_to(mutants_dir).as_posix()
        original_path = root / relative
        try:
            meta = json.loads(meta_path.read_text())
            copy_text = copy.read_text(encoding="utf-8")
            variants = _def_lines(copy_text, qualified=False)
            original = original_path.read_text(encoding="utf-8")
        except (OSError, ValueError, SyntaxError) as exc:
            raise ResultsError(f"cannot read mutmut's results for {relative}: {exc}") from None
        original_lines, copy_lines = original.splitlines(), copy_text.splitlines()
        functions = _def_lines(original)
        for key, exit_code in meta.get("exit_code_by_key", {}).items():
            status = STATUS_BY_EXIT_CODE.get(exit_code)
            if status is None:
                skipped["not checked" if exit_code is None else f"exit code {exit_code}"] += 1
                continue
            mangled, _, number = key.rpartition(".")[2].rpartition("__mutmut_")
            variant, orig = variants.get(f"{mangled}__mutmut_{number}"), variants.get(f"{mangled}__mutmut_orig")
            node = functions.get(_function_of(mangled))
            if variant is None or orig is None or node is None:
                skipped["not found in the source"] += 1
                continue
            mutated, unchanged = _variant(copy_lines, variant), _variant(copy_lines, orig)
            offset = next((i for i, (a, b) in enumerate(zip(mutated, unchanged)) if a != b),
                          min(len(mutated), len(unchanged)))
            before = unchanged[offset].strip() if offset < len(unchanged) else ""
            after = mutated[offset].strip() if offset < len(mutated) else ""
            line = node.lineno + offset
            if offset == 0:  # the def line itself (a default argument): show it with its real name
                before = _renamed(unchanged[0], node.name).strip()
                after = _renamed(mutated[0], node.name).strip()
            if not (0 < line <= len(original_lines) and original_lines[line - 1].strip() == before):
                # the variant was reformatted: find the unchanged text within the function instead
                window = range(node.lineno, (node.end_lineno or node.lineno) + 1)
                line = next((n for n in window if original_lines[n - 1].strip() == before), node.lineno)
            results.append((MutantRow(key, relative, line, line, 1, len(before) + 1, "mutmut", before, after, "human", "",
                                      _function_of(mangled), line, line),
                            OutcomeRow(key, status, (), 0, (), 0.0, False, "", Phase.IMPORTED)))
    return results, skipped
