"""Request id for the audit trail, and the staff second-factor requirement."""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import LazyObject
from django.utils.http import urlencode

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


class RequestBodyLimitMiddleware:
    """Refuse a request whose body is larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` with a 413
    (JSON under /api/, a page elsewhere) before anything reads it. Django enforces the limit
    only when a form body is parsed; DRF reads JSON from the stream and would not."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            from .views import body_too_large

            return body_too_large(request, limit)
        return self.get_response(request)


# Paths a staff session that has not passed the second factor may still reach. Not yet
# enrolled: the enrolment pages (everything under /accounts/) and signing out. Enrolled but
# this session did not use the authenticator: only the MFA re-authentication and signing out.
# Static files, customers' POI links and the health check need no sign-in at all. The API
# answers for itself (`core.api.authentication`): a token is operator-issued; a browser
# session gets a 403 until it passed the second factor.
_ALWAYS_EXEMPT_PREFIXES = ("/static/", "/api/", "/poi/", "/healthz")
_ENROLMENT_PREFIXES = ("/accounts/",)


class StaffMfaRequiredMiddleware:
    """A staff session counts as signed in only once it passed the second factor
    (`core.mfa`): staff without an authenticator are sent to enrol one; staff with one whose
    session did not use it (a password-only session) are sent to enter their code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .mfa import SecondFactor, session_state
        from .models import User

        user = getattr(request, "user", None)
        if isinstance(user, LazyObject) and isinstance(user, User):
            # Resolved here anyway: the rest of the request (permission checks, the layout's
            # navigation: about ninety reads a page) reads the user itself, not through
            # Django's lazy proxy (a tenth of a cached page's time).
            user = request.user = user._wrapped  # type: ignore[attr-defined]
        if (
            isinstance(user, User)
            and user.is_authenticated
            and not request.path.startswith(_ALWAYS_EXEMPT_PREFIXES)
        ):
            state = session_state(request, user)
            if state is SecondFactor.NOT_ENROLLED and not request.path.startswith(
                _ENROLMENT_PREFIXES
            ):
                return redirect("mfa_activate_totp")
            if state is SecondFactor.NOT_PASSED and request.path not in _second_factor_paths():
                target = reverse("mfa_reauthenticate")
                return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


def _second_factor_paths() -> set[str]:
    return {reverse("mfa_reauthenticate"), reverse("account_logout")}


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
