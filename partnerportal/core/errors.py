"""Domain exceptions shared by every app; the API maps them (see `api.errors`)."""

from __future__ import annotations


class StateConflict(Exception):
    """The object is not in a state that allows the action (e.g. a deal already closed, an
    invitation already accepted). The API answers 409 Conflict; pages show the message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
