"""What more than one command prints on a terminal: a run's live progress, summary and gate (`mutagate run`,
`mutagate demo`), and the blame tables (`mutagate blame`, `mutagate demo`). Command modules never import
each other; what they share lives here or in common.py."""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from mutator.attribution import Attribution
from mutator.errors import BadInput
from results.errors import ResultsError
from results.gate import Decision, judge_interrupted
from results.mutant_text import one_line
from results.report_data import RunReport, load_report
from results.status import WHY_UNDETECTED
from scheduler.ci import github_actions
from scheduler.cli.common import EXIT_BELOW_THRESHOLD, EXIT_FAULT, EXIT_OK, print_json, print_warnings, stdout_console
from scheduler.run import Progress as RunProgress, RunResult
from scheduler.run_request import PreparedRun, RunRequest, moved_text, start_run

class ProgressDisplay(RunProgress):
    """The run's progress on stderr. On a terminal, a live bar. Elsewhere (a CI log) a plain line every
    `interval` seconds (MUTAGATE_PROGRESS_SECONDS, default 10) and when a phase ends, so a long run is
    never silent until its end. Nothing is printed before the first tick: a run refused early (a failing
    baseline) still ends in its one line of bad input. Use it as a context manager."""

    def __init__(self, console: Console, interval: float | None = None) -> None:
        self.console = console
        self.live = console.is_terminal
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[tally]}"), TimeElapsedColumn(), TextColumn("{task.fields[eta]}"),
                            console=console,
                            disable=not self.live)
        self.interval = interval if interval is not None else _seconds("MUTAGATE_PROGRESS_SECONDS", 10.0)
        self.task: TaskID | None = None
        self.tally: Counter[str] = Counter()
        self.totals: dict[str, int] = {}  # phase -> how many it had to do ("mutants": how many ran)
        self.name, self.total, self.done, self.started = "", 0, 0, time.monotonic()
        # The phase's expected seconds, those of what is done (as expected before it ran) and what the
        # same model says the done part cost, now that its verdicts are known (a survivor costs many kills).
        self.expected, self.expected_done, self.spent, self.done_at = 0.0, 0.0, 0.0, 0.0
        self.start, self.workers = 0.0, 1  # the phase's workers, and their start before its first mutant
        self.printed = False  # any plain line yet
        self._lock = threading.Lock()  # outcomes arrive on the executor's threads
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="mutagate-progress", daemon=True)

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            self.bar.start()
        elif self.interval > 0:
            self._ticker.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        self._stop.set()
        if self.live:
            self.bar.stop()
        else:
            with self._lock:
                self._finish_phase(complete=exc_type is None)

    def phase(self, name: str, total: int, seconds: float = 0.0, start: float = 0.0, workers: int = 1) -> None:
        with self._lock:
            if self.live and self.task is not None:
                self.bar.update(self.task, completed=self.bar.tasks[self.task].total)
            self._finish_phase(complete=True)
            self.tally = Counter()
            self.name, self.total, self.done, self.started = name, total, 0, time.monotonic()
            self.expected, self.expected_done, self.spent, self.done_at = seconds, 0.0, 0.0, 0.0
            self.start, self.workers = start, max(1, workers)
            self.totals[name] = self.totals.get(name, 0) + total
            if self.live:
                self.task = self.bar.add_task(name, total=total, tally="", eta="")

    def plan(self, text: str) -> None:
        with self._lock:
            if self.live:
                self.console.print(Text(text))
            else:
                self.console.file.write(f"mutagate: {text}\n")
                self.console.file.flush()

    def advance(self, status: str, seconds: float = 0.0, spent: float | None = None, at: float | None = None) -> None:
        """One more mutant done: its expected `seconds`, what it cost by the same model given its
        verdict (`spent`), and when (`at`, seconds into the phase; now by default)."""
        with self._lock:
            self.tally[status] += 1
            self.done += 1
            self.done_at = time.monotonic() - self.started if at is None else at
            self.expected_done += seconds
            self.spent += seconds if spent is None else spent
            if self.live and self.task is not None:
                text = " ".join(f"{k} {v}" for k, v in sorted(self.tally.items()))
                left = self._left(time.monotonic() - self.started)
                eta = f"about {_duration(left)} left" if left is not None and left >= 0.5 else ""
                self.bar.update(self.task, advance=1, tally=text, eta=eta)

    def _left(self, elapsed: float) -> float | None:
        """Seconds left in the phase: the expected cost of what is not done, at the pace of what is
        (wall seconds after the workers' start per second of its cost by the same model, given the
        verdicts it got: an early run of survivors is not read as a slow machine), as of the last
        mutant done and counting down since (a pace read now would charge the done mutants with the
        time the running ones take: a hot survivor's parts or a timeout made it grow by the second);
        none once that is past; until a tenth is done, the forecast's own; without expected costs, by count."""
        if not 0 < self.done < self.total:
            return None
        if self.expected > 0:
            left = max(0.0, self.expected - self.expected_done)
            if self.spent >= self.expected / 10:  # enough done to measure the pace
                countdown = max(0.0, self.done_at - self.start) / self.spent * left - (elapsed - self.done_at)
                return countdown if countdown > 0 else None
            # Before that, the forecast's own; none once it is past (a pace from a few kills is noise).
            forecast = self.start + self.expected / self.workers - elapsed
            return forecast if forecast > 0 else None
        return elapsed / self.done * (self.total - self.done)

    def _finish_phase(self, complete: bool) -> None:
        """The last line of a phase, on a log. A phase that gives way to the next is complete (as the
        bar shows it); one ended by an error or Ctrl-C says how far it got."""
        if not self.live and self.name and (complete or self.printed):
            self._line(final=True, complete=complete)
        self.name = ""

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self.name and not self._stop.is_set():
                    self._line()

    def _line(self, final: bool = False, complete: bool = True) -> None:
        """`mutagate: mutants 12/51, killed 9, survived 3; 40 s so far, about 1 min 20 s left`: plain
        text (no markup, no terminal codes) for a log."""
        elapsed = time.monotonic() - self.started
        done = self.total if final and complete else self.done
        counts = Counter({"killed": 0, "survived": 0, **self.tally}) if self.tally else {}
        tally = "".join(f", {status} {n}" for status, n in sorted(counts.items()))
        if final:
            timing = f"; {'done in' if complete else 'stopped after'} {_duration(elapsed)}"
        elif (left := self._left(elapsed)) is not None:
            rough = _duration(left)
            timing = f"; {_duration(elapsed)} so far, {rough if rough.startswith('under') else 'about ' + rough} left"
        else:
            timing = f"; {_duration(elapsed)} so far"
        self.console.file.write(f"mutagate: {self.name} {done}/{self.total}{tally}{timing}\n")
        self.console.file.flush()
        self.printed = True


