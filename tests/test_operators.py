"""Each operator on real code: what it produces, and where it must stay silent."""

from __future__ import annotations

import textwrap

import pytest

from mutator.config import Config
from mutator.generate import generate_file
from mutator.mutant import apply_mutant
from mutator.operators.base import REGISTRY
from tests.docs import read_doc


def mutations(source: str, operator: str) -> set[str]:
    """Every mutated source the operator makes when all lines are AI lines."""
    source = textwrap.dedent(source).lstrip("\n")
    lines = {n: "claude-code" for n in range(1, source.count("\n") + 2)}
    return {apply_mutant(source, m) for m in generate_file("m.py", source, lines) if m.operator == operator}


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


CASES = [
    ("arithmetic", "x = a + b * c\n", {"x = a - b * c\n", "x = a + b / c\n"}),
    ("arithmetic", "x = a // b % c ** d\n", {"x = a / b % c ** d\n", "x = a // b * c ** d\n", "x = a // b % c * d\n"}),
    ("bitwise", "x = a & b | c ^ d << 1\n",
     {"x = a | b | c ^ d << 1\n", "x = a & b & c ^ d << 1\n", "x = a & b | c & d << 1\n", "x = a & b | c ^ d >> 1\n"}),
    ("comparison-boundary", "ok = lo < x <= hi\n", {"ok = lo <= x <= hi\n", "ok = lo < x < hi\n"}),
    ("comparison-boundary", "ok = a > b and c >= d\n", {"ok = a >= b and c >= d\n", "ok = a > b and c > d\n"}),
    ("comparison-negate", "ok = x is None or y in z or a == b\n",
     {"ok = x is not None or y in z or a == b\n", "ok = x is None or y not in z or a == b\n",
      "ok = x is None or y in z or a != b\n"}),
    ("comparison-negate", "ok = x is not None and y not in z and a != b\n",
     {"ok = x is None and y not in z and a != b\n", "ok = x is not None and y in z and a != b\n",
      "ok = x is not None and y not in z and a == b\n"}),
    ("boolean-operator", "ok = a and b\n", {"ok = a or b\n"}),
    ("boolean-operator", "ok = a or b\n", {"ok = a and b\n"}),
    ("remove-not", "ok = not done\nno = x and not (a or b)\n",
     {"ok = done\nno = x and not (a or b)\n", "ok = not done\nno = x and (a or b)\n"}),
    ("unary-sign", "x = -y\nz = ~m\n", {"x = y\nz = ~m\n", "x = -y\nz = m\n"}),
    ("number", "a = 0\nb = 1\nc = 41\nd = 0x10\n",
     {"a = 1\nb = 1\nc = 41\nd = 0x10\n", "a = 0\nb = 0\nc = 41\nd = 0x10\n", "a = 0\nb = 1\nc = 42\nd = 0x10\n",
      "a = 0\nb = 1\nc = 41\nd = 17\n"}),
    ("row-rank", "add(A(), 'a', 20)\nadd(B(), 'b', 10)\nadd(C(), 'c', 0)\n",
     {"add(A(), 'a', 9)\nadd(B(), 'b', 10)\nadd(C(), 'c', 0)\n", "add(A(), 'a', 20)\nadd(B(), 'b', 21)\nadd(C(), 'c', 0)\n",
      "add(A(), 'a', 20)\nadd(B(), 'b', 10)\nadd(C(), 'c', 11)\n"}),
    ("float", "r = 0.5\n", {"r = 1.5\n"}),
    ("string", "s = 'a'\nt = b\"\"\"x\"\"\"\n", {"s = 'XXaXX'\nt = b\"\"\"x\"\"\"\n", "s = 'a'\nt = b\"\"\"XXxXX\"\"\"\n"}),
    ("boolean-constant", "f(strict=True)\ng(False)\n", {"f(strict=False)\ng(False)\n", "f(strict=True)\ng(True)\n"}),
    ("break-continue", "for x in xs:\n    if x:\n        break\n", {"for x in xs:\n    if x:\n        continue\n"}),
    ("continue-break", "for x in xs:\n    if x:\n        continue\n", {"for x in xs:\n    if x:\n        break\n"}),
    ("augmented-assignment", "t += x\nt *= y\n", {"t -= x\nt *= y\n", "t += x\nt /= y\n"}),
    ("augmented-to-plain", "t += x\n", {"t = x\n"}),
    ("return-value", "def f(x):\n    return x * 2\n", {"def f(x):\n    return None\n"}),
    ("return-value", "def f(x):\n    return None\n", set()),
    ("return-negate", "def f(a, b):\n    return a < b\n", {"def f(a, b):\n    return not (a < b)\n"}),
    ("assign-none", "x = compute(y)\nz = None\n", {"x = None\nz = None\n"}),
    ("remove-call", "cache.clear()\nawait flush()\nx = f()\n",
     {"pass\nawait flush()\nx = f()\n", "cache.clear()\npass\nx = f()\n"}),
    ("lambda-body", "k = lambda r: r.score\n", {"k = lambda r: None\n"}),
    ("default-argument", "def f(limit=10, name=None):\n    pass\n", {"def f(limit=None, name=None):\n    pass\n"}),
    ("default-argument", "def f(tools=(), pair=(1, 2)):\n    pass\n",
     {"def f(tools=None, pair=(1, 2)):\n    pass\n", "def f(tools=(), pair=None):\n    pass\n"}),
    # AI failure modes
    ("swallow-exception", "try:\n    f()\nexcept KeyError:\n    cleanup()\n    raise\n",
     {"try:\n    f()\nexcept KeyError:\n    cleanup()\n    pass\n"}),
    ("remove-raise", "def f(x):\n    if x < 0:\n        raise ValueError(x)\n    return x\n",
     {"def f(x):\n    if x < 0:\n        pass\n    return x\n"}),
    ("broaden-except", "try:\n    f()\nexcept (KeyError, IndexError):\n    g()\nexcept Exception:\n    h()\n",
     {"try:\n    f()\nexcept (Exception):\n    g()\nexcept Exception:\n    h()\n"}),
    ("remove-guard", "def f(u):\n    if u is None:\n        return []\n    if not u.items:\n        raise ValueError\n    if u.x > 3:\n        return 1\n    return u.items\n",
     {"def f(u):\n    pass\n    if not u.items:\n        raise ValueError\n    if u.x > 3:\n        return 1\n    return u.items\n",
      "def f(u):\n    if u is None:\n        return []\n    pass\n    if u.x > 3:\n        return 1\n    return u.items\n"}),
    ("remove-guard", "def f(xs):\n    if len(xs) == 0: return 0\n    return xs[0]\n", {"def f(xs):\n    pass\n    return xs[0]\n"}),
    ("remove-early-return", "def f(xs):\n    for x in xs:\n        if x.ok:\n            return x\n    if xs is None:\n        return 0\n    return None\n",
     {"def f(xs):\n    for x in xs:\n        if x.ok:\n            pass\n    if xs is None:\n        return 0\n    return None\n"}),
    ("slice-off-by-one", "a = xs[1:n]\nb = ys[:-1]\n",
     {"a = xs[2:n]\nb = ys[:-1]\n", "a = xs[1:n - 1]\nb = ys[:-1]\n", "a = xs[1:n]\nb = ys[:-2]\n"}),
    ("index-off-by-one", "a = row[i]\nb = row[0]\nc = d['k']\ne = m[len(x) - 1]\n",
     {"a = row[i + 1]\nb = row[0]\nc = d['k']\ne = m[len(x) - 1]\n", "a = row[i]\nb = row[1]\nc = d['k']\ne = m[len(x) - 1]\n",
      "a = row[i]\nb = row[0]\nc = d['k']\ne = m[(len(x) - 1) + 1]\n"}),
    ("range-off-by-one", "for i in range(1, n):\n    pass\n",
     {"for i in range(1, n + 1):\n    pass\n", "for i in range(2, n):\n    pass\n"}),
    ("range-off-by-one", "for i in range(len(xs) - 1):\n    pass\n", {"for i in range((len(xs) - 1) + 1):\n    pass\n"}),
    ("swap-arguments", "copy(src, dst)\nmax(a, b)\npow(2, 10)\n", {"copy(dst, src)\nmax(a, b)\npow(2, 10)\n", "copy(src, dst)\nmax(a, b)\npow(10, 2)\n"}),
    ("drop-keyword-argument", "open(p, 'r', encoding='utf-8', newline='')\n",
     {"open(p, 'r', newline='')\n", "open(p, 'r', encoding='utf-8')\n"}),
    ("drop-keyword-argument", "f(key=1)\ng(key=1, other=2)\n", {"f()\ng(key=1, other=2)\n", "f(key=1)\ng(other=2)\n", "f(key=1)\ng(key=1)\n"}),
    ("min-max", "hi = max(xs)\nlo = min(xs)\n", {"hi = min(xs)\nlo = min(xs)\n", "hi = max(xs)\nlo = max(xs)\n"}),
    ("any-all", "ok = any(c)\n", {"ok = all(c)\n"}),
    ("sorted-reverse", "a = sorted(xs, key=f)\nxs.sort()\nb = sorted(ys, reverse=True)\n",
     {"a = sorted(xs, key=f, reverse=True)\nxs.sort()\nb = sorted(ys, reverse=True)\n",
      "a = sorted(xs, key=f)\nxs.sort(reverse=True)\nb = sorted(ys, reverse=True)\n",
      "a = sorted(xs, key=f)\nxs.sort()\nb = sorted(ys, reverse=False)\n"}),
    ("dict-get-default", "p = cfg.get('port', 8080)\nq = cfg.get('q', None)\n", {"p = cfg.get('port')\nq = cfg.get('q', None)\n"}),
    ("method-swap", "rows.append(b)\nn = s.startswith('x')\nparts = s.split(',')\nhead = s.split(',', 1)\n",
     {"rows.extend(b)\nn = s.startswith('x')\nparts = s.split(',')\nhead = s.split(',', 1)\n",
      "rows.append(b)\nn = s.endswith('x')\nparts = s.split(',')\nhead = s.split(',', 1)\n",
      "rows.append(b)\nn = s.startswith('x')\nparts = s.split(',')\nhead = s.rsplit(',', 1)\n"}),
]


