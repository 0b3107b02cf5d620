"""Shared steps of the commissions tests: credited lines, billing, runs and the ledger as rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from commissions import services
from commissions.models import AccrualRun, Entitlement, LedgerLine
from partnerportal.core.models import Currency, Edition, Organisation, ProductLine
from tests.factories import (
    CustomerFactory,
    SoldAssociationFactory,
    SubscriptionFactory,
    SubscriptionVersionFactory,
)


def sourced_line(
    organisation: Organisation,
    *,
    close_date: date,
    billing: list[tuple[date, date | None, str]],
    product_line: str = "marketing_hub",
    currency: str = "USD",
    domain: str | None = None,
) -> Any:
    """A Partner Sourced association of `organisation` closed on `close_date`, and the line's
    billing: versions (from, until, MRR). Returns the association."""
    customer = CustomerFactory(**({"domain": domain} if domain else {}))
    line = ProductLine.objects.get(code=product_line)
    association = SoldAssociationFactory(
        organisation=organisation, customer=customer, product_line=line, close_date=close_date
    )
    subscription = SubscriptionFactory(customer=customer, product_line=line)
    for start, until, mrr in billing:
        bill(subscription, start, until, mrr, currency=currency)
    return association


def bill(
    subscription: Any, start: date, until: date | None, mrr: str, *, currency: str = "USD"
) -> Any:
    return SubscriptionVersionFactory(
        subscription=subscription,
        edition=Edition.objects.get(code="professional"),
        mrr=Decimal(mrr),
        currency=Currency.objects.get(code=currency),
        effective_from=start,
        effective_until=until,
    )


def accrue(month: date) -> services.RunResult:
    return services.accrual_run(month=month, actor=None, trigger=AccrualRun.Trigger.COMMAND)


def ledger_rows() -> list[tuple[Any, ...]]:
    """The ledger as comparable rows: ids replaced by natural keys (customer, product line,
    month, version, kind), a reversal pointing at the key of the line it reverses."""

    def key(line: LedgerLine | None) -> tuple[Any, ...] | None:
        if line is None:
            return None
        e = line.entitlement
        return (e.customer.domain, e.product_line_id, line.month, line.version, line.kind)

    return sorted(
        (
            *key(line),  # type: ignore[misc]
            line.mrr,
            line.currency_id,
            line.amount,
            key(line.reverses),
            key(line.replaces),
            line.reason,
        )
        for line in LedgerLine.objects.select_related(
            "entitlement__customer",
            "reverses__entitlement__customer",
            "replaces__entitlement__customer",
        )
    )


def net(entitlement: Entitlement) -> dict[date, Decimal]:
    totals: dict[date, Decimal] = {}
    for line in entitlement.lines.all():
        totals[line.month] = totals.get(line.month, Decimal(0)) + line.amount
    return totals
