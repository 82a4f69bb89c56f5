"""The one exception type for mistakes a user can cause and fix."""

from __future__ import annotations


class FacecraftError(Exception):
    """A user-facing error: the message says what went wrong and what to do.

    The CLI prints it as one line and exits non-zero; library callers may catch it.
    """
