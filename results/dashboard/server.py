"""`mutagate serve`: the dashboard's page, live from the results database.

Read-only by construction: GET and HEAD only (every other method is 405), no route takes input
but a report's file name, which is looked up with a parameterized query. Each request opens the
database read-only for as long as it reads and closes it, so a run can write between two requests
and the page's next `data.js` shows it. Only the page's own files are served: there is no folder
on disk behind the server, so no path can reach outside it.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from results.dashboard.data import REPORT_NAME_SQL, load_dashboard
from results.dashboard.site import DATA_FILE, PAGE_FILES, REPORTS, data_script, error_script, page_file, site_report
from results.errors import ResultsError
from results.report_data import read_report
from results.store import connect

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".LICENSE": "text/plain; charset=utf-8"}
PAGE_POLICY = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none';"
               " base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class ServeOptions:
    db: Path
    runs: int
    high: int = 80
    low: int = 60
    allowed_hosts: frozenset[str] | None = None  # Host headers answered; None: any (--allow-remote)


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is this machine's own."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def _host_name(header: str) -> str:
    if header.startswith("["):  # [::1]:8000
        return header[1:header.find("]")]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "mutagate"
    sys_version = ""

    def do_GET(self) -> None:  # http.server's naming
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def __getattr__(self, name: str):
        if name.startswith("do_"):  # POST, PUT, DELETE, PATCH, ...: nothing here writes
            return self._refuse_method
        raise AttributeError(name)

    def _refuse_method(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                   b"read-only: only GET and HEAD\n", extra={"Allow": "GET, HEAD"})

    def _answer(self, body: bool) -> None:
        options = self.server.options
        if options.allowed_hosts is not None and _host_name(self.headers.get("Host", "")) not in options.allowed_hosts:
            # a page elsewhere that resolves its own name to 127.0.0.1 (DNS rebinding) gets nothing
            self._send(HTTPStatus.FORBIDDEN, "text/plain; charset=utf-8", b"unknown Host\n", body)
            return
        path = unquote(urlsplit(self.path).path)
        if path == "/":
            path = "/index.html"
        name = path.removeprefix("/")
        if name in PAGE_FILES:
            extra = {"Content-Security-Policy": PAGE_POLICY} if name == "index.html" else {}
            self._send(HTTPStatus.OK, _content_type(name), page_file(name), body, extra)
        elif name == DATA_FILE:
            self._data(body)
        elif name.startswith(f"{REPORTS}/") and name.count("/") == 1:
            self._report(name.split("/", 1)[1], body)
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n", body)

    def _data(self, body: bool) -> None:
        options = self.server.options
        try:
            script = data_script(load_dashboard(options.db, options.runs))
        except ResultsError as exc:  # locked by a run, corrupt, empty: the CLI's one line, and try again later
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, CONTENT_TYPES[".js"], error_script(str(exc)).encode(), body,
                       {"Retry-After": "10"})
            return
        self._send(HTTPStatus.OK, CONTENT_TYPES[".js"], script.encode(), body)

    def _report(self, name: str, body: bool) -> None:
        options = self.server.options
        try:
            with connect(options.db, read_only=True) as con:
                row = con.execute(f"SELECT run_id FROM runs WHERE {REPORT_NAME_SQL} = ? LIMIT 1", [name]).fetchone()
                report = read_report(con, options.db, row[0]) if row else None
        except ResultsError as exc:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", f"{exc}\n".encode(), body,
                       {"Retry-After": "10"})
            return
        if report is None:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"no such run\n", body)
            return
        html = site_report(report, options.high, options.low)  # reads sources from git: the database is closed
        self._send(HTTPStatus.OK, CONTENT_TYPES[".html"], html.encode(), body)

    def _send(self, status: HTTPStatus, content_type: str, payload: bytes, body: bool = True,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")  # a new run shows on the next request
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if isinstance(code, int) and code >= 400:  # quiet for the page's own requests, loud for refusals
            super().log_request(code, size)


def _content_type(name: str) -> str:
    return next((kind for suffix, kind in CONTENT_TYPES.items() if name.endswith(suffix)), "application/octet-stream")


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl-C does not wait for a browser's open keep-alive connection
    # socketserver's default backlog is 5: a burst of 200 clients (a team opening the page, a load
    # test) saw connections time out before the server ever accepted them.
    request_queue_size = 256

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - socketserver's signature
        """A client that went away (a browser reload, a closed tab) is no fault of ours: nothing
        to print. Anything else is printed as socketserver does, and the server keeps serving."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def __init__(self, host: str, port: int, options: ServeOptions) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.options = options
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def allowed_hosts(host: str) -> frozenset[str]:
    """The Host headers a loopback server answers: its own names, nothing another site could be called."""
    return LOOPBACK_NAMES | {host, ""}  # no Host at all: not a browser, so not a rebinding page
