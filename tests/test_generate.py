"""Mutant generation: AI lines only, arid code skipped, stable ids, every mutant compiles."""

from __future__ import annotations

import argparse as stdlib_argparse
import textwrap
from pathlib import Path

import pytest

from mutator.config import Config, parse_config
from mutator.errors import BadInput
from mutator.generate import generate_file, select_one_per_line
from mutator.mutant import apply_mutant


def all_ai(source: str) -> dict[int, str]:
    return {n: "claude-code" for n in range(1, source.count("\n") + 2)}


def gen(source: str, config: Config = Config()) -> list:
    source = textwrap.dedent(source).lstrip("\n")
    return generate_file("m.py", source, all_ai(source), config)


def test_mutants_only_on_ai_lines_and_never_reaching_a_human_line() -> None:
    source = "def f(x, y):\n    a = x + 1\n    b = y + 2\n    if x is None:\n        return a\n    return b\n"
    # Line 4 is AI, its body line 5 human: removing the whole guard would reach into line 5.
    mutants = generate_file("m.py", source, {2: "cursor", 4: "codex"})
    assert {(m.line, m.agent) for m in mutants} == {(2, "cursor"), (4, "codex")}
    assert "remove-guard" not in {m.operator for m in mutants}
    assert {m.operator for m in mutants if m.line == 4} == {"comparison-negate"}
    both = generate_file("m.py", source, {2: "cursor", 4: "codex", 5: "codex"})
    assert {(m.line, m.agent) for m in both if m.operator == "remove-guard"} == {(4, "codex")}


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ('def f():\n    """Doc 1 + 2."""\n    return None\n', "docstring"),
        ("def f(x: Dict[str, int] = None) -> List[int]:\n    return None\n", "annotations"),
        ("__all__ = ['a', 'b']\n__all__ += ['c']\n", "__all__"),
        ("x = a + 1  # pragma: no mutate\n", "pragma"),
        ("logger.info('n=%d', n + 1)\nlogging.warning('x' * 3)\nself.log.debug(a - 1)\nprint(a + 1)\n", "logging"),
        ("time.sleep(0.5 * attempt)\nTIMEOUT = 30\nretry_delay = 2\n", "timing"),
        ("def f(poll_interval=5):\n    return None\n", "timing default"),
        ("p.add_argument('--n', default=3, type=int)\nv = os.environ.get('N', '3')\nw = os.getenv('W', 'x')\n", "flags"),
        ("async def f():\n    await asyncio.sleep(1)\n", "awaited sleep"),
        ("if __name__ == '__main__':\n    main(1 + 2)\n", "__main__"),
        ("if TYPE_CHECKING:\n    x = 1\n", "TYPE_CHECKING"),
        ("T = TypeVar('T', bound='Version')\nUserId = typing.NewType('UserId', int)\n", "typing declarations"),
        ('Part = Union["Version", Dict[str, int], str]\nHook = typing.Callable[["Version"], bool]\n', "type aliases"),
        ("@app.route('/x', methods=['GET'])\ndef f():\n    return None\n", "decorator"),
    ],
)
def test_arid_code_yields_no_mutants(source: str, why: str) -> None:
    assert gen(source) == [], why


def test_timing_keyword_arguments_are_neither_changed_nor_dropped() -> None:
    mutants = gen("requests.get(url, timeout=10, stream=True)\n")
    assert {m.original for m in mutants} == {"requests.get(url, timeout=10, stream=True)", ", stream=True", "True"}


def test_user_skip_rules_and_disabled_operators() -> None:
    source = "metrics.emit('n', n + 1)\nx = a + b\ny = c < d\nz = 'text'\n"
    config = parse_config({"skip-calls": ["metrics.*"], "disable-operators": ["comparison", "string", "assign-none"]})
    assert {m.operator for m in gen(source, config)} == {"arithmetic"}
    assert {m.line for m in gen(source, config)} == {2}


def test_ids_are_stable_when_lines_above_move() -> None:
    body = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"
    before = {(m.operator, m.original, m.replacement): m.id for m in gen(body)}
    after = {(m.operator, m.original, m.replacement): m.id for m in gen("import os\n\n\nX = 1\n" + body)}
    assert before and all(after[key] == value for key, value in before.items())


def test_equal_nodes_in_one_function_get_distinct_ids_and_generation_is_reproducible() -> None:
    source = "def f(a, b):\n    x = a + 1\n    y = b + 1\n    return x + 1\n"
    first, second = gen(source), gen(source)
    assert [m.id for m in first] == [m.id for m in second]
    assert len({m.id for m in first}) == len(first)


