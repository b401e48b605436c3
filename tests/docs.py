"""README and the pages in docs/, for the tests that keep them true."""

from __future__ import annotations

from pathlib import Path

from tests.cli import PROJECT

DOCS = PROJECT / "docs"


def read_doc(name: str) -> str:
    """`README.md`, or a page of docs/ by file name (`operators.md`)."""
    return (PROJECT / name if name == "README.md" else DOCS / name).read_text()


def doc_pages() -> list[Path]:
    """Every markdown page a reader can follow a link from: README and docs/*.md."""
    return [PROJECT / "README.md", *sorted(DOCS.glob("*.md"))]
