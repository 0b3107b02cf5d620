"""What the deal services share: locks, permission checks, POI creation, quote lines resolved
against the reference data, and the eligibility check (SPEC 5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from partnerportal.core.access import require, visible_organisations
from partnerportal.core.audit import audit
from partnerportal.core.errors import DomainError, Forbidden, InvalidInput, StateConflict
from partnerportal.core.models import Currency, Edition, Organisation, ProductLine, User
from partnerportal.core.rules import check_money, check_seats
from partnerportal.core.selectors import versions_in_effect

from .. import presenters, rules
from ..inputs import DISCOUNT_MAX, EXPECTED_CLOSE_HORIZON_DAYS, QuoteLineInput
from ..models import Deal, Poi, QuoteVersion, Registration, SoldAssociation
from ..permissions import DealAction

SECONDARY_ACKNOWLEDGEMENT = (
    "We acknowledge that we were referred to this deal by the sourcing partner, that we are "
    "the secondary partner on it, and that we receive no sold credit for it."
)


class PoiLinkError(DomainError):
    """A POI link that cannot be answered: 404 when it is not a valid link, else 410 (Gone).
    `problem` says why; its words are `presenters.POI_LINK_WORDS`."""

    def __init__(self, problem: rules.PoiLinkProblem) -> None:
        super().__init__(presenters.POI_LINK_WORDS[problem])
        self.problem = problem
        self.status = 404 if problem is rules.PoiLinkProblem.INVALID else 410


def now() -> datetime:
    return timezone.now()


def tz() -> Any:
    return timezone.get_current_timezone()


def require_partner_user(actor: User) -> Organisation:
    require(actor, DealAction.REGISTER)
    if actor.organisation is None:
        raise Forbidden("Only partner users can do this.")
    return actor.organisation


def require_own(actor: User, registration: Registration) -> None:
    """A partner acts only on its own registrations; callers got them through the selectors,
    so this is a second line of defence."""
    require_partner_user(actor)
    if registration.organisation_id != actor.organisation_id:
        raise Forbidden()


def refuse(refusal: str | None) -> None:
    """Raise the state conflict a precondition of `deals.rules` returned, if any."""
    if refusal is not None:
        raise StateConflict(refusal)


def lock_registration(registration: Registration) -> Registration:
    # Lock the registration row only (`of`): the joined deal, customer, country and partner
    # rows are read, not locked, so this never waits on (or deadlocks with) a deal lock.
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("deal__customer__country", "organisation")
        .get(pk=registration.pk)
    )


def lock_deal(deal: Deal) -> Deal:
    return (
        Deal.objects.select_for_update(of=("self",))
        .select_related("customer__country")
        .get(pk=deal.pk)
    )


def require_deal_open(deal: Deal) -> None:
    if deal.status != Deal.Status.OPEN:
        raise StateConflict(f"This deal is {deal.get_status_display().lower()}; it cannot change.")


def audit_registration(
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


def invitable_partner(actor: User, pk: int, *, field: str) -> Organisation:
    """The partner organisation `pk` among those the inviting staff member may see (a growth
    specialist sees every partner, as `GET /partners/` lists them), so an unknown id and an
    id outside the caller's reach get the same refusal."""
    found = visible_organisations(actor).filter(pk=pk).first()
    if found is None:
        raise InvalidInput("No such partner.", field=field)
    return found


def bounded_text(value: str, *, limit: int, field: str) -> str:
    """Free text as stored: stripped, and refused beyond its ceiling (the forms and the API
    bound it first; this guards every other caller)."""
    text = value.strip()
    if len(text) > limit:
        raise InvalidInput(f"Ensure this value has at most {limit} characters.", field=field)
    return text


def expected_close_horizon_days() -> int:
    """How many days ahead an expected close date may lie: the setting
    `PORTAL_EXPECTED_CLOSE_HORIZON_DAYS`, else `inputs.EXPECTED_CLOSE_HORIZON_DAYS`."""
    return int(getattr(settings, "PORTAL_EXPECTED_CLOSE_HORIZON_DAYS", EXPECTED_CLOSE_HORIZON_DAYS))


