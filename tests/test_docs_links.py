"""Every relative link in README.md and docs/*.md points at a file that exists: pages move, links must follow."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs import doc_pages

LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(`{3,})")


def relative_links(page: Path) -> list[str]:
    """Markdown link targets outside fenced code that name no scheme (`http:`, `mailto:`) and no bare anchor."""
    targets, fence = [], None
    for line in page.read_text().splitlines():
        if opened := FENCE.match(line):
            if fence is None:
                fence = opened.group(1)
            elif line.strip() == fence:
                fence = None
            continue
        if fence is None:
            targets += [t for t in LINK.findall(line) if not re.match(r"[a-z][a-z0-9+.-]*:|#", t)]
    return targets


def test_every_relative_link_names_a_file_that_exists() -> None:
    broken = [
        f"{page.name}: {target}"
        for page in doc_pages()
        for target in relative_links(page)
        if not (page.parent / target.split("#")[0]).exists()
    ]
    assert broken == []


def test_the_link_check_sees_the_links_and_would_catch_a_broken_one(tmp_path: Path) -> None:
    readme = next(p for p in doc_pages() if p.name == "README.md")
    assert {"docs/commands.md", "docs/operators.md", "docs/architecture.md"} <= set(relative_links(readme))
    page = tmp_path / "page.md"
    page.write_text("[gone](missing.md) [web](https://example.com) [here](#top)\n```\n[in code](nope.md)\n```\n")
    assert relative_links(page) == ["missing.md"]


def test_every_docs_page_is_linked_from_readme() -> None:
    linked = set(relative_links(doc_pages()[0]))
    assert [p.name for p in doc_pages()[1:] if f"docs/{p.name}" not in linked] == []
