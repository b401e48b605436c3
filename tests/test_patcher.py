"""The fork server's patcher: a mutated function compiled on its own is the module's own code."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from scheduler.runner.patch import Layout, Patcher, find_code, live_functions

SOURCE = '''from __future__ import annotations

import functools
import os.path as osp


def top(x: Later) -> str:
    return osp.join("a", str(x))


class Version:
    MAJOR = 1

    @property
    def major(self) -> int:
        return self.MAJOR

    @major.setter
    def major(self, value: int) -> None:
        raise AttributeError("read only")

    @functools.lru_cache(maxsize=None)
    def cached(self, n):
        return n * 2

    def __private(self):
        return super().__repr__()

    class Inner:
        def deep(self):
            return [i for i in range(3)]


if True:
    def guarded():
        return 1


def outer(k):
    def inner():
        return k + 1
    return inner
'''


def test_every_function_compiled_alone_is_byte_for_byte_the_modules(tmp_path: Path) -> None:
    data = SOURCE.encode()
    whole = compile(data, "m.py", "exec", dont_inherit=True)
    layout = Layout.of(data)
    alone = 0
    for qualname, spans in layout.spans.items():
        for span in spans:
            if span.classes is None:
                assert qualname in ("guarded", "outer.inner")  # these need the whole module
                continue
            snippet = layout.function_source(data, span, {"start": span.begin, "end": span.begin, "replacement": ""})
            code = compile(snippet, "m.py", "exec", flags=layout.future_flags, dont_inherit=True)
            expected = find_code(whole, qualname, span.first)
            assert find_code(code, qualname, span.first) == expected, qualname
            assert list(find_code(code, qualname, span.first).co_positions()) == list(expected.co_positions())
            alone += 1
    assert alone == 7  # top, the getter and the setter, cached, __private, deep, outer


@pytest.fixture
def live_module(tmp_path: Path):
    path = tmp_path / "livemod.py"
    path.write_text(SOURCE.replace("x: Later", "x"))
    spec = importlib.util.spec_from_file_location("livemod", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["livemod"] = module
    spec.loader.exec_module(module)
    yield module, str(path.resolve())
    del sys.modules["livemod"]


def request_for(path: str, qualname: str, old: str, new: str, occurrence: int = 0) -> dict:
    data = Path(path).read_bytes()
    start = -1
    for _ in range(occurrence + 1):
        start = data.index(old.encode(), start + 1)
    return {"file": path, "qualname": qualname, "start": start, "end": start + len(old), "replacement": new}


def test_a_getter_mutant_patches_the_getter_not_its_setter(live_module) -> None:
    module, path = live_module
    patcher = Patcher(live_functions(str(Path(path).parent) + "/"))
    patch = patcher.prepare(request_for(path, "Version.major", "return self.MAJOR", "return None"))
    assert patch.functions == [vars(module.Version)["major"].fget]
    patch.apply()
    assert module.Version().major is None
    with pytest.raises(AttributeError):
        module.Version().major = 3  # the setter is untouched


def test_nested_and_decorated_functions_are_patched_in_place(live_module) -> None:
    module, path = live_module
    patcher = Patcher(live_functions(str(Path(path).parent) + "/"))
    patcher.prepare(request_for(path, "Version.cached", "n * 2", "n * 3")).apply()
    assert module.Version().cached(2) == 6  # through lru_cache's wrapper
    # No inner function is alive until outer runs: outer, which makes it, takes the mutant.
    patch = patcher.prepare(request_for(path, "outer.inner", "k + 1", "k - 1"))
    assert patch.functions == [module.outer]
    patch.apply()
    assert module.outer(5)() == 4


DEFAULTS_SOURCE = '''LIMIT = 10


def top(n=LIMIT + 1, *, strict=False):
    return n, strict


class Version:
    SEP = "."

    @classmethod
    def parse(cls, text, sep=SEP, optional=False):
        return text.split(sep), optional
'''


def test_default_values_are_evaluated_where_the_def_evaluated_them(tmp_path: Path) -> None:
    path = tmp_path / "defaultsmod.py"
    path.write_text(DEFAULTS_SOURCE)
    spec = importlib.util.spec_from_file_location("defaultsmod", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["defaultsmod"] = module
    try:
        spec.loader.exec_module(module)
        patcher = Patcher(live_functions(str(tmp_path.resolve()) + "/"))
        resolved = str(path.resolve())

        def patch(qualname: str, old: str, new: str) -> None:
            request = request_for(resolved, "<module>", old, new)
            patcher.prepare({**request, "defaults_of": qualname}).apply()

        patch("top", "LIMIT + 1", "LIMIT - 1")  # module globals
        assert module.top() == (9, False)
        patch("top", "strict=False", "strict=True")  # keyword-only; one mutant at a time
        assert module.top() == (11, True)
        patch("Version.parse", "sep=SEP", "sep=SEP + SEP")  # the class body's own names
        assert module.Version.parse("a..b") == (["a", "b"], False)
        assert patcher.prepare({**request_for(resolved, "<module>", "n=LIMIT + 1", "n"), "defaults_of": "top"}) \
            == "the mutation changes which parameters have defaults"
    finally:
        del sys.modules["defaultsmod"]

