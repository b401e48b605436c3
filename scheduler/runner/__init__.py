"""The code that runs inside the *target's* interpreter: the standard library, pytest and coverage
only, never another module of mutagate's (tests/test_runner_boundary.py checks).

A run copies this package into its scratch as `runner/mutagate_runner/` (see scheduler/runtime.py)
and starts it as `python <scratch>/runner/mutagate_runner MODE ...` in a work copy. Four modes:

- `baseline`: the whole suite once under coverage.py, switching the coverage context to each test's
  node id for its setup, call and teardown. Writes which tests ran each line, each test's
  duration and outcome, and which tests start processes or read a mutated file.
- `serve`: a fork server. Collects the suite once (importing the target and its tests), then for each
  mutant sent on stdin forks; the child swaps the mutated function's code object (or its default
  values) into the live function objects (so `from mod import f` references see it too; see
  patch.py) and runs the chosen tests in order,
  stopping at the first failure. The parent enforces the timeout by killing the child's process
  group, so infinite loops, crashes, `sys.exit` and `os._exit` cannot hang or break the server.
- `fresh`: the suite (or some tests) in a fresh interpreter, for mutants that run at import time;
  the mutated file is already on disk.
- `zygote`: imports pytest, its plugins and the installed modules the baseline saw (never the
  target), then forks a `fresh` run per request: an interpreter start and those imports paid once.

Protocol of `serve` and `zygote`: one JSON object per line on stdin (a request) and on the original
stdout (its result); everything the tests print goes to stderr.

Modules import each other relatively, so the package works under any name: `scheduler.runner` in
mutagate's own tests, `mutagate_runner` in a run. This file imports nothing: every mode starts with
only what it needs.
"""
