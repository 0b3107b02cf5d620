"""What growth specialists do on deals (SPEC 5, 6): decide Partner Sourced requests, open
vendor-owned deals and invite partners, quote, close (Best Partner Wins), ask partners
questions; and the periodic lapse of invitations.

Concurrency: every service that changes a deal's quote, POIs or outcome first locks the deal
row (`SELECT ... FOR UPDATE`), so a close, a decision and a quote update on one deal run one
after the other. The invariants are also constraints (see `deals.models`), so even a missed
lock cannot produce two winners or two holders.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from partnerportal.core.access import require
from partnerportal.core.audit import audit
from partnerportal.core.errors import InvalidInput, StateConflict
from partnerportal.core.models import Customer, User
from partnerportal.core.services import customer_get_or_create

from .. import rules
from ..inputs import (
    NOTE_MAX,
    QUESTION_MAX,
    ClosedLineInput,
    QuoteLineInput,
)
from ..models import (
    Deal,
    Inquiry,
    Motion,
    Poi,
    PurchasedLine,
    QuoteLine,
    QuoteVersion,
    Registration,
)
from ..permissions import DealAction
from ._closing import ClosePlan, grant_associations, plan_close, store_resolution
from ._common import (
    audit_registration,
    bounded_text,
    check_eligible,
    create_poi,
    expected_close_horizon_days,
    invitable_partner,
    issue_poi_for_current_quote,
    lock_deal,
    lock_registration,
    now,
    require_deal_open,
    resolve_lines,
    tz,
)

# --- Partner Sourced requests ----------------------------------------------------------------


@transaction.atomic
def registration_decide(
    *, actor: User, registration: Registration, approve: bool, note: str = ""
) -> Registration:
    """The GS approves or rejects a partner's Partner Sourced request."""
    require(actor, DealAction.MANAGE)
    deal = lock_deal(registration.deal)
    registration = lock_registration(registration)
    if registration.status != Registration.Status.PENDING_APPROVAL:
        raise StateConflict("This request has already been decided.")
    if approve:
        require_deal_open(deal)
    registration.status = Registration.Status.APPROVED if approve else Registration.Status.REJECTED
    registration.status_changed_at = now()
    registration.decision_note = bounded_text(note, limit=NOTE_MAX, field="note")
    registration.save(update_fields=["status", "status_changed_at", "decision_note"])
    audit_registration(
        actor=actor,
        verb="deals.registration.approved" if approve else "deals.registration.rejected",
        registration=registration,
        reason=registration.decision_note,
    )
    if approve:
        issue_poi_for_current_quote(actor=actor, deal=deal, registration=registration)
    return registration


# --- Vendor-owned deals and invitations (Partner Assisted) ----------------------------------


@transaction.atomic
def deal_create(
    *, actor: User, customer_domain: str, customer_name: str, country: str, segment: str
) -> Deal:
    """A GS opens a vendor-owned deal on a customer domain."""
    require(actor, DealAction.MANAGE)
    customer, _ = customer_get_or_create(
        actor=actor, domain=customer_domain, name=customer_name, country=country, segment=segment
    )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    existing = Deal.objects.filter(customer=customer, status=Deal.Status.OPEN).first()
    if existing is not None:
        raise InvalidInput(
            f"Deal {existing.pk} is already open on {customer.domain}; invite partners to it.",
            field="customer_domain",
        )
    deal = Deal.objects.create(
        customer=customer, growth_specialist=actor, vendor_owned=True, created_at=now()
    )
    audit(
        actor=actor,
        verb="deals.deal.opened",
        subject=deal,
        data={"customer": customer.domain, "vendor_owned": True},
    )
    return deal


@transaction.atomic
def invitation_create(*, actor: User, deal: Deal, partner_id: int) -> Registration:
    """The GS invites a partner to a deal (Partner Assisted); it has 72 hours to accept."""
    require(actor, DealAction.MANAGE)
    deal = lock_deal(deal)
    require_deal_open(deal)
    invited = invitable_partner(actor, partner_id, field="partner")
    if deal.registrations.filter(
        organisation=invited, status__in=Registration.OPEN_STATUSES
    ).exists():
        raise InvalidInput("This partner is already on the deal.", field="partner")
    moment = now()
    registration = Registration.objects.create(
        deal=deal,
        organisation=invited,
        motion=Motion.PARTNER_ASSISTED,
        status=Registration.Status.INVITED,
        registered_domain=deal.customer.domain,
        created_by=actor,
        created_at=moment,
        status_changed_at=moment,
        expires_at=rules.invitation_expires_at(invited_at=moment),
    )
    audit_registration(
        actor=actor,
        verb="deals.registration.invited",
        registration=registration,
        expires_at=registration.expires_at,
    )
    return registration


