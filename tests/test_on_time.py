"""scheduler/agents/on_time.py on its own: a real hook process around a check that misbehaves, read
as an agent reads it (a pipe for stdout, another for stderr)."""

from __future__ import annotations

import select
import subprocess
import sys

from tests.cli import PROJECT

CHATTY = '''
import sys, time
import scheduler.cli.hook as hook
from scheduler.cli import main


def chatty_check(*args, **kwargs):
    sys.stderr.write("x" * 1_000_000)  # more than any pipe holds
    sys.stderr.flush()
    time.sleep(60)


hook.answer_hook = chatty_check  # the real command around a check that floods stderr and hangs
sys.exit(main(["hook", "cursor", "--budget", "3"]))
'''


def test_an_agent_that_does_not_read_stderr_still_gets_the_answer_on_time() -> None:
    """The check prints a megabyte and then hangs; the agent reads stdout only. `mutagate hook` copies
    the check's output, and then writes its own note, only as far as stderr takes them without
    blocking: it answers ({} lets Cursor stop) at its deadline, not after the check (60 s) or never."""
    hook = subprocess.Popen([sys.executable, "-c", CHATTY], cwd=PROJECT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        ready, _, _ = select.select([hook.stdout], [], [], 40)  # far less than the check's 60 s
        assert ready, "no answer while stderr was full"
        assert hook.stdout.readline() == b"{}\n"
    finally:
        hook.stderr.read()
        hook.wait(timeout=60)
