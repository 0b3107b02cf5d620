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

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from partnerportal.core.access import can, scope_to_user
from partnerportal.core.models import PARTNER_ROLES, Customer, Role, User

from .models import Deal, Inquiry, Poi, QuoteVersion, Registration, SoldAssociation, Territory
from .permissions import DealAction


def _pk(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError) as exc:
        raise Http404("Not found.") from exc


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
        raise Http404("No such deal.") from exc


def get_registration(user: User, pk: object) -> Registration:
    try:
        return (
            visible_registrations(user)
            .select_related("deal__customer__country", "organisation")
            .get(pk=_pk(pk))
        )
    except Registration.DoesNotExist as exc:
        raise Http404("No such registration.") from exc


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


def current_poi(registration: Registration) -> Poi | None:
    """The registration's POI on the deal's current quote: the live one (pending or approved),
    else the latest answered one."""
    pois = list(
        Poi.objects.filter(registration=registration)
        .exclude(status=Poi.Status.VOIDED)
        .order_by("-created_at", "-id")
    )
    live = [p for p in pois if p.status in (Poi.Status.PENDING, Poi.Status.APPROVED)]
    if live:
        return live[0]
    return pois[0] if pois else None


def partner_registrations(user: User) -> QuerySet[Registration]:
    """A partner's "My deals": its own registrations with what the page shows."""
    return (
        visible_registrations(user)
        .select_related("deal__customer", "organisation")
        .prefetch_related(
            Prefetch("pois", queryset=Poi.objects.order_by("-created_at", "-id")),
            Prefetch("inquiries", queryset=Inquiry.objects.order_by("-asked_at", "-id")),
        )
        .order_by("-created_at", "-id")
    )


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
        raise Http404("No such inquiry.") from exc
