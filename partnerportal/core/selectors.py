"""Reads of the kernel, always through the permission layer for request code."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from .access import visible_organisations
from .models import AuditEvent, Customer, Organisation, SubscriptionVersion, User
from .rules import first_of_month


def versions_in_effect(on: date) -> QuerySet[SubscriptionVersion]:
    """Subscription versions in effect on `on` (effective_from inclusive, until exclusive)."""
    return SubscriptionVersion.objects.filter(effective_from__lte=on).filter(
        Q(effective_until__isnull=True) | Q(effective_until__gt=on)
    )


def versions_for_month(month: date) -> QuerySet[SubscriptionVersion]:
    """The version of each line that sets its MRR for the calendar month of `month` (SPEC 3)."""
    return versions_in_effect(first_of_month(month))


def customers_for_organisation(organisation: Organisation) -> QuerySet[Customer]:
    """Customers a partner works with: those in whose portal it has recorded activity."""
    return (
        Customer.objects.filter(activities__organisation=organisation)
        .distinct()
        .select_related("country")
        .order_by("domain")
    )


def current_lines(customer_ids: list[int], on: date) -> list[SubscriptionVersion]:
    """The subscription lines of these customers in effect on `on`, with what a page shows."""
    return list(
        versions_in_effect(on)
        .filter(subscription__customer_id__in=customer_ids)
        .select_related("subscription__customer", "subscription__product_line", "edition")
        .order_by("subscription__customer__domain", "subscription__product_line__name")
    )


def partner_list(user: User) -> QuerySet[Organisation]:
    return visible_organisations(user).select_related("country", "pdm").order_by("name")


def audit_events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("organisation").order_by("-occurred_at", "-id")
