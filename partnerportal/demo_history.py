"""Demo history for the quarterly statements (issue 12): two Partner Sourced deals won in the
last two ended quarters, then the past months accrued and those quarters closed through the
real services, so finance and partners see statements held, payable and paid on first run.

A deal cannot be closed through the deals services on a past date (a close date is never
before the deal was opened, and the demo opens its deals today), so these two are written as
the history the deals service would have left (registration approved, customer's purchase
credited, sold association), each with an audit record saying so, like the accreditations'
demo history. The billing goes through the billing-feed service; the accrual, the closes and
the payment are the real services (`commissions.services`).

Composition root: it spans deals, the kernel and commissions (tiers may not import
commissions), and runs before the demo's tier runs (the history's sold lines count there)
and, for the statements, after everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from commissions import rules as commission_rules
from commissions import services as commission_services
from commissions.models import AccrualRun, QuarterClose, Statement
from deals.models import Deal, PurchasedLine, Registration, SoldAssociation
from partnerportal.core import services as core_services
from partnerportal.core.audit import audit
from partnerportal.core.models import Customer, Organisation, Role, User
from partnerportal.core.rules import first_of_month, months_back

#: The first history customer: its presence means "loaded".
MARKER_DOMAIN = "pinnacle-outfitters.co.uk"


@dataclass(frozen=True)
class HistoryDeal:
    partner: str
    admin: str
    domain: str
    name: str
    country: str
    product_line: str
    edition: str
    mrr: str
    currency: str
    #: Quarters before the current one it was won in (2: the one before the last ended).
    quarters_ago: int


#: Northwind (paperwork complete, good standing): won two quarters ago, so one statement is
#: paid and the next payable; its GBP 1 000 adds 80 sourced points (1 000 x 5 / 62.5): 205.2
#: sourced, 459.6 in all, still Gold (Platinum needs 925). Bluepeak (payout paperwork
#: incomplete): won last quarter, held; its EUR 120 adds 8 (120 x 5 / 75): 314, short of
#: Gold's 325.
DEALS: tuple[HistoryDeal, ...] = (
    HistoryDeal(
        partner="Northwind Digital",
        admin="admin@northwind.example",
        domain=MARKER_DOMAIN,
        name="Pinnacle Outfitters",
        country="GB",
        product_line="marketing_hub",
        edition="professional",
        mrr="1000.00",
        currency="GBP",
        quarters_ago=2,
    ),
    HistoryDeal(
        partner="Bluepeak Agency",
        admin="admin@bluepeak.example",
        domain="lyon-textiles.fr",
        name="Lyon Textiles",
        country="FR",
        product_line="marketing_hub",
        edition="starter",
        mrr="120.00",
        currency="EUR",
        quarters_ago=1,
    ),
)


def _close_date(today: date, quarters_ago: int) -> date:
    quarter = commission_rules.Quarter.of(today)
    for _ in range(quarters_ago):
        quarter = quarter.previous()
    return quarter.starts_on + timedelta(days=9)


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed_demo_history() -> list[str]:
    """Write the two past deals once (before the demo's tier runs)."""
    if Customer.objects.filter(domain=MARKER_DOMAIN).exists():
        return ["Demo deal history already loaded: nothing to do."]
    people = {u.email: u for u in User.objects.filter(email__endswith=".example")}
    ops = User.objects.filter(role=Role.PARTNER_OPS, email__endswith=".example").first()
    gs = people.get("gs.emea@demo.partnerportal.example")
    partners = {o.name: o for o in Organisation.objects.filter(kind="partner")}
    if (
        ops is None
        or gs is None
        or any(d.partner not in partners or d.admin not in people for d in DEALS)
    ):
        return ["Demo deal history skipped: the demo program is not loaded."]
    today = timezone.localdate()
    done = []
    with transaction.atomic():
        for spec in DEALS:
            closed_on = _close_date(today, spec.quarters_ago)
            partner, admin = partners[spec.partner], people[spec.admin]
            core_services.subscription_change(
                actor=ops,
                customer_domain=spec.domain,
                customer_name=spec.name,
                country=spec.country,
                segment="smb",
                product_line=spec.product_line,
                edition=spec.edition,
                mrr=Decimal(spec.mrr),
                currency=spec.currency,
                seats=5,
                effective_from=first_of_month(closed_on),
            )
            customer = Customer.objects.get(domain=spec.domain)
            deal = Deal.objects.create(
                customer=customer,
                growth_specialist=gs,
                vendor_owned=False,
                status=Deal.Status.WON,
                expected_close_date=closed_on,
                created_at=_at(closed_on - timedelta(days=20)),
                purchase_domain=spec.domain,
                close_date=closed_on,
                closed_at=_at(closed_on, 16),
                closed_by=gs,
                resolution_rule="single_candidate",
                resolution_explanation=f"{partner.name} held the only signed proof of involvement.",
            )
            registration = Registration.objects.create(
                deal=deal,
                organisation=partner,
                motion="partner_sourced",
                status=Registration.Status.APPROVED,
                registered_domain=spec.domain,
                created_at=_at(closed_on - timedelta(days=20)),
                created_by=admin,
                status_changed_at=_at(closed_on - timedelta(days=18)),
            )
            deal.winner = registration
            deal.resolution_detail = {
                "tied": [],
                "excluded": [],
                "candidates": [registration.pk],
            }
            deal.save(update_fields=["winner", "resolution_detail"])
            PurchasedLine.objects.create(
                deal=deal,
                product_line_id=spec.product_line,
                edition_id=spec.edition,
                seats=5,
                mrr=Decimal(spec.mrr),
                currency_id=spec.currency,
                credited=True,
                eligibility_rule="eligible_edition",
            )
            SoldAssociation.objects.create(
                organisation=partner,
                customer=customer,
                product_line_id=spec.product_line,
                kind="partner_sourced",
                deal=deal,
                registration=registration,
                close_date=closed_on,
                mrr_at_close=Decimal(spec.mrr),
                currency_id=spec.currency,
                created_at=_at(closed_on, 16),
            )
            audit(
                actor=ops,
                verb="deals.demo.history_loaded",
                subject=deal,
                organisation=partner,
                data={
                    "close_date": closed_on.isoformat(),
                    "registration": registration.pk,
                    "history": "demo: written as the deals service would have left it",
                },
            )
            done.append(
                f"{spec.domain}: won by {partner.name} on {closed_on} "
                f"({spec.currency} {spec.mrr} a month, billed since {first_of_month(closed_on)})"
            )
    return ["Loaded the demo's deal history:", *(f"  - {line}" for line in done)]


def seed_demo_statements() -> list[str]:
    """Accrue each past month since the history's first deal, close each ended quarter since
    and pay the oldest quarter's payable statements (once: on the load that closes them)."""
    if QuarterClose.objects.exists():
        return ["Demo quarterly statements already exist: nothing to do."]
    finance = User.objects.filter(role=Role.FINANCE, email__endswith=".example").first()
    if finance is None or not Customer.objects.filter(domain=MARKER_DOMAIN).exists():
        return ["Demo quarterly statements skipped: the demo history is not loaded."]
    today = timezone.localdate()
    first = first_of_month(_close_date(today, max(d.quarters_ago for d in DEALS)))
    months = []
    month = first
    while month < first_of_month(today):
        months.append(month)
        month = months_back(month, -1)
    accrued = 0
    for month in months:
        result = commission_services.accrual_run(
            month=month, actor=None, trigger=AccrualRun.Trigger.COMMAND
        )
        accrued += result.lines_accrued
    quarters = []
    quarter = commission_rules.Quarter.of(first)
    while commission_rules.quarter_ended(quarter, today=today):
        quarters.append(quarter)
        quarter = quarter.next()
    closed = [commission_services.close_quarter(actor=None, quarter=q) for q in quarters]
    paid = 0
    if quarters:
        oldest = quarters[0]
        paid_on = min(commission_rules.payable_on(oldest), today)
        for statement in Statement.objects.filter(
            quarter=oldest.label, status=Statement.Status.PAYABLE
        ):
            commission_services.mark_statement_paid(
                actor=finance,
                statement_id=statement.pk,
                payment_reference=f"DEMO-{oldest.label}-{statement.pk}",
                paid_on=paid_on,
            )
            paid += 1
    by_status = sorted(
        Statement.objects.values_list("quarter", "organisation__name", "status").order_by(
            "quarter", "organisation__name"
        )
    )
    return [
        f"Accrued {len(months)} past months ({months[0]:%Y-%m} to {months[-1]:%Y-%m}): "
        f"{accrued} ledger lines; closed {', '.join(q.label for q in quarters)} "
        f"({sum(c.statements for c in closed)} statements); {paid} paid.",
        *(f"  - {q} {name}: {status}" for q, name, status in by_status),
    ]
