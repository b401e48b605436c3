"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, on a database
filled by real `mutagate run`s of a real repository written by two agents, read from the static
site (file://) and from `mutagate serve`."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from results.dashboard.data import report_routes
from results.report_data import Tally
from results.status import RunStatus
from results.store import OutcomeRow, ResultStore, RunRecord, MutantRow
from tests.cli import ENTRY, PROJECT, assert_bad_input, mutagate, run_json
from tests.gitrepo import GitRepo
from tests.sample_project import CLAUDE

pytestmark = pytest.mark.slow  # real runs behind the dashboard, a live server and a browser

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (Debian: apt-get install chromium)")

CURSOR = ("Cursor Agent", "cursoragent@cursor.com")
SCREENSHOT = PROJECT / "docs" / "dashboard.png"
# A run takes its branch from CI's variables first: the test's runs take it from git.
NO_CI_BRANCH = {"GITHUB_HEAD_REF": "", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "", "BRANCH_NAME": ""}

STOCK = '''
def restock(levels, minimum):
    low = [item for item, count in levels.items() if count < minimum]
    return sorted(low)


def reserve(levels, item, count):
    available = levels.get(item, 0)
    if count > available:
        raise ValueError(f"only {available} {item} left")
    levels[item] = available - count
    return levels[item]
'''

STOCK_TESTS = '''
from pkg.stock import reserve, restock


def test_restock_finds_something():
    assert restock({"a": 1, "b": 50}, 10)


def test_reserve():
    assert reserve({"a": 5}, "a", 2) == 3
'''

PRICES = '''
def discount(price, rate):
    if price > 100:
        return price * (1 - rate)
    return price
'''

PRICE_TESTS = '''
from pkg.prices import discount


def test_big_order():
    assert discount(200, 0.5) == 100


def test_small_order():
    assert discount(50, 0.5) == 50
'''

BOUNDARY_TEST = '''

def test_at_the_boundary():
    assert discount(100, 0.5) == 100
'''

BULK = '''

def bulk(levels, minimum):
    low = restock(levels, minimum)
    return len(low) > 3
'''

BULK_TEST = '''

def test_bulk():
    from pkg.stock import bulk

    assert bulk({"a": 1, "b": 2, "c": 3, "d": 4}, 10)
'''


@dataclass(frozen=True)
class History:
    repo: GitRepo
    db: Path
    site: Path
    nightly: tuple[str, str]  # the two nightly runs on main, oldest first
    pr: str  # the PR run on feature/bulk: the latest


def _run(repo: GitRepo, db: Path, *flags: str) -> str:
    return run_json(repo.root, db, *flags, codes=(0, 3), env=NO_CI_BRANCH)["run_id"]


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    """Two nightly runs on main (cursor's boundary tested in between) and a PR run of Claude's branch."""
    root = tmp_path_factory.mktemp("dashboard")
    repo = GitRepo(root / "repo")
    db = root / "results.duckdb"
    repo.commit("human: project", files={"pkg/__init__.py": "", "tests/__init__.py": "",
                                         "tests/test_stock.py": STOCK_TESTS, "tests/test_prices.py": PRICE_TESTS})
    repo.commit(CLAUDE, files={"pkg/stock.py": STOCK})
    repo.commit("pricing", author=CURSOR, files={"pkg/prices.py": PRICES})
    first = _run(repo, db)
    repo.commit("human: test the boundary", files={"tests/test_prices.py": PRICE_TESTS + BOUNDARY_TEST})
    second = _run(repo, db)
    repo.git("checkout", "-q", "-b", "feature/bulk")
    repo.commit(CLAUDE, files={"pkg/stock.py": STOCK + BULK, "tests/test_stock.py": STOCK_TESTS + BULK_TEST})
    pr = _run(repo, db, "--base", "main")
    site = root / "site"
    built = mutagate("dashboard", "-o", str(site), "--db", str(db), cwd=repo.root)
    assert built.returncode == 0, built.stderr
    assert "3 finished runs charted" in built.stdout
    return History(repo, db, site, (first, second), pr)


def _view(db: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


# -- the browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@dataclass
class Watched:
    page: object
    requests: list[str]
    errors: list[str]


@contextmanager
def watched(browser) -> Iterator[Watched]:
    """A page whose every request and every console error is kept."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    seen = Watched(page, [], [])
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    try:
        yield seen
    finally:
        page.close()


def _open(seen: Watched, url: str) -> None:
    seen.page.goto(url)
    seen.page.wait_for_selector("body[data-ready]")
    assert seen.page.get_attribute("body", "data-ready") == "true", seen.page.inner_text("#status")


# mutation-testing-elements renders into nested shadow roots; its file view is an <mte-file>.
FILE_VIEW_SHOWN = """(() => {
  const find = (root) => [...root.querySelectorAll('*')]
    .some(e => e.tagName === 'MTE-FILE' || (e.shadowRoot && find(e.shadowRoot)));
  return find(document);
})()"""


def _series(page) -> list[str]:
    """The chart's series as its legend names them (names only: the time axis has no row)."""
    return page.eval_on_selector_all("#chart .u-legend .u-series .u-label", "els => els.map(e => e.textContent)")


def _table(page, selector: str) -> dict[str, list[str]]:
    return dict(page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => [r.cells[0].textContent, [...r.cells].slice(1, 7).map(c => c.textContent)])"))


def _weak(page) -> list[str]:
    return page.eval_on_selector_all("#weak li[data-test]", "els => els.map(e => e.dataset.test)")


def _undetected_agents(page) -> list[str]:
    return page.eval_on_selector_all("#undetected .agent-group", "els => els.map(e => e.dataset.agent)")


def _select(page, which: str, value: str) -> None:
    page.select_option(f"#{which}-filter", value)


def _expected_files(db: Path, run_id: str, agent: str | None = None) -> dict[str, list[str]]:
    """The file table as the views count it (per agent: the same counts over that agent's mutants)."""
    if agent is None:
        rows = _view(db, "SELECT file, mutants, killed, timeout, survived, no_coverage, score"
                         " FROM kill_rate_by_file WHERE run_id = ?", run_id)
    else:
        rows = _view(db, "SELECT file, count(*), count(*) FILTER (WHERE status = 'killed'),"
                         " count(*) FILTER (WHERE status = 'timeout'), count(*) FILTER (WHERE status = 'survived'),"
                         " count(*) FILTER (WHERE status = 'no_coverage'), 0"
                         " FROM mutant_outcomes WHERE run_id = ? AND agent = ? GROUP BY file", run_id, agent)
    return {r[0]: [*map(str, r[1:6]), Tally(*r[1:6]).score_text()] for r in rows}


def _expected_weak(history: History, run_id: str) -> list[str]:
    out = mutagate("weak-tests", "--json", "--limit", "50", "--run", run_id, "--db", str(history.db),
                   cwd=history.repo.root)
    assert out.returncode == 0, out.stderr
    return [row["test"] for row in json.loads(out.stdout)["weak_tests"]]


def _report_agents(history: History, run_id: str) -> dict[str, list[str]]:
    """The per-agent table of `mutagate report --format markdown`."""
    out = mutagate("report", "--run", run_id, "--db", str(history.db), cwd=history.repo.root)
    assert out.returncode == 0, out.stderr
    rows = [line.strip("|").split("|") for line in out.stdout.splitlines() if line.startswith("| ")][1:]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows}


def check_page(seen: Watched, history: History, url: str, site_prefix: str) -> None:
    """What both the static and the served page must show."""
    page = seen.page
    _open(seen, url)
    first, second = history.nightly
    # one line per agent through the nightly runs, PR runs apart
    assert _series(page) == ["claude-code", "claude-code · PR", "cursor"]
    assert page.locator("#chart canvas").count() >= 1
    # the latest run is the PR run, as for `mutagate report`; its numbers are the report's
    assert history.pr in page.inner_text("#latest-run") and "PR run against main" in page.inner_text("#latest-run")
    agents = _table(page, "#agents")
    assert {a: v for a, v in agents.items() if a != "all agents"} == _report_agents(history, history.pr)
    assert _table(page, "#files") == _expected_files(history.db, history.pr)

    # main: the nightly runs only, the file table of the latest of them, worst first, each with its trend
    _select(page, "branch", "main")
    assert _series(page) == ["claude-code", "cursor"]
    assert second in page.inner_text("#latest-run")
    files = _table(page, "#files")
    assert files == _expected_files(history.db, second)
    assert list(files) == [r[0] for r in _view(history.db, "SELECT file FROM kill_rate_by_file WHERE run_id = ?"
                                                            " ORDER BY score, survived + no_coverage DESC, file", second)]
    trend = page.get_attribute('#files tr[data-file="pkg/prices.py"] td.trend', "data-trend")
    scores = [float(s) for (s,) in _view(history.db, "SELECT score FROM kill_rate_by_file WHERE file = 'pkg/prices.py'"
                                                     " AND run_id IN (?, ?) ORDER BY run_id", first, second)]
    assert [float(v) for v in trend.split(",")] == scores and scores[1] > scores[0]  # the boundary test helped
    assert _report_agents(history, second) == {a: v for a, v in _table(page, "#agents").items() if a != "all agents"}
    weak = _weak(page)
    assert weak == _expected_weak(history, second) and "tests/test_stock.py::test_restock_finds_something" in weak
    first_weak = page.locator("#weak li[data-test]").first
    assert first_weak.locator(".mutant.ref").count() >= 1 and first_weak.locator("pre.diff").count() == 0
    _assert_each_diff_once(page)
    assert _undetected_agents(page) == sorted({r[0] for r in _view(
        history.db, "SELECT agent FROM mutant_outcomes WHERE run_id = ? AND status IN ('survived', 'no_coverage')", second)})

    # the agent filter: cursor's series, files, weak tests and mutants only
    _select(page, "agent", "cursor")
    assert _series(page) == ["cursor"]
    assert _table(page, "#files") == _expected_files(history.db, second, "cursor")
    assert list(_table(page, "#agents")) == ["cursor"]
    cursor_weak = _weak(page)
    assert cursor_weak and set(cursor_weak) < set(weak) and "tests/test_stock.py::test_restock_finds_something" not in cursor_weak
    assert _undetected_agents(page) == ["cursor"]
    agents_of_shown = page.eval_on_selector_all("#weak .mutant", "els => els.map(e => e.textContent)")
    assert agents_of_shown and all("· cursor ·" in text for text in agents_of_shown)
    assert "agent=cursor" in page.url and "branch=main" in page.url  # the filters survive a reload
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert _series(page) == ["cursor"]

    # a mutant links into its run's mutation-testing-elements report, inside the site
    link = page.locator("#undetected .mutant a").first
    href = link.get_attribute("href")
    assert href == f"reports/{second}.html#mutant/prices.py"  # the report drops the folder all its files share
    link.click()
    page.wait_for_function(FILE_VIEW_SHOWN)  # the file's own view, not the report's overview
    assert page.evaluate("Object.keys(document.querySelector('mutation-test-report-app').report.files)") == \
        sorted({r[0] for r in _view(history.db, "SELECT file FROM mutants WHERE run_id = ?", second)})

    assert not seen.errors, seen.errors
    outside = [u for u in seen.requests if not u.startswith(site_prefix)]
    assert not outside, outside
    assert any(u.endswith("/data.js") for u in seen.requests)


@needs_chromium
def test_the_static_site_shows_the_views_numbers_from_file_urls(history, browser) -> None:
    index = history.site / "index.html"
    assert {p.name for p in (history.site / "assets").iterdir()} >= {"uPlot.iife.min.js", "uPlot.LICENSE", "dashboard.js"}
    reports = sorted(p.name for p in (history.site / "reports").iterdir())
    assert reports == sorted(f"{r}.html" for r in (history.nightly[1], history.pr))  # the latest of main and of the PR
    with watched(browser) as seen:
        check_page(seen, history, index.as_uri(), history.site.as_uri() + "/")
    # The README's screenshot (every branch, every agent): taken every time, written into docs/ when
    # missing or asked for (MUTAGATE_SCREENSHOT=1), so a test run does not dirty the checkout.
    shot = SCREENSHOT if os.environ.get("MUTAGATE_SCREENSHOT") or not SCREENSHOT.exists() else history.site / "shot.png"
    with watched(browser) as seen:
        _open(seen, index.as_uri())
        shot.parent.mkdir(exist_ok=True)
        seen.page.screenshot(path=str(shot), full_page=True)
        assert not seen.errors, seen.errors
    assert shot.stat().st_size > 10_000


# -- the server -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Served:
    url: str
    port: int
    process: subprocess.Popen


@contextmanager
def serving(db: Path, cwd: Path, *flags: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """A real `mutagate serve` on a free port; its stderr (the refusals it logs) goes to a file, so a
    full pipe can never stall it."""
    log_path = db.parent / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-c", ENTRY, "serve", "--port", "0", "--db", str(db), *flags],
                                   cwd=cwd, stdout=subprocess.PIPE, stderr=log, text=True,
                                   env={**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})})
        try:
            line = process.stdout.readline()
            assert "serving" in line, (line, log_path.read_text())
            url = line.split(" at ")[1].split()[0]
            yield Served(url, int(url.rstrip("/").rsplit(":", 1)[1]), process)
        finally:
            process.send_signal(signal.SIGTERM)  # not SIGINT: a script started in the background ignores it
            process.wait(timeout=30)
            process.stdout.close()


