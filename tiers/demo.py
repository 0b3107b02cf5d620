"""Demo tier history: the monthly runs of the last months and one for today, so a newcomer's
partner home page shows a tier, progress and a chart (through the real engine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accreditations import services as accreditation_services
from accreditations.services import CertificationInput, CertificationKind
from deals import services as deal_services
from deals.models import Poi, PurchasedLine
from deals.services import ClosedLineInput, PoiDecision, QuoteLineInput
from partnerportal.core import services as core_services
from partnerportal.core.models import Customer, Organisation, Role, Subscription, User
from partnerportal.core.rules import first_of_month, months_back

from . import services
from .models import TierAssessment, TierRun

#: The demo's Elite partner (SPEC 4): invited, a retained book, 100 team certifications and
#: the Elite points, through the real services and the real run.
ELITE_PARTNER = "Summit Partners"
ELITE_ADMIN = "admin@summit.example"
#: Managed: USD 700 000 MRR for 14 months, active a year ago and this month (7 000 points,
#: retention 100 %). Sold: a Partner Sourced line of USD 44 000 closed this month (2 200).
ELITE_MANAGED = ("summit-global.co.uk", "Summit Global", "700000.00")
ELITE_SOLD = ("summit-retail.co.uk", "Summit Retail", "44000.00")
#: Codes of the 100 certifications (software, implementation, program), several holders each.
ELITE_CERTIFICATIONS: tuple[tuple[str, CertificationKind], ...] = (
    ("solutions_partner", CertificationKind.PROGRAM),
    ("crm_implementation", CertificationKind.IMPLEMENTATION),
    ("onboarding", CertificationKind.IMPLEMENTATION),
    ("data_migration", CertificationKind.IMPLEMENTATION),
    ("inbound", CertificationKind.SOFTWARE),
    ("marketing_hub_software", CertificationKind.SOFTWARE),
    ("sales_hub_software", CertificationKind.SOFTWARE),
    ("service_hub_software", CertificationKind.SOFTWARE),
)
ELITE_TEAM = 100


def seed_demo_elite_partner() -> list[str]:
    """Add the demo's Elite partner once (after the kernel's and the deals' demo data)."""
    if Organisation.objects.filter(name=ELITE_PARTNER).exists():
        return [f"{ELITE_PARTNER} already loaded: nothing to do."]
    ops = User.objects.filter(role=Role.PARTNER_OPS, email__endswith=".example").first()
    gs = User.objects.filter(email="gs.emea@demo.partnerportal.example").first()
    if ops is None or gs is None:
        return [f"{ELITE_PARTNER} skipped: the demo program is not loaded."]
    today = timezone.localdate()
    with transaction.atomic():
        partner = core_services.partner_create(
            actor=ops,
            name=ELITE_PARTNER,
            kind="partner",
            country="GB",
            has_partner_certification=True,
            has_pro_subscription=True,
            payout_paperwork_complete=True,
            pdm="pdm@demo.partnerportal.example",
        )
        admin = core_services.partner_user_add(
            actor=ops, organisation=partner, email=ELITE_ADMIN, role="admin"
        )
        if admin is None:
            raise RuntimeError(f"Demo address {ELITE_ADMIN} is used twice.")
        from partnerportal.core.demo import DEMO_PASSWORD

        core_services.user_password_set(user=admin, password=DEMO_PASSWORD, actor=ops)
        domain, name, mrr = ELITE_MANAGED
        core_services.subscription_change(
            actor=ops,
            customer_domain=domain,
            customer_name=name,
            country="GB",
            segment="enterprise",
            product_line="marketing_hub",
            edition="enterprise",
            mrr=Decimal(mrr),
            currency="USD",
            seats=50,
            effective_from=months_back(today, 14),
        )
        for days_ago in (375, 5):
            core_services.activity_record(
                actor=ops,
                partner=partner,
                customer_domain=domain,
                kind="asset_edited",
                occurred_at=timezone.make_aware(
                    datetime.combine(today - timedelta(days=days_ago), time(10, 0))
                ),
            )
        domain, name, mrr = ELITE_SOLD
        registration = deal_services.registration_create(
            actor=admin, customer_domain=domain, customer_name=name, country="GB", segment="smb"
        )
        deal_services.registration_decide(actor=gs, registration=registration, approve=True)
        line = QuoteLineInput(
            product_line="sales_hub",
            edition="enterprise",
            mrr=Decimal(mrr),
            currency="USD",
            seats=40,
        )
        deal_services.quote_save(actor=gs, deal=registration.deal, lines=[line])
        poi = Poi.objects.get(registration=registration, status=Poi.Status.PENDING)
        deal_services.poi_decide(token=deal_services.poi_token(poi), decision=PoiDecision.APPROVE)
        deal_services.deal_close(
            actor=gs,
            deal=registration.deal,
            purchase_domain=domain,
            close_date=today,
            lines=[ClosedLineInput(product_line="sales_hub", mrr=line.mrr)],
        )
        core_services.subscription_change(
            actor=ops,
            customer_domain=domain,
            customer_name=name,
            country="GB",
            segment="smb",
            product_line="sales_hub",
            edition="enterprise",
            mrr=line.mrr,
            currency="USD",
            seats=40,
            effective_from=first_of_month(today),
        )
        for n in range(ELITE_TEAM):
            code, kind = ELITE_CERTIFICATIONS[n % len(ELITE_CERTIFICATIONS)]
            accreditation_services.certification_record(
                actor=ops,
                data=CertificationInput(
                    organisation_id=partner.pk,
                    code=code,
                    kind=kind,
                    holder_email=f"consultant{n // len(ELITE_CERTIFICATIONS)}@summit.example",
                ),
            )
        services.elite_invite(
            actor=ops, organisation=partner, reason="Top book of the region (demo)."
        )
    return [
        f"{ELITE_PARTNER}: invited to Elite, {ELITE_TEAM} team certifications, a retained "
        "managed book and a Partner Sourced deal (Elite at today's run)."
    ]


