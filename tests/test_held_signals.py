"""A stop that lands inside a run's clean-up waits for its end (scheduler/held_signals.py): a real
SIGTERM, sent to a real process running the CLI's own stop handler."""

from __future__ import annotations

import subprocess
import sys

from tests.cli import PROJECT

PROGRAM = '''
import os, signal, sys
from scheduler.cli import _stop, Stopped
from scheduler.held_signals import held_signals

signal.signal(signal.SIGTERM, _stop)
steps = []
try:
    with held_signals():
        os.kill(os.getpid(), signal.SIGTERM)  # pending, not delivered
        steps.append("restored")  # a checkout's file between its removal and its rewrite, say
        steps.append("stored")
    steps.append("after the block")
except Stopped:
    steps.append("stopped")
print(" ".join(steps))
'''


def test_a_stop_inside_the_clean_up_is_delivered_after_it() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60,
                          cwd=PROJECT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["restored", "stored", "stopped"]
