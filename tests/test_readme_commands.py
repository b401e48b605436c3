"""README's command table lists every flag that `--help` shows: the table is what users read."""

from __future__ import annotations

import argparse

from scheduler.cli import build_parser
from tests.cli import PROJECT


def test_the_readme_command_table_lists_every_flag() -> None:
    rows = [line for line in (PROJECT / "README.md").read_text().splitlines() if line.startswith("| `mutagate ")]
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = {}
    for name, parser in commands.choices.items():
        row = " ".join(r for r in rows if f"`mutagate {name} " in r or r.startswith(f"| `mutagate {name}`"))
        assert row, f"no README row for `mutagate {name}`"
        flags = {o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"}
        if absent := sorted(f for f in flags if f not in row):
            missing[name] = absent
    assert not missing, missing