# --- The tiered book: every tier on the first run (issue 13) ------------------------------------

#: The demo's partners by tier after today's run, computed by SPEC 4 (2026-01-15 rule set:
#: Gold sold 110 / managed 38 / total 325, Platinum 325 / 150 / 925, Diamond 950 / 550 /
#: 3 100; sold counts Partner Sourced only; a USD 100 equivalent is GBP 62.5, EUR 75):
#:
#: - Bluepeak Agency, Untiered (11 short of Gold): Partner Sourced cyberdyne.co.uk, GBP 3 000
#:   new (240), and lyon-textiles.fr EUR 120 (8, the project's demo history); managed
#:   globex.fr EUR 1 350 (18) and cyberdyne.co.uk GBP 3 000 (48); 314.
#: - Northwind Digital, Gold: Partner Sourced initrode.co.uk GBP 845 (67.6), tyrell.co.uk
#:   GBP 720 (57.6) and pinnacle-outfitters.co.uk GBP 1 000 (80, the demo history), 205.2;
#:   managed acme-retail.co.uk GBP 1 200 (19.2), umbrella.co.za ZAR 14 000 in a growth market
#:   (18.1), initrode (13.5), tyrell (11.5) and its book, oscorp.co.uk GBP 12 000 (192):
#:   254.4; total 459.6 (Platinum needs 925).
#: - Meridian Consulting (new), Platinum: Partner Sourced USD 7 000 (350), managed that
#:   customer (70) and a book of USD 60 000 (600): total 1 020.
#: - Harbor Digital (new), Diamond: Partner Sourced USD 20 000 (1 000), managed that customer
#:   (200) and a book of USD 220 000 (2 200): total 3 400 (Elite needs sold 2 100).
#: - Summit Partners, Elite (above).
#:
#: The books are billed for 14 months and worked in every month, so the history shows managed
#: points before the deals (closed today) add sold points.
BOOK_MARKER = "oscorp.co.uk"


@dataclass(frozen=True)
class DemoPartner:
    name: str
    country: str
    admin: str
    #: The Partner Sourced deal it wins today (a GB SMB customer: the EMEA/SMB specialist's).
    deal: tuple[str, str, str, str]  # domain, name, product line, USD MRR
    #: The customer whose book it manages (billed for 14 months, worked every month).
    book: tuple[str, str, str, str, str, str]  # domain, name, country, product line, MRR, cur.


