"""On PYTHONPATH for the baseline's tests only: a Python process a test starts compiles the
baseline's probes into the project's modules it imports and logs which probed lines it ran, how many
processes it started and whether it opened a probed file other than to import it (spawns.py). It
does nothing unless the baseline names the running test (inherited from the test's process), and
then runs the sitecustomize it shadows, if there is one. It imports nothing at start beyond `os` and
`sys` (probes.py and its imports only once a probed module is imported), and is quiet: it must never
break or change the process it is in."""

import os
import sys


def _load(runner, name):
    """The runner's module by its path, executed without the import system (nothing to register)."""
    path = os.path.join(runner, f"{name}.py")
    namespace = {"__name__": f"_mutagate_spawn_{name}", "__file__": path}
    with open(path, "rb") as handle:
        exec(compile(handle.read(), path, "exec"), namespace)
    return namespace


class _LazyProbes:
    """A meta path finder first in line: for a module whose name a probed file could have, it loads
    probes.py and asks its finder; every other import is left alone."""

    def __init__(self, runner, spec, files, test):
        self.runner, self.spec, self.test = runner, spec, test
        self.names = {os.path.basename(os.path.dirname(f)) if os.path.basename(f) == "__init__.py"
                      else os.path.basename(f)[:-3] for f in files}
        self.probes = None
        self.loading = False  # its own reads of a probed file, while it compiles it

    def find_spec(self, fullname, path=None, target=None):
        if fullname.rpartition(".")[2] not in self.names:
            return None
        if self.probes is None:
            import json

            with open(self.spec) as handle:
                requests = json.load(handle)
            module = _load(self.runner, "probes")
            self.probes = module["Probes"](requests)
            self.probes.install()  # its own finder, now first: this one's name check stays in front
            sys.meta_path.remove(self)
            sys.meta_path.insert(0, self)
            self.probes.switch(self.test)  # everything this process runs, imports included, is the test's
            self.finder = sys.meta_path[1]
        spec = self.finder.find_spec(fullname, path, target)
        if spec is not None:
            _compiles_as(spec.loader, self)
        return spec


def _compiles_as(loader, owner):
    """The loader's read of the file while it compiles it is not the process reading a mutated file."""
    get_code = loader.get_code

    def compiling(fullname):
        owner.loading = True
        try:
            return get_code(fullname)
        finally:
            owner.loading = False

    loader.get_code = compiling


def _install():
    env = os.environ
    test, folder, spec, files, runner = (env.get(k) for k in ("MUTAGATE_SPAWN_TEST", "MUTAGATE_SPAWN_LOG",
                                                               "MUTAGATE_SPAWN_PROBES", "MUTAGATE_SPAWN_FILES",
                                                               "MUTAGATE_SPAWN_RUNNER"))
    if not (test and folder and spec and files and runner):
        return
    spawns = _load(runner, "spawns")
    log = spawns["log_path"](folder)
    spawns["write_start"](log, test)  # before anything can fail: a process that started counts
    probed = set(files.split(os.pathsep))
    names = {os.path.basename(f) for f in probed}
    lazy = _LazyProbes(runner, spec, probed, test)
    count = spawns["SpawnCount"]()
    read = []

    def audit(event, args):
        try:
            if count.saw(event):
                return
            if event == "open" and not read and not lazy.loading and isinstance(args[0], (str, bytes, os.PathLike)):
                path = os.fsdecode(args[0])
                if os.path.basename(path) in names and os.path.realpath(path) in probed:
                    read.append(path)
        except Exception:  # noqa: BLE001 - an audit hook must never break the code it watches
            read.append("?")  # not known what it was: as if it read a probed file

    sys.addaudithook(audit)
    sys.meta_path.insert(0, lazy)
    me = os.getpid()

    def end():
        if os.getpid() != me:
            return  # a forked child inherited this handler; its log was never started
        try:
            spawns["write_end"](log, count.count, bool(read), lazy.probes.lines() if lazy.probes else {})
        except Exception:  # noqa: BLE001 - no end record: its test watches every line
            pass

    import atexit

    # Registered first, so it runs last: after whatever the process's own exit handlers run.
    atexit.register(end)


def _chain():
    """The sitecustomize this one shadows (a distribution's, a virtualenv's), run as it would have
    been, and left in sys.modules under its name."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    if not any(os.path.exists(os.path.join(p or os.curdir, name)) for p in rest
               for name in ("sitecustomize.py", "sitecustomize")):
        return  # none to run (no import of importlib's machinery for nothing)
    import importlib.machinery

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    import importlib.util

    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


try:
    _install()
except Exception:  # noqa: BLE001 - the process must run as it would have: its test then watches every line
    pass
try:
    _chain()
except Exception:  # noqa: BLE001
    pass
