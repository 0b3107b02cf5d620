"""Reads of deals, always through the permission layer.

Who sees what (SPEC 1, 5):
- a partner user sees only its own organisation's registrations (`core.access.scope_to_user`),
  never a deal, never another partner's registration on the same deal;
- a growth specialist sees the deals routed to it, and unrouted ones (no territory matched);
- partner ops see every deal (they decide ties);
- everyone else sees none.
Anything outside these is a 404 for the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from partnerportal.core.access import can, scope_to_user
from partnerportal.core.access import visible_organisations as access_visible_organisations
from partnerportal.core.errors import NotFound
from partnerportal.core.models import (
    PARTNER_ROLES,
    Country,
    Currency,
    Customer,
    Edition,
    Organisation,
    ProductLine,
    Role,
    User,
)

from . import presenters, rules
from .models import (
    Deal,
    Inquiry,
    Motion,
    Poi,
    QuoteVersion,
    Referral,
    Registration,
    SoldAssociation,
    Territory,
)
from .permissions import DealAction

Choices = list[tuple[str, str]]


def _pk(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError) as exc:
        raise NotFound() from exc


def visible_deals(user: User) -> QuerySet[Deal]:
    deals = Deal.objects.all()
    if not can(user, DealAction.VIEW):
        return deals.none()
    if user.role == Role.GROWTH_SPECIALIST:
        return deals.filter(Q(growth_specialist=user) | Q(growth_specialist__isnull=True))
    return deals


def visible_registrations(user: User) -> QuerySet[Registration]:
    registrations = Registration.objects.all()
    if getattr(user, "role", None) in PARTNER_ROLES:
        return scope_to_user(user, registrations, organisation_field="organisation")
    return registrations.filter(deal__in=visible_deals(user))


def get_deal(user: User, pk: object, *, for_update: bool = False) -> Deal:
    deals = visible_deals(user)
    if for_update:
        deals = deals.select_for_update(of=("self",))
    try:
        return deals.select_related("customer__country").get(pk=_pk(pk))
    except Deal.DoesNotExist as exc:
        raise NotFound("No such deal.") from exc


def get_registration(user: User, pk: object) -> Registration:
    try:
        return (
            visible_registrations(user)
            .select_related("deal__customer__country", "organisation")
            .get(pk=_pk(pk))
        )
    except Registration.DoesNotExist as exc:
        raise NotFound("No such registration.") from exc


def route_growth_specialist(customer: Customer) -> User | None:
    """The GS of the customer's territory: the most specific territory row wins (SPEC 5)."""
    region, segment = customer.country.region, customer.segment
    rows = {
        (t.region, t.segment): t.growth_specialist
        for t in Territory.objects.filter(
            Q(region=region) | Q(region=""), Q(segment=segment) | Q(segment="")
        ).select_related("growth_specialist")
        if t.growth_specialist.is_active
    }
    for key in ((region, segment), (region, ""), ("", segment), ("", "")):
        if key in rows:
            return rows[key]
    return None


def current_quote(deal: Deal) -> QuoteVersion | None:
    return (
        QuoteVersion.objects.filter(deal=deal)
        .prefetch_related("lines__product_line", "lines__edition")
        .order_by("-number")
        .first()
    )


def choose_current_poi(pois: Iterable[Poi]) -> Poi | None:
    """The current POI among a registration's POIs given newest first: the live one (pending
    or approved), else the latest answered one; a voided one never."""
    kept = [p for p in pois if p.status != Poi.Status.VOIDED]
    live = [p for p in kept if p.status in (Poi.Status.PENDING, Poi.Status.APPROVED)]
    chosen = live or kept
    return chosen[0] if chosen else None


def current_poi(registration: Registration) -> Poi | None:
    """The registration's POI on the deal's current quote (`choose_current_poi`)."""
    return choose_current_poi(
        Poi.objects.filter(registration=registration)
        .exclude(status=Poi.Status.VOIDED)
        .order_by("-created_at", "-id")
    )


def registration_pois(registration: Registration) -> list[Poi]:
    """Every POI of a registration, newest first (the current one and its history)."""
    return list(registration.pois.order_by("-created_at", "-id"))


def registration_inquiries(registration: Registration) -> QuerySet[Inquiry]:
    return registration.inquiries.order_by("-asked_at", "-id")


def pending_pois(quote: QuoteVersion) -> QuerySet[Poi]:
    """The POI links of a quote version still waiting for the customer, by registration."""
    return quote.pois.filter(status=Poi.Status.PENDING).order_by("registration_id")


