"""The customer's side of a deal: its proof-of-involvement link, answered without an account
(SPEC 5). The signed link is the key; it is single use and expires at the deal's close date."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from partnerportal.core.audit import audit

from .. import rules
from ..inputs import PoiDecision
from ..models import Deal, Poi
from ._common import PoiLinkError, now, tz

POI_SALT = "deals.poi"


def poi_token(poi: Poi) -> str:
    return signing.Signer(salt=POI_SALT).sign(poi.nonce)


def poi_url(poi: Poi, *, base_url: str | None = None) -> str:
    """The customer's link. `base_url` is where the caller reached the portal (a page or API
    call: its own scheme, host and port); without a request (e-mails, `seed_demo`) it is
    `PORTAL_BASE_URL`, which `./dev.sh` sets from the port it serves on."""
    base = (base_url if base_url is not None else settings.PORTAL_BASE_URL).rstrip("/")
    return base + reverse("poi-answer", kwargs={"token": poi_token(poi)})


def poi_from_token(token: str) -> Poi:
    """The POI a link points at; PoiLinkError(INVALID) for a forged or mangled link."""
    try:
        nonce = signing.Signer(salt=POI_SALT).unsign(token)
    except signing.BadSignature as exc:
        raise PoiLinkError(rules.PoiLinkProblem.INVALID) from exc
    poi = (
        Poi.objects.select_related(
            "registration__organisation", "registration__deal__customer", "quote"
        )
        .filter(nonce=nonce)
        .first()
    )
    if poi is None:
        raise PoiLinkError(rules.PoiLinkProblem.INVALID)
    return poi


def poi_link_problem(poi: Poi, *, at: datetime | None = None) -> rules.PoiLinkProblem | None:
    """Why the link cannot be answered any more, or None when it can."""
    deal = poi.registration.deal
    return rules.poi_link_problem(
        status=poi.status,
        deal_open=deal.status == Deal.Status.OPEN,
        expires_on=deal.expected_close_date,
        now=at or now(),
        tz=tz(),
    )


@transaction.atomic
def poi_decide(*, token: str, decision: PoiDecision) -> Poi:
    """The customer approves or rejects a POI through its link (no account). Single use."""
    approve = PoiDecision(decision) is PoiDecision.APPROVE
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
    poi.status = Poi.Status.APPROVED if approve else Poi.Status.REJECTED
    poi.decided_at = now()
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
