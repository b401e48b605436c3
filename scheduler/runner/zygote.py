"""Mode `zygote`: fresh runs forked from a pre-imported interpreter. Imports pytest, its plugins and
the installed modules the baseline saw (never the target), then forks a `fresh` run per request:
an interpreter start and those imports paid once.

Protocol: a first line says whether forking from here is safe (`ready`, else `error` says why);
then per request (`out`, `tests`, `timeout`; `marker` and `then_timeout` for a run in two stages, see
common.wait_child) one line with `timeout` and the child's wait `status`.
The results themselves go to the request's `out` file, as in `fresh`.
"""

from __future__ import annotations

import json
import os
import sys

from .common import end_child, fork_child, freeze_heap, private_streams, read_requests, send, wait_child
from .fresh import fresh
from .reaper import become_subreaper, children, kill_strays


def _preload(root: str, modules_file: str) -> str | None:
    """Import pytest's plugins and the installed modules the baseline saw; None if it is then safe
    to fork fresh runs from here, else why not."""
    import importlib
    import importlib.metadata
    import threading

    names = [ep.module for ep in importlib.metadata.entry_points(group="pytest11")]
    try:
        with open(modules_file) as handle:
            names += json.load(handle).get("modules", [])
    except (OSError, ValueError):
        pass
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a module that cannot be preloaded is imported fresh
            continue
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path).startswith(root):
            return f"preloading imported the target ({name})"
    if threading.active_count() > 1:
        return "preloading started threads: forking would be unsafe"
    return None


def zygote(root: str, modules_file: str, pytest_args: list[str]) -> int:
    requests, protocol = private_streams()
    problem = _preload(os.path.realpath(root) + os.sep, modules_file)
    send(protocol, {"ready": problem is None, "error": problem})
    if problem:
        return 0
    become_subreaper()  # orphans of a run's processes come here, and die after it
    keep = children()
    freeze_heap()
    for request in read_requests(requests):
        pid, read_end = fork_child(lambda _, request=request: fresh(request["out"], [*pytest_args, *request["tests"]]))
        # The child's own end, not the pipe's EOF: a process the tests forked may hold the pipe.
        ended = wait_child(pid, request["timeout"], request.get("marker"), float(request.get("then_timeout") or 0.0))
        status = end_child(pid, read_end)
        kill_strays(keep)
        send(protocol, {"timeout": not ended, "status": status})
    return 0
