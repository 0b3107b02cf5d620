"""Shared steps of the commissions tests: credited lines, billing, runs and the ledger as rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from commissions import rules, services
from commissions.models import AccrualRun, Entitlement, LedgerLine, QuarterClose, Statement
from partnerportal.core.models import Currency, Edition, Organisation, ProductLine, Subscription
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


# --- Quarterly statements ---------------------------------------------------------------------


def rebill(association: Any, billing: list[tuple[date, date | None, str]]) -> None:
    """A backdated billing correction: the line's versions replaced by `billing`."""
    subscription = Subscription.objects.get(
        customer=association.customer, product_line=association.product_line
    )
    subscription.versions.all().delete()
    for start, until, mrr in billing:
        bill(subscription, start, until, mrr)


def close(quarter: str) -> services.CloseResult:
    """Close a quarter as the operator command does."""
    return services.close_quarter(actor=None, quarter=rules.parse_quarter(quarter))


def hold(organisation: Organisation, *, paperwork: bool = True, standing: str = "good") -> None:
    """Set the partner's payout paperwork and standing (the facts a close holds statements on)."""
    Organisation.objects.filter(pk=organisation.pk).update(
        payout_paperwork_complete=paperwork, standing=standing
    )
    organisation.refresh_from_db()


def statement_rows() -> list[tuple[Any, ...]]:
    """Every statement and its lines as comparable rows."""
    return [
        (
            s.organisation_id,
            s.quarter,
            s.currency_id,
            s.total,
            s.prior_period_total,
            s.payable_on,
            s.status,
            tuple(s.held_reasons),
            tuple(
                (line.ledger_line_id, line.month, line.amount, line.prior_period)
                for line in s.lines.order_by("ledger_line_id")
            ),
        )
        for s in Statement.objects.order_by("quarter", "organisation_id", "currency_id")
    ]


def a_statement(organisation: Organisation, *, held: bool = False) -> Statement:
    """A 2026-Q1 statement of USD 480.00 as a close writes it, without lines (access tests);
    `held` for payout paperwork the partner has since completed (so finance may release it)."""
    quarter = rules.parse_quarter("2026-Q1")
    close, _ = QuarterClose.objects.get_or_create(
        quarter=quarter.label,
        defaults={"starts_on": quarter.starts_on, "ends_on": quarter.ends_on},
    )
    return Statement.objects.create(
        close=close,
        organisation=organisation,
        quarter=quarter.label,
        currency=Currency.objects.get(code="USD"),
        total=Decimal("480.00"),
        payable_on=rules.payable_on(quarter),
        status=Statement.Status.HELD if held else Statement.Status.PAYABLE,
        held_reasons=[Statement.HeldReason.PAYOUT_PAPERWORK] if held else [],
    )
