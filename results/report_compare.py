"""The PR comment against the base: score change overall and per agent, the mutants this change left
undetected first, then the ones it fixed (`report --format markdown --compare-to RUN|base`)."""

from __future__ import annotations

from results.compare import Comparison, ScoreChange
from results.report_data import Tally
from results.mutant_text import one_line
from results.report_markdown import link, undetected_list

FIXED_SHOWN = 20


def _cell(t: Tally | None) -> str:
    return f"{t.score_text()} ({t.mutants})" if t and t.mutants else "—"


def _delta(change: ScoreChange) -> str:
    delta = change.delta
    if delta is None:
        return "new" if change.before is None or not change.before.mutants else "—"
    tenths = round(delta * 10)
    return "±0.0" if tenths == 0 else f"{'+' if tenths > 0 else '−'}{abs(tenths) // 10}.{abs(tenths) % 10}"


def _name(report_branch: str | None, run_id: str) -> str:
    return f"`{report_branch}`" if report_branch else f"run {run_id}"


def render_comparison(c: Comparison, base_url: str | None = None) -> str:
    now, other = c.current, c.other
    total = now.total
    other_name = _name(other.branch, other.run_id)
    overall = c.changes[0]
    headline = now.partial_text() if now.partial else f"mutation score {total.score_text()}"
    if not now.partial and overall.delta is not None:
        headline += f" ({_delta(overall)} vs {other_name})"
    lines = [
        f"## mutagate: {headline}",
        "",
        f"{total.mutants} mutants on AI-written lines at `{now.head_commit[:12]}`: {total.killed} killed, "
        f"{total.timeout} timed out, {total.survived} survived, {total.no_coverage} not covered. "
        f"Compared with run {other.run_id} on {other_name} (`{other.head_commit[:12]}`).",
        "",
        f"| score (mutants) | {other_name} | this run | change |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {ch.name} | {_cell(ch.before)} | {_cell(ch.after)} | {_delta(ch)} |" for ch in c.changes]
    lines += ["", *_new_section(c, base_url), *_fixed_section(c, base_url)]
    notes = []
    if c.still_undetected:
        notes.append(f"{_count(len(c.still_undetected))} undetected here {_was(len(c.still_undetected))} "
                     f"undetected on {other_name} too.")
    if c.not_retested:
        notes.append(f"{_count(c.not_retested)} undetected on {other_name} {_was(c.not_retested)} not measured by "
                     f"this run (a PR run tests the lines it changed, one mutant per line), so not retested here.")
    if notes:
        lines += [" ".join(notes), ""]
    return "\n".join(lines).rstrip() + "\n"


def _new_section(c: Comparison, base_url: str | None) -> list[str]:
    new = c.new_undetected
    if not new:
        return ["No new undetected mutant: every mutant this run found undetected was undetected before.", ""]
    lines = [f"### New undetected mutants ({len(new)})", "", "Add a test that fails on each:", ""]
    return [*lines, *undetected_list(c.current, new, base_url), ""]


def _fixed_section(c: Comparison, base_url: str | None) -> list[str]:
    if not c.fixed:
        return []
    shown = c.fixed[:FIXED_SHOWN]
    changed = c.current.changed_lines(shown)
    lines = [f"### Fixed: undetected on {_name(c.other.branch, c.other.run_id)}, detected now ({len(c.fixed)})", ""]
    for m in shown:
        before, after = changed[m.id]
        killer = f", killed by `{m.killed_by[0]}`" if m.killed_by else f", {m.status}"
        lines.append(f"- {link(c.current, m, base_url)} `{m.operator}` ({m.agent}{killer}): "
                     f"`{one_line(before)}` → `{one_line(after)}`")
    if len(c.fixed) > len(shown):
        lines.append(f"- … and {len(c.fixed) - len(shown)} more")
    return [*lines, ""]


def _count(n: int) -> str:
    return f"{n} mutant{'' if n == 1 else 's'}"


def _was(n: int) -> str:
    return "was" if n == 1 else "were"

