"""`mutagate run` inside GitHub Actions (GITHUB_ACTIONS=true), with no flag: the run's markdown report
appended to the job summary ($GITHUB_STEP_SUMMARY), and a `::warning` annotation per undetected mutant
(at most ANNOTATIONS_PER_FILE per file, the rest counted in one log line) so the PR's diff shows them.

Workflow commands are lines on stdout; their text is escaped as the runner's parser expects
(actions/toolkit's command.ts): in the message %, CR and LF; in a property also ':' and ','."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from results.mutant_text import diff_lines
from results.report_data import RunReport
from results.report_markdown import render_markdown
from results.status import WHY_UNDETECTED
from results.stored_mutant import StoredMutant

ANNOTATIONS_PER_FILE = 10


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def warning(message: str, **properties: str | int) -> str:
    """`::warning file=…,line=…,title=…::message`, every part escaped."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::warning {props}::{escape_data(message)}"


def _message(m: StoredMutant, before: tuple[str, ...], after: tuple[str, ...]) -> str:
    why = WHY_UNDETECTED[m.status].reason
    lines = "\n".join(diff_lines(before, after, gap=" "))
    return f"{why}; add a test that fails on this change:\n{lines}\n(mutagate show {m.id})"


def annotations(report: RunReport) -> Iterator[str]:
    """One warning per undetected mutant, capped per file; after a capped file, one plain line."""
    undetected = report.undetected
    by_file: dict[str, list[StoredMutant]] = {}
    for m in undetected:
        by_file.setdefault(m.file, []).append(m)
    changed = report.changed_lines(m for ms in by_file.values() for m in ms[:ANNOTATIONS_PER_FILE])
    for file, mutants in by_file.items():
        for m in mutants[:ANNOTATIONS_PER_FILE]:
            title = f"mutagate: {m.operator} {WHY_UNDETECTED[m.status].title} ({m.agent})"
            yield warning(_message(m, *changed[m.id]), file=m.file, line=m.line, endLine=m.end_line, title=title)
        if len(mutants) > ANNOTATIONS_PER_FILE:
            yield (f"mutagate: {len(mutants) - ANNOTATIONS_PER_FILE} more undetected mutants in {file} "
                   f"not annotated (the job summary lists them)")


def publish(report: RunReport | None, nothing: str | None = None, out: TextIO | None = None) -> None:
    """Inside GitHub Actions: the job summary and the annotations; elsewhere nothing. `nothing`: why a
    run had no mutant (then the summary says so and there is nothing to annotate)."""
    if not in_github_actions():
        return
    out = out or sys.stdout
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        text = f"## mutagate: nothing to measure\n\n{nothing}. The run passes.\n" if nothing or report is None \
            else render_markdown(report)
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    if report is not None and not nothing:
        for line in annotations(report):
            out.write(line + "\n")
    out.flush()