def invitations_lapse(*, at: datetime | None = None) -> int:
    """Lapse every invitation not accepted within 72 hours (the periodic task). Idempotent:
    only invitations still `invited` and past their expiry change, each audited once."""
    moment = at or now()
    with transaction.atomic():
        due = list(
            Registration.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Registration.Status.INVITED, expires_at__lt=moment)
            .select_related("organisation")
            .order_by("pk")
        )
        for registration in due:
            registration.status = Registration.Status.LAPSED
            registration.status_changed_at = moment
        Registration.objects.bulk_update(due, ["status", "status_changed_at"])
        for registration in due:
            audit_registration(
                actor=None,
                verb="deals.registration.lapsed",
                registration=registration,
                reason="Not accepted within 72 hours.",
            )
    return len(due)


# --- Quotes ----------------------------------------------------------------------------------


def _end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@transaction.atomic
def quote_save(
    *,
    actor: User,
    deal: Deal,
    lines: Sequence[QuoteLineInput],
    expected_close_date: date | None = None,
) -> QuoteVersion:
    """The GS saves a new version of the deal's quote (SPEC 5). Eligibility is enforced; one
    POI per partner on the deal is generated listing the quote's lines; a POI of an earlier
    version (approved or not) is voided and kept in history."""
    require(actor, DealAction.MANAGE)
    deal = lock_deal(deal)
    require_deal_open(deal)
    resolved = resolve_lines(lines)
    check_eligible(deal, resolved)
    today = timezone.localdate()
    if expected_close_date is not None:
        try:
            rules.check_expected_close_date(
                expected=expected_close_date,
                today=today,
                horizon_days=expected_close_horizon_days(),
            )
        except InvalidInput as exc:
            raise exc.on_field("expected_close_date") from exc
        deal.expected_close_date = expected_close_date
    elif deal.expected_close_date is None or deal.expected_close_date < today:
        deal.expected_close_date = _end_of_month(today)
    deal.save(update_fields=["expected_close_date"])

    last = deal.quote_versions.order_by("-number").values_list("number", flat=True).first()
    quote = QuoteVersion.objects.create(deal=deal, number=(last or 0) + 1, created_by=actor)
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            product_line=line.product_line,
            edition=line.edition,
            seats=line.seats,
            mrr=line.mrr,
            currency=line.currency,
            discount_pct=line.discount_pct,
            discount_approval=line.discount_approval,
        )
        for line in resolved
    )
    audit(
        actor=actor,
        verb="deals.quote.saved",
        subject=quote,
        data={
            "deal": deal.pk,
            "version": quote.number,
            "lines": [
                {
                    "product_line": line.product_line.code,
                    "edition": line.edition.code if line.edition else None,
                    "seats": line.seats,
                    "mrr": str(line.mrr),
                    "currency": line.currency.code,
                }
                for line in resolved
            ],
        },
    )
    moment = now()
    for poi in (
        Poi.objects.select_for_update(of=("self",))  # not the registrations: see lock_registration
        .filter(registration__deal=deal, status__in=[Poi.Status.PENDING, Poi.Status.APPROVED])
        .select_related("registration__organisation")
    ):
        before = poi.status
        poi.status_before_void = before
        poi.status = Poi.Status.VOIDED
        poi.voided_at = moment
        poi.save(update_fields=["status", "status_before_void", "voided_at"])
        audit(
            actor=actor,
            verb="deals.poi.voided",
            subject=poi,
            organisation=poi.registration.organisation,
            reason=f"Quote changed to version {quote.number}.",
            data={"registration": poi.registration_id, "was": before},
        )
    for registration in deal.registrations.filter(
        status__in=Registration.ACTIVE_STATUSES
    ).select_related("organisation"):
        create_poi(actor=actor, quote=quote, registration=registration, kind=Poi.Kind.AUTO)
    return quote


# --- Close and Best Partner Wins (SPEC 6) ----------------------------------------------------


