"""Stops (scheduler/stops.py): one that lands inside a run's clean-up waits for its end
(scheduler/held_signals.py), and one a library swallows still ends the command as stopped. Real
SIGTERMs sent to real processes running the CLI's own stop handler."""

from __future__ import annotations

import subprocess
import sys

from tests.cli import PROJECT

PROGRAM = '''
import os, signal, sys
from scheduler.stops import Stopped, stop
from scheduler.held_signals import held_signals

signal.signal(signal.SIGTERM, stop)
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


SWALLOWED = '''
import os, signal, sys, threading
import duckdb
import scheduler.cli.runs as runs


def a_long_query(args):
    # to the main thread, which runs the query: a signal the kernel hands to one of DuckDB's own threads
    # waits for the query's end
    threading.Timer(0.5, signal.pthread_kill, (threading.main_thread().ident, signal.SIGTERM)).start()
    try:
        duckdb.connect().execute("SELECT sum(a.range * b.range) FROM range(40000) a, range(40000) b").fetchall()
    except Exception as exc:
        print(f"swallowed: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise


runs.run_runs = a_long_query  # the real command line around a query a SIGTERM lands in
from scheduler.cli import main
sys.exit(main(["runs"]))
'''


def test_a_stop_duckdb_turns_into_its_own_error_still_ends_the_command_as_stopped() -> None:
    """DuckDB turns the stop's exception, raised inside its query, into `RuntimeError: Query
    interrupted`; the command still ends as stopped by SIGTERM (128 + 15), not as an internal error."""
    done = subprocess.run([sys.executable, "-c", SWALLOWED], capture_output=True, text=True, timeout=120, cwd=PROJECT)
    assert done.returncode == 143, done.stderr
    assert done.stderr.splitlines() == ["swallowed: RuntimeError: Query interrupted", "mutagate: stopped by SIGTERM"]
