"""`[tool.mutagate]` in the target repository's pyproject.toml.

Every key has a default, so a repository without the table works. Unknown keys are refused
(exit 2): a typo in a gate's config must not silently turn the gate off.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutator.errors import BadInput


@dataclass(frozen=True)
class AgentRule:
    """A user's own commit-level signal: any of the regexes that matches names `agent`."""

    agent: str
    author: str | None = None  # matched against "Name <email>" of the author and the committer
    trailer: str | None = None  # matched against each "Key: value" trailer line
    message: str | None = None  # matched against the whole commit message


@dataclass(frozen=True)
class Config:
    source: tuple[str, ...] = ()  # empty: the project's packages (see source_roots.py)
    tests: tuple[str, ...] = ()  # empty: detect tests by file and folder name
    exclude: tuple[str, ...] = ()  # glob patterns, relative to the repo root
    agent_rules: tuple[AgentRule, ...] = ()
    disable_operators: tuple[str, ...] = ()
    skip_calls: tuple[str, ...] = ()  # extra dotted call names whose arguments are arid
    test_command: tuple[str, ...] = ("pytest",)
    timeout_multiplier: float = 10.0
    timeout_floor: float = 2.0  # seconds: mutants run in a forked server, no interpreter start to allow for
    fail_under: float | None = None
    threshold_high: float = 80.0
    threshold_low: float = 60.0
    pr_one_per_line: bool = True  # with --base (a PR), keep one mutant per line
    no_bail: bool = False
    coverage_map: bool = False  # baseline under coverage.py, its map of every line stored for later runs
    confirm: str = "smart"  # how survivors are confirmed: smart | full | off (see CONFIRM_POLICIES)
    deselect: tuple[str, ...] = ()  # pytest node ids known to fail; left out of every run
    budget: float | None = None  # seconds a run may take (baseline included); mutants past it are not run
    memory_limit_mb: float = 4096.0  # MB a mutant's test process may grow by (RLIMIT_AS); past it: killed
    group_tables: bool = True  # a table of same-shape rows is one gap: one mutant per shape runs (tables.py)


_LIST_KEYS = {
    "source": "source",
    "tests": "tests",
    "exclude": "exclude",
    "disable-operators": "disable_operators",
    "skip-calls": "skip_calls",
    "deselect": "deselect",
}
_FLOAT_KEYS = {
    "timeout-multiplier": "timeout_multiplier",
    "timeout-floor": "timeout_floor",
    "fail-under": "fail_under",
    "budget": "budget",
    "memory-limit-mb": "memory_limit_mb",
}
_BOOL_KEYS = {"pr-one-per-line": "pr_one_per_line", "no-bail": "no_bail", "coverage-map": "coverage_map",
              "group-tables": "group_tables"}
_KNOWN = set(_LIST_KEYS) | set(_FLOAT_KEYS) | set(_BOOL_KEYS) | {"agents", "test-command", "thresholds", "confirm"}

# A survivor of its covering tests is confirmed against: smart — the tests of its covering tests' classes
# (modules, for plain test functions) from its first covering one on, in the suite's order, and those that
# start processes or read its file, a detection there re-checked by the whole suite (Baseline.confirming);
# full — the whole suite; off — nothing (cheapest; a survivor then means "its covering tests pass").
CONFIRM_POLICIES = ("smart", "full", "off")


def load_config(repo_root: Path) -> Config:
    path = repo_root / "pyproject.toml"
    if not path.is_file():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: not valid TOML ({exc})") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise BadInput(f"{path}: [tool] must be a table, not {_kind(tool)}")
    table = tool.get("mutagate", {})
    if not isinstance(table, dict):
        raise BadInput(f"{path}: [tool.mutagate] must be a table, not {_kind(table)}")
    return parse_config(table, where=f"{path} [tool.mutagate]")


def _kind(value: Any) -> str:
    """A wrong-typed value named in an error line (bounded: the value itself may be long)."""
    return f"{type(value).__name__} {str(value)[:40]!r}" if not isinstance(value, (dict, list)) else type(value).__name__


