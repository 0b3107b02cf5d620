"""What partners do on deals (SPEC 5, 6): register, accept an invitation, refer a secondary
partner, acknowledge being secondary, create a manual POI, answer a GS inquiry.

Nothing here says whether another partner is on the same deal: registering on a domain
someone else registered gives the same status, body and work as registering alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from partnerportal.core.audit import audit
from partnerportal.core.errors import InvalidInput, StateConflict
from partnerportal.core.models import Customer, Organisation, User
from partnerportal.core.services import customer_get_or_create

from .. import rules, selectors
from ..inputs import QUESTION_MAX, STATEMENT_MAX
from ..models import Deal, Inquiry, Motion, Poi, Referral, Registration
from ..selectors import current_poi, route_growth_specialist
from ._common import (
    SECONDARY_ACKNOWLEDGEMENT,
    audit_registration,
    bounded_text,
    create_poi,
    issue_poi_for_current_quote,
    lock_deal,
    lock_registration,
    now,
    refuse,
    require_own,
    require_partner_user,
    tz,
)


@transaction.atomic
def registration_create(
    *, actor: User, customer_domain: str, customer_name: str, country: str, segment: str
) -> Registration:
    """Register a Partner Sourced deal on a customer domain (SPEC 5).

    Creates the customer if new and the open deal for it if there is none, else joins the open
    deal silently. The request goes to the GS of the customer's territory. A second open
    registration by the same partner on the domain is refused.
    """
    organisation = require_partner_user(actor)
    customer, _ = customer_get_or_create(
        actor=actor, domain=customer_domain, name=customer_name, country=country, segment=segment
    )
    # One registration at a time per customer: serialises duplicate submissions and the
    # creation of the customer's open deal.
    customer = (
        Customer.objects.select_for_update(of=("self",))  # not the country row
        .select_related("country")
        .get(pk=customer.pk)
    )
    deal = Deal.objects.filter(customer=customer, status=Deal.Status.OPEN).first()
    own_open = (
        0
        if deal is None
        else deal.registrations.filter(
            organisation=organisation, status__in=Registration.OPEN_STATUSES
        ).count()
    )
    try:
        rules.check_can_register(domain=customer.domain, own_open_registrations_on_domain=own_open)
    except InvalidInput as exc:
        raise exc.on_field("customer_domain") from exc
    moment = now()  # the process clock (SPEC 11), so a replayed year dates its deals
    if deal is None:
        deal = Deal.objects.create(
            customer=customer,
            growth_specialist=route_growth_specialist(customer),
            created_at=moment,
        )
        audit(
            actor=actor,
            verb="deals.deal.opened",
            subject=deal,
            data={"customer": customer.domain, "growth_specialist": deal.growth_specialist_id},
        )
    registration = Registration.objects.create(
        deal=deal,
        organisation=organisation,
        motion=Motion.PARTNER_SOURCED,
        status=Registration.Status.PENDING_APPROVAL,
        registered_domain=customer.domain,
        created_by=actor,
        created_at=moment,
        status_changed_at=moment,
    )
    audit_registration(actor=actor, verb="deals.registration.registered", registration=registration)
    return registration


@transaction.atomic
def invitation_accept(*, actor: User, registration: Registration) -> Registration:
    """The invited partner accepts within 72 hours (SPEC 5, Partner Assisted)."""
    require_own(actor, registration)
    deal = lock_deal(registration.deal)
    registration = lock_registration(registration)
    refuse(selectors.acceptance_refusal(registration, now=now()))
    registration.status = Registration.Status.ACCEPTED
    registration.status_changed_at = now()
    registration.save(update_fields=["status", "status_changed_at"])
    audit_registration(actor=actor, verb="deals.registration.accepted", registration=registration)
    issue_poi_for_current_quote(actor=actor, deal=deal, registration=registration)
    return registration


@transaction.atomic
def referral_create(*, actor: User, registration: Registration, partner_id: int) -> Registration:
    """The sourcing partner refers a secondary partner to its deal (SPEC 6, step 3): one listed
    in the public partner directory (`selectors.listed_partner`), which it finds by name.

    Returns the sourcing registration, and answers the same whether `partner_id` names a listed
    partner, one already on the deal, an unlisted one or none: a referral never tells whether a
    partner exists or is on the deal. Only a listed partner is referred; any other id is kept
    in the audit trail (probing shows there) and nothing else.
    """
    require_own(actor, registration)
    deal = lock_deal(registration.deal)
    registration = lock_registration(registration)
    refuse(selectors.referral_refusal(registration))
    if partner_id == registration.organisation_id:
        raise InvalidInput("A partner cannot refer itself.", field="partner")
    referred_partner = selectors.listed_partner(partner_id)
    if referred_partner is None:
        audit_registration(
            actor=actor,
            verb="deals.registration.referral_unmatched",
            registration=registration,
            partner=partner_id,
        )
        return registration
    _, new = Referral.objects.get_or_create(
        registration=registration,
        organisation=referred_partner,
        defaults={"created_by": actor, "created_at": now()},
    )
    if not new:
        return registration  # referred before: nothing changes
    referred = (
        Registration.objects.select_for_update()
        .filter(deal=deal, organisation=referred_partner, status__in=Registration.OPEN_STATUSES)
        .first()
    )
    if referred is None:
        moment = now()
        referred = Registration.objects.create(
            deal=deal,
            organisation=referred_partner,
            motion=Motion.PARTNER_ASSISTED,
            status=Registration.Status.REFERRED,
            registered_domain=deal.customer.domain,
            created_by=actor,
            created_at=moment,
            status_changed_at=moment,
            referred_by=registration,
        )
    elif referred.referred_by_id is None:
        referred.referred_by = registration
        referred.save(update_fields=["referred_by"])
    audit_registration(
        actor=actor,
        verb="deals.registration.referred",
        registration=referred,
        referred_by=registration.pk,
    )
    return registration


@transaction.atomic
def secondary_acknowledge(
    *, actor: User, registration: Registration, statement: str = ""
) -> Registration:
    """The referred partner acknowledges in writing that it is secondary (no sold credit)."""
    require_own(actor, registration)
    deal = lock_deal(registration.deal)
    registration = lock_registration(registration)
    refuse(selectors.acknowledgement_refusal(registration))
    statement = bounded_text(statement, limit=STATEMENT_MAX, field="statement")
    registration.acknowledged_secondary_at = now()
    registration.acknowledgement = statement or SECONDARY_ACKNOWLEDGEMENT
    fields = ["acknowledged_secondary_at", "acknowledgement"]
    if registration.status == Registration.Status.REFERRED:
        registration.status = Registration.Status.APPROVED
        registration.status_changed_at = registration.acknowledged_secondary_at
        fields += ["status", "status_changed_at"]
    registration.save(update_fields=fields)
    audit_registration(
        actor=actor,
        verb="deals.registration.acknowledged_secondary",
        registration=registration,
        reason=registration.acknowledgement,
    )
    issue_poi_for_current_quote(actor=actor, deal=deal, registration=registration)
    return registration


@transaction.atomic
def manual_poi_create(
    *,
    actor: User,
    registration: Registration,
    product_lines: Sequence[str],
    provides_onboarding: bool,
) -> Poi:
    """A partner creates a manual POI for a subset of the quote's lines, after the customer
    rejected the current one (SPEC 5). Providers cannot waive onboarding."""
    require_own(actor, registration)
    deal = lock_deal(registration.deal)
    registration = lock_registration(registration)
    refuse(selectors.manual_poi_refusal(registration))
    quote = deal.quote_versions.order_by("-number").first()
    poi = current_poi(registration)
    try:
        rules.check_poi_onboarding(
            is_provider=registration.organisation.kind == Organisation.Kind.PROVIDER,
            provides_onboarding=provides_onboarding,
        )
    except InvalidInput as exc:
        raise exc.on_field("provides_onboarding") from exc
    quote_lines = set(quote.lines.values_list("product_line_id", flat=True)) if quote else set()
    try:
        rules.check_manual_poi(
            current_poi_status=poi.status if poi else None,
            lines=list(product_lines),
            quote_lines=quote_lines,
        )
    except InvalidInput as exc:
        if exc.rule == rules.Rule.POI_LINES_NOT_ON_QUOTE:
            raise exc.on_field("lines") from exc
        raise
    if quote is None:  # unreachable: check_manual_poi refuses when there is no POI
        raise StateConflict("The deal has no quote yet.")
    wanted = set(product_lines)
    chosen = [c for c in quote.lines.values_list("product_line_id", flat=True) if c in wanted]
    return create_poi(
        actor=actor,
        quote=quote,
        registration=registration,
        kind=Poi.Kind.MANUAL,
        product_lines=chosen,
        provides_onboarding=provides_onboarding,
    )


@transaction.atomic
def inquiry_answer(*, actor: User, inquiry: Inquiry, answer: str) -> Inquiry:
    """The partner answers a GS inquiry; an answer after the deadline is recorded as a breach
    (SPEC 5, responsiveness)."""
    inquiry = (
        Inquiry.objects.select_for_update(of=("self",))
        .select_related("registration__organisation", "registration__deal__customer")
        .get(pk=inquiry.pk)
    )
    require_own(actor, inquiry.registration)
    answer = bounded_text(answer, limit=QUESTION_MAX, field="answer")
    if not answer:
        raise InvalidInput("Write the answer.", field="answer")
    if inquiry.answered_at is not None:
        raise StateConflict("This inquiry has already been answered.")
    inquiry.answer = answer
    inquiry.answered_at = now()
    inquiry.answered_by = actor
    inquiry.breach = rules.is_breach(
        asked_at=inquiry.asked_at,
        answered_at=inquiry.answered_at,
        country=inquiry.registration.deal.customer.country_id,
        tz=tz(),
    )
    inquiry.save(update_fields=["answer", "answered_at", "answered_by", "breach"])
    audit(
        actor=actor,
        verb="deals.inquiry.answered",
        subject=inquiry,
        organisation=inquiry.registration.organisation,
        data={"breach": inquiry.breach, "due": inquiry.answer_due_at},
    )
    return inquiry