# --- POIs ------------------------------------------------------------------------------------


def create_poi(
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


def issue_poi_for_current_quote(*, actor: User, deal: Deal, registration: Registration) -> None:
    """A partner that joins a deal with a quote gets its POI for the current version."""
    quote = deal.quote_versions.order_by("-number").first()
    if quote is None or not registration.is_active:
        return
    if Poi.objects.filter(
        registration=registration, status__in=[Poi.Status.PENDING, Poi.Status.APPROVED]
    ).exists():
        return
    create_poi(actor=actor, quote=quote, registration=registration, kind=Poi.Kind.AUTO)


# --- Quote lines -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedLine:
    """A quote or purchased line with its reference rows."""

    product_line: ProductLine
    edition: Edition | None
    seats: int
    mrr: Decimal
    currency: Currency
    discount_pct: Decimal = Decimal(0)
    discount_approval: str = ""


def resolve_lines(lines: Sequence[QuoteLineInput], *, field: str = "lines") -> list[ResolvedLine]:
    """Check quote or purchased lines against the reference data (product lines, their
    editions, currencies) and the discount rule. Errors name the line: `lines[1].currency`."""
    if not lines:
        raise InvalidInput("Give at least one line.", field=field)
    product_lines = {p.code: p for p in ProductLine.objects.prefetch_related("editions")}
    editions = {e.code: e for e in Edition.objects.all()}
    currencies = {c.code: c for c in Currency.objects.all()}
    resolved: list[ResolvedLine] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        where = f"{field}[{index}]"
        code = line.product_line.strip()
        product_line = product_lines.get(code)
        if product_line is None:
            raise InvalidInput(
                f"Unknown product line '{code}'. Known: {', '.join(sorted(product_lines))}.",
                field=f"{where}.product_line",
            )
        if code in seen:
            raise InvalidInput(f"{product_line.name} appears twice.", field=f"{where}.product_line")
        seen.add(code)
        allowed = {e.code for e in product_line.editions.all()}
        edition_code = line.edition or None
        if allowed and edition_code not in allowed:
            raise InvalidInput(
                f"{product_line.name} needs an edition: {', '.join(sorted(allowed))}.",
                field=f"{where}.edition",
            )
        if not allowed and edition_code is not None:
            raise InvalidInput(f"{product_line.name} has no editions.", field=f"{where}.edition")
        currency = currencies.get(line.currency.strip().upper())
        if currency is None:
            raise InvalidInput(
                f"Unsupported currency '{line.currency}'. "
                f"Accepted: {', '.join(sorted(currencies))}.",
                field=f"{where}.currency",
            )
        mrr = check_money(line.mrr, field=f"{where}.mrr")
        seats = check_seats(line.seats, field=f"{where}.seats")
        discount = line.discount_pct
        if not isinstance(discount, Decimal) or not 0 <= discount <= DISCOUNT_MAX:
            raise InvalidInput("A discount is between 0 and 100 %.", field=f"{where}.discount_pct")
        approval = line.discount_approval.strip()
        try:
            rules.check_discount_allowed(
                product_line=code, discount=discount, approval_present=bool(approval)
            )
        except InvalidInput as exc:
            raise exc.on_field(f"{where}.discount_approval") from exc
        resolved.append(
            ResolvedLine(
                product_line=product_line,
                edition=editions[edition_code] if edition_code else None,
                seats=seats,
                mrr=mrr,
                currency=currency,
                discount_pct=discount,
                discount_approval=approval,
            )
        )
    return resolved


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


def check_eligible(deal: Deal, lines: Sequence[ResolvedLine]) -> rules.EligibilityResult:
    """The quote eligibility rule (SPEC 5) on `lines`; refused on `lines`, with why each line
    is not credited on its own row (e.g. the customer already holds it)."""
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
    except InvalidInput as exc:
        index = {line.product_line.code: i for i, line in enumerate(lines)}
        errors = {"lines": exc.messages()}
        for failure in result.failures:
            if failure.product_line is not None:
                errors[f"lines[{index[failure.product_line]}].product_line"] = [failure.message]
        raise InvalidInput(exc.message, rule=exc.rule, errors=errors) from exc
    return result