def parse_config(table: dict[str, Any], where: str = "[tool.mutagate]") -> Config:
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise BadInput(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})")
    values: dict[str, Any] = {}
    for key, attr in _LIST_KEYS.items():
        if key in table:
            values[attr] = _string_list(table[key], f"{where}: {key}")
    if "disable_operators" in values:
        _known_operators(values["disable_operators"], where)
    for key, attr in _FLOAT_KEYS.items():
        if key in table:
            values[attr] = _number(table[key], key, where)
    for key, attr in _BOOL_KEYS.items():
        if key in table:
            if not isinstance(table[key], bool):
                raise BadInput(f"{where}: {key} must be true or false")
            values[attr] = table[key]
    if "test-command" in table:
        command = table["test-command"]
        values["test_command"] = tuple(command.split()) if isinstance(command, str) else _string_list(
            command, f"{where}: test-command"
        )
    if "thresholds" in table:
        thresholds = table["thresholds"]
        if not isinstance(thresholds, dict) or set(thresholds) - {"high", "low"}:
            raise BadInput(f"{where}: thresholds takes only high and low")
        high = _number(thresholds.get("high", 80.0), "thresholds.high", where)
        low = _number(thresholds.get("low", 60.0), "thresholds.low", where)
        if low > high:
            raise BadInput(f"{where}: thresholds.low ({low:g}) is above thresholds.high ({high:g})")
        values["threshold_high"], values["threshold_low"] = high, low
    if "confirm" in table:
        if table["confirm"] not in CONFIRM_POLICIES:
            raise BadInput(f"{where}: confirm must be one of {', '.join(CONFIRM_POLICIES)}, not {table['confirm']!r}")
        values["confirm"] = table["confirm"]
    if "agents" in table:
        if not isinstance(table["agents"], list):
            raise BadInput(f"{where}: agents must be a list of rules ([[tool.mutagate.agents]]), "
                           f"not {_kind(table['agents'])}")
        values["agent_rules"] = tuple(_agent_rule(rule, f"{where}: agents") for rule in table["agents"])
    return Config(**values)


# What each number may be: a value outside turns the gate off without a word (timeout-floor = -5 timed
# out 51 of 52 mutants, and each timeout counts as detected); TOML's nan and inf are refused too.
_POSITIVE = {"timeout-multiplier", "timeout-floor", "budget", "memory-limit-mb"}
_PERCENT = {"fail-under", "thresholds.high", "thresholds.low"}


def _number(value: Any, key: str, where: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise BadInput(f"{where}: {key} must be a number")
    number = float(value)
    if key in _POSITIVE and not (math.isfinite(number) and number > 0):
        raise BadInput(f"{where}: {key} must be a positive number, not {value}")
    if key in _PERCENT and not 0 <= number <= 100:
        raise BadInput(f"{where}: {key} must be a percentage between 0 and 100, not {value}")
    return number


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{where} must be a list of strings")
    return tuple(value)


def _agent_rule(rule: Any, where: str) -> AgentRule:
    if not isinstance(rule, dict) or not isinstance(rule.get("agent"), str):
        raise BadInput(f"{where}: each rule needs agent = \"<id>\" and one of author, trailer, message")
    extra = set(rule) - {"agent", "author", "trailer", "message"}
    if extra:
        raise BadInput(f"{where}: unknown rule key {sorted(extra)[0]!r}")
    patterns = {k: rule.get(k) for k in ("author", "trailer", "message")}
    if not any(patterns.values()):
        raise BadInput(f"{where}: rule for {rule['agent']!r} needs one of author, trailer, message")
    for key, pattern in patterns.items():
        if pattern is not None and not isinstance(pattern, str):
            raise BadInput(f"{where}: {key} of the rule for {rule['agent']!r} must be a regex string, not {_kind(pattern)}")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise BadInput(f"{where}: {key} pattern {pattern!r} is not a valid regex ({exc})") from None
    return AgentRule(agent=rule["agent"].lower(), **patterns)


def _known_operators(entries: tuple[str, ...], where: str) -> None:
    """Each `disable-operators` entry names an operator, a family, or a glob matching one: a typo would
    leave the operator on without a word."""
    import fnmatch

    from mutator.operators import REGISTRY  # late: the operators import libcst, a config need not

    families = {op.family for op in REGISTRY}
    for entry in entries:
        if entry not in families and not any(fnmatch.fnmatchcase(op.name, entry) for op in REGISTRY):
            raise BadInput(f"{where}: disable-operators: no operator or family named {entry!r} "
                           f"(families: {', '.join(sorted(families))}; docs/operators.md lists the names)")