def _http(served: Served, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        connection.request(method, path, body=b"x" if method in ("POST", "PUT") else None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@needs_chromium
def test_the_served_page_shows_the_same_and_picks_up_a_new_run(history, browser, tmp_path) -> None:
    db = tmp_path / "results.duckdb"
    shutil.copy(history.db, db)
    with serving(db, history.repo.root) as served:
        with watched(browser) as seen:
            check_page(seen, History(history.repo, db, history.site, history.nightly, history.pr), served.url, served.url)
        # a run writes while the server is up (it holds no lock between requests); the open page shows it
        with watched(browser) as seen:
            _open(seen, served.url)
            assert seen.page.inner_text("#status").startswith("3 finished runs")
            run_id = _run(history.repo, db)
            seen.page.evaluate("window.mutagateRefresh()")
            seen.page.wait_for_function("document.getElementById('status').textContent.startsWith('4 finished runs')")
            assert run_id in seen.page.inner_text("#latest-run")
            assert not seen.errors, seen.errors


def test_the_server_refuses_writes_and_paths_outside_its_root(history, tmp_path) -> None:
    db = tmp_path / "results.duckdb"
    shutil.copy(history.db, db)
    before = db.read_bytes()
    with serving(db, history.repo.root) as served:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            status, _ = _http(served, method, "/data.js")
            assert status == 405, method
        for path in ("/../../../etc/passwd", "/assets/../../pyproject.toml", "/%2e%2e/%2e%2e/etc/passwd",
                     "/reports/../data.js", "/reports/nope.html", "/reports/x'%20OR%20'1'='1.html", "/results.duckdb"):
            status, body = _http(served, "GET", path)
            assert status in (403, 404), (path, status)
            assert b"root:" not in body
        assert _http(served, "GET", "/", {"Host": "evil.example:80"})[0] == 403  # DNS rebinding
        status, body = _http(served, "GET", f"/reports/{history.pr}.html")
        assert status == 200 and b"mutation-test-report-app" in body
        status, body = _http(served, "HEAD", "/data.js")
        assert status == 200 and body == b""
        assert _http(served, "GET", "/data.js")[0] == 200
    assert db.read_bytes() == before  # read-only: not a byte written


@needs_chromium
def test_a_locked_database_is_answered_as_the_cli_answers_it(history, browser, tmp_path) -> None:
    db = tmp_path / "results.duckdb"
    shutil.copy(history.db, db)
    with serving(db, history.repo.root, env={"MUTAGATE_LOCK_WAIT": "0.5"}) as served:
        writer = duckdb.connect(str(db))  # another process writing: DuckDB locks the file for everyone else
        try:
            locked_cli = mutagate("runs", "--db", str(db), cwd=history.repo.root, env={"MUTAGATE_LOCK_WAIT": "0.5"})
            assert_bad_input(locked_cli, "is locked by another process")
            line = locked_cli.stderr.strip().removeprefix("mutagate: error: ")
            status, body = _http(served, "GET", "/data.js")
            assert status == 503 and line in body.decode()
            with watched(browser) as seen:
                seen.page.goto(served.url)
                seen.page.wait_for_selector("body[data-ready='error']")
                assert line in seen.page.inner_text("#status")
        finally:
            writer.close()
        assert _http(served, "GET", "/data.js")[0] == 200  # the lock gone: answered again, no restart


def test_bad_input_is_one_line(history, tmp_path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert_bad_input(mutagate("dashboard", "-o", str(a_file), "--db", str(history.db), cwd=tmp_path), "is a file")
    assert_bad_input(mutagate("dashboard", "-o", str(tmp_path / "s"), "--db", str(tmp_path / "none.duckdb"), cwd=tmp_path),
                     "no results database")
    assert_bad_input(mutagate("serve", "--db", str(tmp_path / "none.duckdb"), cwd=tmp_path), "no results database")
    assert_bad_input(mutagate("serve", "--port", "70000", "--db", str(history.db), cwd=tmp_path), "65535")
    assert_bad_input(mutagate("serve", "--host", "0.0.0.0", "--db", str(history.db), cwd=tmp_path), "--allow-remote")


def test_a_remote_host_needs_the_flag_and_is_warned_about(history, tmp_path) -> None:
    process = subprocess.Popen([sys.executable, "-c", ENTRY, "serve", "--host", "0.0.0.0", "--allow-remote", "--port", "0",
                                "--db", str(history.db)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    try:
        assert "serving" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)  # not SIGINT: a script started in the background ignores it
        _, err = process.communicate(timeout=30)
    assert "warning: serving" in err and "every machine" in err


def test_links_into_the_report_use_its_file_names() -> None:
    """mutation-testing-elements drops the folders every file shares (the browser test opens one such link)."""
    assert report_routes(["src/pkg/a.py", "src/pkg/sub/b.py"]) == {"src/pkg/a.py": "a.py", "src/pkg/sub/b.py": "sub/b.py"}
    assert report_routes(["shop/pricing.py"]) == {"shop/pricing.py": "pricing.py"}
    assert report_routes(["a.py", "pkg/b.py"]) == {"a.py": "a.py", "pkg/b.py": "pkg/b.py"}
    assert report_routes(["x/a/m.py", "x/b/n.py"]) == {"x/a/m.py": "a/m.py", "x/b/n.py": "b/n.py"}


def test_the_server_takes_a_burst_of_clients_and_shrugs_off_those_that_hang_up(history, tmp_path) -> None:
    """200 concurrent real requests all answered; clients that reset mid-request leave no traceback."""
    import socket
    import struct
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    db = tmp_path / "results.duckdb"
    shutil.copy(history.db, db)
    with serving(db, history.repo.root) as served:
        host, port = "127.0.0.1", served.port

        def hang_up(_: int) -> None:
            client = socket.create_connection((host, int(port)), timeout=30)
            client.sendall(b"GET /data.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
            client.close()

        def fetch(_: int) -> int:
            with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/data.js", timeout=30) as answer:
                answer.read()
                return answer.status

        with ThreadPoolExecutor(max_workers=40) as pool:
            list(pool.map(hang_up, range(40)))
        with ThreadPoolExecutor(max_workers=200) as pool:
            statuses = list(pool.map(fetch, range(200)))
        assert statuses == [200] * 200
        assert fetch(0) == 200  # still serving
    log = (db.parent / "serve.log").read_text()
    assert "Traceback" not in log, log[-2000:]


# -- one run, two runs, fifty runs: what uPlot drew and what the page lists ----------------------------

def _assert_each_diff_once(page) -> None:
    """Each undetected mutant's diff is on the page once, under "Undetected mutants"; a weak test
    names its survivors and points there (one mutant let through by three tests was shown 4 times)."""
    shown = page.eval_on_selector_all("#undetected article.mutant", "els => els.map(e => e.dataset.id)")
    assert shown and len(shown) == len(set(shown))
    assert page.locator("pre.diff").count() == len(shown)
    assert page.locator("#weak pre.diff").count() == 0
    named = page.eval_on_selector_all("#weak .mutant.ref", "els => els.map(e => e.dataset.id)")
    assert named and set(named) <= set(shown)


def _mutant_at(mid: str, source: str, line: int, op: str, replacement: str, agent: str, commit: str) -> MutantRow:
    col = source.splitlines()[line - 1].index(op) + 1
    return MutantRow(mid, "pkg/prices.py", line, line, col, col + len(op), "arithmetic", op, replacement, agent,
                     commit, "discount", line, line)


def _store_of(root: Path, runs: int) -> tuple[GitRepo, Path, list[dt.datetime]]:
    """`runs` finished runs written through the store's own API (as a run writes them) a day apart,
    on a real commit so the diffs are read from git. In each run one mutant of claude-code survives
    three tests that cover it, and one of cursor's survives one test; with two runs the second is a
    PR run of another branch."""
    repo = GitRepo(root / "repo")
    head = repo.commit("pricing", files={"pkg/__init__.py": "", "pkg/prices.py": PRICES})
    source = (repo.root / "pkg/prices.py").read_text()
    mutants = [_mutant_at("m-gt", source, 2, ">", ">=", "claude-code", head),
               _mutant_at("m-mul", source, 3, "*", "/", "cursor", head),
               _mutant_at("m-sub", source, 3, "-", "+", "cursor", head)]
    tests = [f"tests/test_prices.py::test_{name}" for name in ("a", "b", "c")]
    db = root / "results.duckdb"
    store = ResultStore(db)
    started = [dt.datetime(2026, 10, 1, 2, 30) + dt.timedelta(days=i) for i in range(runs)]
    for i in range(runs):
        pr = runs == 2 and i == 1
        run_id = f"run-{i:02d}"
        store.start_run(RunRecord(run_id, str(repo.root), head, "main" if pr else None, None,
                                  "feature/x" if pr else "main", "0.1.0", {}, "local", 1, "pr" if pr else "nightly"),
                        mutants, [])
        gt_killed = i % 4 == 1 and i != runs - 1  # the scores move; the latest run has both survivors
        store.record_outcomes(run_id, [
            OutcomeRow("m-gt", "killed" if gt_killed else "survived", (tests[0],) if gt_killed else (), 3,
                       tuple(tests), 0.1, False, f"k-gt-{i}", "select"),
            OutcomeRow("m-mul", "killed", (tests[0],), 1, (tests[0],), 0.1, False, f"k-mul-{i}", "select"),
            OutcomeRow("m-sub", "survived", (), 1, (tests[1],), 0.1, False, f"k-sub-{i}", "select"),
        ])
        store.finish_run(run_id, RunStatus.FINISHED, "local: 1 worker")
    with duckdb.connect(str(db)) as con:  # the store stamps now(): spread the runs over days instead
        for i, when in enumerate(started):
            con.execute("UPDATE runs SET started = ? WHERE run_id = ?", [when, f"run-{i:02d}"])
    return repo, db, started


CHART_DRAWN = """(() => {
  const u = document.getElementById('chart').uplot;
  return {min: u.scales.x.min, max: u.scales.x.max, splits: u.axes[0]._splits,
          labels: (u.axes[0]._values || []).filter(v => v !== null).map(String)};
})()"""

LEGEND_BOXES = """els => els.map(e => { const r = e.getBoundingClientRect();
  return [e.textContent, r.left, r.top, r.right, r.bottom]; })"""


@needs_chromium
@pytest.mark.parametrize("runs", [1, 2, 50])
def test_one_two_and_fifty_runs_look_right(runs, browser, tmp_path) -> None:
    repo, db, started = _store_of(tmp_path, runs)
    site = tmp_path / "site"
    built = mutagate("dashboard", "-o", str(site), "--db", str(db), cwd=repo.root)
    assert built.returncode == 0, built.stderr
    assert f"{runs} finished run{'s' if runs > 1 else ''} charted," in built.stdout
    with watched(browser) as seen:
        _open(seen, (site / "index.html").as_uri())
        page = seen.page
        # the time axis: the runs' own dates, give or take a day (one run was drawn over 2027-2029)
        drawn = page.evaluate(CHART_DRAWN)
        first, last = (when.replace(tzinfo=dt.timezone.utc).timestamp() for when in (started[0], started[-1]))
        margin = max(86400, (last - first) * 0.05)  # a day, or a twentieth of the span
        assert first - margin <= drawn["min"] <= first and last <= drawn["max"] <= last + margin, drawn
        assert len(drawn["splits"]) >= 2 and all(first - margin <= s <= last + margin for s in drawn["splits"]), drawn
        years = {int(y) for label in drawn["labels"] for y in re.findall(r"\b(20\d\d)\b", label)}
        assert years <= {started[0].year, started[-1].year}, drawn["labels"]
        # the legend: one readable entry per series, none drawn over another, inside the chart
        expected = ["claude-code", "claude-code · PR", "cursor", "cursor · PR"] if runs == 2 else ["claude-code", "cursor"]
        assert _series(page) == expected
        boxes = page.eval_on_selector_all("#chart .u-legend .u-series", LEGEND_BOXES)
        chart = page.eval_on_selector("#chart", "e => e.getBoundingClientRect().right")
        for n, (text, left, top, right, bottom) in enumerate(boxes):
            assert text.strip() in expected and bottom > top and right <= chart + 1, boxes
            for _, left2, top2, right2, bottom2 in boxes[n + 1:]:
                assert right <= left2 or right2 <= left or bottom <= top2 or bottom2 <= top, boxes
        # the point under the cursor is said in its own line
        page.hover("#chart .u-over", position={"x": 5, "y": 150})
        assert page.inner_text("#chart .chart-point").startswith(started[0].isoformat(sep=" ") + " · run-00")
        # each diff once: m-gt survives three tests, its diff is shown once
        assert len(_weak(page)) == 3
        _assert_each_diff_once(page)
        assert sorted(page.eval_on_selector_all("#undetected article.mutant", "els => els.map(e => e.dataset.id)")) \
            == ["m-gt", "m-sub"]
        assert page.inner_text("#status").startswith(f"{runs} finished run")
        assert not seen.errors, seen.errors
