"""The zygote preloads the installed modules the baseline imported, and refuses to serve when
preloading would make its forks unfaithful fresh runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scheduler.baseline import run_baseline
from scheduler.runtime import make_runtime
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


def test_a_fresh_run_finds_the_installed_modules_the_baseline_imported_already_loaded(tmp_path: Path) -> None:
    # `fractions` is imported inside a test, after collection: without the baseline's list the
    # zygote would not have it, and every fresh run would import it again.
    root = tmp_path / "work"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text("def half(x):\n    return x / 2\n")
    (root / "tests").mkdir()
    notes = tmp_path / "notes"
    (root / "tests" / "test_mod.py").write_text(
        "import sys\n\nfrom pkg.mod import half\n\n\ndef test_half():\n"
        f"    with open({str(notes)!r}, 'a') as handle:\n"
        "        handle.write(f\"{'fractions' in sys.modules}\\n\")\n"
        "    import fractions\n"
        "    assert half(fractions.Fraction(1)) == fractions.Fraction(1, 2)\n")
    runtime = make_runtime(tmp_path / "scratch", None, ("pytest",), ())
    run_baseline(runtime, root, ["pkg/mod.py"], probes={"pkg/mod.py": [(2, 2)]})
    assert "fractions" in json.loads(runtime.installed_modules.read_text())["modules"]
    runtime.remember_modules(["colorsys"])  # a later part of the baseline adds to the list
    assert {"fractions", "colorsys"} <= set(json.loads(runtime.installed_modules.read_text())["modules"])

    zygote = subprocess.Popen(runtime.command("zygote", str(root), str(runtime.installed_modules), "--",
                                              *runtime.pytest_args),
                              cwd=root, env=runtime.env(root), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert json.loads(zygote.stdout.readline())["ready"]
        out = tmp_path / "fresh.json"
        zygote.stdin.write(json.dumps({"out": str(out), "tests": ["tests/test_mod.py"], "timeout": 60}) + "\n")
        zygote.stdin.flush()
        assert not json.loads(zygote.stdout.readline())["timeout"]
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)
    assert json.loads(out.read_text())["tests_run"] == 1
    assert notes.read_text().splitlines() == ["False", "True"]  # the baseline imported it; the fresh run had it
