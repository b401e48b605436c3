"""The gate's rules, on stored reports' own shape: every door (the command line, the hooks, MCP) asks it."""

from __future__ import annotations

from results.gate import Decision, judge, judge_interrupted
from results.report_data import RunReport
from results.status import WHY_UNDETECTED, RunStatus, Status
from results.stored_mutant import StoredMutant


def _mutant(n: int, status: str) -> StoredMutant:
    return StoredMutant("r1", "finished", "/nowhere", "0" * 40, f"m{n}", "pkg/a.py", n, n, 1, 2, "comparison", "<", "<=",
                        "claude-code", "c" * 40, "f", n, n, status, (), (), 1, 0.1, False, "select", "")


def _report(statuses: list[str], not_run: int = 0, budget: float | None = None) -> RunReport:
    measured = tuple(_mutant(n, s) for n, s in enumerate(statuses, 1))
    left = tuple(_mutant(100 + n, Status.NOT_RUN) for n in range(not_run))
    return RunReport("r1", "/repo", "abc", None, None, "2026-12-05", RunStatus.FINISHED, "0", measured,
                     planned=len(measured) + len(left), not_run=left, budget_seconds=budget)


def test_nothing_to_measure_passes_any_gate() -> None:
    assert judge(_report([]), 100.0, planned=0).passed


def test_the_exact_score_is_judged_not_a_rounded_one() -> None:
    # 2 of 3 detected is 66.666...%: shown as 66.7%, which a gate of 66.7 must not pass
    report = _report([Status.KILLED, Status.TIMEOUT, Status.SURVIVED])
    failed = judge(report, 66.7, planned=3)
    assert failed.decision == Decision.FAIL and "66.7%" in failed.reason and "2 of 3" in failed.reason
    assert judge(report, 66.6, planned=3).passed
    assert judge(report, None, planned=3).passed  # no gate: no verdict against it


def test_a_budget_cut_run_is_judged_on_what_ran_and_says_so() -> None:
    report = _report([Status.KILLED, Status.KILLED], not_run=3, budget=10)
    verdict = judge(report, 90.0, planned=5)
    assert verdict.passed
    assert verdict.notes == ("budget: 2 of 5 mutants (3 not run, past 10 s): the gate judges the 2 mutants run",)


def test_a_gate_never_passes_on_nothing_measured() -> None:
    report = _report([], not_run=2, budget=1)
    assert judge(report, 0.0, planned=2).decision == Decision.FAIL
    assert judge(report, None, planned=2).passed  # without a gate the run simply measured nothing


def test_planned_mutants_none_of_which_ran_is_a_fault() -> None:
    verdict = judge(_report([]), None, planned=4)
    assert verdict.decision == Decision.FAULT and "none of 4 mutants" in verdict.reason


def test_an_interrupted_run_fails_a_gate_and_has_no_verdict_without_one() -> None:
    assert judge_interrupted(0.0).decision == Decision.FAIL
    assert judge_interrupted(None) is None


def test_run_states_stay_the_stored_strings_and_every_undetected_status_has_its_words() -> None:
    assert [str(s) for s in RunStatus] == ["running", "finished", "interrupted", "abandoned", "refused"]
    assert set(WHY_UNDETECTED) == {Status.SURVIVED, Status.NO_COVERAGE}
