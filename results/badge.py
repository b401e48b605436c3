"""The score badge: SVG drawn by anybadge, or shields.io endpoint JSON; colours by thresholds."""

from __future__ import annotations

import anybadge

from results.report_data import RunReport

LABEL = "mutation score"


def colour(score: float, high: float, low: float) -> str:
    """Stryker's bands: at or above high is good, below low is bad."""
    return "green" if score >= high else "orange" if score >= low else "red"


def badge_svg(report: RunReport, high: float = 80, low: float = 60) -> str:
    score = report.total.score
    return anybadge.Badge(label=LABEL, value=f"{score:.1f}%", default_color=colour(score, high, low)).badge_svg_text


def badge_endpoint(report: RunReport, high: float = 80, low: float = 60) -> dict:
    score = report.total.score
    return {"schemaVersion": 1, "label": LABEL, "message": f"{score:.1f}%", "color": colour(score, high, low)}
