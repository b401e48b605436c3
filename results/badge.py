"""The score badge: SVG drawn by anybadge, or shields.io endpoint JSON; colours by thresholds."""

from __future__ import annotations

from dataclasses import replace

import anybadge

from results.errors import ResultsError
from results.report_data import RunReport

LABEL = "mutation score"


def colour(score: float, high: float, low: float) -> str:
    """Stryker's bands: at or above high is good, below low is bad."""
    return "green" if score >= high else "orange" if score >= low else "red"


def _message(report: RunReport, high: float, low: float) -> tuple[str, str]:
    """The badge's text and colour; a partial run shows no score, as it measured only part of the code."""
    if report.partial:
        return "partial", "lightgrey"
    if not report.mutants and report.not_run:  # a time budget left no room for any mutant: no score
        return "not run", "lightgrey"
    total = report.total
    return total.score_text(), colour(total.score, high, low)


def for_agent(report: RunReport, agent: str) -> RunReport:
    """The run narrowed to one agent's mutants: its per-agent badge. An agent the run did not measure
    is a one-line error naming the ones it did."""
    known = sorted({m.agent for m in report.mutants})
    if agent not in known:
        raise ResultsError(f"--agent {agent}: no mutant of that agent in run {report.run_id} "
                           f"(agents: {', '.join(known) or 'none'})")
    return replace(report, mutants=tuple(m for m in report.mutants if m.agent == agent))


def _label(agent: str | None) -> str:
    return f"{LABEL} ({agent})" if agent else LABEL


def badge_svg(report: RunReport, high: float = 80, low: float = 60, agent: str | None = None) -> str:
    value, color = _message(for_agent(report, agent) if agent else report, high, low)
    return anybadge.Badge(label=_label(agent), value=value, default_color=color).badge_svg_text


def badge_endpoint(report: RunReport, high: float = 80, low: float = 60, agent: str | None = None) -> dict:
    value, color = _message(for_agent(report, agent) if agent else report, high, low)
    return {"schemaVersion": 1, "label": _label(agent), "message": value, "color": color}
