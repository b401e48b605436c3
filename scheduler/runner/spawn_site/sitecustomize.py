"""On PYTHONPATH for the baseline's tests only: a Python process a test starts compiles the
baseline's probes into the project's modules it imports and logs which probed lines it ran
(spawns.py). It does nothing unless the baseline names the running test (inherited from the test's
process), and then runs the sitecustomize it shadows, if there is one. Standard library only, and
quiet: it must never break the process it is in."""

from __future__ import annotations

import os
import sys


def _load(runner: str, name: str):  # noqa: ANN202 - a module
    """The runner's module by its path, under a private name (nothing the target imports)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_mutagate_spawn_{name}", os.path.join(runner, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _install() -> None:
    test, folder, spec, runner = (os.environ.get(k) for k in ("MUTAGATE_SPAWN_TEST", "MUTAGATE_SPAWN_LOG",
                                                               "MUTAGATE_SPAWN_PROBES", "MUTAGATE_SPAWN_RUNNER"))
    if not (test and folder and spec and runner):
        return
    import atexit
    import json

    spawns = _load(runner, "spawns")
    probes_module = _load(runner, "probes")
    log = spawns.log_path(folder)
    spawns.write_start(log, test)  # before anything can fail: a process that started counts
    with open(spec) as handle:
        probes = probes_module.Probes(json.load(handle))
    count = spawns.SpawnCount()
    sys.addaudithook(lambda event, args: count.saw(event))
    probes.install()
    probes.switch(test)  # everything this process runs, imports included, is the test's
    # Registered first, so it runs last: after whatever the process's own exit handlers run.
    atexit.register(lambda: spawns.write_end(log, count.count, probes.lines()))


def _chain() -> None:
    """The sitecustomize this one shadows (a distribution's, a virtualenv's), run as it would have been."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


try:
    _install()
except Exception:  # noqa: BLE001 - the process must run as it would have: its test then watches every line
    pass
try:
    _chain()
except Exception:  # noqa: BLE001
    pass
