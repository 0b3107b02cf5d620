"""Kernel pages: thin views that ask the permission layer and selectors, then render."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from tiers import views as tier_views

from . import access, selectors
from .models import Customer, Organisation


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's starting page, with its real data."""
    user = access.acting_user(request)
    today = timezone.localdate()
    if user.is_partner_user:
        organisation = access.get_visible_organisation(user, user.organisation_id)
        if organisation.kind == Organisation.Kind.PARTNER:
            # A partner's home is its tier page (issue 4), with its customers below.
            rows = _customer_rows(organisation, today)
            return tier_views.partner_home(request, organisation, customers=rows)
        return _partner_page(request, organisation, template="core/home_partner.html")
    partners = selectors.partner_list(user)
    page = Paginator(partners, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/home_staff.html",
        {"page": page, "today": today, "partner_count": page.paginator.count},
    )


@login_required
def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = access.get_visible_organisation(access.acting_user(request), pk)
    return _partner_page(request, organisation, template="core/partner_detail.html")


def _partner_page(
    request: HttpRequest, organisation: Organisation, *, template: str
) -> HttpResponse:
    today = timezone.localdate()
    rows = _customer_rows(organisation, today)
    return render(
        request,
        template,
        {"organisation": organisation, "rows": rows, "today": today},
    )


def _customer_rows(organisation: Organisation, today: date) -> list[tuple[Customer, list[Any]]]:
    customers = list(selectors.customers_for_organisation(organisation))
    lines = selectors.current_lines([c.pk for c in customers], today)
    lines_by_customer: dict[int, list[Any]] = {}
    for line in lines:
        lines_by_customer.setdefault(line.subscription.customer_id, []).append(line)
    return [(customer, lines_by_customer.get(customer.pk, [])) for customer in customers]


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    access.require(access.acting_user(request), access.Action.AUDIT_VIEW)
    events = selectors.audit_events()
    verb = request.GET.get("verb", "").strip()
    if verb:
        events = events.filter(verb__startswith=verb)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_list.html", {"page": page, "verb": verb})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