@pytest.mark.parametrize(("operator", "source", "expected"), CASES)
def test_operator(operator: str, source: str, expected: set[str]) -> None:
    assert mutations(source, operator) == expected


def test_every_registered_operator_has_a_case() -> None:
    assert {op.name for op in REGISTRY} == {case[0] for case in CASES}


def test_default_argument_replaces_the_whole_default_parentheses_included() -> None:
    """`tools=()` showed as `'' -> 'None'` with the diff `tools=(None)`: the edit took only the inside."""
    source = "def f(tools=(), pair=(1, 2)):\n    pass\n"
    found = generate_file("m.py", source, {1: "claude-code", 2: "claude-code"})
    assert {(m.original, m.replacement) for m in found if m.operator == "default-argument"} == {("()", "None"), ("(1, 2)", "None")}


def test_len_against_zero_gets_no_tautology_boundary() -> None:
    assert mutations("if len(xs) > 0:\n    f()\n", "comparison-boundary") == set()


def test_examples_in_the_registry_are_real() -> None:
    """Each registry example (before -> after; `--help` shows them) is what the operator really does."""
    for op in REGISTRY:
        before, after = op.example
        assert after + "\n" in mutations(before + "\n", op.name), op.name


def test_the_operators_page_lists_every_operator() -> None:
    page = read_doc("operators.md")
    assert [op.name for op in REGISTRY if f"`{op.name}`" not in page] == []


