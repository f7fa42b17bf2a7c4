"""Errors a person can act on.

Every error that reaches the command line is a `TipwatchError`: one clear sentence, no
traceback. Anything else is a bug.
"""

from __future__ import annotations


class TipwatchError(Exception):
    """An error with a message meant for the person running tipwatch."""

    exit_code = 1


class InputError(TipwatchError):
    """A file or value given to tipwatch cannot be used as it is."""


class StoreError(TipwatchError):
    """The store cannot be opened or written."""


class MissingExtraError(TipwatchError):
    """An optional engine is used whose extra is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(
            f"{what} needs the optional '{extra}' extra: pip install 'tipwatch[{extra}]'."
        )


class PermissionDenied(TipwatchError):
    """The person may not do or see this (the web application answers 403)."""


class NotFound(TipwatchError):
    """The thing asked for does not exist, or is not this person's to know of (404)."""


class Conflict(TipwatchError):
    """The step does not fit where the thing stands (an upload already submitted, …) (409)."""
