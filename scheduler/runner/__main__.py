"""`python <folder> MODE [options] -- [pytest args]`: dispatch to a mode; exit status 2 for an
unknown one."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    mode, rest = argv[0], argv[1:]
    split = rest.index("--") if "--" in rest else len(rest)
    options, pytest_args = rest[:split], rest[split + 1 :]
    # Each mode's module imported on demand: a run imports only what its mode needs.
    if mode == "baseline":
        from .baseline import baseline

        return baseline(options[0], options[1], pytest_args)
    if mode == "serve":
        from .serve import serve

        return serve(options[0], pytest_args)
    if mode == "fresh":
        from .fresh import fresh
        from .reaper import become_subreaper, kill_strays

        become_subreaper()  # what the tests start dies with this run, not after it
        try:
            return fresh(options[0], pytest_args, bail="--no-bail" not in options[1:])
        finally:
            kill_strays()
    if mode == "zygote":
        from .zygote import zygote

        return zygote(options[0], options[1], pytest_args)
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


def _run_as_package() -> int:
    """Started as `python <folder>`, Python runs this file with the folder itself at sys.path[0],
    where its modules (baseline, serve, patch, ...) would shadow the target's modules of those
    names, and relative imports do not work. Put the folder's parent there instead, as a script's
    own folder would be, and import the package by the folder's name (mutagate_runner in a run,
    a name no target uses), as pip's __main__.py does."""
    import importlib
    import os

    folder = os.path.dirname(os.path.abspath(__file__))
    sys.path[0] = os.path.dirname(folder)
    package = importlib.import_module(os.path.basename(folder) + ".__main__")
    return package.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) if __package__ else _run_as_package())
