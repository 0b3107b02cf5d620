"""Map domain errors to the API's contract: 400 with field messages, 403, 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import StateConflict


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The object is not in a state that allows this."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, StateConflict):
        exc = Conflict(exc.message)
    elif isinstance(exc, DjangoValidationError):
        detail: Any
        if hasattr(exc, "error_dict"):
            detail = {
                field: [str(m) for m in msgs.messages]
                if hasattr(msgs, "messages")
                else [str(m) for m in msgs]
                for field, msgs in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)
