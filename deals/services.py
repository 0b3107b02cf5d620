"""Writes of deals (SPEC 5 and 6). Each service checks permission, validates, locks what it
changes, writes and audits in one transaction; the decisions themselves are the pure functions
of `deals.rules`. Views, the API, commands and tasks call these and never save models.

Concurrency: every service that changes a deal's quote, POIs or outcome first locks the deal
row (`SELECT ... FOR UPDATE`), so a close, a decision and a quote update on one deal run one
after the other; a POI decision locks its POI row. The invariants are also constraints
(see `deals.models`), so even a missed lock cannot produce two winners or two holders.

Nothing a partner can reach says whether another partner is on the same deal: registering on
a domain someone else registered gives the same status, body and work as registering alone.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from partnerportal.core.access import require
from partnerportal.core.audit import audit
from partnerportal.core.errors import StateConflict
from partnerportal.core.models import (
    Currency,
    Customer,
    Edition,
    Organisation,
    ProductLine,
    User,
)
from partnerportal.core.selectors import versions_in_effect
from partnerportal.core.services import customer_get_or_create

from . import rules
from .models import (
    Deal,
    Inquiry,
    Motion,
    Poi,
    PurchasedLine,
    QuoteLine,
    QuoteVersion,
    Registration,
    SoldAssociation,
    Territory,
)
from .permissions import DealAction
from .selectors import current_poi, route_growth_specialist

POI_SALT = "deals.poi"
SECONDARY_ACKNOWLEDGEMENT = (
    "We acknowledge that we were referred to this deal by the sourcing partner, that we are "
    "the secondary partner on it, and that we receive no sold credit for it."
)


POI_LINK_PROBLEMS = {
    "invalid": "This link is not valid. Check that you copied the whole address.",
    "used": "This request has already been answered. Thank you.",
    "replaced": (
        "The quote changed after this link was sent, so it was replaced by a new one: "
        "use the latest link you received."
    ),
    "closed": "This deal is closed, so this request can no longer be answered.",
    "expired": "This request expired at the deal's close date and can no longer be answered.",
}


class PoiLinkError(Exception):
    """A POI link that cannot be answered: `reason` is `invalid`, `used`, `expired` or `closed`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _policy(field: str, exc: rules.PolicyError) -> ValidationError:
    """A refused rule as a 400 naming the field and the rule."""
    return ValidationError({field: [exc.message], "rule": [str(exc.rule)]})


def _now() -> datetime:
    return timezone.now()


def _tz() -> Any:
    return timezone.get_current_timezone()


def _require_partner_user(actor: User) -> Organisation:
    require(actor, DealAction.REGISTER)
    if actor.organisation is None:
        raise PermissionDenied("Only partner users can do this.")
    return actor.organisation


def _require_own(actor: User, registration: Registration) -> None:
    """A partner acts only on its own registrations; callers got them through the selectors,
    so this is a second line of defence."""
    _require_partner_user(actor)
    if registration.organisation_id != actor.organisation_id:
        raise PermissionDenied("You are not allowed to do this.")


def _lock_registration(registration: Registration) -> Registration:
    # Lock the registration row only (`of`): the joined deal, customer, country and partner
    # rows are read, not locked, so this never waits on (or deadlocks with) a deal lock.
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("deal__customer__country", "organisation")
        .get(pk=registration.pk)
    )


def _lock_deal(deal: Deal) -> Deal:
    return (
        Deal.objects.select_for_update(of=("self",))
        .select_related("customer__country")
        .get(pk=deal.pk)
    )


def _require_deal_open(deal: Deal) -> None:
    if deal.status != Deal.Status.OPEN:
        raise StateConflict(f"This deal is {deal.get_status_display().lower()}; it cannot change.")


def _audit_registration(
    *, actor: User | None, verb: str, registration: Registration, reason: str = "", **data: Any
) -> None:
    audit(
        actor=actor,
        verb=verb,
        subject=registration,
        organisation=registration.organisation,
        reason=reason,
        data={"deal": registration.deal_id, "status": registration.status, **data},
    )


# --- Registrations (Partner Sourced) ---------------------------------------------------------