def _seconds(variable: str, default: float) -> float:
    try:
        return float(os.environ.get(variable, default))
    except ValueError:
        raise BadInput(f"{variable} must be a number of seconds, not {os.environ[variable]!r}") from None


def _duration(seconds: float) -> str:
    if seconds < 0.5:
        return "under 1 s"  # "0 s" reads as nothing done, or as a broken clock
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def perform_run(request: RunRequest) -> int:
    """The run (`start_run`), its summary on stdout and the gate's exit code (`results.gate`)."""
    started = time.monotonic()
    progress = ProgressDisplay(Console(stderr=True))  # reads MUTAGATE_PROGRESS_SECONDS: refused before any work
    prepared: list[PreparedRun] = []
    try:
        with ExitStack() as showing:
            def on_prepared(run: PreparedRun) -> None:
                prepared.append(run)
                print_warnings(run.workload.attribution.warnings)
                showing.enter_context(progress)

            run = start_run(request, progress, started, on_prepared)
    except KeyboardInterrupt:
        if not prepared:
            raise
        # Stopped early (Ctrl-C, SIGTERM): what was measured is stored; say how far it got, never a score.
        options = prepared[0].options
        try:
            report = load_report(options.db, options.run_id)
            print(f"mutagate: run {report.run_id} stopped: {report.partial_text()}; run again to resume",
                  file=sys.stderr)
        except ResultsError:  # stopped before the run was stored
            print("mutagate: stopped before anything was measured", file=sys.stderr)
        verdict = judge_interrupted(prepared[0].threshold)
        if verdict is None:
            raise
        print(f"mutagate: {verdict.reason}", file=sys.stderr)
        return EXIT_BELOW_THRESHOLD
    report, summary, retest = run.report, run.summary, run.prepared.retest
    if request.json:
        print_json(summary)
    else:
        print_summary(run.result, summary, report, ran=progress.totals.get("mutants", 0))
    if retest is not None and not request.json:
        outcome = summary["retest"]
        print(f"retested the {len(retest.undetected)} undetected mutants of run {retest.run_id}: "
              f"{len(outcome['fixed'])} fixed, {len(outcome['still_undetected'])} still undetected, "
              f"{len(outcome['gone'])} gone (their code changed)")
    # Inside GitHub Actions: job summary and annotations (on stderr under --json, which owns stdout).
    github_actions.publish(report, summary.get("note"), out=sys.stderr if request.json else None)
    verdict = run.verdict
    for note in verdict.notes:
        print(f"mutagate: {note}", file=sys.stderr)
    if verdict.reason is not None:
        print(f"mutagate: {verdict.reason}", file=sys.stderr)
    return {Decision.PASS: EXIT_OK, Decision.FAIL: EXIT_BELOW_THRESHOLD, Decision.FAULT: EXIT_FAULT}[verdict.decision]


