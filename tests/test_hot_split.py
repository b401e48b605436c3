"""A hot survivor's tests spread over the workers (scheduler/hot_split.py): how a task is cut, how
the parts' verdicts add up, and a real run whose hot survivor and late kill keep their verdicts."""

from __future__ import annotations

import json
from dataclasses import replace

import duckdb
import pytest

from mutator.mutant import Mutant
from results.status import Phase, Status
from scheduler.baseline import Baseline
from scheduler.hot_split import combined, split_hot
from scheduler.plan import TimeoutPolicy
from scheduler.worker import Outcome, Task
from tests.cli import run_process
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

MUTANT = Mutant(id="m1", file="pkg/mod.py", line=1, end_line=1, column=1, end_column=2, start=0, end=1,
                operator="number", original="1", replacement="2", agent="claude-code", qualname="f")
POLICY = TimeoutPolicy(10.0, 2.0, 0.5)

# Two modules of covering tests, and a third module of tests the confirmation adds (same groups as
# the covering ones: module a's other tests), suite order a, b, c.
COVERING_A = [f"tests/test_a.py::test_{i}" for i in range(10)]
COVERING_B = [f"tests/test_b.py::test_{i}" for i in range(10)]
CONFIRM_A = [f"tests/test_a.py::test_more_{i}" for i in range(5)]
ORDER = [*COVERING_A, *CONFIRM_A, *COVERING_B, "tests/test_c.py::test_spawns"]


def baseline(seconds: float = 0.3) -> Baseline:
    durations = {t: seconds for t in ORDER}
    durations[COVERING_A[0]] = 0.01  # the fastest: the head
    return Baseline(durations, {}, order=tuple(ORDER), seconds=sum(durations.values()),
                    observers=frozenset({"tests/test_c.py::test_spawns"}))


def hot_task(base: Baseline) -> Task:
    covering = base.ordered(frozenset(COVERING_A + COVERING_B))
    then = tuple(t for t in base.confirming(covering) if t not in covering)
    return Task(MUTANT, covering, 30.0, "patch", then=then, then_timeout=10.0)


def test_a_hot_task_is_cut_into_a_head_and_whole_groups_one_part_per_worker() -> None:
    base = baseline()
    task = hot_task(base)
    split = split_hot(task, base, POLICY, workers=2)
    assert split is not None and split.whole == task and split.confirms
    assert split.head.tests == (COVERING_A[0],) and split.head.then == ()  # a twentieth of the cost, fastest first
    assert len(split.parts) == 2
    for part in split.parts:
        groups = {t.split("::")[0] for t in (*part.tests, *part.then)}
        assert groups in ({"tests/test_a.py"}, {"tests/test_b.py", "tests/test_c.py"},
                          {"tests/test_a.py", "tests/test_c.py"}, {"tests/test_b.py"})
        assert set(part.tests) <= set(task.tests) and set(part.then) <= set(task.then)
        assert list(part.then) == sorted(part.then, key=ORDER.index)  # confirmation in the suite's order
    # Every covering and confirmation test runs in exactly one part.
    assert sorted(t for p in split.parts for t in p.tests) == sorted(task.tests)
    assert sorted(t for p in split.parts for t in p.then) == sorted(task.then)


def test_cheap_tasks_one_worker_and_import_time_mutants_are_not_split() -> None:
    base = baseline()
    task = hot_task(base)
    assert split_hot(task, baseline(seconds=0.05), POLICY, workers=2) is None  # 1.5 s of tests: not hot
    assert split_hot(task, base, POLICY, workers=1) is None
    assert split_hot(replace(task, mode="fresh"), base, POLICY, workers=2) is None
    assert split_hot(replace(task, bail=False), base, POLICY, workers=2) is None
    one_group = replace(task, tests=tuple(COVERING_A), then=())
    assert split_hot(one_group, base, POLICY, workers=2) is None


def test_a_passed_head_is_split_only_when_it_would_be_the_tail() -> None:
    base = baseline()
    split = split_hot(hot_task(base), base, POLICY, workers=2)
    assert split is not None
    assert split.follow_up(others_left=1.0, workers=2) == split.parts
    assert split.follow_up(others_left=100.0, workers=2) == (split.whole,)


def outcome(status: str, phase: Phase = Phase.SELECT, killed_by: tuple[str, ...] = (), tests_run: int = 3) -> Outcome:
    return Outcome(MUTANT.id, status, killed_by, tests_run, 1.0, phase, "patch")


