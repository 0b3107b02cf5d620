"""Kernel pages: thin views that ask the permission layer and selectors, then render.

The kernel knows no app: the home page, which composes the apps' pages, lives in the project
package (`partnerportal.views`) and calls the kernel's parts from here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import defaults

from . import access, presenters, selectors
from .forms import AuditFilterForm
from .models import Organisation


def staff_home(request: HttpRequest) -> HttpResponse:
    """Vendor staff's starting page: the partners they may see."""
    partners = selectors.partner_list(access.acting_user(request))
    page = Paginator(partners, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/home_staff.html",
        {"page": page, "today": timezone.localdate(), "partner_count": page.paginator.count},
    )


def organisation_page(
    request: HttpRequest,
    organisation: Organisation,
    *,
    template: str,
    extra: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """An organisation with its customers and their subscription lines. `organisation` is
    already resolved through `access` by the caller (the partner page of the project package,
    which adds what other apps offer on it in `extra`)."""
    today = timezone.localdate()
    rows = customer_rows(organisation, today)
    return render(
        request,
        template,
        {"organisation": organisation, "rows": rows, "today": today, **(extra or {})},
        status=status,
    )


def customer_rows(organisation: Organisation, today: date) -> presenters.CustomerRows:
    """The customers an organisation works with, each with its lines in effect `today`."""
    customers = list(selectors.customers_for_organisation(organisation))
    lines = selectors.current_lines([c.pk for c in customers], today)
    return presenters.customer_rows(customers, lines)


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    access.require(access.acting_user(request), access.Action.AUDIT_VIEW)
    form = AuditFilterForm(request.GET)
    verb = form.cleaned_data["verb"] if form.is_valid() else ""
    events = selectors.audit_events()
    if verb:
        events = events.filter(verb__startswith=verb)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    words = presenters.code_words(selectors.catalog_words())
    rows = [
        (
            event,
            presenters.audit_details(event.data, subject_type=event.subject_type, words=words),
        )
        for event in page.object_list
    ]
    return render(
        request,
        "core/audit_list.html",
        {"page": page, "rows": rows, "verb": verb, "filter_form": form},
    )


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- Error replies: JSON under /api/, pages elsewhere (`handler400/403/404/500` in the project
# URLs). DRF answers its own views' errors as JSON (`core.api.errors`); these cover what never
# reaches a DRF view: an unknown API address, an uncaught exception, a refused host or body.

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse({"detail": "You are not allowed to do this."}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side; nothing was half-saved. Try again."},
            status=500,
        )
    return defaults.server_error(request)


def body_too_large(request: HttpRequest, limit: int) -> HttpResponse:
    """413 for a request body over `DATA_UPLOAD_MAX_MEMORY_SIZE` (`RequestBodyLimitMiddleware`)."""
    message = f"The request is too large: at most {limit // 1024} KB may be sent at once."
    if is_api_request(request):
        return JsonResponse({"detail": message}, status=413)
    return render(request, "error.html", {"status": 413, "messages_": [message]}, status=413)
