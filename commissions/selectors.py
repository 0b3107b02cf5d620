"""Reads of commissions: the facts entitlements are decided on (rule-set data, the winner's
accreditation) and the ledger as each caller may see it (through `core.access`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet

from accreditations.models import Accreditation, AccreditationKind, AccreditationStatus
from partnerportal.core import access
from partnerportal.core.models import Currency, Organisation, RevenueShareStop, User
from partnerportal.core.selectors import line_versions

from . import rules
from .models import AccreditationExemptCountry, Entitlement, LedgerLine, UpmarketThreshold
from .permissions import CommissionAction


def thresholds() -> list[rules.Threshold]:
    return [
        rules.Threshold(
            effective_from=row.effective_from,
            effective_until=row.effective_until,
            countries=frozenset(row.countries),
            usd=row.usd,
        )
        for row in UpmarketThreshold.objects.all()
    ]


def exempt_countries() -> frozenset[str]:
    return frozenset(AccreditationExemptCountry.objects.values_list("country_id", flat=True))


def usd100_amounts() -> dict[str, Decimal]:
    """The program's currency table: the amount of each currency worth USD 100."""
    return dict(Currency.objects.values_list("code", "points_amount"))


def crm_accredited(*, organisation_id: int, on: date) -> bool:
    """Whether the partner held a valid CRM Implementation accreditation on `on` (active or in
    grace, issued by then and expiring after)."""
    return Accreditation.objects.filter(
        Q(expires_on__isnull=True) | Q(expires_on__gt=on),
        organisation_id=organisation_id,
        kind=AccreditationKind.CRM_IMPLEMENTATION,
        status__in=[AccreditationStatus.ACTIVE, AccreditationStatus.GRACE],
        issued_on__lte=on,
    ).exists()


def revenue_share_stops(*, organisation_ids: Iterable[int]) -> dict[int, list[rules.Stop]]:
    """The losses of revenue share (the kernel's stops) of these partners, by partner. One
    query."""
    result: dict[int, list[rules.Stop]] = {}
    for row in RevenueShareStop.objects.filter(organisation_id__in=list(organisation_ids)):
        result.setdefault(row.organisation_id, []).append(
            rules.Stop(effective_from=row.effective_from, effective_until=row.effective_until)
        )
    return result


def ledger_partner(user: User, pk: object) -> Organisation:
    """The partner whose ledger `user` asks for: out of reach is a 404, a visible partner whose
    ledger the role may not read a 403."""
    organisation = access.get_visible_organisation(user, pk)
    access.require(user, CommissionAction.LEDGER_VIEW, organisation)
    return organisation


def ledger_lines(organisation: Organisation) -> QuerySet[LedgerLine]:
    return (
        LedgerLine.objects.filter(organisation=organisation)
        .select_related("entitlement__customer", "entitlement__product_line")
        .order_by("month", "entitlement_id", "version", "kind", "id")
    )


@dataclass(frozen=True)
class EntitlementView:
    entitlement: Entitlement
    schedule: list[rules.Accrual]


def entitlements_with_schedule(
    organisation: Organisation, *, through: date
) -> list[EntitlementView]:
    """A partner's entitlements, each with what it earns month by month through `through`
    by the billing and the partner's revenue-share stops as they stand
    (`rules.accrual_schedule`): the ledger after the next run. Three queries."""
    entitlements = list(
        Entitlement.objects.filter(organisation=organisation)
        .select_related("customer", "product_line")
        .order_by("close_date", "id")
    )
    versions = line_versions({e.customer_id for e in entitlements})
    stops = revenue_share_stops(organisation_ids=[organisation.pk]).get(organisation.pk, [])
    return [
        EntitlementView(
            entitlement=e,
            schedule=rules.accrual_schedule(
                close_date=e.close_date,
                months=e.months,
                versions=versions.get((e.customer_id, e.product_line_id), []),
                through=through,
                stops=stops,
            ),
        )
        for e in entitlements
    ]
