"""A fresh run in two stages: a mutant's covering tests, then its confirmation's in the same run.
The driver names both stages in a file beside its result; the run creates a marker once the first has
passed; whoever waits for it then gives the rest a timeout of its own. Standard library only: the
driver's worker and the runner in the target's interpreter both use it."""

from __future__ import annotations

import os
import time

MARKER_POLL_SECONDS = 0.02  # how often a staged wait looks for its marker


def stage_marker(out: str) -> str:
    """The file a fresh run creates once its first stage of tests (a mutant's covering tests) passed."""
    return out + ".first-stage-passed"


def stage_spec(out: str) -> str:
    """The file that names a fresh run's two stages, if it has them: {"first": covering node ids,
    "then": the confirmation's}; the run is given their modules and picks them itself (fresh.py)."""
    return out + ".first-stage.json"


class StagedDeadline:
    """`timeout` from now; once `marker` exists (the first stage passed), `then_timeout` from then."""

    def __init__(self, timeout: float, marker: str | None = None, then_timeout: float = 0.0) -> None:
        self.at = time.monotonic() + timeout
        self.marker = marker
        self.then_timeout = then_timeout

    def remaining(self) -> float:
        if self.marker is not None and os.path.exists(self.marker):
            self.marker, self.at = None, time.monotonic() + self.then_timeout
        return self.at - time.monotonic()

    def wait(self, remaining: float) -> float:
        """How long to sleep before looking again: until the deadline, or the marker's next look."""
        return remaining if self.marker is None else min(remaining, MARKER_POLL_SECONDS)