def registration_list(user: User) -> QuerySet[Registration]:
    """The registrations the caller sees, newest first, with their POIs and deals (the API's
    list: a registration's outcome reads its deal)."""
    return (
        visible_registrations(user)
        .select_related("organisation", "deal")
        .prefetch_related("pois__quote")
        .order_by("-created_at", "-id")
    )


def partner_registrations(user: User) -> QuerySet[Registration]:
    """A partner's "My deals": its own registrations, newest first, with their deal (the
    outcome). The POIs and open questions of one page: `live_pois_of`, `open_inquiries_of`."""
    return visible_registrations(user).select_related("deal").order_by("-created_at", "-id")


def live_pois_of(registrations: Iterable[Registration]) -> dict[int, list[Poi]]:
    """The POIs that are not voided of (already visible) `registrations`, each registration's
    newest first (`choose_current_poi` chooses among them). One query, for a page of rows."""
    found: dict[int, list[Poi]] = {r.pk: [] for r in registrations}
    pois = Poi.objects.filter(registration_id__in=list(found)).exclude(status=Poi.Status.VOIDED)
    for poi in pois.order_by("-created_at", "-id"):
        found[poi.registration_id].append(poi)
    return found


def open_inquiries_of(registrations: Iterable[Registration]) -> dict[int, list[Inquiry]]:
    """The questions still to answer on (already visible) `registrations`. One query."""
    found: dict[int, list[Inquiry]] = {r.pk: [] for r in registrations}
    for inquiry in Inquiry.objects.filter(
        registration_id__in=list(found), answered_at__isnull=True
    ).order_by("-asked_at", "-id"):
        found[inquiry.registration_id].append(inquiry)
    return found


def deal_detail(user: User, pk: object) -> Deal:
    """A deal with its registrations, POIs, quotes, inquiries and purchased lines (staff)."""
    deal = get_deal(user, pk)
    return (
        Deal.objects.filter(pk=deal.pk)
        .select_related("customer__country", "growth_specialist", "winner__organisation")
        .prefetch_related(
            Prefetch(
                "registrations",
                queryset=Registration.objects.select_related("organisation").order_by(
                    "created_at", "id"
                ),
            ),
            Prefetch("registrations__pois", queryset=Poi.objects.order_by("-created_at", "-id")),
            Prefetch(
                "registrations__inquiries", queryset=Inquiry.objects.order_by("-asked_at", "-id")
            ),
            Prefetch(
                "quote_versions",
                queryset=QuoteVersion.objects.prefetch_related(
                    "lines__product_line", "lines__edition", "lines__currency"
                ).order_by("-number"),
            ),
            "purchased_lines__product_line",
        )
        .get()
    )


def associations_for(organisation_id: int) -> QuerySet[SoldAssociation]:
    return (
        SoldAssociation.objects.filter(organisation_id=organisation_id)
        .select_related("customer", "product_line")
        .order_by("customer__domain", "product_line_id")
    )


def get_inquiry(user: User, pk: object) -> Inquiry:
    try:
        return Inquiry.objects.select_related("registration__organisation").get(
            pk=_pk(pk), registration__in=visible_registrations(user)
        )
    except Inquiry.DoesNotExist as exc:
        raise NotFound("No such inquiry.") from exc


# --- Staff lists -----------------------------------------------------------------------------


def pending_requests(user: User) -> QuerySet[Registration]:
    """Partner Sourced requests awaiting the caller's decision, oldest first (the workspace)."""
    return (
        visible_registrations(user)
        .filter(
            status=Registration.Status.PENDING_APPROVAL,
            motion=Motion.PARTNER_SOURCED,
            deal__status=Deal.Status.OPEN,
        )
        .select_related("deal__customer__country", "deal__growth_specialist", "organisation")
        .order_by("created_at", "id")
    )


def open_deals(user: User) -> QuerySet[Deal]:
    """Open deals the caller sees, newest first, with their partner and request counts and
    their quote version (the workspace)."""
    return (
        visible_deals(user)
        .filter(status=Deal.Status.OPEN)
        .select_related("customer__country", "growth_specialist")
        .annotate(
            partner_count=Count(
                "registrations",
                filter=Q(registrations__status__in=Registration.OPEN_STATUSES),
                distinct=True,
            ),
            pending_count=Count(
                "registrations",
                filter=Q(registrations__status=Registration.Status.PENDING_APPROVAL),
                distinct=True,
            ),
            quote_version=Max("quote_versions__number"),
        )
        # A Partner Sourced deal exists for its partners' requests: once every one of them was
        # rejected (or lapsed) it is an empty shell, not work for the GS, until a partner
        # registers on its domain again. A vendor-owned deal is the GS's own and always shows.
        .filter(Q(vendor_owned=True) | Q(partner_count__gt=0))
        .order_by("-created_at", "-id")
    )


