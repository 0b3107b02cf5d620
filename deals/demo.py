"""Demo deals: one in every state a newcomer should see, built through the services (so they
are validated and audited like real data) on top of the kernel's demo program."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from partnerportal.core import services as core_services
from partnerportal.core.models import Organisation, Role, User
from partnerportal.core.rules import first_of_month

from . import services
from .inputs import ClosedLineInput, PoiDecision, QuoteLineInput
from .models import Deal, Poi, Registration

MARKER_DOMAIN = "contoso-shop.co.uk"  # the first demo deal: its presence means "loaded"

# growth specialist e-mail -> (region, segment); blank means any
TERRITORIES = [
    ("gs.emea@demo.partnerportal.example", "emea", "smb"),
    ("gs@demo.partnerportal.example", "", ""),
]


def _line(
    product_line: str, edition: str | None, mrr: str, currency: str, seats: int = 1
) -> QuoteLineInput:
    return QuoteLineInput(
        product_line=product_line,
        edition=edition,
        mrr=Decimal(mrr),
        currency=currency,
        seats=seats,
    )


def _bought(lines: list[QuoteLineInput]) -> list[ClosedLineInput]:
    """The quoted lines, purchased as quoted."""
    return [ClosedLineInput(product_line=line.product_line, mrr=line.mrr) for line in lines]


def _register(user: User, domain: str, name: str, country: str, segment: str) -> Registration:
    return services.registration_create(
        actor=user, customer_domain=domain, customer_name=name, country=country, segment=segment
    )


def _pending_poi(registration: Registration) -> Poi:
    return Poi.objects.get(registration=registration, status=Poi.Status.PENDING)


def _answer(registration: Registration, decision: PoiDecision) -> None:
    services.poi_decide(token=services.poi_token(_pending_poi(registration)), decision=decision)


def _bill(ops: User, deal: Deal, lines: list[QuoteLineInput]) -> None:
    """The billing feed records what the customer bought, from the first of this month."""
    customer = deal.customer
    for line in lines:
        core_services.subscription_change(
            actor=ops,
            customer_domain=customer.domain,
            customer_name=customer.name,
            country=customer.country_id,
            segment=customer.segment,
            product_line=line.product_line,
            edition=line.edition,
            mrr=line.mrr,
            currency=line.currency,
            seats=line.seats,
            effective_from=first_of_month(timezone.localdate()),
        )


def seed_demo_deals() -> list[str]:
    """Load the demo deals once (after the kernel's demo data); return what was done."""
    if Deal.objects.filter(customer__domain=MARKER_DOMAIN).exists():
        return ["Demo deals already loaded: nothing to do."]
    users = {u.email: u for u in User.objects.filter(email__endswith=".example")}
    if "admin@northwind.example" not in users:
        return ["Demo deals skipped: the demo program is not loaded."]
    with transaction.atomic():
        for email, region, segment in TERRITORIES:
            services.territory_assign(
                growth_specialist=users[email], region=region, segment=segment
            )
        return _seed(users)


def _seed(users: dict[str, User]) -> list[str]:
    northwind = users["admin@northwind.example"]
    bluepeak = users["admin@bluepeak.example"]
    atlas = users["admin@atlas.example"]
    gs_emea = users["gs.emea@demo.partnerportal.example"]
    gs = users["gs@demo.partnerportal.example"]
    ops = User.objects.filter(role=Role.PARTNER_OPS, email__endswith=".example").first()
    assert ops is not None  # noqa: S101 (loaded with the demo program)
    org = {o.name: o for o in Organisation.objects.all()}
    today = timezone.localdate()
    done: list[str] = []

    # 1. Partner Sourced, awaiting the GS's approval (routed to the EMEA/SMB specialist).
    _register(northwind, MARKER_DOMAIN, "Contoso Shop", "GB", "smb")
    done.append(f"{MARKER_DOMAIN}: Northwind's request awaits gs.emea's approval")

    # 2. Partner Sourced, rejected by the GS.
    rejected = _register(bluepeak, "wayne-media.fr", "Wayne Media", "FR", "smb")
    services.registration_decide(
        actor=gs_emea,
        registration=rejected,
        approve=False,
        note="The customer is already working with the vendor's own onboarding team.",
    )
    done.append("wayne-media.fr: Bluepeak's request was rejected")

    # 3. Approved, quoted, the customer has not answered the POI yet; one inquiry answered,
    #    one waiting for the partner.
    stark = _register(northwind, "stark-labs.co.uk", "Stark Labs", "GB", "smb")
    services.registration_decide(actor=gs_emea, registration=stark, approve=True)
    services.quote_save(
        actor=gs_emea,
        deal=stark.deal,
        lines=[
            _line("marketing_hub", "professional", "890.00", "GBP", 3),
            _line("reports_addon", None, "120.00", "GBP"),
        ],
    )
    asked = services.inquiry_ask(
        actor=gs_emea,
        registration=stark,
        question="Who is the customer's decision maker, and when do they plan to sign?",
    )
    services.inquiry_answer(
        actor=northwind, inquiry=asked, answer="Their CMO; signature expected this month."
    )
    services.inquiry_ask(
        actor=gs_emea,
        registration=stark,
        question="Will you run the data migration from their old CRM?",
    )
    poi_link = services.poi_url(_pending_poi(stark))
    done.append(f"stark-labs.co.uk: quoted; the customer's POI link is {poi_link}")

    # 4. A lapsed invitation (Partner Assisted) — lapsed by the periodic task.
    hooli = services.deal_create(
        actor=gs,
        customer_domain="hooli.de",
        customer_name="Hooli",
        country="DE",
        segment="mid_market",
    )
    invited = services.invitation_create(actor=gs, deal=hooli, partner_id=org["Atlas Solutions"].pk)
    if invited.expires_at is not None:
        services.invitations_lapse(at=invited.expires_at + timedelta(seconds=1))
    # 5. ... and an open invitation on the same deal, 72 hours to accept.
    services.invitation_create(actor=gs, deal=hooli, partner_id=org["Bluepeak Agency"].pk)
    done.append("hooli.de: vendor-owned; Atlas's invitation lapsed, Bluepeak's is open")

    # 6. Won by the only partner with a signed POI (single candidate); billed.
    initrode = _register(northwind, "initrode.co.uk", "Initrode", "GB", "smb")
    services.registration_decide(actor=gs_emea, registration=initrode, approve=True)
    won_lines = [
        _line("marketing_hub", "professional", "800.00", "GBP", 3),
        _line("sales_hub", "starter", "45.00", "GBP", 2),
    ]
    services.quote_save(actor=gs_emea, deal=initrode.deal, lines=won_lines)
    _answer(initrode, PoiDecision.APPROVE)
    services.deal_close(
        actor=gs_emea,
        deal=initrode.deal,
        purchase_domain="initrode.co.uk",
        close_date=today,
        lines=_bought(won_lines),
    )
    _bill(ops, initrode.deal, won_lines)
    done.append("initrode.co.uk: won by Northwind (single candidate), sold associations granted")

    # 7. Two signed POIs, nothing separates them: waits for partner ops (the ties queue).
    tie_lines = [_line("sales_hub", "professional", "1500.00", "EUR", 10)]
    tie_a = _register(northwind, "massive-dynamic.fr", "Massive Dynamic", "FR", "smb")
    tie_b = _register(bluepeak, "massive-dynamic.fr", "Massive Dynamic", "FR", "smb")
    for registration in (tie_a, tie_b):
        services.registration_decide(actor=gs_emea, registration=registration, approve=True)
    services.quote_save(actor=gs_emea, deal=tie_a.deal, lines=tie_lines)
    _answer(tie_a, PoiDecision.APPROVE)
    _answer(tie_b, PoiDecision.APPROVE)
    services.deal_close(
        actor=gs_emea,
        deal=tie_a.deal,
        purchase_domain="massive-dynamic.fr",
        close_date=today,
        lines=_bought(tie_lines),
    )
    done.append("massive-dynamic.fr: tied between Northwind and Bluepeak, awaiting partner ops")

    # 8. Dividing the services: the partner onboarding the highest-MRR line wins.
    split_lines = [
        _line("service_hub", "enterprise", "2400.00", "GBP", 12),
        _line("content_hub", "professional", "600.00", "GBP", 2),
    ]
    split_a = _register(northwind, "cyberdyne.co.uk", "Cyberdyne", "GB", "smb")
    split_b = _register(bluepeak, "cyberdyne.co.uk", "Cyberdyne", "GB", "smb")
    for registration in (split_a, split_b):
        services.registration_decide(actor=gs_emea, registration=registration, approve=True)
    services.quote_save(actor=gs_emea, deal=split_a.deal, lines=split_lines)
    _answer(split_a, PoiDecision.APPROVE)
    _answer(split_b, PoiDecision.REJECT)
    services.manual_poi_create(
        actor=bluepeak,
        registration=split_b,
        product_lines=["service_hub"],
        provides_onboarding=True,
    )
    _answer(split_b, PoiDecision.APPROVE)
    services.deal_close(
        actor=gs_emea,
        deal=split_a.deal,
        purchase_domain="cyberdyne.co.uk",
        close_date=today,
        lines=_bought(split_lines),
    )
    done.append("cyberdyne.co.uk: won by Bluepeak (onboards the highest-MRR line)")

    # 9. Referral: the sourcing partner referred a secondary partner, the customer chose the
    #    secondary for onboarding, so the sourcing partner wins.
    referral_lines = [_line("operations_hub", "professional", "720.00", "GBP", 4)]
    source = _register(northwind, "tyrell.co.uk", "Tyrell", "GB", "smb")
    services.registration_decide(actor=gs_emea, registration=source, approve=True)
    services.referral_create(
        actor=northwind, registration=source, partner_id=org["Bluepeak Agency"].pk
    )
    secondary = Registration.objects.get(
        deal=source.deal, organisation=org["Bluepeak Agency"], status=Registration.Status.REFERRED
    )
    services.secondary_acknowledge(actor=bluepeak, registration=secondary)
    services.quote_save(actor=gs_emea, deal=source.deal, lines=referral_lines)
    _answer(source, PoiDecision.APPROVE)
    _answer(secondary, PoiDecision.APPROVE)
    services.deal_close(
        actor=gs_emea,
        deal=source.deal,
        purchase_domain="tyrell.co.uk",
        close_date=today,
        lines=_bought(referral_lines),
        onboarding_partner=org["Bluepeak Agency"].pk,
    )
    done.append("tyrell.co.uk: won by Northwind (sourcing priority over its referral)")

    # 10. A vendor-owned deal closed with no signed POI: no partner credit.
    soylent = services.deal_create(
        actor=gs,
        customer_domain="soylent.com.br",
        customer_name="Soylent",
        country="BR",
        segment="smb",
    )
    accepted = services.invitation_create(
        actor=gs, deal=soylent, partner_id=org["Atlas Solutions"].pk
    )
    services.invitation_accept(actor=atlas, registration=accepted)
    no_poi_lines = [_line("credits", None, "300.00", "USD")]
    services.quote_save(actor=gs, deal=soylent, lines=no_poi_lines)
    services.deal_close(
        actor=gs,
        deal=soylent,
        purchase_domain="soylent.com.br",
        close_date=today,
        lines=_bought(no_poi_lines),
    )
    done.append("soylent.com.br: closed with no partner credit (no signed POI)")
    return [f"Loaded {len(done)} demo deals:", *(f"  - {line}" for line in done)]
