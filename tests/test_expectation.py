"""What the forecast and the ETA price a kill at: its first test, and a share of the control run that
kills by the same first test share (one per worker's fork server, scheduler/worker.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mutator.mutant import Mutant
from scheduler.baseline import Baseline
from scheduler.plan import TimeoutPolicy
from scheduler.run import FORK_SECONDS, PER_TEST_SECONDS, Expectation, forecast
from scheduler.worker import Task

MUTANT = Mutant(id="m1", file="pkg/mod.py", line=1, end_line=1, column=1, end_column=2, start=0, end=1,
                operator="number", original="1", replacement="2", agent="claude-code", qualname="f")
FAST, OTHER = "tests/test_a.py::test_fast", "tests/test_a.py::test_other"
BASELINE = Baseline({FAST: 0.02, OTHER: 0.5}, {}, order=(FAST, OTHER), seconds=0.52)


def kill_price(expected: Expectation, task: Task) -> float:
    return replace(expected, survival={"number": 0.0}).seconds(task, later=False)


@pytest.mark.parametrize(("kills", "jobs", "controls"), [(1, 2, 1), (6, 1, 1), (6, 2, 2), (6, 8, 6)])
def test_kills_by_one_first_test_pay_one_control_run_per_worker(kills: int, jobs: int, controls: int) -> None:
    tasks = [Task(replace(MUTANT, id=f"m{i}"), (FAST, OTHER), 10.0, "patch") for i in range(kills)]
    expected = Expectation(BASELINE, TimeoutPolicy(10.0, 2.0, 0.5), {}, "smart").sharing_controls(tasks, jobs)
    run = FORK_SECONDS + 0.02 + PER_TEST_SECONDS  # a fork and the first test
    total = sum(kill_price(expected, task) for task in tasks)
    assert total == pytest.approx(kills * run + controls * run)
    # a kill whose first test no other task shares pays its whole control run
    alone = Task(replace(MUTANT, id="other"), (OTHER,), 10.0, "patch")
    assert kill_price(expected, alone) == pytest.approx(2 * (FORK_SECONDS + 0.5 + PER_TEST_SECONDS))


def test_a_timeout_is_priced_at_its_operators_timeout_rate() -> None:
    task = Task(MUTANT, (FAST, OTHER), 10.0, "patch")
    plain = Expectation(BASELINE, TimeoutPolicy(10.0, 2.0, 0.5), {"number": 0.0}, "smart")
    looping = replace(plain, timeouts={"number": 0.25})
    # A quarter of this operator's stored mutants timed out: a quarter of its 10 s timeout, the rest a kill.
    assert looping.seconds(task, later=False) == pytest.approx(0.75 * plain.seconds(task, later=False) + 0.25 * 10.0)
    # Survival and timeouts never add up past every mutant.
    both = replace(plain, survival={"number": 0.9}, timeouts={"number": 0.5})
    assert both.seconds(task, later=False) == pytest.approx(
        0.9 * replace(plain, survival={"number": 1.0}).seconds(task, later=False) + 0.1 * 10.0)


def test_a_forecast_says_how_far_survivors_may_take_it_from_its_point() -> None:
    """Five mutants whose survivors run a 5 s test: the point (one survivor in five) is far from both
    ends — every one killed by its fast first test, or two surviving — and the line says the range;
    more such mutants average out, and the range narrows around the point until it goes unsaid."""
    slow = Baseline({FAST: 0.02, OTHER: 5.0}, {}, order=(FAST, OTHER), seconds=5.02)
    expected = Expectation(slow, TimeoutPolicy(10.0, 2.0, 0.5), {}, "off")

    def coming(count: int):
        tasks = [Task(replace(MUTANT, id=f"m{i}"), (FAST, OTHER), 60.0, "patch") for i in range(count)]
        return forecast(tasks, 0, expected.sharing_controls(tasks, 1), 1, warm=True)

    few = coming(5)
    low, high = few.likely
    assert 0 < low < few.seconds * 0.7 and high > few.seconds * 1.3
    assert high >= few.seconds + 5.0  # at least one more survivor than the point's one
    assert "(likely " in few.text() and ", as many survive)" in few.text()
    width = {n: (coming(n).likely[1] - coming(n).likely[0]) / coming(n).seconds for n in (5, 100, 1000)}
    assert width[5] > width[100] > width[1000]
    many = coming(1000)
    low, high = many.likely
    assert many.seconds * 0.7 < low < many.seconds < high < many.seconds * 1.3
    assert "likely" not in many.text()


def test_the_range_is_the_spread_of_the_outcomes_over_the_workers_after_their_start() -> None:
    """The range by hand: each mutant killed, surviving or timing out with its operator's rates; the
    sum's variance, 1.645 standard deviations either side, within every-kill and every-survivor
    bounds, over 2 workers, after their start (not started during the baseline here)."""
    slow = Baseline({FAST: 0.02, OTHER: 5.0}, {}, order=(FAST, OTHER), seconds=5.02, collection=0.3)
    expected = Expectation(slow, TimeoutPolicy(10.0, 2.0, 0.5), {"number": 0.5}, "off", timeouts={"number": 0.1})
    tasks = [Task(replace(MUTANT, id=f"m{i}"), (FAST, OTHER), 3.0, "patch") for i in range(4)]
    expected = expected.sharing_controls(tasks, 2)
    coming = forecast(tasks, 0, expected, 2, warm=False)
    outcomes = [expected.outcomes(task) for task in tasks]
    assert [chance for chance, _ in outcomes[0]] == pytest.approx([0.4, 0.5, 0.1])
    means = [sum(c * s for c, s in o) for o in outcomes]
    variance = sum(sum(c * s * s for c, s in o) - m * m for o, m in zip(outcomes, means))
    least, most = sum(min(s for _, s in o) for o in outcomes), sum(max(s for _, s in o) for o in outcomes)
    start = expected.start
    assert start == pytest.approx(0.3) and coming.waits == pytest.approx(start)
    assert coming.seconds == pytest.approx(start + sum(means) / 2)
    assert coming.likely == pytest.approx((start + max(least, sum(means) - 1.645 * variance ** 0.5) / 2,
                                           start + min(most, sum(means) + 1.645 * variance ** 0.5) / 2))
