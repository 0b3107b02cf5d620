"""The API's browser-session authentication: a session counts only once it passed the staff
second factor (`core.mfa`). Tokens (`TokenAuthentication`) are issued by an operator
(`manage.py issue_token`) and stay as they are."""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from ..mfa import NOT_ENROLLED_MESSAGE, NOT_PASSED_MESSAGE, SecondFactor, session_state
from ..models import User


class MfaSessionAuthentication(SessionAuthentication):
    """DRF's session authentication (CSRF enforced as usual), refusing with a 403 a staff
    session that did not pass the second factor; partner users are let through as on pages."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if isinstance(user, User):
            state = session_state(request._request, user)
            if state is SecondFactor.NOT_ENROLLED:
                raise exceptions.PermissionDenied(NOT_ENROLLED_MESSAGE)
            if state is SecondFactor.NOT_PASSED:
                raise exceptions.PermissionDenied(NOT_PASSED_MESSAGE)
        return result


class MfaSessionScheme(SessionScheme):
    """The schema describes it as the browser session cookie, as DRF's own."""

    target_class = "partnerportal.core.api.authentication.MfaSessionAuthentication"