def print_summary(result: RunResult, summary: dict, report: RunReport, ran: int | None = None) -> None:
    """The run for a person: tables by agent and by file, each undetected mutant on one line (its whole
    line before and after), and the score. Every figure comes from the exact counts in `report`;
    `ran`: how many mutants ran now (the others were settled without running)."""
    console = stdout_console()
    if "note" in summary:
        if report.not_run:  # there were mutants, and the budget left no time for any
            console.print(Text(f"Nothing measured: {summary['note']}; run {result.run_id}."), soft_wrap=True)
        else:
            console.print(Text(f"Nothing to measure: {summary['note']}. The run passes; run {result.run_id}."),
                          soft_wrap=True)
        return
    for title, groups in (("By agent", report.by("agent")), ("By file", report.by("file"))):
        table = Table(title=title, title_justify="left", show_edge=False)
        for column in ("", "mutants", "killed", "timeout", "survived", "no coverage", "score"):
            table.add_column(column, justify="left" if not column else "right")
        for name, t in groups.items():
            table.add_row(Text(name), str(t.mutants), str(t.killed), str(t.timeout), str(t.survived),
                          str(t.no_coverage), t.score_text())
        console.print(table)
        console.print()
    undetected = report.undetected
    if undetected:
        console.print(Text.assemble(("Undetected mutants", "bold"), " (add a test that fails on each):"))
        changed = report.changed_lines(undetected)
        represents = {s["id"]: s.get("represents", 0) for s in summary["survivors"]}
        for m in undetected:
            before, after = changed[m.id]
            status = WHY_UNDETECTED[m.status].label
            if represents.get(m.id):  # one line for the same gap in a table's rows of this shape
                status += f", stands for {represents[m.id]} more table rows"
            # One line each, never wrapped nor cut, whatever the width: a CI log keeps it whole and greppable.
            console.print(Text.assemble(f"  {m.file}:{m.line}  {m.operator}  {one_line(before)} → {one_line(after)}  ",
                                        (f"({m.agent}, {status})", "yellow"), f"  {m.id}"), soft_wrap=True)
        console.print()
    if result.flaky:
        console.print(Text.assemble(("Flaky tests", "bold"), " (quarantined: they failed, then passed without a change):"))
        for test, why in sorted(result.flaky.items()):
            console.print(Text(f"  {test}  {why}"), soft_wrap=True)
        console.print()
    if result.confirmation is not None:
        c = result.confirmation
        said = ("off: a survivor means its covering tests pass" if c.policy == "off" else
                f"{c.policy}: {c.checked} survivors of their covering tests checked, {c.flipped} detected by the rest")
        console.print(Text(f"confirmation {said}"), soft_wrap=True)
    if "grouped" in summary:
        console.print(Text(f"grouped: {summary['grouped']['text']}"), soft_wrap=True)
    if "source" in summary:
        source = summary["source"]
        console.print(Text(f"source: {', '.join(source['roots'])} ({source['why']})"), soft_wrap=True)
    if summary.get("moved_not_changed", {}).get("lines"):
        console.print(Text(f"scope: {summary['moved_not_changed']['text']}"), soft_wrap=True)
    if report.budget_seconds is not None:
        console.print(Text(report.budget_text() or ""), soft_wrap=True)
    if "shard" in summary:  # a part of a run: its score is not the run's until `mutagate merge`
        shard = summary["shard"]
        console.print(Text(f"shard {shard['index']}/{shard['count']}: {report.planned} of the run's "
                           f"{shard['run_mutants']} mutants; `mutagate merge` its {shard['count']} files for the run"),
                      soft_wrap=True)
    total = report.total
    reused = summary["reused"]
    how = f"{reused} reused from earlier runs"
    if ran is not None:
        # Settled as no_coverage before anything ran: say it in the status's own words (`not_run` is
        # another status, the mutants a budget left out).
        how = f"{ran} run, {how}, {total.mutants - ran - reused} no coverage (no test to run)"
    console.print(Text.assemble(
        (f"score {total.score_text()}", "bold"), f" ({total.score_text(covered=True)} on covered code) — "
        f"{total.mutants} mutants: {total.killed} killed, {total.timeout} timeout, {total.survived} survived, "
        f"{total.no_coverage} no coverage; {how}; {result.executor}; {summary['seconds']:.1f} s; run {result.run_id}"
    ), soft_wrap=True)


