"""The PR comment: score, per-agent table, survivors as small diffs with links, changed behaviour
before changed strings (`survivor_order`), capped, saying how many more there are."""

from __future__ import annotations

import os
from collections import Counter

from results.mutant_text import diff_lines, one_line
from results.report_data import RunReport
from results.status import WHY_UNDETECTED
from results.stored_mutant import StoredMutant
from results.survivor_order import BEHAVIOUR, MESSAGE, kinds_text, rank_in_source

CAP_PER_FILE = 7  # Google shows at most 7 findings per file in review
TEXT_SHOWN = 5  # changed strings, one line each, after the behaviour


def link(report: RunReport, m: StoredMutant, base_url: str | None) -> str:
    where = f"{m.file}:{m.line}"
    if base_url is None and os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        base_url = f"{server}/{os.environ['GITHUB_REPOSITORY']}/blob/{report.head_commit}"
    return f"[`{where}`]({base_url.rstrip('/')}/{m.file}#L{m.line})" if base_url else f"`{where}`"


def _diff(before: tuple[str, ...], after: tuple[str, ...]) -> str:
    """The whole lines the mutant changes (results.mutant_text.changed_lines), as a diff block."""
    return "```diff\n" + "\n".join(diff_lines(before, after)) + "\n```"


def render_markdown(report: RunReport, base_url: str | None = None) -> str:
    total = report.total
    headline = (report.partial_text() if report.partial else report.budget_text() if report.not_run and not report.mutants
                else f"mutation score {total.score_text()}")
    lines = [
        f"## mutagate: {headline}",
        "",
        f"{total.mutants} mutants on AI-written lines at `{report.head_commit[:12]}`: "
        f"{total.killed} killed, {total.timeout} timed out, {total.survived} survived, "
        f"{total.no_coverage} not covered. Score on covered code: {total.score_text(covered=True)}.",
        *([f"The run had a time budget — {report.budget_text()}: the score is of the mutants run."]
          if report.not_run else []),
        "",
        "| agent | mutants | killed | timeout | survived | no coverage | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for agent, t in report.by("agent").items():
        lines.append(f"| {agent} | {t.mutants} | {t.killed} | {t.timeout} | {t.survived} | {t.no_coverage} | {t.score_text()} |")
    undetected = report.undetected
    if not undetected:
        lines += ["", "Every mutant was detected by the tests."]
        return "\n".join(lines) + "\n"
    lines += ["", f"### Mutants the tests did not detect ({len(undetected)})", ""]
    lines += undetected_list(report, undetected, base_url)
    return "\n".join(lines).rstrip() + "\n"


def undetected_list(report: RunReport, mutants: tuple[StoredMutant, ...], base_url: str | None) -> list[str]:
    """Undetected mutants as a reviewer acts on them: changed behaviour first, as diffs (at most
    CAP_PER_FILE per file); then changed strings, one line each, those in error or log messages last
    (a test gap only where callers read the text); then how many more there are, of which kind."""
    changed = report.changed_lines(mutants)
    # Whether a changed string is in a message is read from the text that holds it (results.mutant_text).
    rank = {m.id: rank_in_source(m.operator, report.sources.holding(m) or "", m.line) for m in mutants}
    ranked = sorted(mutants, key=lambda m: rank[m.id])  # stable: file and line order within a kind
    behaviour = [m for m in ranked if rank[m.id] == BEHAVIOUR]
    text = [m for m in ranked if rank[m.id] != BEHAVIOUR]
    shown, per_file = [], Counter()
    for m in behaviour:
        per_file[m.file] += 1
        if per_file[m.file] <= CAP_PER_FILE:
            shown.append(m)
    lines: list[str] = []
    for m in shown:
        status = WHY_UNDETECTED[m.status].label
        lines += [f"**{link(report, m, base_url)}** `{m.operator}` ({m.agent}, {status})", "", _diff(*changed[m.id]), ""]
    texts_shown = text[:TEXT_SHOWN]
    if text:
        messages = sum(rank[m.id] == MESSAGE for m in text)
        where = "" if not messages else ", 1 in an error or log message" if messages == 1 else \
            f", {messages} in error or log messages"
        lines += [f"**Changed strings** ({len(text)}{where}): "
                  "no test reads these texts — a gap only where a caller relies on the text.", ""]
        for m in texts_shown:
            before, after = changed[m.id]
            where = ", in a message" if rank[m.id] == MESSAGE else ""
            lines.append(f"- {link(report, m, base_url)} ({m.agent}, {WHY_UNDETECTED[m.status].label}{where}): "
                         f"`{one_line(before)}` → `{one_line(after)}`")
        lines.append("")
    left = [m for m in ranked if m not in shown and m not in texts_shown]
    if left:
        kinds = kinds_text(rank[m.id] for m in left)
        lines.append(f"… and {len(left)} more{f' ({kinds})' if kinds else ''} "
                     "(`mutagate report --format html` shows them all).")
    return lines
