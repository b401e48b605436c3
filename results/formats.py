"""Every export of a stored run behind one contract: `render(report, options) -> str`.

The CLI's `--format` choices and its dispatch both come from these tables, so a new format is
a module with a `render` plus one entry here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from results.badge import badge_endpoint, badge_svg
from results.compare import Comparison
from results.report_codeclimate import codeclimate_report
from results.report_compare import render_comparison
from results.report_data import RunReport
from results.report_html import html_report
from results.report_markdown import render_markdown
from results.report_sarif import sarif_report
from results.report_stryker import stryker_report


@dataclass(frozen=True)
class RenderOptions:
    high: float = 80.0  # score bands (Stryker's defaults)
    low: float = 60.0
    link_base: str | None = None  # markdown: link file:line to LINK_BASE/FILE#Lline
    compare: Comparison | None = None  # markdown: against another run (--compare-to)
    note: str | None = None  # markdown: one more paragraph (why there is no comparison)
    agent: str | None = None  # badge: one agent's mutants only


@dataclass(frozen=True)
class Format:
    name: str
    help: str
    render: Callable[[RunReport, RenderOptions], str]


def _markdown(report: RunReport, options: RenderOptions) -> str:
    if options.compare is not None:
        return render_comparison(options.compare, options.link_base)
    text = render_markdown(report, options.link_base)
    return f"{text}\n{options.note}\n" if options.note else text


def _table(*formats: Format) -> dict[str, Format]:
    return {f.name: f for f in formats}


REPORT_FORMATS = _table(
    Format("markdown", "a PR comment", _markdown),
    Format("stryker", "mutation-testing-report-schema JSON",
           lambda r, o: json.dumps(stryker_report(r, round(o.high), round(o.low))) + "\n"),
    Format("sarif", "SARIF 2.1.0, for code scanning", lambda r, o: json.dumps(sarif_report(r), indent=2) + "\n"),
    Format("html", "one self-contained HTML page", lambda r, o: html_report(r, round(o.high), round(o.low))),
    Format("codeclimate", "GitLab Code Quality JSON", lambda r, o: json.dumps(codeclimate_report(r), indent=2) + "\n"),
)

BADGE_FORMATS = _table(
    Format("svg", "an SVG badge", lambda r, o: badge_svg(r, o.high, o.low, o.agent)),
    Format("endpoint", "shields.io endpoint JSON",
           lambda r, o: json.dumps(badge_endpoint(r, o.high, o.low, o.agent)) + "\n"),
)
