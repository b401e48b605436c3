"""A two-stage fresh run's deadline (scheduler/runner/stages.py): the first stage's timeout until
the run's marker file exists, then the second stage's, counted from when the marker was seen."""

from __future__ import annotations

from pathlib import Path

from scheduler.runner.stages import MARKER_POLL_SECONDS, StagedDeadline


def test_the_deadline_moves_to_the_second_stage_once_the_marker_exists(tmp_path: Path) -> None:
    marker = tmp_path / "out.json.first-stage-passed"
    deadline = StagedDeadline(100.0, str(marker), then_timeout=5000.0)
    before = deadline.remaining()
    assert 90.0 < before <= 100.0
    assert deadline.wait(before) == MARKER_POLL_SECONDS  # it must look for the marker again soon
    marker.touch()
    after = deadline.remaining()
    assert 4990.0 < after <= 5000.0
    assert deadline.wait(after) == after  # the marker is seen once: no more looking


def test_without_a_marker_it_is_one_timeout(tmp_path: Path) -> None:
    deadline = StagedDeadline(100.0)
    remaining = deadline.remaining()
    assert 90.0 < remaining <= 100.0 and deadline.wait(remaining) == remaining