def deal_close_preview(
    *,
    actor: User,
    deal: Deal,
    purchase_domain: str,
    close_date: date,
    lines: Sequence[ClosedLineInput],
    onboarding_partner: int | None = None,
    domain_mismatch_reason: str = "",
) -> ClosePlan:
    """A dry run of `deal_close`: the same checks and the same Best Partner Wins decision, and
    nothing written (it runs in a transaction that is rolled back, whatever the rules read).
    It refuses what the close would refuse, with the same errors."""
    require(actor, DealAction.MANAGE)
    with transaction.atomic():
        plan = plan_close(
            deal=Deal.objects.select_related("customer__country").get(pk=deal.pk),
            purchase_domain=purchase_domain,
            close_date=close_date,
            lines=lines,
            onboarding_partner=onboarding_partner,
            domain_mismatch_reason=domain_mismatch_reason,
        )
        transaction.set_rollback(True)
    return plan


@transaction.atomic
def deal_close(
    *,
    actor: User,
    deal: Deal,
    purchase_domain: str,
    close_date: date,
    lines: Sequence[ClosedLineInput],
    onboarding_partner: int | None = None,
    domain_mismatch_reason: str = "",
) -> Deal:
    """The GS closes the deal as won; Best Partner Wins decides the credit (SPEC 6).

    `lines` are the purchased lines and must all be on the current quote (a value left out is
    the quote's). The purchase domain is normalised as a registration's is
    (`core.rules.normalise_domain`) and must be one registered on the deal, unless
    `domain_mismatch_reason` says why not (recorded in the audit trail). The close date lies
    between the day the deal opened and today. Eligibility is checked again.
    """
    require(actor, DealAction.MANAGE)
    deal = lock_deal(deal)
    plan = plan_close(
        deal=deal,
        purchase_domain=purchase_domain,
        close_date=close_date,
        lines=lines,
        onboarding_partner=onboarding_partner,
        domain_mismatch_reason=domain_mismatch_reason,
    )
    resolution = plan.resolution
    credited = {line.product_line: line for line in plan.eligibility.lines}
    PurchasedLine.objects.bulk_create(
        PurchasedLine(
            deal=deal,
            product_line=p.product_line,
            edition=p.edition,
            seats=p.seats,
            mrr=p.mrr,
            currency=p.currency,
            credited=credited[p.product_line.code].credited,
            eligibility_rule=str(credited[p.product_line.code].rule),
        )
        for p in plan.lines
    )
    deal.purchase_domain = plan.purchase_domain
    deal.close_date = plan.close_date
    deal.closed_at = now()
    deal.closed_by = actor
    deal.onboarding_partner = plan.onboarding_partner
    store_resolution(deal, resolution)
    deal.status = (
        Deal.Status.AWAITING_DECISION
        if resolution.rule == rules.Rule.AWAITING_DECISION
        else Deal.Status.WON
    )
    deal.save()
    data: dict[str, object] = {
        "rule": str(resolution.rule),
        "winner": resolution.winner,
        "purchase_domain": plan.purchase_domain,
        "close_date": plan.close_date.isoformat(),
        "domain_registered": plan.domain_registered,
    }
    if not plan.domain_registered:
        data["domain_mismatch_reason"] = plan.domain_mismatch_reason
    audit(
        actor=actor,
        verb="deals.deal.closed",
        subject=deal,
        reason=resolution.explanation,
        data=data,
    )
    if resolution.winner is not None:
        grant_associations(actor=actor, deal=deal)
    return deal


# --- Responsiveness (SPEC 5) ----------------------------------------------------------------


@transaction.atomic
def inquiry_ask(*, actor: User, registration: Registration, question: str) -> Inquiry:
    """The GS asks a partner on the deal a question; the answer is due in 48 business hours
    in the deal's country (public holidays: 17:00 of the next business day)."""
    require(actor, DealAction.MANAGE)
    question = bounded_text(question, limit=QUESTION_MAX, field="question")
    if not question:
        raise InvalidInput("Write the question.", field="question")
    registration = lock_registration(registration)
    if registration.status not in Registration.OPEN_STATUSES:
        raise StateConflict("This partner is no longer on the deal.")
    asked_at = now()
    inquiry = Inquiry.objects.create(
        registration=registration,
        question=question,
        asked_by=actor,
        asked_at=asked_at,
        answer_due_at=rules.answer_deadline(
            asked_at=asked_at, country=registration.deal.customer.country_id, tz=tz()
        ),
    )
    audit(
        actor=actor,
        verb="deals.inquiry.asked",
        subject=inquiry,
        organisation=registration.organisation,
        data={"registration": registration.pk, "due": inquiry.answer_due_at},
    )
    return inquiry
