"""Which undetected mutants a reviewer acts on first: a changed behaviour (`<` → `<=`, a dropped
guard) before a changed string, and a string inside an error or log message last.

A string mutant (`"text"` → `"XXtextXX"`) survives wherever no test reads the text; inside
`raise ValueError("...")` or `log.warning("...")` that is usually by design, so listing it first as
a test gap sends the reader after the least useful test. The PR comment, the stop hook's
instruction and `weak-tests` all order by `reviewer_rank`, and say how many of each kind they hold."""

from __future__ import annotations

import re
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


def reviewer_rank(operator: str, lines: Iterable[str] = ()) -> int:
    """BEHAVIOUR (0), TEXT (1: a changed string) or MESSAGE (2: a changed string in a message);
    `lines` are the whole lines the mutant changes, when the caller has them."""
    if operator not in TEXT_OPERATORS:
        return BEHAVIOUR
    return MESSAGE if is_message_line(lines) else TEXT


def kinds_text(ranks: Iterable[int]) -> str:
    """`2 changed strings, 1 of them in a message`: what the text-only mutants among `ranks` are, or ""."""
    ranks = list(ranks)
    text = sum(r != BEHAVIOUR for r in ranks)
    if not text:
        return ""
    messages = sum(r == MESSAGE for r in ranks)
    said = f"{text} changed string{'' if text == 1 else 's'}"
    if messages:
        where = "an error or log message" if messages == 1 else "error or log messages"
        said += f" ({'' if text == 1 else f'{messages} '}in {where})"
    return said
