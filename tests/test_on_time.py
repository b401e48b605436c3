"""scheduler/agents/on_time.py on its own: a real hook process around a check that misbehaves, read
as an agent reads it (a pipe for stdout, another for stderr)."""

from __future__ import annotations

import select
import subprocess
import sys

from tests.cli import PROJECT

CHATTY = '''
import sys, time
from scheduler.agents.answer import HookAnswer
from scheduler.agents.on_time import answer_on_time, process_started


def work():
    sys.stderr.write("x" * 1_000_000)  # more than any pipe holds
    sys.stderr.flush()
    time.sleep(60)
    return HookAnswer("the check's answer\\n")


answer = answer_on_time(work, lambda why: HookAnswer("on time\\n", why), process_started(), 3.0)
sys.stdout.write(answer.stdout)
sys.stdout.flush()
'''


def test_an_agent_that_does_not_read_stderr_still_gets_the_answer_on_time() -> None:
    """The check prints a megabyte and then hangs; the agent reads stdout only. The hook copies the
    check's output only as far as stderr takes it without blocking, so it answers at its deadline,
    not after the check (60 s) or never."""
    hook = subprocess.Popen([sys.executable, "-c", CHATTY], cwd=PROJECT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        ready, _, _ = select.select([hook.stdout], [], [], 40)  # far less than the check's 60 s
        assert ready, "no answer while stderr was full"
        assert hook.stdout.readline() == b"on time\n"
    finally:
        hook.stderr.read()
        hook.wait(timeout=60)