@transaction.atomic
def registration_create(
    *, actor: User, customer_domain: str, customer_name: str, country: str, segment: str
) -> Registration:
    """Register a Partner Sourced deal on a customer domain (SPEC 5).

    Creates the customer if new and the open deal for it if there is none, else joins the open
    deal silently. The request goes to the GS of the customer's territory. A second open
    registration by the same partner on the domain is refused.
    """
    organisation = _require_partner_user(actor)
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
    except rules.PolicyError as exc:
        raise _policy("customer_domain", exc) from exc
    if deal is None:
        deal = Deal.objects.create(
            customer=customer, growth_specialist=route_growth_specialist(customer)
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
    )
    _audit_registration(
        actor=actor, verb="deals.registration.registered", registration=registration
    )
    return registration


@transaction.atomic
def registration_decide(
    *, actor: User, registration: Registration, approve: bool, note: str = ""
) -> Registration:
    """The GS approves or rejects a partner's Partner Sourced request."""
    require(actor, DealAction.MANAGE)
    deal = _lock_deal(registration.deal)
    registration = _lock_registration(registration)
    if registration.status != Registration.Status.PENDING_APPROVAL:
        raise StateConflict("This request has already been decided.")
    if approve:
        _require_deal_open(deal)
    registration.status = Registration.Status.APPROVED if approve else Registration.Status.REJECTED
    registration.status_changed_at = _now()
    registration.decision_note = (note or "").strip()
    registration.save(update_fields=["status", "status_changed_at", "decision_note"])
    _audit_registration(
        actor=actor,
        verb="deals.registration.approved" if approve else "deals.registration.rejected",
        registration=registration,
        reason=registration.decision_note,
    )
    if approve:
        _issue_poi_for_current_quote(actor=actor, deal=deal, registration=registration)
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
        raise _invalid(
            "customer_domain",
            f"Deal {existing.pk} is already open on {customer.domain}; invite partners to it.",
        )
    deal = Deal.objects.create(customer=customer, growth_specialist=actor, vendor_owned=True)
    audit(
        actor=actor,
        verb="deals.deal.opened",
        subject=deal,
        data={"customer": customer.domain, "vendor_owned": True},
    )
    return deal


@transaction.atomic
def invitation_create(*, actor: User, deal: Deal, partner_id: object) -> Registration:
    """The GS invites a partner to a deal (Partner Assisted); it has 72 hours to accept."""
    require(actor, DealAction.MANAGE)
    deal = _lock_deal(deal)
    _require_deal_open(deal)
    partner = _partner(partner_id, field="partner")
    if deal.registrations.filter(
        organisation=partner, status__in=Registration.OPEN_STATUSES
    ).exists():
        raise _invalid("partner", "This partner is already on the deal.")
    now = _now()
    registration = Registration.objects.create(
        deal=deal,
        organisation=partner,
        motion=Motion.PARTNER_ASSISTED,
        status=Registration.Status.INVITED,
        registered_domain=deal.customer.domain,
        created_by=actor,
        status_changed_at=now,
        expires_at=rules.invitation_expires_at(invited_at=now),
    )
    _audit_registration(
        actor=actor,
        verb="deals.registration.invited",
        registration=registration,
        expires_at=registration.expires_at,
    )
    return registration


@transaction.atomic
def invitation_accept(*, actor: User, registration: Registration) -> Registration:
    """The invited partner accepts within 72 hours."""
    _require_own(actor, registration)
    deal = _lock_deal(registration.deal)
    registration = _lock_registration(registration)
    if registration.status != Registration.Status.INVITED or registration.expires_at is None:
        raise StateConflict("There is no open invitation to accept.")
    if rules.invitation_lapsed(
        invited_at=registration.expires_at - rules.INVITATION_TTL, now=_now(), accepted=False
    ):
        raise StateConflict("This invitation has lapsed: it was not accepted within 72 hours.")
    _require_deal_open(deal)
    registration.status = Registration.Status.ACCEPTED
    registration.status_changed_at = _now()
    registration.save(update_fields=["status", "status_changed_at"])
    _audit_registration(actor=actor, verb="deals.registration.accepted", registration=registration)
    _issue_poi_for_current_quote(actor=actor, deal=deal, registration=registration)
    return registration


def invitations_lapse(*, now: datetime | None = None) -> int:
    """Lapse every invitation not accepted within 72 hours (the periodic task). Idempotent:
    only invitations still `invited` and past their expiry change, each audited once."""
    moment = now or _now()
    lapsed = 0
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
            _audit_registration(
                actor=None,
                verb="deals.registration.lapsed",
                registration=registration,
                reason="Not accepted within 72 hours.",
            )
        lapsed = len(due)
    return lapsed


# --- Referrals (SPEC 6, step 3) -------------------------------------------------------------