def print_blame_tables(attribution: Attribution, evidence: bool) -> None:
    console = stdout_console()
    if not attribution.lines:
        console.print("No AI-attributed lines in scope.")
        _print_moved(console, attribution)
        return
    for file, lines in itertools.groupby(attribution.lines, key=lambda line: line.file):
        table = Table(title=Text(file), title_justify="left", show_edge=False)
        table.add_column("lines", justify="right")
        table.add_column("agent")
        table.add_column("commit")
        if evidence:
            table.add_column("evidence")
        for start, end, first in _runs(list(lines)):
            # Agent names and evidence are commit text (`claude[bot]`): never read as markup.
            row = [Text(f"{start}" if start == end else f"{start}-{end}"), Text(first.agent), Text(first.commit[:10])]
            if evidence:
                row.append(Text(first.evidence))
            table.add_row(*row)
        console.print(table)
        console.print()
    summary = Table(title="By agent", title_justify="left", show_edge=False)
    summary.add_column("agent")
    summary.add_column("lines", justify="right")
    for agent, count in attribution.agents().items():
        summary.add_row(Text(agent), str(count))
    console.print(summary)
    _print_moved(console, attribution)


def _print_moved(console: Console, attribution: Attribution) -> None:
    """--base scope: the lines the moved-not-changed rule left out, in `run`'s and `mutants`' words."""
    if attribution.moved_lines:
        console.print(Text(f"scope: {moved_text(attribution.moved_lines)}"), soft_wrap=True)


def _runs(lines: list) -> list:
    """Consecutive lines with the same agent, commit and evidence, as (start, end, first line)."""
    runs = []
    for line in lines:
        if runs:
            start, end, first = runs[-1]
            same = (first.agent, first.commit, first.evidence) == (line.agent, line.commit, line.evidence)
            if same and line.line == end + 1:
                runs[-1] = (start, line.line, first)
                continue
        runs.append((line.line, line.line, line))
    return runs
