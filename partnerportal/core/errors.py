"""The one family of domain errors, and the one place that maps them to HTTP.

Every refusal a rule or a service makes is a `DomainError`:

- `InvalidInput` (400): a value breaks a rule; `errors` names each field at fault, and `rule`
  names the program rule that refused, when one did (e.g. `duplicate_registration`).
- `StateConflict` (409): the object is not in a state that allows the action (a deal already
  closed, an invitation already accepted).
- `NotFound` (404): outside the caller's reach, or absent; the two are never told apart.
- `Forbidden` (403): a forbidden action on something the caller can see.

`NotFound` and `Forbidden` are also Django's `Http404`/`PermissionDenied`, so a page that does
not catch them gets Django's own 404/403 page and DRF its own answer. The API maps the family in
`core.api.errors.exception_handler`; pages in `core.middleware.DomainErrorMiddleware`. Both ask
`http_status` and `error_body` here, so a status is decided once.

This module is pure (no ORM, no request): rules may raise these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

NON_FIELD = "non_field_errors"


class DomainError(Exception):
    """Base of every refusal. `message` is said to a person as it is."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """400: the input breaks a rule. `errors` maps each field at fault to its messages."""

    status = 400

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        rule: str | None = None,
        errors: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        if errors is None:
            if message is None:
                raise TypeError("InvalidInput needs a message or errors")
            errors = {field or NON_FIELD: [message]}
        self.errors: dict[str, list[str]] = {key: list(msgs) for key, msgs in errors.items()}
        first = next(iter(self.errors.values()), [""])
        super().__init__(message if message is not None else " ".join(first))
        self.rule = str(rule) if rule is not None else None

    @property
    def field(self) -> str:
        """The first field at fault (`non_field_errors` when none is named)."""
        return next(iter(self.errors), NON_FIELD)

    def on_field(self, field: str, *, prefix: bool = False) -> InvalidInput:
        """The same refusal, reported on `field` (or with every field prefixed by `field.`)."""
        if prefix:
            errors = {
                field if key == NON_FIELD else f"{field}.{key}": msgs
                for key, msgs in self.errors.items()
            }
        else:
            errors = {field: [m for msgs in self.errors.values() for m in msgs]}
        return InvalidInput(self.message, rule=self.rule, errors=errors)

    def messages(self) -> list[str]:
        return [m for msgs in self.errors.values() for m in msgs]


class StateConflict(DomainError):
    """409: the object is not in a state that allows the action."""

    status = 409


class NotFound(DomainError, Http404):
    """404: absent or outside the caller's reach (never told apart)."""

    status = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class Forbidden(DomainError, PermissionDenied):
    """403: a forbidden action on something the caller can see."""

    status = 403

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a domain error (or of Django's 404/403), None for anything else."""
    if isinstance(exc, DomainError):
        return exc.status
    if isinstance(exc, Http404):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    return None


def error_body(exc: BaseException) -> dict[str, Any]:
    """The JSON body of an error: field messages for a 400 (with `rule` when a rule refused),
    `detail` for the others."""
    if isinstance(exc, InvalidInput):
        body: dict[str, Any] = dict(exc.errors)
        if exc.rule:
            body["rule"] = [exc.rule]
        return body
    if isinstance(exc, DomainError):
        return {"detail": exc.message}
    if isinstance(exc, Http404):
        return {"detail": "Not found."}
    if isinstance(exc, PermissionDenied):
        return {"detail": str(exc) or "You are not allowed to do this."}
    return {"detail": str(exc)}
