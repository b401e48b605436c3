"""Errors of the results layer that the user can act on (the CLI turns them into exit 2)."""


class ResultsError(Exception):
    """A problem with stored or imported results that the user can fix; the message is one line."""


class StoreError(ResultsError):
    """A missing, locked, corrupt or too-new results database."""
