"""The API's side of the one error mapping (`core.errors`): every domain error, and DRF's and
Django's own, becomes JSON with the status `core.errors.http_status` gives it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from ..errors import DomainError, InvalidInput, error_body, http_status


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError | Http404 | PermissionDenied):
        # Django's own 404/403 too, so that a 404 always says the same words whatever raised
        # it (never which object was looked for).
        status = http_status(exc)
        assert status is not None  # noqa: S101 - every DomainError has one
        set_rollback()  # as DRF does: a request-wide transaction must not commit
        return Response(error_body(exc), status=status)
    if isinstance(exc, DjangoValidationError):
        # A model's own validation (full_clean) that a service let through: the same 400.
        if hasattr(exc, "error_dict"):
            errors = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
            exc = exceptions.ValidationError(error_body(InvalidInput(errors=errors)))
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    return drf_exception_handler(exc, context)
