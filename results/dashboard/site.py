"""The dashboard as files: the fixed page and its assets, `data.js`, and each latest run's HTML report.

`mutagate dashboard` writes them into a folder (a static site for file:// or GitHub Pages);
`mutagate serve` answers with the same bytes, building `data.js` and the reports per request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from results.dashboard.data import DEFAULT_RUNS, dashboard_data, read_dashboard, report_name
from results.errors import ResultsError
from results.report_data import RunReport
from results.report_html import html_report
from results.store import connect

# site path -> file in results/assets (the vendored libraries keep their licence beside them)
PAGE_FILES = {
    "index.html": "dashboard.html",
    "assets/dashboard.js": "dashboard.js",
    "assets/dashboard.css": "dashboard.css",
    "assets/favicon.svg": "dashboard-favicon.svg",
    "assets/uPlot.iife.min.js": "uPlot.iife.min.js",
    "assets/uPlot.min.css": "uPlot.min.css",
    "assets/uPlot.LICENSE": "uPlot.LICENSE",
    "assets/mutation-testing-elements.LICENSE": "mutation-testing-elements.LICENSE",
}
DATA_FILE = "data.js"
REPORTS = "reports"


@cache
def page_file(path: str) -> bytes:
    """One of the page's fixed files, by its path in the site."""
    return files("results").joinpath("assets", PAGE_FILES[path]).read_bytes()


def data_script(data: dict) -> str:
    """`data.js`: the data as a script, so the page reads it from file:// as well as over HTTP."""
    return f"window.MUTAGATE_DATA = {json.dumps(data, separators=(',', ':'))};\n"


def error_script(message: str) -> str:
    """`data.js` when the database cannot be read: the one line the CLI would print."""
    return f"window.MUTAGATE_DATA = {json.dumps({'error': message})};\n"


def site_report(report: RunReport, high: int, low: int) -> str:
    """A run's mutation-testing-elements report as a page of the site: with the site's icon, so the
    browser asks the site for nothing else (it would ask for /favicon.ico, outside a Pages site)."""
    return html_report(report, high, low).replace(
        "<head>", '<head>\n<link rel="icon" href="../assets/favicon.svg" type="image/svg+xml">', 1)


@dataclass(frozen=True)
class Site:
    folder: Path
    runs: int  # runs charted
    reports: tuple[str, ...]  # report files written, relative to the folder


def write_site(db: Path, folder: Path, runs: int = DEFAULT_RUNS, high: int = 80, low: int = 60) -> Site:
    """Write the static site; files mutagate does not write are left alone."""
    with connect(db, read_only=True) as con:
        rows = read_dashboard(con, db, runs)
    data = dashboard_data(rows)
    reports = {f"{REPORTS}/{report_name(run_id)}": site_report(report, high, low)
               for run_id, (_, report, _) in rows.details.items()}
    try:
        (folder / REPORTS).mkdir(parents=True, exist_ok=True)
        (folder / "assets").mkdir(exist_ok=True)
        for path in PAGE_FILES:
            (folder / path).write_bytes(page_file(path))
        (folder / DATA_FILE).write_text(data_script(data), encoding="utf-8")
        for path, html in reports.items():
            (folder / path).write_text(html, encoding="utf-8")
        (folder / ".nojekyll").touch()  # GitHub Pages: serve the files as they are
    except OSError as exc:
        raise ResultsError(f"cannot write the dashboard into {folder}: {exc.strerror} ({exc.filename})") from None
    return Site(folder, len(data["runs"]), tuple(sorted(reports)))
