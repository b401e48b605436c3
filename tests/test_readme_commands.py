"""The command table in docs/commands.md lists every flag that `--help` shows: the table is what users read.
README's short list names every command and links that table."""

from __future__ import annotations

import argparse

from scheduler.cli import build_parser
from tests.docs import read_doc


def _commands() -> dict[str, argparse.ArgumentParser]:
    return next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_the_command_table_lists_every_flag() -> None:
    rows = [line for line in read_doc("commands.md").splitlines() if line.startswith("| `mutagate ")]
    missing = {}
    for name, parser in _commands().items():
        row = " ".join(r for r in rows if f"`mutagate {name} " in r or r.startswith(f"| `mutagate {name}`"))
        assert row, f"no row in docs/commands.md for `mutagate {name}`"
        flags = {o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"}
        if absent := sorted(f for f in flags if f not in row):
            missing[name] = absent
    assert not missing, missing


def test_the_readme_names_every_command_and_links_the_table() -> None:
    readme = read_doc("README.md")
    assert "(docs/commands.md)" in readme
    assert [n for n in _commands() if f"`mutagate {n}" not in readme] == []


def test_a_named_command_builds_its_own_parser_only_and_help_builds_all() -> None:
    """`mutagate run` imports the run command's module, not all seventeen (a stop hook's every run pays
    for them); `-C DIR` before it is skipped; help, an unknown command or none get every command."""

    def choices(argv: list[str]) -> set[str]:
        parser = build_parser(argv)
        return set(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices)

    assert choices(["run", "--base", "main"]) == {"run"}
    assert choices(["-C", "some/dir", "weak-tests"]) == {"weak-tests"}
    assert choices(["--repo=some/dir", "import-mutmut"]) == {"import-mutmut"}
    everything = set(_commands())
    assert len(everything) == 17
    for argv in (["--help"], ["nope"], [], ["-C", "run"]):
        assert choices(argv) == everything, argv
