"""Demo tier history: the monthly runs of the last months and one for today, so a newcomer's
partner home page shows a tier, progress and a chart (through the real engine)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accreditations import services as accreditation_services
from accreditations.services import CertificationInput, CertificationKind
from deals import services as deal_services
from deals.models import Poi
from deals.services import ClosedLineInput, PoiDecision, QuoteLineInput
from partnerportal.core import services as core_services
from partnerportal.core.models import Organisation, Role, User
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


def demo_run_dates(today: date, months: int = 5) -> list[date]:
    """The 15th of each of the last `months` months that is not after today, then today."""
    fifteenths = [months_back(today, n).replace(day=15) for n in range(months, -1, -1)]
    return sorted({d for d in fifteenths if d <= today} | {today})


def seed_demo_assessments() -> list[str]:
    """Run the re-tiering for the demo dates (idempotent: the engine skips assessed partners)."""
    elite = seed_demo_elite_partner()
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