def test_every_mutant_changes_the_text() -> None:
    source = Path(stdlib_argparse.__file__).read_text()
    for mutant in generate_file("argparse.py", source, all_ai(source))[:500]:
        assert mutant.original != mutant.replacement
        assert apply_mutant(source, mutant) != source


@pytest.mark.slow
def test_every_mutant_of_a_large_real_file_compiles() -> None:
    source = Path(stdlib_argparse.__file__).read_text()  # ~2,600 lines of real, varied Python
    mutants = generate_file("argparse.py", source, all_ai(source))
    assert len(mutants) > 1500
    assert len({m.operator for m in mutants}) >= 20
    for mutant in mutants:
        compile(apply_mutant(source, mutant), f"argparse.py[{mutant.id}]", "exec")


def test_columns_count_characters_not_bytes() -> None:
    (mutant,) = [m for m in gen("s = 'é' ; t = a + b\n") if m.operator == "arithmetic"]
    assert (mutant.column, mutant.end_column) == (17, 18)


def test_pr_mode_keeps_one_mutant_per_line_preferring_history() -> None:
    source = "def f(user, xs):\n    if user is None: return []\n    return xs[1:] + [0]\n"
    mutants = gen(source)
    chosen = select_one_per_line(mutants)
    assert len(chosen) == len({(m.file, m.line) for m in mutants})
    assert {m.operator for m in chosen if m.line == 2} == {"remove-guard"}
    by_history = select_one_per_line(mutants, {"number": 0.9, "slice-off-by-one": 0.1})
    assert {m.operator for m in by_history if m.line == 3} == {"number"}


def test_syntax_error_is_bad_input() -> None:
    with pytest.raises(BadInput, match=r"m.py:2: syntax error"):
        generate_file("m.py", "x = 1\ndef (:\n", {1: "codex", 2: "codex"})


def test_qualnames_and_import_time_edits() -> None:
    source = ("X = 1 + 2\nclass C:\n    y = 3\n    def m(self, k=4):\n"
              "        def inner():\n            return k + 5\n        return inner\n")
    found = {(m.original, m.qualname, m.in_function) for m in gen(source) if m.operator in ("arithmetic", "number")}
    assert found == {
        ("+", "<module>", False), ("1", "<module>", False), ("2", "<module>", False),
        ("3", "C", False),
        ("4", "C", False),  # a default is evaluated when the class body runs, not when m is called
        ("+", "C.m.inner", True), ("5", "C.m.inner", True),
    }


def test_edits_in_default_values_name_their_function_and_its_body() -> None:
    mutants = gen(textwrap.dedent('''\
        class C:
            @classmethod
            def make(cls, size: int = 3, *, name="x"):
                def inner(flag=True):
                    return flag
                return size + 1
        '''))
    by_original = {}
    for m in mutants:
        by_original.setdefault((m.original, m.operator), m)
    for key in [("3", "number"), ("3", "default-argument"), ('"x"', "string")]:
        defaults = by_original[key].defaults_of
        assert (defaults.qualname, defaults.body_first_line, defaults.body_last_line, defaults.decorators) == \
            ("C.make", 4, 6, ("classmethod",)), key
    # Inside the body: the outer function's code makes the inner def, so nothing needs its defaults.
    assert by_original[("True", "boolean-constant")].defaults_of is None
    assert by_original[("size + 1", "return-value")].defaults_of is None


def test_a_module_constant_reaches_the_functions_that_read_it_and_nothing_read_at_import() -> None:
    source = (
        "import re\n"                      # 1
        "WORD = re.compile('[a-z]+')\n"    # 2: read by short() only
        "LIMIT = 3\n"                      # 3: read by short() and by a default value: unknown
        "ALONE = 5\n"                      # 4: read by nobody in this module: unknown
        "TABLE = {'a': 1}\n"               # 5: read in a class body: unknown
        "\n"
        "def short(text, limit=LIMIT):\n"  # 7
        "    words = WORD.findall(text)\n"  # 8
        "    return [w for w in words if len(w) <= LIMIT]\n"  # 9
        "\n"
        "class Rates:\n"                   # 11
        "    rates = TABLE\n"              # 12
    )
    reach = {m.line: m.reach_lines for m in generate_file("m.py", source, {n: "claude" for n in range(1, 13)})
             if m.qualname == "<module>"}
    assert reach[2] == ((8, 9),)
    assert reach[3] == reach[4] == reach[5] == ()