@transaction.atomic
def referral_create(*, actor: User, registration: Registration, partner_id: object) -> Registration:
    """The sourcing partner refers a secondary partner to its deal. Returns the sourcing
    registration (the response shape is the same whether or not the referred partner was
    already on the deal)."""
    _require_own(actor, registration)
    deal = _lock_deal(registration.deal)
    registration = _lock_registration(registration)
    if registration.motion != Motion.PARTNER_SOURCED or not registration.is_active:
        raise StateConflict("Only an approved Partner Sourced registration can refer a partner.")
    _require_deal_open(deal)
    partner = _partner(partner_id, field="partner")
    if partner.pk == registration.organisation_id:
        raise _invalid("partner", "A partner cannot refer itself.")
    referred = (
        Registration.objects.select_for_update()
        .filter(deal=deal, organisation=partner, status__in=Registration.OPEN_STATUSES)
        .first()
    )
    if referred is None:
        referred = Registration.objects.create(
            deal=deal,
            organisation=partner,
            motion=Motion.PARTNER_ASSISTED,
            status=Registration.Status.REFERRED,
            registered_domain=deal.customer.domain,
            created_by=actor,
            referred_by=registration,
        )
    elif referred.referred_by_id is None:
        referred.referred_by = registration
        referred.save(update_fields=["referred_by"])
    _audit_registration(
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
    _require_own(actor, registration)
    deal = _lock_deal(registration.deal)
    registration = _lock_registration(registration)
    if registration.referred_by_id is None:
        raise StateConflict("This registration was not referred by a sourcing partner.")
    if registration.acknowledged_secondary_at is not None:
        raise StateConflict("You have already acknowledged this referral.")
    _require_deal_open(deal)
    registration.acknowledged_secondary_at = _now()
    registration.acknowledgement = (statement or "").strip() or SECONDARY_ACKNOWLEDGEMENT
    fields = ["acknowledged_secondary_at", "acknowledgement"]
    if registration.status == Registration.Status.REFERRED:
        registration.status = Registration.Status.APPROVED
        registration.status_changed_at = registration.acknowledged_secondary_at
        fields += ["status", "status_changed_at"]
    registration.save(update_fields=fields)
    _audit_registration(
        actor=actor,
        verb="deals.registration.acknowledged_secondary",
        registration=registration,
        reason=registration.acknowledgement,
    )
    _issue_poi_for_current_quote(actor=actor, deal=deal, registration=registration)
    return registration


def _partner(value: object, *, field: str) -> Organisation:
    try:
        pk = int(str(value))
    except (TypeError, ValueError) as exc:
        raise _invalid(field, "Give the partner's id.") from exc
    partner = Organisation.objects.filter(pk=pk).first()
    if partner is None:
        raise _invalid(field, "No such partner.")
    return partner


# --- Quotes and POIs -------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    product_line: ProductLine
    edition: Edition | None
    seats: int
    mrr: Decimal
    currency: Currency
    discount_pct: Decimal = Decimal("0")
    discount_approval: str = ""


def _decimal(value: object, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise _invalid(field, f"'{value}' is not an amount.") from exc
    if not amount.is_finite():
        raise _invalid(field, f"'{value}' is not an amount.")
    return amount


def parse_lines(raw: object, *, field: str = "lines") -> list[LineInput]:
    """Validate quote or purchase lines given as plain values (from the API or a form).
    Errors name the line: `lines[1].currency`."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise _invalid(field, "Give a list of lines.")
    if not raw:
        raise _invalid(field, "Give at least one line.")
    product_lines = {p.code: p for p in ProductLine.objects.prefetch_related("editions")}
    editions = {e.code: e for e in Edition.objects.all()}
    currencies = {c.code: c for c in Currency.objects.all()}
    parsed: list[LineInput] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(item, Mapping):
            raise _invalid(where, "Each line is an object.")
        code = str(item.get("product_line") or "").strip()
        product_line = product_lines.get(code)
        if product_line is None:
            raise _invalid(
                f"{where}.product_line",
                f"Unknown product line '{code}'. Known: {', '.join(sorted(product_lines))}.",
            )
        if code in seen:
            raise _invalid(f"{where}.product_line", f"{product_line.name} appears twice.")
        seen.add(code)
        allowed = {e.code for e in product_line.editions.all()}
        edition_code = item.get("edition") or None
        if allowed and edition_code not in allowed:
            raise _invalid(
                f"{where}.edition",
                f"{product_line.name} needs an edition: {', '.join(sorted(allowed))}.",
            )
        if not allowed and edition_code is not None:
            raise _invalid(f"{where}.edition", f"{product_line.name} has no editions.")
        mrr = _decimal(item.get("mrr"), f"{where}.mrr")
        if mrr < 0:
            raise _invalid(f"{where}.mrr", "MRR cannot be negative.")
        if mrr.as_tuple().exponent < -2:  # type: ignore[operator]
            raise _invalid(f"{where}.mrr", "MRR has at most 2 decimal places.")
        currency_code = str(item.get("currency") or "").strip().upper()
        currency = currencies.get(currency_code)
        if currency is None:
            raise _invalid(
                f"{where}.currency",
                f"Unsupported currency '{item.get('currency')}'. "
                f"Accepted: {', '.join(sorted(currencies))}.",
            )
        seats_raw = item.get("seats", 1)
        try:
            seats = int(seats_raw if seats_raw is not None else 1)
        except (TypeError, ValueError) as exc:
            raise _invalid(f"{where}.seats", "Seats is a whole number.") from exc
        if seats < 0 or isinstance(seats_raw, bool):
            raise _invalid(f"{where}.seats", "Seats cannot be negative.")
        discount = _decimal(item.get("discount_pct", 0) or 0, f"{where}.discount_pct")
        if discount < 0 or discount > 100:
            raise _invalid(f"{where}.discount_pct", "A discount is between 0 and 100 %.")
        approval = str(item.get("discount_approval") or "").strip()
        try:
            rules.check_discount_allowed(
                product_line=code, discount=discount, approval_present=bool(approval)
            )
        except rules.PolicyError as exc:
            raise _policy(f"{where}.discount_approval", exc) from exc
        parsed.append(
            LineInput(
                product_line=product_line,
                edition=editions[edition_code] if edition_code else None,
                seats=seats,
                mrr=mrr,
                currency=currency,
                discount_pct=discount,
                discount_approval=approval,
            )
        )
    return parsed


def _held_lines(deal: Deal) -> dict[str, rules.HeldLine]:
    """What the customer already held when the deal opened (SPEC 5): lines whose subscription
    was in effect that day. A line held by a partner that is not on this deal counts as
    "held by another partner" for the Starter-upgrade exception."""
    opened = timezone.localdate(deal.created_at)
    on_deal = set(
        deal.registrations.filter(status__in=Registration.OPEN_STATUSES).values_list(
            "organisation_id", flat=True
        )
    )
    holders = dict(
        SoldAssociation.objects.filter(customer=deal.customer).values_list(
            "product_line_id", "organisation_id"
        )
    )
    held: dict[str, rules.HeldLine] = {}
    for product_line, edition in (
        versions_in_effect(opened)
        .filter(subscription__customer=deal.customer)
        .values_list("subscription__product_line_id", "edition_id")
    ):
        holder = holders.get(product_line)
        held[product_line] = rules.HeldLine(
            edition=rules.Edition(edition) if edition else None,
            held_by_other_partner=holder is not None and holder not in on_deal,
        )
    return held


def _check_eligible(deal: Deal, lines: Sequence[LineInput]) -> rules.EligibilityResult:
    result = rules.check_quote_eligibility(
        lines=[
            rules.QuoteLine(
                product_line=line.product_line.code,
                edition=rules.Edition(line.edition.code) if line.edition else None,
                mrr=line.mrr,
            )
            for line in lines
        ],
        held_lines=_held_lines(deal),
    )
    try:
        result.raise_if_ineligible()
    except rules.PolicyError as exc:
        error = _policy("lines", exc)
        # Say also why each line is not credited (e.g. the customer already holds it).
        index = {line.product_line.code: i for i, line in enumerate(lines)}
        for failure in result.failures:
            if failure.product_line is not None:
                error.error_dict[f"lines[{index[failure.product_line]}].product_line"] = [
                    ValidationError(failure.message)
                ]
        raise error from exc
    return result


def _end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@transaction.atomic
def quote_save(
    *,
    actor: User,
    deal: Deal,
    lines: object,
    expected_close_date: date | None = None,
) -> QuoteVersion:
    """The GS saves a new version of the deal's quote (SPEC 5). Eligibility is enforced; one
    POI per partner on the deal is generated listing the quote's lines; a POI of an earlier
    version (approved or not) is voided and kept in history."""
    require(actor, DealAction.MANAGE)
    deal = _lock_deal(deal)
    _require_deal_open(deal)
    parsed = parse_lines(lines)
    _check_eligible(deal, parsed)
    today = timezone.localdate()
    if expected_close_date is not None:
        if expected_close_date < today:
            raise _invalid("expected_close_date", "The expected close date is in the past.")
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
        for line in parsed
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
                for line in parsed
            ],
        },
    )
    now = _now()
    for poi in (
        Poi.objects.select_for_update(of=("self",))  # not the registrations: see _lock_registration
        .filter(registration__deal=deal, status__in=[Poi.Status.PENDING, Poi.Status.APPROVED])
        .select_related("registration__organisation")
    ):
        before = poi.status
        poi.status_before_void = before
        poi.status = Poi.Status.VOIDED
        poi.voided_at = now
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
        _create_poi(actor=actor, quote=quote, registration=registration, kind=Poi.Kind.AUTO)
    return quote


def _create_poi(
    *,
    actor: User,
    quote: QuoteVersion,
    registration: Registration,
    kind: str,
    product_lines: Sequence[str] | None = None,
    provides_onboarding: bool = False,
) -> Poi:
    lines = (
        list(product_lines)
        if product_lines is not None
        else list(quote.lines.values_list("product_line_id", flat=True))
    )
    poi = Poi.objects.create(
        registration=registration,
        quote=quote,
        kind=kind,
        product_lines=lines,
        provides_onboarding=provides_onboarding,
    )
    audit(
        actor=actor,
        verb="deals.poi.created",
        subject=poi,
        organisation=registration.organisation,
        data={
            "registration": registration.pk,
            "quote_version": quote.number,
            "kind": kind,
            "lines": lines,
            "provides_onboarding": provides_onboarding,
        },
    )
    return poi


def _issue_poi_for_current_quote(*, actor: User, deal: Deal, registration: Registration) -> None:
    """A partner that joins a deal with a quote gets its POI for the current version."""
    quote = deal.quote_versions.order_by("-number").first()
    if quote is None or not registration.is_active:
        return
    if Poi.objects.filter(
        registration=registration, status__in=[Poi.Status.PENDING, Poi.Status.APPROVED]
    ).exists():
        return
    _create_poi(actor=actor, quote=quote, registration=registration, kind=Poi.Kind.AUTO)


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
    _require_own(actor, registration)
    deal = _lock_deal(registration.deal)
    registration = _lock_registration(registration)
    _require_deal_open(deal)
    if not registration.is_active:
        raise StateConflict("Your registration is not active on this deal.")
    quote = deal.quote_versions.order_by("-number").first()
    poi = current_poi(registration)
    try:
        rules.check_poi_onboarding(
            is_provider=registration.organisation.kind == Organisation.Kind.PROVIDER,
            provides_onboarding=provides_onboarding,
        )
    except rules.PolicyError as exc:
        raise _policy("provides_onboarding", exc) from exc
    quote_lines = set(quote.lines.values_list("product_line_id", flat=True)) if quote else set()
    try:
        rules.check_manual_poi(
            current_poi_status=poi.status if poi else None,
            lines=list(product_lines),
            quote_lines=quote_lines,
        )
    except rules.PolicyError as exc:
        field = "lines" if exc.rule == rules.Rule.POI_LINES_NOT_ON_QUOTE else "non_field_errors"
        raise _policy(field, exc) from exc
    if quote is None:  # unreachable: check_manual_poi refuses when there is no POI
        raise StateConflict("The deal has no quote yet.")
    wanted = set(product_lines)
    chosen = [c for c in quote.lines.values_list("product_line_id", flat=True) if c in wanted]
    return _create_poi(
        actor=actor,
        quote=quote,
        registration=registration,
        kind=Poi.Kind.MANUAL,
        product_lines=chosen,
        provides_onboarding=provides_onboarding,
    )


def poi_token(poi: Poi) -> str:
    return signing.Signer(salt=POI_SALT).sign(poi.nonce)


def poi_url(poi: Poi) -> str:
    return settings.PORTAL_BASE_URL + reverse("poi-answer", kwargs={"token": poi_token(poi)})


def poi_from_token(token: str) -> Poi:
    """The POI a link points at, or PoiLinkError('invalid') for a forged or mangled link."""
    try:
        nonce = signing.Signer(salt=POI_SALT).unsign(token)
    except signing.BadSignature as exc:
        raise PoiLinkError("invalid") from exc
    poi = (
        Poi.objects.select_related(
            "registration__organisation", "registration__deal__customer", "quote"
        )
        .filter(nonce=nonce)
        .first()
    )
    if poi is None:
        raise PoiLinkError("invalid")
    return poi


def poi_link_problem(poi: Poi, *, now: datetime | None = None) -> str | None:
    """Why the link cannot be answered any more (`used`, `replaced`, `closed`, `expired`), or
    None when it can."""
    deal = poi.registration.deal
    if poi.status == Poi.Status.VOIDED:
        return "replaced"
    if poi.status != Poi.Status.PENDING:
        return "used"
    if deal.status != Deal.Status.OPEN:
        return "closed"
    expires_on = deal.expected_close_date
    if expires_on is not None and not rules.poi_token_valid(
        expires_on=expires_on, used=False, now=now or _now(), tz=_tz()
    ):
        return "expired"
    return None


@transaction.atomic
def poi_decide(*, token: str, decision: str) -> Poi:
    """The customer approves or rejects a POI through its link (no account). Single use."""
    if decision not in ("approve", "reject"):
        raise _invalid("decision", "Decision must be 'approve' or 'reject'.")
    poi = poi_from_token(token)
    # Lock the deal first (the same order as a close or a quote change), then the POI.
    Deal.objects.select_for_update(of=("self",)).filter(pk=poi.registration.deal_id).first()
    poi = (
        Poi.objects.select_for_update(of=("self",))
        .select_related("registration__organisation", "registration__deal__customer")
        .get(pk=poi.pk)
    )
    problem = poi_link_problem(poi)
    if problem is not None:
        raise PoiLinkError(problem)
    poi.status = Poi.Status.APPROVED if decision == "approve" else Poi.Status.REJECTED
    poi.decided_at = _now()
    poi.save(update_fields=["status", "decided_at"])
    audit(
        actor=None,
        actor_label="customer (POI link)",
        verb=f"deals.poi.{poi.status}",
        subject=poi,
        organisation=poi.registration.organisation,
        data={"registration": poi.registration_id, "quote": poi.quote_id},
    )
    return poi


# --- Close and Best Partner Wins (SPEC 6) ----------------------------------------------------


def _parse_close_date(value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError) as exc:
        raise _invalid("close_date", "Give the close date as YYYY-MM-DD.") from exc


def _candidates(deal: Deal) -> list[rules.BpwCandidate]:
    candidates = []
    for registration in deal.registrations.filter(
        status__in=Registration.ACTIVE_STATUSES
    ).select_related("organisation"):
        poi = current_poi(registration)
        facts = None
        if poi is not None:
            facts = rules.PoiFacts(
                status=poi.status,
                approved_at=poi.decided_at if poi.status == Poi.Status.APPROVED else None,
                provides_onboarding=poi.provides_onboarding,
                lines=frozenset(poi.product_lines),
            )
        candidates.append(
            rules.BpwCandidate(
                registration_id=registration.pk,
                partner_id=registration.organisation_id,
                motion=rules.Motion(registration.motion),
                registered_domain=registration.registered_domain,
                poi=facts,
                is_provider=registration.organisation.kind == Organisation.Kind.PROVIDER,
                referred_by=registration.referred_by_id,
                acknowledged_secondary=registration.acknowledged_secondary_at is not None,
            )
        )
    return candidates


@transaction.atomic
def deal_close(
    *,
    actor: User,
    deal: Deal,
    purchase_domain: str,
    close_date: object,
    lines: object,
    onboarding_partner: object | None = None,
) -> Deal:
    """The GS closes the deal as won; Best Partner Wins decides the credit (SPEC 6).

    `lines` are the purchased lines (`product_line`, `mrr`; `edition`, `seats`, `currency`
    default to the quote's) and must all be on the current quote. Eligibility is checked again.
    """
    require(actor, DealAction.MANAGE)
    deal = _lock_deal(deal)
    _require_deal_open(deal)
    try:
        domain = rules.normalize_domain(str(purchase_domain or ""))
    except ValueError as exc:
        raise _invalid("purchase_domain", str(exc)) from exc
    closed_on = _parse_close_date(close_date)
    if closed_on > timezone.localdate():
        raise _invalid("close_date", "A deal cannot be closed on a future date.")
    quote = deal.quote_versions.order_by("-number").first()
    if quote is None:
        raise _invalid("lines", "The deal has no quote: save a quote before closing.")
    quoted = {
        line.product_line_id: line
        for line in quote.lines.select_related("product_line", "edition", "currency")
    }
    if not isinstance(lines, Sequence) or isinstance(lines, str | bytes) or not lines:
        raise _invalid("lines", "Give the purchased lines.")
    filled: list[dict[str, Any]] = []
    for index, item in enumerate(lines):
        if not isinstance(item, Mapping):
            raise _invalid(f"lines[{index}]", "Each line is an object.")
        code = str(item.get("product_line") or "").strip()
        on_quote = quoted.get(code)
        if on_quote is None:
            if not ProductLine.objects.filter(code=code).exists():
                raise _invalid(f"lines[{index}].product_line", f"Unknown product line '{code}'.")
            raise _invalid(
                f"lines[{index}].product_line",
                f"'{code}' is not on the deal's quote (version {quote.number}).",
            )
        filled.append(
            {
                "product_line": code,
                "edition": item.get("edition", on_quote.edition_id),
                "seats": item.get("seats", on_quote.seats),
                "mrr": item.get("mrr", on_quote.mrr),
                "currency": item.get("currency", on_quote.currency_id),
            }
        )
    parsed = parse_lines(filled)
    eligibility = _check_eligible(deal, parsed)
    onboarding_org: Organisation | None = None
    if onboarding_partner not in (None, ""):
        onboarding_org = _partner(onboarding_partner, field="onboarding_partner")
        if not deal.registrations.filter(organisation=onboarding_org).exists():
            raise _invalid("onboarding_partner", "That partner is not on this deal.")

    resolution = rules.resolve_best_partner_wins(
        candidates=_candidates(deal),
        purchase_domain=domain,
        close_date=closed_on,
        lines=[rules.PurchasedLine(product_line=p.product_line.code, mrr=p.mrr) for p in parsed],
        onboarding_partner=onboarding_org.pk if onboarding_org else None,
        tz=_tz(),
    )
    credited = {line.product_line: line for line in eligibility.lines}
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
        for p in parsed
    )
    deal.purchase_domain = domain
    deal.close_date = closed_on
    deal.closed_at = _now()
    deal.closed_by = actor
    deal.onboarding_partner = onboarding_org
    _store_resolution(deal, resolution)
    deal.status = (
        Deal.Status.AWAITING_DECISION
        if resolution.rule == rules.Rule.AWAITING_DECISION
        else Deal.Status.WON
    )
    deal.save()
    audit(
        actor=actor,
        verb="deals.deal.closed",
        subject=deal,
        reason=resolution.explanation,
        data={
            "rule": str(resolution.rule),
            "winner": resolution.winner,
            "purchase_domain": domain,
            "close_date": closed_on.isoformat(),
        },
    )
    if resolution.winner is not None:
        _grant_associations(actor=actor, deal=deal)
    return deal


def _store_resolution(deal: Deal, resolution: rules.Resolution) -> None:
    deal.resolution_rule = str(resolution.rule)
    deal.resolution_explanation = resolution.explanation
    deal.resolution_detail = {
        "candidates": list(resolution.candidates),
        "tied": list(resolution.tied),
        "excluded": [[rid, str(rule)] for rid, rule in resolution.excluded],
    }
    deal.winner_id = resolution.winner


def _grant_associations(*, actor: User, deal: Deal) -> None:
    """Give the winner the sold association of each credited purchased line nobody holds."""
    if deal.winner_id is None or deal.close_date is None:
        raise ValueError("only a won deal with a winner grants associations")
    winner = Registration.objects.select_related("organisation").get(pk=deal.winner_id)
    purchased = list(deal.purchased_lines.filter(credited=True))
    holders = dict(
        SoldAssociation.objects.select_for_update()
        .filter(customer=deal.customer, product_line__in=[p.product_line_id for p in purchased])
        .values_list("product_line_id", "organisation_id")
    )
    allocation = rules.allocate_associations(
        winner_partner=winner.organisation_id,
        purchased_lines=[p.product_line_id for p in purchased],
        existing_holders=holders,
    )
    by_line = {p.product_line_id: p for p in purchased}
    created = SoldAssociation.objects.bulk_create(
        SoldAssociation(
            organisation=winner.organisation,
            customer=deal.customer,
            product_line_id=code,
            kind=winner.motion,
            deal=deal,
            registration=winner,
            close_date=deal.close_date,
            mrr_at_close=by_line[code].mrr,
            currency_id=by_line[code].currency_id,
        )
        for code in allocation.granted
    )
    audit(
        actor=actor,
        verb="deals.associations.granted",
        subject=deal,
        organisation=winner.organisation,
        data={
            "registration": winner.pk,
            "granted": list(allocation.granted),
            "kept": list(allocation.kept),
            "held_by_other": list(allocation.held_by_other),
            "associations": [a.pk for a in created],
        },
    )


@transaction.atomic
def deal_decide(*, actor: User, deal: Deal, registration_id: object, reason: str) -> Deal:
    """Partner ops settle a Best Partner Wins tie, with a reason; the decision is final."""
    require(actor, DealAction.DECIDE)
    deal = _lock_deal(deal)
    if deal.status != Deal.Status.AWAITING_DECISION:
        raise StateConflict("This deal is not awaiting a partner-ops decision.")
    try:
        chosen = int(str(registration_id))
    except (TypeError, ValueError) as exc:
        raise _invalid("registration", "Give the id of one of the tied registrations.") from exc
    detail = deal.resolution_detail or {}
    pending = rules.Resolution(
        rule=rules.Rule(deal.resolution_rule),
        winner=None,
        explanation=deal.resolution_explanation,
        tied=tuple(detail.get("tied", ())),
        candidates=tuple(detail.get("candidates", ())),
        excluded=tuple((rid, rules.Rule(rule)) for rid, rule in detail.get("excluded", ())),
    )
    try:
        decided = rules.ops_decision(resolution=pending, chosen=chosen, reason=reason or "")
    except rules.PolicyError as exc:
        field = "reason" if exc.rule == rules.Rule.REASON_REQUIRED else "registration"
        raise _policy(field, exc) from exc
    _store_resolution(deal, decided)
    deal.status = Deal.Status.WON
    deal.decided_by = actor
    deal.decided_at = _now()
    deal.decision_reason = (reason or "").strip()
    deal.save()
    audit(
        actor=actor,
        verb="deals.deal.decided",
        subject=deal,
        reason=deal.decision_reason,
        data={"rule": str(decided.rule), "winner": decided.winner},
    )
    _grant_associations(actor=actor, deal=deal)
    return deal


# --- Responsiveness (SPEC 5) ----------------------------------------------------------------


@transaction.atomic
def inquiry_ask(*, actor: User, registration: Registration, question: str) -> Inquiry:
    """The GS asks a partner on the deal a question; the answer is due in 48 business hours
    in the deal's country (public holidays: 17:00 of the next business day)."""
    require(actor, DealAction.MANAGE)
    question = (question or "").strip()
    if not question:
        raise _invalid("question", "Write the question.")
    registration = _lock_registration(registration)
    if registration.status not in Registration.OPEN_STATUSES:
        raise StateConflict("This partner is no longer on the deal.")
    asked_at = _now()
    inquiry = Inquiry.objects.create(
        registration=registration,
        question=question,
        asked_by=actor,
        asked_at=asked_at,
        answer_due_at=rules.answer_deadline(
            asked_at=asked_at, country=registration.deal.customer.country_id, tz=_tz()
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


@transaction.atomic
def inquiry_answer(*, actor: User, inquiry: Inquiry, answer: str) -> Inquiry:
    """The partner answers; an answer after the deadline is recorded as a breach."""
    inquiry = (
        Inquiry.objects.select_for_update(of=("self",))
        .select_related("registration__organisation", "registration__deal__customer")
        .get(pk=inquiry.pk)
    )
    _require_own(actor, inquiry.registration)
    answer = (answer or "").strip()
    if not answer:
        raise _invalid("answer", "Write the answer.")
    if inquiry.answered_at is not None:
        raise StateConflict("This inquiry has already been answered.")
    inquiry.answer = answer
    inquiry.answered_at = _now()
    inquiry.answered_by = actor
    inquiry.breach = rules.is_breach(
        asked_at=inquiry.asked_at,
        answered_at=inquiry.answered_at,
        country=inquiry.registration.deal.customer.country_id,
        tz=_tz(),
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


# --- Territories -----------------------------------------------------------------------------


@transaction.atomic
def territory_assign(*, growth_specialist: User, region: str, segment: str) -> None:
    """Route a region and segment (blank: any) to a growth specialist (operator command and
    demo data; staff also edit territories in the admin)."""
    if growth_specialist.role != "growth_specialist":
        raise _invalid("growth_specialist", "Only growth specialists have a territory.")
    territory, created = Territory.objects.select_for_update().get_or_create(
        region=region, segment=segment, defaults={"growth_specialist": growth_specialist}
    )
    if not created and territory.growth_specialist_id != growth_specialist.pk:
        territory.growth_specialist = growth_specialist
        territory.save(update_fields=["growth_specialist"])
    elif not created:
        return
    audit(
        actor=None,
        actor_label="operator",
        verb="deals.territory.assigned",
        subject=territory,
        data={"region": region, "segment": segment, "growth_specialist": growth_specialist.email},
    )
