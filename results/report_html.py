"""One self-contained HTML file: the mutation-testing-elements web component, inlined, fed the
Stryker-schema report. Works offline."""

from __future__ import annotations

import json
from importlib.resources import files

from results.report_data import RunReport
from results.report_stryker import stryker_report

ELEMENTS_VERSION = "3.9.0"


def html_report(report: RunReport, high: int = 80, low: int = 60) -> str:
    script = files("results").joinpath("assets/mutation-test-elements.js").read_text(encoding="utf-8")
    data = json.dumps(stryker_report(report, high, low)).replace("</", "<\\/")  # cannot close the <script>
    script = script.replace("</script", "<\\/script")
    title = f"mutagate {report.run_id}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<script>{script}</script>
</head>
<body>
<mutation-test-report-app title-postfix="{title}"></mutation-test-report-app>
<script>
document.querySelector("mutation-test-report-app").report = {data};
</script>
<!-- mutation-testing-elements {ELEMENTS_VERSION} (Apache-2.0) -->
</body>
</html>
"""