def ties(user: User) -> QuerySet[Deal]:
    """Deals awaiting a partner-ops decision, oldest close first, with their registrations and
    POIs (the ties page)."""
    return (
        visible_deals(user)
        .filter(status=Deal.Status.AWAITING_DECISION)
        .select_related("customer__country", "growth_specialist")
        .prefetch_related(
            Prefetch(
                "registrations",
                queryset=Registration.objects.select_related("organisation").order_by("id"),
            ),
            Prefetch("registrations__pois", queryset=Poi.objects.order_by("-created_at", "-id")),
        )
        .order_by("closed_at", "id")
    )


def tied_registrations(user: User, deal: Deal) -> dict[int, Registration]:
    """The tied registrations of a deal awaiting a decision, by id."""
    tied_ids = (deal.resolution_detail or {}).get("tied", [])
    return {
        r.pk: r
        for r in visible_registrations(user).filter(pk__in=tied_ids).select_related("organisation")
    }


def awaiting_decision_count(user: User) -> int:
    return visible_deals(user).filter(status=Deal.Status.AWAITING_DECISION).count()


def referrals_made(registration: Registration) -> list[Referral]:
    """The partners a sourcing registration referred, in order, as it referred them."""
    return list(registration.referrals_made.select_related("organisation").order_by("created_at"))


# --- The public partner directory (SPEC 6, step 3; issue 10) --------------------------------
# Every organisation of the program is listed in the public Solutions Directory (a benefit of
# every tier and of providers, `seeds/004`) while it is in the program: not suspended, not
# terminated. A listing is public, so this is a deliberate cross-tenant read: it returns a
# name, a kind and a country, never anything about deals. It never depends on a deal, so it
# cannot tell a partner who else is on one.

_UNLISTED = (Organisation.Standing.SUSPENDED, Organisation.Standing.TERMINATED)


def _directory() -> QuerySet[Organisation]:
    return Organisation.objects.exclude(standing__in=_UNLISTED)  # public: see above


def directory_search(query: str, *, exclude: int | None, limit: int) -> list[Organisation]:
    """Listed organisations whose name contains `query` (case-insensitive), by name."""
    found = _directory().filter(name__icontains=query.strip()).select_related("country")
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return list(found.order_by("name", "pk")[:limit])


def listed_partner(pk: int) -> Organisation | None:
    """The organisation `pk` if it is listed in the directory; None when it is not, or does
    not exist (the two are never told apart)."""
    return _directory().select_related("country").filter(pk=pk).first()


# --- Reference data (the same for everyone) --------------------------------------------------


def country_choices() -> Choices:
    return list(Country.objects.order_by("name").values_list("code", "name"))


def quote_line_choices() -> dict[str, Choices]:
    """Product lines, editions and currencies for the quote editor, loaded once per page."""
    return {
        "product_lines": list(ProductLine.objects.order_by("name").values_list("code", "name")),
        "editions": list(Edition.objects.order_by("rank").values_list("code", "name")),
        "currencies": [
            (c, c) for c in Currency.objects.order_by("code").values_list("code", flat=True)
        ],
    }


def partner_choices(user: User, *, exclude: Iterable[int] = ()) -> list[tuple[int, str]]:
    """The partners the caller may invite, by name."""
    excluded = set(exclude)
    return [
        (pk, name)
        for pk, name in access_visible_organisations(user)
        .order_by("name")
        .values_list("pk", "name")
        if pk not in excluded
    ]


# --- What a partner may do on its registration: one home, for services and pages ------------
# Each returns why not (a sentence), or None when the action is open; `deals.rules` decides.


def acceptance_refusal(registration: Registration, *, now: datetime) -> str | None:
    return rules.acceptance_refusal(
        invited=registration.status == Registration.Status.INVITED,
        expires_at=registration.expires_at,
        deal_open=registration.deal.is_open,
        now=now,
    )


def referral_refusal(registration: Registration) -> str | None:
    return rules.referral_refusal(
        motion=registration.motion,
        active=registration.is_active,
        deal_open=registration.deal.is_open,
    )


def acknowledgement_refusal(registration: Registration) -> str | None:
    return rules.acknowledgement_refusal(
        referred=registration.referred_by_id is not None,
        acknowledged=registration.acknowledged_secondary_at is not None,
        deal_open=registration.deal.is_open,
    )


def manual_poi_refusal(registration: Registration) -> str | None:
    return rules.manual_poi_refusal(
        active=registration.is_active, deal_open=registration.deal.is_open
    )


def rule_words(code: str) -> str:
    """The words for a deals rule code (a Best Partner Wins step, say), for other apps' pages:
    deals' presenters are the one home of those words."""
    return presenters.rule_words(code)
