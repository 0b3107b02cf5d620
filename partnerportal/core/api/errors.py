"""The API's side of the one error mapping (`core.errors`): every domain error, and DRF's and
Django's own, becomes JSON with the status `core.errors.http_status` gives it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import DomainError, InvalidInput, error_body, http_status


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        status = http_status(exc)
        assert status is not None  # noqa: S101 - every DomainError has one
        return Response(error_body(exc), status=status)
    if isinstance(exc, DjangoValidationError):
        # A model's own validation (full_clean) that a service let through: the same 400.
        if hasattr(exc, "error_dict"):
            errors = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
            exc = exceptions.ValidationError(error_body(InvalidInput(errors=errors)))
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    return drf_exception_handler(exc, context)
