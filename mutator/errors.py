"""Errors that mean "the user's input is wrong" (CLI exit 2), as opposed to our own faults."""


class BadInput(Exception):
    """A problem the user can fix; the message is shown as one line, and the CLI exits 2."""
