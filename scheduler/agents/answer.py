"""A stop hook's answer: read the agent's hook input, check its uncommitted work, and either let it
stop or send it back with the undetected mutants as its next instruction.

The rules, whatever the agent: a hook that is already continuing the agent (`again`) lets it stop,
so the agent is sent back at most once per stop; nothing to measure, or a score at or above the gate
(--fail-under, else [tool.mutagate] fail-under, else 100: every mutant of the agent's lines
detected), lets it stop; and any error lets it stop too, with one line for the person on stderr —
a hook never blocks an agent on its own fault."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mutator.errors import BadInput
from results.errors import ResultsError
from results.gate import judge
from results.survivor_order import kinds_text
from scheduler.agents.check import DEFAULT_BUDGET, Check, check_changes
from scheduler.agents.protocol import AgentProtocol
from scheduler.stops import received

SHOWN = 5  # undetected mutants named in one instruction, best first
DEFAULT_GATE = 100.0


@dataclass(frozen=True)
class HookAnswer:
    stdout: str  # exactly what the agent reads; "" = nothing
    stderr: str = ""  # one line for the person (an error, or why nothing was measured)


def answer_hook(protocol: AgentProtocol, hook_input: str, directory: Path, budget: float | None = DEFAULT_BUDGET,
                fail_under: float | None = None, jobs: int | None = None, db: Path | None = None,
                started: float | None = None) -> HookAnswer:
    def allow(note: str = "") -> HookAnswer:
        return allowed(protocol, note)

    prefix = f"mutagate hook {protocol.name}"
    try:
        event = protocol.read(_parse(hook_input))
        if event.again or event.skip:  # never send the agent back twice for one stop
            return allow()
        check = check_changes(event.cwd or directory, protocol.name, budget=budget, fail_under=fail_under, db=db,
                              jobs=jobs, started=started)
        if not check.measured:  # nothing to act on: the agent may stop, whatever a gate says
            budget_note = check.report.budget_text()
            return allow(f"{prefix}: nothing measured ({budget_note})" if budget_note else "")
        # An agent's gate defaults to every mutant detected; the decision is the run's own gate's.
        gate = check.threshold if check.threshold is not None else DEFAULT_GATE
        if judge(check.report, gate, planned=check.report.planned).passed:
            return allow()
        return HookAnswer(json.dumps(protocol.block(block_reason(check, gate, protocol.name, db))) + "\n")
    except Exception as exc:  # noqa: BLE001 - a hook's own fault never blocks the agent
        if (stopped := received()) is not None:  # the hook's deadline, swallowed by a library (DuckDB)
            raise stopped from exc
        if isinstance(exc, (BadInput, ResultsError)):
            return allow(f"{prefix}: {exc}")
        return allow(f"{prefix}: internal error: {type(exc).__name__}: {exc}")


def allowed(protocol: AgentProtocol, note: str = "") -> HookAnswer:
    """The answer that lets the agent stop, with `note` for the person (on stderr)."""
    return HookAnswer("" if protocol.allow is None else json.dumps(protocol.allow) + "\n", note)


def _parse(text: str) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"the hook input on stdin is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadInput("the hook input on stdin is not a JSON object")
    return data


def block_reason(check: Check, gate: float, agent: str, db: Path | None = None) -> str:
    """The instruction the agent gets: each undetected mutant as a change no test noticed, at most
    SHOWN of them, best first (changed behaviour before changed strings), how many more there are,
    and the command that re-checks them."""
    report = check.report
    assert report is not None
    total = report.total
    undetected = len(check.findings)
    budget = f"; {report.budget_text()}" if report.not_run else ""
    lines = [f"mutagate mutation-tested the code you changed: {undetected} of {total.mutants} small changes to it "
             f"went unnoticed by the tests (score {total.score_text()}, the gate is {gate:g}%{budget}). "
             "Keep the code; strengthen the tests:"]
    lines += [f"{i}. {finding.sentence()}" for i, finding in enumerate(check.findings[:SHOWN], 1)]
    if undetected > SHOWN:  # how many more, and how many of them only change a string
        kinds = kinds_text(finding.kind for finding in check.findings[SHOWN:])
        lines.append(f"… and {undetected - SHOWN} more{f' ({kinds})' if kinds else ''}: the re-check lists them all.")
    again = f"mutagate run --agent {agent} --survivors" + (f" --db {db}" if db else "")
    lines.append(f"Then re-check with: `{again}`")
    return "\n".join(lines)
