"""The score badge: SVG drawn by anybadge, or shields.io endpoint JSON; colours by thresholds."""

from __future__ import annotations

import anybadge

from results.report_data import RunReport

LABEL = "mutation score"


def colour(score: float, high: float, low: float) -> str:
    """Stryker's bands: at or above high is good, below low is bad."""
    return "green" if score >= high else "orange" if score >= low else "red"


def _message(report: RunReport, high: float, low: float) -> tuple[str, str]:
    """The badge's text and colour; a partial run shows no score, as it measured only part of the code."""
    if report.partial:
        return "partial", "lightgrey"
    total = report.total
    return total.score_text(), colour(total.score, high, low)


def badge_svg(report: RunReport, high: float = 80, low: float = 60) -> str:
    value, color = _message(report, high, low)
    return anybadge.Badge(label=LABEL, value=value, default_color=color).badge_svg_text


def badge_endpoint(report: RunReport, high: float = 80, low: float = 60) -> dict:
    value, color = _message(report, high, low)
    return {"schemaVersion": 1, "label": LABEL, "message": value, "color": color}
