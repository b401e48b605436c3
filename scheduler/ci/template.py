"""The CI templates (files beside this module) and their `%%NAME%%` placeholders.

`%%` appears in neither YAML, shell nor GitHub's `${{ }}` expressions, so the templates read as the
files they become. A placeholder alone on its line takes a multi-line value, each line indented as the
placeholder was."""

from __future__ import annotations

import re
from importlib.resources import files

_PLACEHOLDER = re.compile(r"%%([A-Z_]+)%%")
_ALONE = re.compile(r"^(?P<indent>[ ]*)%%(?P<name>[A-Z_]+)%%$", re.MULTILINE)


def fill(name: str, values: dict[str, str | list[str]]) -> str:
    text = files("scheduler.ci").joinpath("templates", name).read_text(encoding="utf-8")

    def block(match: re.Match[str]) -> str:
        value = values[match["name"]]
        lines = value if isinstance(value, list) else [value]
        return "\n".join(match["indent"] + line if line else "" for line in lines)

    text = _ALONE.sub(block, text)
    text = _PLACEHOLDER.sub(lambda m: str(values[m[1]]), text)
    assert "%%" not in text, f"unfilled placeholder in {name}"
    return text
