"""How kernel pages present kernel data: plain values in, plain values out, no queries."""

from __future__ import annotations

from collections.abc import Iterable

from .models import Customer, SubscriptionVersion

CustomerRows = list[tuple[Customer, list[SubscriptionVersion]]]


def customer_rows(
    customers: Iterable[Customer], lines: Iterable[SubscriptionVersion]
) -> CustomerRows:
    """Each customer with its subscription lines, in the customers' order (a customer with no
    line in effect is listed with none)."""
    by_customer: dict[int, list[SubscriptionVersion]] = {}
    for line in lines:
        by_customer.setdefault(line.subscription.customer_id, []).append(line)
    return [(customer, by_customer.get(customer.pk, [])) for customer in customers]
