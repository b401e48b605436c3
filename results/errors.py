"""Errors of the results store that the user can act on (the CLI turns them into exit 2)."""


class StoreError(Exception):
    """A missing, locked, corrupt or too-new results database; the message is one line."""