def test_the_parts_verdicts_add_up_as_one_child_would_have_said() -> None:
    head = outcome(Status.SURVIVED, tests_run=1)
    confirmed = outcome(Status.SURVIVED, Phase.CONFIRM)
    kill = outcome(Status.KILLED, killed_by=("tests/test_b.py::test_3",))
    part_word = outcome(Status.KILLED, Phase.CONFIRM, killed_by=("tests/test_c.py::test_spawns",))
    # A covering test that fails in any part kills it, whatever the other part said.
    for parts in ([confirmed, kill], [kill, part_word], [part_word, kill]):
        verdict = combined(head, parts, confirms=True)
        assert (verdict.status, verdict.phase, verdict.killed_by) == (Status.KILLED, Phase.SELECT, kill.killed_by)
        assert verdict.tests_run == 7
    # A confirmation test that fails is a part of the suite's word: Phases.select rechecks it.
    verdict = combined(head, [confirmed, part_word], confirms=True)
    assert (verdict.status, verdict.phase) == (Status.KILLED, Phase.CONFIRM)
    # All pass: a survivor, confirmed in the children when the unsplit task would have been.
    assert combined(head, [confirmed, outcome(Status.SURVIVED)], confirms=True).phase == Phase.CONFIRM
    plain = combined(head, [outcome(Status.SURVIVED), outcome(Status.SURVIVED)], confirms=False)
    assert (plain.status, plain.phase, plain.killed_by) == (Status.SURVIVED, Phase.SELECT, ())


# Statements every test runs (hot): the default's mutants survive (every test passes `slow`);
# `x + 1` -> `x + 0` is killed only by the last test of module b, after a head of fast tests passed.
HOT_MODULE = """import time


def bump(x, slow=0.0):
    if slow:
        time.sleep(slow)
    return x + 1
"""

SLOW_TESTS = """from pkg.mod import bump


{tests}
"""


def hot_repo(repo: GitRepo) -> None:
    tests = {}
    for module in "ab":
        body = "\n\n".join(f"def test_{module}{i}():\n    assert bump(1, slow={0.001 if i == 0 else 0.15}) > 0"
                           for i in range(8))
        if module == "b":
            body += "\n\n\ndef test_b_exact():\n    assert bump(1, slow=0.15) == 2\n"
        tests[f"tests/test_{module}.py"] = SLOW_TESTS.format(tests=body)
    repo.commit(CLAUDE, files={"pkg/__init__.py": "", "tests/__init__.py": "", "pkg/mod.py": HOT_MODULE, **tests})


@pytest.mark.slow
def test_a_hot_survivor_spread_over_two_workers_keeps_the_verdicts_of_one(repo: GitRepo) -> None:
    hot_repo(repo)
    found = {}
    for jobs in (1, 2):
        db = repo.root.parent / f"results-{jobs}.duckdb"
        result = run_process(repo.root, db, "--every-mutant", jobs=jobs)
        assert result.returncode in (0, 3), result.stderr
        run_id = json.loads(result.stdout)["run_id"]
        with duckdb.connect(str(db), read_only=True) as con:
            found[jobs] = {(line, original, replacement): (status, tuple(killed or ()), tests_run, phase)
                           for line, original, replacement, status, killed, tests_run, phase in con.execute(
                               "SELECT m.line, m.original, m.replacement, o.status, o.killed_by, o.tests_run, o.phase"
                               " FROM mutants m JOIN outcomes o USING (run_id, mutant_id) WHERE run_id = ?",
                               [run_id]).fetchall()}
    assert {k: v[0] for k, v in found[1].items()} == {k: v[0] for k, v in found[2].items()}
    one, two = found[1], found[2]
    survivors = [key for key, (status, *_) in two.items() if status == Status.SURVIVED]
    assert survivors
    for key in survivors:  # the default's mutants: no test calls bump() without `slow`
        assert two[key][3] == Phase.CONFIRM
        # On two workers its head ran first (the two fast tests), then both modules, one per part.
        assert two[key][2] == one[key][2] + 2
    late = (7, "1", "0")  # its head passed: the kill came in a part (where in it depends on timings)
    assert one[late][:2] == two[late][:2] == (Status.KILLED, ("tests/test_b.py::test_b_exact",))