NEW_PARTNERS: tuple[DemoPartner, ...] = (
    DemoPartner(
        name="Meridian Consulting",
        country="ES",
        admin="admin@meridian.example",
        deal=("meridian-foods.co.uk", "Meridian Foods", "sales_hub", "7000.00"),
        book=("iberia-retail.es", "Iberia Retail", "ES", "marketing_hub", "60000.00", "USD"),
    ),
    DemoPartner(
        name="Harbor Digital",
        country="NL",
        admin="admin@harbor.example",
        deal=("harbor-freight.co.uk", "Harbor Freight UK", "service_hub", "20000.00"),
        book=("dutch-logistics.nl", "Dutch Logistics", "NL", "operations_hub", "220000.00", "USD"),
    ),
)
#: Books the existing demo partners manage: (partner, domain, name, country, line, MRR, currency).
BOOKS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("Northwind Digital", BOOK_MARKER, "Oscorp", "GB", "content_hub", "12000.00", "GBP"),
)
#: Won demo deals the partner works in after the sale (managed points): (partner, domain).
WORKED_AFTER_SALE: tuple[tuple[str, str], ...] = (
    ("Northwind Digital", "initrode.co.uk"),
    ("Northwind Digital", "tyrell.co.uk"),
    ("Bluepeak Agency", "cyberdyne.co.uk"),
)
BOOK_MONTHS = 14


def demo_tier_sign_ins() -> list[tuple[str, str]]:
    """(e-mail, what they see) of the partners the tiered book adds."""
    return [
        ("admin@meridian.example", "partner admin, Meridian Consulting (Platinum)"),
        ("admin@harbor.example", "partner admin, Harbor Digital (Diamond)"),
    ]


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


def _win_sourced_deal(
    *, admin: User, gs: User, domain: str, name: str, line: QuoteLineInput, ops: User
) -> None:
    """A Partner Sourced deal won today through the real services (registration, approval,
    quote, the customer's POI, close), then billed from the first of this month."""
    today = timezone.localdate()
    registration = deal_services.registration_create(
        actor=admin, customer_domain=domain, customer_name=name, country="GB", segment="smb"
    )
    deal_services.registration_decide(actor=gs, registration=registration, approve=True)
    deal_services.quote_save(actor=gs, deal=registration.deal, lines=[line])
    poi = Poi.objects.get(registration=registration, status=Poi.Status.PENDING)
    deal_services.poi_decide(token=deal_services.poi_token(poi), decision=PoiDecision.APPROVE)
    deal_services.deal_close(
        actor=gs,
        deal=registration.deal,
        purchase_domain=domain,
        close_date=today,
        lines=[ClosedLineInput(product_line=line.product_line, mrr=line.mrr)],
    )
    core_services.subscription_change(
        actor=ops,
        customer_domain=domain,
        customer_name=name,
        country="GB",
        segment="smb",
        product_line=line.product_line,
        edition=line.edition,
        mrr=line.mrr,
        currency=line.currency,
        seats=line.seats,
        effective_from=first_of_month(today),
    )


def _bill_purchases(ops: User) -> int:
    """The billing feed records what the customers of closed demo deals bought and nobody
    billed yet (from the first of the close month): the won deals then earn their points."""
    billed = 0
    for purchased in PurchasedLine.objects.filter(deal__close_date__isnull=False).select_related(
        "deal__customer"
    ):
        customer = purchased.deal.customer
        if Subscription.objects.filter(
            customer=customer, product_line_id=purchased.product_line_id
        ).exists():
            continue
        assert purchased.deal.close_date is not None  # noqa: S101 (filtered above)
        core_services.subscription_change(
            actor=ops,
            customer_domain=customer.domain,
            customer_name=customer.name,
            country=customer.country_id,
            segment=customer.segment,
            product_line=purchased.product_line_id,
            edition=purchased.edition_id,
            mrr=purchased.mrr,
            currency=purchased.currency_id,
            seats=purchased.seats,
            effective_from=first_of_month(purchased.deal.close_date),
        )
        billed += 1
    return billed


def _book(
    *, ops: User, partner: Organisation, book: tuple[str, str, str, str, str, str], today: date
) -> None:
    """A customer billed for BOOK_MONTHS months whose portal the partner works every month."""
    domain, name, country, product_line, mrr, currency = book
    core_services.subscription_change(
        actor=ops,
        customer_domain=domain,
        customer_name=name,
        country=country,
        segment="enterprise",
        product_line=product_line,
        edition="enterprise",
        mrr=Decimal(mrr),
        currency=currency,
        seats=25,
        effective_from=months_back(first_of_month(today), BOOK_MONTHS),
    )
    _work(ops=ops, partner=partner, domain=domain, today=today)


