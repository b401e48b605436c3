"""The zygote refuses to serve when preloading would make its forks unfaithful fresh runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli import PROJECT


def preload(root: Path, modules: list[str], path: Path) -> str:
    listing = root.parent / "baseline.json"
    listing.write_text(json.dumps({"modules": modules}))
    code = "import sys; from scheduler.runner.zygote import _preload; print(_preload(sys.argv[1], sys.argv[2]))"
    done = subprocess.run([sys.executable, "-c", code, str(root) + "/", str(listing)], capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": f"{PROJECT}:{path}", "PATH": "/usr/bin:/bin"})
    return done.stdout.strip()


def test_preloading_is_refused_when_it_imports_the_target_or_starts_threads(tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "work", tmp_path / "lib"
    root.mkdir()
    elsewhere.mkdir()
    (root / "target_mod.py").write_text("VALUE = 1\n")
    (elsewhere / "pulls_target.py").write_text("import target_mod\n")
    (elsewhere / "starts_thread.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n")
    (elsewhere / "harmless.py").write_text("import json\n")
    path = Path(f"{root}:{elsewhere}")
    assert preload(root, ["harmless"], path) == "None"
    assert preload(root, ["pulls_target"], path) == "preloading imported the target (target_mod)"
    assert preload(root, ["starts_thread"], path) == "preloading started threads: forking would be unsafe"
