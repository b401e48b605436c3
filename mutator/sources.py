"""Which files are mutable Python source, and which of their lines hold code."""

from __future__ import annotations

import fnmatch
import io
import tokenize
from pathlib import PurePosixPath

from mutator.config import Config

TEST_DIRS = {"tests", "test", "testing"}


def is_test_path(path: str, config: Config) -> bool:
    if config.tests:
        return any(_under(path, prefix) for prefix in config.tests)
    pure = PurePosixPath(path)
    name = pure.name
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(part in TEST_DIRS for part in pure.parts[:-1])


def is_mutable_source(path: str, config: Config) -> bool:
    if not path.endswith(".py"):
        return False
    if config.source and not any(_under(path, prefix) for prefix in config.source):
        return False
    if is_test_path(path, config):
        return False
    return not any(fnmatch.fnmatch(path, pattern) for pattern in config.exclude)


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.strip("/")
    if prefix in ("", "."):
        return True
    return path == prefix or path.startswith(prefix + "/")


def code_lines(text: str) -> set[int]:
    """Lines that carry a token other than a comment or a line break.

    A string spanning lines (a docstring) counts on every line it covers; mutant generation
    decides separately what inside it is worth mutating.
    """
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER, tokenize.ENCODING}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type not in skip:
                lines.update(range(token.start[0], token.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # Not valid Python; keep every non-blank line that is not a pure comment.
        return {
            number
            for number, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith("#")
        }
    return lines


def decode_source(raw: bytes) -> str | None:
    """The text of a Python file, or None if it is binary or not UTF-8 (PEP 3120's default)."""
    if b"\0" in raw[:8192]:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
