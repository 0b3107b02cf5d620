"""Reads of the kernel, always through the permission layer for request code."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Q, QuerySet

from . import rules
from .access import visible_organisations
from .models import (
    AuditEvent,
    Country,
    Customer,
    Edition,
    Organisation,
    ProductLine,
    SubscriptionVersion,
    User,
)
from .rules import Version


def versions_in_effect(on: date) -> QuerySet[SubscriptionVersion]:
    """Subscription versions in effect on `on` (effective_from inclusive, until exclusive)."""
    return SubscriptionVersion.objects.filter(effective_from__lte=on).filter(
        Q(effective_until__isnull=True) | Q(effective_until__gt=on)
    )


def line_versions(
    customer_ids: Iterable[int], *, months: tuple[date, date] | None = None
) -> dict[tuple[int, str], list[Version]]:
    """Every subscription line of these customers, keyed (customer id, product line code),
    with its versions as pure values, oldest first (one query). The month rule
    (`rules.version_for_month`) reads a line's MRR for a month from them.

    With `months` (first, last), only the versions in effect on some day from the first of
    `first` to the first of `last` are read: every version that can set the MRR of a month
    between them (a reader of two months a year apart needs no older or later version)."""
    versions = SubscriptionVersion.objects.filter(subscription__customer_id__in=list(customer_ids))
    if months is not None:
        first, last = (rules.first_of_month(day) for day in months)
        versions = versions.filter(effective_from__lte=last).filter(
            Q(effective_until__isnull=True) | Q(effective_until__gt=first)
        )
    lines: dict[tuple[int, str], list[Version]] = {}
    rows = versions.order_by(
        "subscription__customer_id", "subscription__product_line_id", "effective_from"
    ).values_list(
        "subscription__customer_id",
        "subscription__product_line_id",
        "effective_from",
        "effective_until",
        "mrr",
        "currency_id",
    )
    for customer_id, product_line, start, until, mrr, currency in rows:
        lines.setdefault((customer_id, product_line), []).append(
            Version(effective_from=start, effective_until=until, mrr=mrr, currency=currency)
        )
    return lines


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


def catalog_words() -> dict[str, str]:
    """Product line, edition and country codes -> their names (three small queries), for
    pages that show stored codes in words."""
    words = dict(ProductLine.objects.values_list("code", "name"))
    words.update(Edition.objects.values_list("code", "name"))
    words.update(Country.objects.values_list("code", "name"))
    return words


def audit_events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("organisation").order_by("-occurred_at", "-id")