def _work(*, ops: User, partner: Organisation, domain: str, today: date) -> None:
    """Asset edits on the 10th of each of the last six months and five days ago: eligible
    activity within 60 days of every demo run date (SPEC 4)."""
    days = {months_back(today, n).replace(day=10) for n in range(1, 7)} | {
        today - timedelta(days=5)
    }
    for day in sorted(d for d in days if d <= today):
        core_services.activity_record(
            actor=ops,
            partner=partner,
            customer_domain=domain,
            kind="asset_edited",
            occurred_at=_at(day),
        )


def seed_demo_tier_book() -> list[str]:
    """Add what puts the demo's partners in every tier on the first run (once): bill the
    closed deals, two partners with a won deal and a managed book, and the managed work of
    the existing partners. Before the demo runs (`seed_demo_assessments`)."""
    if Customer.objects.filter(domain=BOOK_MARKER).exists():
        return ["Demo tiered book already loaded: nothing to do."]
    ops = User.objects.filter(role=Role.PARTNER_OPS, email__endswith=".example").first()
    gs = User.objects.filter(email="gs.emea@demo.partnerportal.example").first()
    if ops is None or gs is None or not Organisation.objects.filter(name="Bluepeak Agency"):
        return ["Demo tiered book skipped: the demo program is not loaded."]
    today = timezone.localdate()
    from partnerportal.core.demo import DEMO_PASSWORD

    with transaction.atomic():
        billed = _bill_purchases(ops)
        for spec in NEW_PARTNERS:
            partner = core_services.partner_create(
                actor=ops,
                name=spec.name,
                kind="partner",
                country=spec.country,
                has_partner_certification=True,
                has_pro_subscription=True,
                payout_paperwork_complete=True,
                pdm="pdm@demo.partnerportal.example",
            )
            admin = core_services.partner_user_add(
                actor=ops, organisation=partner, email=spec.admin, role="admin"
            )
            if admin is None:
                raise RuntimeError(f"Demo address {spec.admin} is used twice.")
            core_services.user_password_set(user=admin, password=DEMO_PASSWORD, actor=ops)
            domain, name, product_line, mrr = spec.deal
            _win_sourced_deal(
                admin=admin,
                gs=gs,
                ops=ops,
                domain=domain,
                name=name,
                line=QuoteLineInput(
                    product_line=product_line,
                    edition="enterprise",
                    mrr=Decimal(mrr),
                    currency="USD",
                    seats=20,
                ),
            )
            _work(ops=ops, partner=partner, domain=domain, today=today)
            _book(ops=ops, partner=partner, book=spec.book, today=today)
        organisations = {o.name: o for o in Organisation.objects.filter(kind="partner")}
        for partner_name, *book in BOOKS:
            domain, name, country, product_line, mrr, currency = book
            _book(
                ops=ops,
                partner=organisations[partner_name],
                book=(domain, name, country, product_line, mrr, currency),
                today=today,
            )
        for partner_name, domain in WORKED_AFTER_SALE:
            core_services.activity_record(
                actor=ops,
                partner=organisations[partner_name],
                customer_domain=domain,
                kind="asset_edited",
                occurred_at=_at(today - timedelta(days=2)),
            )
    return [
        f"Demo tiered book: billed {billed} purchased lines of closed deals; "
        f"{', '.join(p.name for p in NEW_PARTNERS)} added with a won deal and a managed book; "
        f"managed work for {len(BOOKS) + len(WORKED_AFTER_SALE)} customers of the demo partners."
    ]


def demo_run_dates(today: date, months: int = 5) -> list[date]:
    """The 15th of each of the last `months` months that is not after today, then today."""
    fifteenths = [months_back(today, n).replace(day=15) for n in range(months, -1, -1)]
    return sorted({d for d in fifteenths if d <= today} | {today})


def seed_demo_assessments() -> list[str]:
    """Run the re-tiering for the demo dates (idempotent: the engine skips assessed partners)."""
    elite = [*seed_demo_elite_partner(), *seed_demo_tier_book()]
    if TierAssessment.objects.exists():
        return [*elite, "Demo tier assessments already exist: nothing to do."]
    dates = demo_run_dates(timezone.localdate())
    assessed = 0
    for as_of in dates:
        assessed += services.tier_run(
            as_of=as_of, actor=None, trigger=TierRun.Trigger.COMMAND
        ).partners_assessed
    return [
        *elite,
        f"Ran the re-tiering for {len(dates)} dates ({dates[0]} to {dates[-1]}): "
        f"{assessed} assessments.",
    ]