def test_a_rows_number_moves_past_its_neighbours_instead_of_n_plus_1() -> None:
    """Markdown's registries rank rows by a number: `80 -> 81` kept every row's rank (15 equivalent
    survivors in its nightly, each most of the suite). In a row of similar calls the number goes past
    its neighbour row's number in the same argument instead; `number` keeps the rest (no neighbour
    with another value there, another keyword, a sign, a lone call)."""
    source = src("""
        register(Code(p), 'code', 80)
        register(Hash(p, strict=True), 'hash', 70)
        register(Hash(p), 'setext', 70)
        register(Quote(p), 'quote', priority=20)
        register(Para(p), 'para', -5)
        limit = f(3)
        """)
    found = {(m.line, m.operator, m.original, m.replacement)
             for m in generate_file("m.py", source, {n: "claude-code" for n in range(1, 7)})
             if m.operator in ("row-rank", "number")}
    assert found == {
        (1, "row-rank", "80", "69"),  # past the next row's 70: 'code' now after 'hash'
        (2, "row-rank", "70", "81"),  # the next row holds the same 70: past the previous row's 80
        (3, "number", "70", "71"),  # the same 70 before it, a keyword argument after it
        (4, "number", "20", "21"),  # `priority=` against the neighbours' positional numbers
        (5, "number", "5", "6"),  # -5: a sign of its own
        (6, "number", "3", "4"),  # not a row
    }


def test_without_row_rank_number_mutates_the_rows_again() -> None:
    source = "add(A(), 'a', 20)\nadd(B(), 'b', 10)\n"
    found = generate_file("m.py", source, {1: "claude-code", 2: "claude-code"}, Config(disable_operators=("row-rank",)))
    assert {(m.operator, m.replacement) for m in found if m.original in ("20", "10")} == {("number", "21"), ("number", "11")}
