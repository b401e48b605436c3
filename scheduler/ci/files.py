"""Writing generated files: never over an existing one unless asked."""

from __future__ import annotations

from pathlib import Path

from mutator.errors import BadInput


def write_new(contents: dict[Path, str], force: bool) -> list[Path]:
    """Write every file, or none: an existing one without `force` is refused before anything is written."""
    if not force:
        for path in contents:
            if path.exists():
                raise BadInput(f"{path} exists; pass --force to overwrite it")
    for path, text in contents.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot write {path}: {exc.strerror}") from None
    return list(contents)
