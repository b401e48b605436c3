"""Homogeneous tables (issue 22, item 3): one mutant per argument shape and place, the rest represented;
the likeliest killers of a row's mutant first; the grouping stored and said in the run's summary."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import duckdb

from mutator.generate import generate_file
from mutator.config import Config
from mutator.mutant import Mutant
from mutator.tables import MIN_ROWS, group_tables, grouping
from results.schema import MIGRATIONS, SCHEMA_VERSION, TABLES
from results.store import ResultStore
from scheduler.likely import SuiteSources, likeliest_first, module_names
from tests.cli import mutagate
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

MODELS = [("gpt-4o", True), ("gpt-4o-mini", True), ("gpt-4.1", True), ("o1", False), ("o3", False),
          ("gpt-3.5", False)]


def registry(rows: list[tuple[str, bool]], extra: set[str] = frozenset()) -> str:
    """`register(Chat("name", vision=…))` rows; the names in `extra` get one more keyword (a second shape)."""
    lines = ["REGISTRY = {}", "", "", "class Chat:", "    def __init__(self, name, vision=False, tools=False):",
             "        self.name, self.vision, self.tools = name, vision, tools", "", "",
             "def register(chat):", "    REGISTRY[chat.name] = chat", "", "", "def register_models():"]
    for name, vision in rows:
        more = ", tools=True" if name in extra else ""
        lines.append(f"    register(Chat({name!r}, vision={vision}{more}))")
    return "\n".join(lines) + "\n"


def gen(source: str, config: Config = Config()) -> list[Mutant]:
    return generate_file("pkg/models.py", source, {n: "claude-code" for n in range(1, source.count("\n") + 2)},
                         config)


def table_mutants(mutants: list[Mutant]) -> list[Mutant]:
    return [m for m in mutants if m.table_key]


def test_a_table_is_one_gap_per_shape_place_and_operator() -> None:
    source = registry(MODELS, extra={"o3"})
    every = gen(source)
    rows = table_mutants(every)
    assert {m.line for m in rows} == set(range(14, 14 + len(MODELS)))
    assert {m.table_rows for m in rows} == {len(MODELS)}
    grouped = group_tables(every)
    kept = table_mutants(grouped)
    # Each row has the same operators in the same places; `vision=True` and `vision=False` flip
    # differently, and the `tools=True` row has its own shape: so its mutants stand for no other row.
    by_row: dict[int, set[str]] = {}
    for m in kept:
        by_row.setdefault(m.line, set()).add(f"{m.operator}:{m.original}")
    first_true, first_false, odd = 14, 17, 18
    assert set(by_row) == {first_true, first_false, odd}
    assert "boolean-constant:True" in by_row[first_true] and "boolean-constant:False" in by_row[first_false]
    assert "string:'gpt-4o'" in by_row[first_true] and not any(k.startswith("string") for k in by_row[first_false])
    represents = {(m.line, m.operator, m.original): m.represents for m in kept}
    assert represents[(first_true, "boolean-constant", "True")] == 2  # gpt-4o-mini, gpt-4.1
    assert represents[(first_false, "boolean-constant", "False")] == 1  # gpt-3.5 (o3 has its own shape)
    assert represents[(first_true, "string", "'gpt-4o'")] == 4  # every other row of both vision values but o3
    assert all(v == 0 for (line, *_), v in represents.items() if line == odd)
    # Nothing is lost: every dropped mutant is counted by exactly one kept one, and the rest is untouched.
    assert len(grouped) + sum(m.represents for m in kept) == len(every)
    assert [m for m in grouped if not m.table_key] == [m for m in every if not m.table_key]
    assert {m.row_values for m in kept if m.line == first_true} == {("gpt-4o",)}
    # A row whose string a test names is a gap of its own (one-letter strings are named everywhere).
    named = table_mutants(group_tables(every, frozenset({"o1", "x"})))
    assert {m.represents for m in named if m.line == first_false} == {0}
    assert represents[(first_true, "string", "'gpt-4o'")] - 1 == next(
        m.represents for m in named if m.line == first_true and m.operator == "string")
    summary = grouping(grouped)
    assert (summary.tables, summary.rows, summary.run, summary.represented) == (1, 6, len(kept), len(every) - len(grouped))
    assert "1 table of similar rows (6 rows)" in summary.text()


def test_what_is_not_a_table() -> None:
    short = gen(registry(MODELS[: MIN_ROWS - 1]))
    assert not table_mutants(short)
    # Rows calling different functions are not one table; nor are plain assignments of numbers.
    mixed = "def f(a, b):\n" + "".join(f"    {'a' if i % 2 else 'b'}.add({i})\n" for i in range(6))
    assert not table_mutants(gen(mixed))
    numbers = "".join(f"X{i} = {i} + 1\n" for i in range(6))
    assert not table_mutants(gen(numbers))
    assert not table_mutants(gen(registry(MODELS), Config(group_tables=False)))


def test_a_literal_of_same_shape_entries_is_a_table() -> None:
    source = textwrap.dedent("""
        LEXERS = {
            "abap": ("ABAP", ("abap",), 1 + 1),
            "ada": ("Ada", ("ada", "ads"), 2 + 1),
            "bash": ("Bash", ("sh",), 3 + 1),
            "c": ("C", ("c", "h"), 4 + 1),
            "cpp": ("C++", ("cpp",), 5 + 1),
        }
    """).lstrip()
    every = gen(source)
    assert {m.table_rows for m in table_mutants(every)} == {5}
    kept = table_mutants(group_tables(every))
    arithmetic = [m for m in kept if m.operator == "arithmetic"]
    # ("abap",) and ("ada", "ads") are different shapes: one representative each.
    assert sorted((m.line, m.represents) for m in arithmetic) == [(2, 2), (3, 1)]


def test_likeliest_killers_run_first(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text(
        "import json\n\n\ndef test_fast():\n    assert json\n\n\ndef test_names():\n    assert 'gpt-4o' in 'x'\n")
    (tmp_path / "tests" / "test_b.py").write_text(
        "from pkg.models import REGISTRY\n\n\ndef test_imports():\n    assert REGISTRY\n")
    row = next(m for m in gen(registry(MODELS)) if m.table_key and m.line == 14)
    tests = ("tests/test_a.py::test_fast", "tests/test_b.py::test_imports", "tests/test_a.py::test_names",
             "tests/test_a.py::test_param[o1]")
    ordered = likeliest_first(row, tests, SuiteSources(tmp_path))
    assert ordered == ("tests/test_a.py::test_names", "tests/test_b.py::test_imports",
                       "tests/test_a.py::test_fast", "tests/test_a.py::test_param[o1]")
    o1 = next(m for m in gen(registry(MODELS)) if m.table_key and m.line == 17)
    assert likeliest_first(o1, tests, SuiteSources(tmp_path))[0] == "tests/test_a.py::test_param[o1]"
    plain = next(m for m in gen("def f(x):\n    return x + 1\n"))
    assert likeliest_first(plain, tests, SuiteSources(tmp_path)) == tests  # not a table row: untouched
    assert module_names("src/pkg/models.py") >= {"pkg.models", "src.pkg.models"}


def test_a_version_3_database_gains_the_table_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(TABLES)
        for step in (2, 3):
            con.execute(MIGRATIONS[step])
        con.execute("INSERT INTO schema_info VALUES (3)")
        con.execute("INSERT INTO mutants (run_id, mutant_id, file) VALUES ('r', 'm', 'pkg/a.py')")
    ResultStore(db).operator_survival()  # opening it migrates
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT max(version) FROM schema_info").fetchone()[0] == SCHEMA_VERSION == 6
        assert con.execute("SELECT represents, table_line FROM mutants").fetchall() == [(None, None)]
        assert con.execute("SELECT partial, probes FROM baseline_maps").fetchall() == []  # version 5's


def test_a_run_groups_a_table_of_twenty_rows_and_says_so(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    names = [f"model-{i}" for i in range(20)]
    rows = [(name, i % 2 == 0) for i, name in enumerate(names)]
    head = ["import time", "", "from pkg.models import REGISTRY, register_models", "", "",
            "def test_count():", "    register_models()", "    assert len(REGISTRY) == 20", "", "",
            "def test_kinds():", "    register_models()", "    assert all(isinstance(c.name, str) for c in REGISTRY.values())"]
    # The visions are checked without naming a row; one slower test names the first row: that row is a
    # gap of its own, and its test the likeliest killer of its string.
    tests = [*head, "", "", "def test_visions():", "    register_models()",
             "    assert [c.vision for c in REGISTRY.values()] == [i % 2 == 0 for i in range(20)]",
             "", "", "def test_model_0():", "    register_models()", "    time.sleep(0.05)",
             "    assert REGISTRY['model-0'].vision is True"]
    repo.commit("human", files={"pkg/__init__.py": "", "pkg/models.py": registry([]) + "    pass\n",
                                "tests/test_models.py": "\n".join(head) + "\n"})
    repo.commit(CLAUDE, files={"pkg/models.py": registry(rows), "tests/test_models.py": "\n".join(tests) + "\n"})
    db = tmp_path / "results.duckdb"
    done = mutagate("run", "--every-mutant", "--jobs", "1", "--json", "--db", str(db), "pkg/models.py",
                    cwd=repo.root)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    grouped = summary["grouped"]
    assert (grouped["tables"], grouped["rows"]) == (1, 20)
    # Row 0 (named by a test): its 4 mutants; rows 1-19 (4 each): remove-call, string, dropped `vision=`,
    # and the True and False flips apart.
    assert (grouped["run"], grouped["represented"]) == (4 + 5, 19 * 4 - 5), grouped
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT sum(represents), count(*) FILTER (WHERE table_line = 14) FROM mutants"
                             " WHERE run_id = ?", [summary["run_id"]]).fetchone()
        # Row 0's string: killed by the test that names it, run first of the four.
        killers = con.execute("SELECT m.original, o.killed_by, o.tests_run FROM mutants m JOIN outcomes o"
                              " USING (run_id, mutant_id) WHERE m.run_id = ? AND m.original = ?",
                              [summary["run_id"], "'model-0'"]).fetchall()
    assert stored == (grouped["represented"], grouped["run"])
    assert killers == [("'model-0'", ["tests/test_models.py::test_model_0"], 1)]
    text = mutagate("run", "--every-mutant", "--jobs", "1", "--db", str(tmp_path / "again.duckdb"), "pkg/models.py",
                    cwd=repo.root)
    assert "grouped: 1 table of similar rows (20 rows)" in text.stdout, text.stdout
