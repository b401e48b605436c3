"""Which undetected mutants a reviewer acts on first: a changed behaviour (`<` → `<=`, a dropped
guard) before a changed string, and a string inside an error or log message last.

A string mutant (`"text"` → `"XXtextXX"`) survives wherever no test reads the text; inside
`raise ValueError("...")` or `log.warning("...")` that is usually by design, so listing it first as
a test gap sends the reader after the least useful test. The PR comment, the stop hook's
instruction and `weak-tests` all order by `reviewer_rank`, and say how many of each kind they hold."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable

BEHAVIOUR, TEXT, MESSAGE = 0, 1, 2
TEXT_OPERATORS = frozenset({"string"})

# A line that raises, logs, warns or prints: the string on it is a message for a person.
_MESSAGE_LINE = re.compile(
    r"^\s*raise\b"
    r"|\b(?:log|logger|logging|_log|_logger|LOG|LOGGER)\.(?:debug|info|warning|warn|error|exception|critical|fatal|log)\("
    r"|\bwarnings\.warn\("
    r"|\b(?:print|warn|abort|fail|exit)\("
    r"|\b[A-Z]\w*(?:Error|Exception|Warning)\("
)


def is_message_line(lines: Iterable[str]) -> bool:
    """The mutated lines raise, log, warn or print (or build an exception): their strings are messages."""
    return any(_MESSAGE_LINE.search(line) for line in lines)


def statement_lines(source: str, line: int) -> tuple[str, ...]:
    """The whole logical line (statement) holding physical line `line`: a message string often sits
    alone on its line inside a `raise X(` that opened above it. The line itself when tokenizing fails."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return ()
    start = 1
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.NEWLINE:  # NEWLINE ends a statement; NL is a break inside one
                continue
            if token.start[0] < line:
                start = token.start[0] + 1
            else:
                while start < line and (not lines[start - 1].strip() or lines[start - 1].strip().startswith("#")):
                    start += 1  # blank and comment lines between two statements
                return tuple(lines[start - 1 : token.start[0]])
    except (tokenize.TokenError, SyntaxError):
        pass
    return (lines[line - 1],)


def reviewer_rank(operator: str, lines: Iterable[str] = ()) -> int:
    """BEHAVIOUR (0), TEXT (1: a changed string) or MESSAGE (2: a changed string in a message);
    `lines` are the whole lines the mutant changes, when the caller has them."""
    if operator not in TEXT_OPERATORS:
        return BEHAVIOUR
    return MESSAGE if is_message_line(lines) else TEXT


def rank_in_source(operator: str, source: str, line: int) -> int:
    """`reviewer_rank` of a mutant at `line` of `source`, reading its whole statement (only a string's)."""
    if operator not in TEXT_OPERATORS:
        return BEHAVIOUR
    return reviewer_rank(operator, statement_lines(source, line))


def kinds_text(ranks: Iterable[int]) -> str:
    """What the text-only mutants among `ranks` are, for an "… and N more (…)" line: `2 of them changed
    strings, 1 in an error or log message`, `1 of them a changed string in a message`, or ""."""
    ranks = list(ranks)
    text = sum(r != BEHAVIOUR for r in ranks)
    messages = sum(r == MESSAGE for r in ranks)
    if not text:
        return ""
    if text == 1:
        return f"1 of them a changed string{' in an error or log message' if messages else ''}"
    if messages == text:
        return f"{text} of them changed strings in error or log messages"
    return f"{text} of them changed strings" + (f", {messages} in an error or log message" if messages == 1 else
                                                f", {messages} in error or log messages" if messages else "")
