"""Request id for the audit trail, and the staff second-factor requirement."""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Tag each request with an id (the caller's X-Request-ID when sane) for audit rows."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


# Paths a staff member without a second factor may still reach: enrolment itself,
# signing out, static files and the token-authenticated API (tokens are issued by operators).
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/api/", "/poi/", "/healthz")


class StaffMfaRequiredMiddleware:
    """Send signed-in staff without an enrolled authenticator to the enrolment page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.PORTAL_STAFF_MFA_REQUIRED
            and user is not None
            and user.is_authenticated
            and getattr(user, "is_program_staff", False)
            and not request.path.startswith(_MFA_EXEMPT_PREFIXES)
        ):
            from allauth.mfa.models import Authenticator

            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                return redirect("mfa_activate_totp")
        return self.get_response(request)


class DomainErrorMiddleware:
    """The pages' side of the one error mapping (`core.errors`): a domain error that a view did
    not turn into form errors or a message becomes an error page with its status, never a 500.

    `NotFound` and `Forbidden` are Django's `Http404`/`PermissionDenied` and get Django's own
    404/403 pages; the API has its own handler (`core.api.errors`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.core.exceptions import PermissionDenied
        from django.http import Http404
        from django.shortcuts import render

        from .errors import DomainError, InvalidInput

        if not isinstance(exception, DomainError) or isinstance(
            exception, Http404 | PermissionDenied
        ):
            return None
        return render(
            request,
            "error.html",
            {
                "status": exception.status,
                "messages_": exception.messages()
                if isinstance(exception, InvalidInput)
                else [exception.message],
            },
            status=exception.status,
        )
