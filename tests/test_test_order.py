"""The order a mutant's tests run in: fastest first (a kill costs its first test), by name among the
tests too fast to tell apart, so that a verdict that depends on which test runs first is the same in
every run (scheduler/baseline.py, Baseline.ordered)."""

from __future__ import annotations

from scheduler.baseline import NOISE_SECONDS, Baseline


def test_tests_too_fast_to_tell_apart_run_in_name_order_then_the_rest_fastest_first() -> None:
    durations = {"tests/test_utils.py::test_loops": 0.0003, "tests/test_query.py::test_fails": 0.0007,
                 "tests/test_b.py::test_slow": 0.040, "tests/test_a.py::test_slower": 0.300,
                 "tests/test_z.py::test_2ms": 0.002}
    baseline = Baseline(durations, {})
    assert baseline.ordered(frozenset(durations)) == (
        "tests/test_query.py::test_fails", "tests/test_utils.py::test_loops",  # both under NOISE_SECONDS
        "tests/test_z.py::test_2ms", "tests/test_b.py::test_slow", "tests/test_a.py::test_slower")


def test_the_same_tests_measured_again_keep_their_order() -> None:
    """sqlite-utils: two tests of 0.35-0.68 ms each, in turn the faster one from run to run."""
    first = {"tests/test_query.py::test_kills": 0.00068, "tests/test_utils.py::test_loops": 0.00035}
    second = {"tests/test_query.py::test_kills": 0.00041, "tests/test_utils.py::test_loops": 0.00057}
    assert NOISE_SECONDS > max(*first.values(), *second.values())
    orders = {Baseline(d, {}).ordered(frozenset(d)) for d in (first, second)}
    assert orders == {("tests/test_query.py::test_kills", "tests/test_utils.py::test_loops")}
