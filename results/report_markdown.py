"""The PR comment: score, per-agent table, survivors as small diffs with links, capped."""

from __future__ import annotations

import os

from results.report_data import MutantResult, RunReport
from results.status import WHY_UNDETECTED

CAP_PER_FILE = 7  # Google shows at most 7 findings per file in review


def link(report: RunReport, m: MutantResult, base_url: str | None) -> str:
    where = f"{m.file}:{m.line}"
    if base_url is None and os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        base_url = f"{server}/{os.environ['GITHUB_REPOSITORY']}/blob/{report.head_commit}"
    return f"[`{where}`]({base_url.rstrip('/')}/{m.file}#L{m.line})" if base_url else f"`{where}`"


def _diff(before: tuple[str, ...], after: tuple[str, ...]) -> str:
    """The whole lines the mutant changes (`mutated_lines`), as a diff block."""
    minus = "\n".join(f"-{line}" for line in before)
    plus = "\n".join(f"+{line}" for line in after)
    return f"```diff\n{minus}\n{plus}\n```"


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
    files = sorted({m.file for m in undetected})
    cap = CAP_PER_FILE * len(files)
    shown = undetected[:cap]
    changed = report.changed_lines(shown)
    lines += ["", f"### Mutants the tests did not detect ({len(undetected)})", ""]
    for m in shown:
        status = WHY_UNDETECTED[m.status].label
        lines += [f"**{link(report, m, base_url)}** `{m.operator}` ({m.agent}, {status})", "", _diff(*changed[m.id]), ""]
    if len(undetected) > cap:
        lines.append(f"… and {len(undetected) - cap} more (`mutagate report --format html` shows them all).")
    return "\n".join(lines).rstrip() + "\n"
