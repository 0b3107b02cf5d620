"""Every deal API endpoint, called as every member of the cast and anonymously (see
tests/test_access_matrix.py for the rules and the route-coverage test).

The objects are partner A's: its registration on a deal partner B also registered on (so B
has every reason to be curious), an invitation, a referral, a tie. Partner B and the provider
get a 404 that says nothing of A; a forbidden action on a visible object is a 403.

Each row builds only the state its route needs, through the services, when its URL is asked
for; building twice returns what exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from deals import services
from deals.inputs import PoiDecision
from deals.models import Deal, Inquiry, Poi, Registration
from partnerportal.core.models import Organisation, User
from tests.cast import Cast, api_as
from tests.factories import OrganisationFactory
from tests.test_access_matrix import EVERYONE, Case, statuses

from .api_steps import PRO_MARKETING, PRO_SALES, bought, line_input, token_of

PARTNER_A = ("admin_a", "member_a")
# A's objects are out of reach of the other partner, the provider, the PDM and finance.
A_ONLY = dict(admin_a=200, member_a=200)


def _customer(domain: str) -> dict[str, str]:
    return {"customer_domain": domain, "customer_name": "Shared", "country": "GB", "segment": "smb"}


def _existing(domain: str, organisation: Organisation) -> Registration | None:
    return (
        Registration.objects.filter(registered_domain=domain, organisation=organisation)
        .order_by("-id")
        .first()
    )


def _register(user: User, domain: str) -> Registration:
    return services.registration_create(actor=user, **_customer(domain))


def _approved(c: Cast, user: User, domain: str) -> Registration:
    registration = _register(user, domain)
    return services.registration_decide(actor=c.gs, registration=registration, approve=True)


def _pending_poi(registration: Registration) -> Poi:
    return Poi.objects.get(registration=registration, status=Poi.Status.PENDING)


def shared(c: Cast) -> Registration:
    """A's approved registration on shared.example, beside B's (approved) and the provider's
    (pending), with a quote, a pending POI for A and B and a GS inquiry to A."""
    found = _existing("shared.example", c.org_a)
    if found is not None:
        return found
    mine = _approved(c, c.admin_a, "shared.example")
    _approved(c, c.admin_b, "shared.example")
    _register(c.provider_admin, "shared.example")  # awaiting the GS
    services.quote_save(
        actor=c.gs, deal=mine.deal, lines=[line_input(PRO_MARKETING), line_input(PRO_SALES)]
    )
    services.inquiry_ask(actor=c.gs, registration=mine, question="Who signs?")
    return mine


def shared_rejected(c: Cast) -> Registration:
    """As `shared`, after the customer rejected A's POI (so A may create a manual one)."""
    mine = shared(c)
    poi = _pending_poi(mine)
    services.poi_decide(token=services.poi_token(poi), decision=PoiDecision.REJECT)
    return mine


def pending(c: Cast) -> Registration:
    """A's request on pending.example, awaiting the GS, beside B's."""
    found = _existing("pending.example", c.org_a)
    if found is not None:
        return found
    mine = _register(c.admin_a, "pending.example")
    _register(c.admin_b, "pending.example")
    return mine


def invited(c: Cast) -> Registration:
    """A's invitation to the GS's vendor-owned deal on assisted.example (B invited too)."""
    found = _existing("assisted.example", c.org_a)
    if found is not None:
        return found
    deal = services.deal_create(actor=c.gs, **_customer("assisted.example"))
    services.invitation_create(actor=c.gs, deal=deal, partner_id=c.org_b.pk)
    return services.invitation_create(actor=c.gs, deal=deal, partner_id=c.org_a.pk)


def referred(c: Cast) -> Registration:
    """B sourced referred.example and referred A, who has not acknowledged yet."""
    found = _existing("referred.example", c.org_a)
    if found is not None:
        return found
    source = _approved(c, c.admin_b, "referred.example")
    services.referral_create(actor=c.admin_b, registration=source, partner_id=c.org_a.pk)
    found = _existing("referred.example", c.org_a)
    assert found is not None
    return found


def tied(c: Cast) -> Deal:
    """tied.example: A and B both signed, no onboarding: awaiting a partner-ops decision."""
    found = _existing("tied.example", c.org_a)
    if found is not None:
        return found.deal
    mine = _approved(c, c.admin_a, "tied.example")
    theirs = _approved(c, c.admin_b, "tied.example")
    services.quote_save(actor=c.gs, deal=mine.deal, lines=[line_input(PRO_MARKETING)])
    for registration in (mine, theirs):
        services.poi_decide(
            token=services.poi_token(_pending_poi(registration)), decision=PoiDecision.APPROVE
        )
    deal = services.deal_close(
        actor=c.gs,
        deal=mine.deal,
        purchase_domain="tied.example",
        close_date=timezone.localdate(),
        lines=bought("marketing_hub"),
    )
    assert deal.status == Deal.Status.AWAITING_DECISION
    return deal


def won(c: Cast, user: User, domain: str) -> Registration:
    """The partner of `user` won a deal on `domain` alone: it holds Marketing Hub there."""
    found = _existing(domain, user.organisation)  # type: ignore[arg-type]
    if found is not None:
        return found
    mine = _approved(c, user, domain)
    services.quote_save(actor=c.gs, deal=mine.deal, lines=[line_input(PRO_MARKETING)])
    services.poi_decide(token=services.poi_token(_pending_poi(mine)), decision=PoiDecision.APPROVE)
    services.deal_close(
        actor=c.gs,
        deal=mine.deal,
        purchase_domain=domain,
        close_date=timezone.localdate(),
        lines=bought("marketing_hub"),
    )
    return mine


def associations_of(c: Cast, organisation: Organisation) -> str:
    won(c, c.admin_a, "won-a.example")
    won(c, c.admin_b, "won-b.example")
    return f"/api/v1/partners/{organisation.pk}/associations/"


def _registration(c: Cast, build: Any, suffix: str = "") -> str:
    return f"/api/v1/registrations/{build(c).pk}/{suffix}"


def _deal(c: Cast, suffix: str = "") -> str:
    return f"/api/v1/deals/{shared(c).deal_id}/{suffix}"


def _inquiry(c: Cast) -> str:
    inquiry = Inquiry.objects.get(registration=shared(c))
    return f"/api/v1/inquiries/{inquiry.pk}/answer/"


def _poi_link(c: Cast) -> str:
    return f"/api/v1/poi/{services.poi_token(_pending_poi(shared(c)))}/"


def _close_body(c: Cast, who: str) -> dict[str, Any]:
    return {
        "purchase_domain": "shared.example",
        "close_date": timezone.localdate().isoformat(),
        "lines": [{"product_line": "marketing_hub"}],
    }


def _decide_body(c: Cast, who: str) -> dict[str, Any]:
    return {"registration": _existing("tied.example", c.org_a).pk, "reason": "Met the CTO"}  # type: ignore[union-attr]


CASES = [
    Case("api-registrations", "get", lambda c: "/api/v1/registrations/", statuses(200)),
    Case(
        "api-registrations",
        "post",
        lambda c: "/api/v1/registrations/",
        statuses(403, admin_a=201, member_a=201, admin_b=201, member_b=201, provider_admin=201),
        body=lambda c, who: _customer(f"{who.replace('_', '-')}.example"),
    ),
    Case(
        "api-registration-detail",
        "get",
        lambda c: _registration(c, shared),
        statuses(404, gs=200, ops=200, **A_ONLY),
    ),
    Case(
        "api-registration-approve",
        "post",
        lambda c: _registration(c, pending, "approve/"),
        statuses(404, gs=200, ops=403, admin_a=403, member_a=403),
    ),
    Case(
        "api-registration-reject",
        "post",
        lambda c: _registration(c, pending, "reject/"),
        statuses(404, gs=200, ops=403, admin_a=403, member_a=403),
        body=lambda c, who: {"note": "Already in touch"},
    ),
    Case(
        "api-registration-accept",
        "post",
        lambda c: _registration(c, invited, "accept/"),
        statuses(404, gs=403, ops=403, **A_ONLY),
    ),
    Case(
        "api-registration-poi",
        "get",
        lambda c: _registration(c, shared, "poi/"),
        statuses(404, gs=200, ops=200, **A_ONLY),
    ),
    Case(
        "api-registration-poi",
        "post",
        lambda c: _registration(c, shared_rejected, "poi/"),
        statuses(404, gs=403, ops=403, admin_a=201, member_a=201),
        body=lambda c, who: {"lines": ["marketing_hub"], "provides_onboarding": True},
    ),
    Case(
        "api-registration-referrals",
        "post",
        lambda c: _registration(c, shared, "referrals/"),
        statuses(404, gs=403, ops=403, admin_a=201, member_a=201),
        body=lambda c, who: {"partner": c.provider.pk},
    ),
    Case(
        "api-registration-acknowledge",
        "post",
        lambda c: _registration(c, referred, "acknowledge-secondary/"),
        statuses(404, gs=403, ops=403, **A_ONLY),
    ),
    Case(
        "api-registration-inquiries",
        "get",
        lambda c: _registration(c, shared, "inquiries/"),
        statuses(404, gs=200, ops=200, **A_ONLY),
    ),
    Case(
        "api-registration-inquiries",
        "post",
        lambda c: _registration(c, shared, "inquiries/"),
        statuses(404, gs=201, ops=403, admin_a=403, member_a=403),
        body=lambda c, who: {"question": "When is the board meeting?"},
    ),
    Case(
        "api-inquiry-answer",
        "post",
        _inquiry,
        statuses(404, gs=403, ops=403, **A_ONLY),
        body=lambda c, who: {"answer": "On Thursday."},
    ),
    Case(
        "api-deals",
        "post",
        lambda c: "/api/v1/deals/",
        statuses(403, gs=201),
        body=lambda c, who: _customer(f"vendor-{who.replace('_', '-')}.example"),
    ),
    Case("api-deal-detail", "get", lambda c: _deal(c), statuses(404, gs=200, ops=200)),
    Case(
        "api-deal-invitations",
        "post",
        lambda c: _deal(c, "invitations/"),
        statuses(404, gs=201, ops=403),
        body=lambda c, who: {"partner": OrganisationFactory(name="Delta Digital").pk},
    ),
    Case("api-deal-quote", "get", lambda c: _deal(c, "quote/"), statuses(404, gs=200, ops=200)),
    Case(
        "api-deal-quote",
        "put",
        lambda c: _deal(c, "quote/"),
        statuses(404, gs=200, ops=403),
        body=lambda c, who: {"lines": [PRO_MARKETING]},
    ),
    Case(
        "api-deal-close",
        "post",
        lambda c: _deal(c, "close/"),
        statuses(404, gs=200, ops=403),
        body=_close_body,
    ),
    Case(
        "api-deal-close-preview",
        "post",
        lambda c: _deal(c, "close-preview/"),
        statuses(404, gs=200, ops=403),
        body=_close_body,
    ),
    Case(
        "api-deal-decide",
        "post",
        lambda c: f"/api/v1/deals/{tied(c).pk}/decide/",
        statuses(404, gs=403, ops=200),
        body=_decide_body,
    ),
    Case(
        "api-poi-answer",
        "post",
        _poi_link,
        statuses(200, anon=200),
        body=lambda c, who: {"decision": "approve"},
    ),
    Case(
        "api-partner-associations",
        "get",
        lambda c: associations_of(c, c.org_a),
        statuses(200, admin_b=404, member_b=404, provider_admin=404, gs=403, finance=403),
    ),
    Case(
        "api-partner-associations",
        "get",
        lambda c: associations_of(c, c.org_b),
        statuses(200, admin_a=404, member_a=404, provider_admin=404, pdm=404, gs=403, finance=403),
    ),
]


def _strangers(cast: Cast, user: User | None) -> list[str]:
    """What a partner user must never read: the other organisations' names and people."""
    if user is None or user.organisation is None:
        return []
    others = [o for o in (cast.org_a, cast.org_b, cast.provider) if o != user.organisation]
    people = [p.email for p in cast.people().values() if p.organisation in others]
    return [o.name for o in others] + people


@pytest.mark.parametrize("who", [*EVERYONE, "anon"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.route}")
def test_every_deal_endpoint_enforces_tenancy_and_role(cast: Cast, case: Case, who: str) -> None:
    user = None if who == "anon" else cast.people()[who]
    url = case.url(cast)
    client = api_as(user)
    if case.method == "get":
        response = client.get(url)
    else:
        response = getattr(client, case.method)(url, case.body(cast, who), format="json")
    assert response.status_code == case.expected[who], (who, url, response.content[:300])
    body = response.content.decode()
    if response.status_code in (403, 404):
        # a refusal says why in general terms, never whose object it is
        assert set(json.loads(body)) == {"detail"}, body
    if response.status_code == 404:
        for stranger in [*_strangers(cast, user), cast.org_a.name]:
            assert stranger not in body, (who, stranger)


# --- What a partner sees never names another partner ----------------------------------------


def _pairs(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, scalar value) pair of a JSON document, nested lists and objects included."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _pairs(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _pairs(v, key)
    else:
        yield key, value


def _every_state(cast: Cast) -> None:
    shared_rejected(cast)
    pending(cast)
    invited(cast)
    referred(cast)
    tied(cast)
    won(cast, cast.admin_a, "won-a.example")
    won(cast, cast.admin_b, "won-b.example")


# Paths whose body is a registration (or a page of them): their `id` is a registration id.
REGISTRATION_BODY = re.compile(r"^/api/v1/registrations/(\d+/)?$")

PARTNERS = ("admin_a", "member_a", "admin_b", "member_b", "provider_admin")


@pytest.mark.parametrize("who", PARTNERS)
def test_partner_lists_only_its_own_registrations(cast: Cast, who: str) -> None:
    _every_state(cast)
    user = cast.people()[who]
    listed = api_as(user).get("/api/v1/registrations/").json()
    own = set(
        Registration.objects.filter(organisation=user.organisation).values_list("pk", flat=True)
    )
    assert {row["id"] for row in listed["results"]} == own
    assert listed["count"] == len(own)
    assert {row["partner"] for row in listed["results"]} <= {user.organisation_id}


@pytest.mark.parametrize("who", PARTNERS)
def test_no_partner_visible_response_names_another_partner(cast: Cast, who: str) -> None:
    # given: every deal state, with the two partners and the provider on shared deals
    _every_state(cast)
    user = cast.people()[who]
    client = api_as(user)
    own = list(Registration.objects.filter(organisation=user.organisation).order_by("pk"))
    other_orgs = {o.pk for o in (cast.org_a, cast.org_b, cast.provider)} - {user.organisation_id}
    # when: the partner reads everything it can reach, and acts on its own registrations
    responses = [client.get("/api/v1/registrations/")]
    for registration in own:
        base = f"/api/v1/registrations/{registration.pk}/"
        responses += [
            client.get(base),
            client.get(base + "poi/"),
            client.get(base + "inquiries/"),
            client.post(base + "accept/"),
            client.post(base + "acknowledge-secondary/"),
            client.post(base + "poi/", {"lines": ["marketing_hub"]}, format="json"),
        ]
    for inquiry in Inquiry.objects.filter(registration__in=own):
        responses.append(client.post(f"/api/v1/inquiries/{inquiry.pk}/answer/", {"answer": "Yes"}))
    responses.append(client.get(f"/api/v1/partners/{user.organisation_id}/associations/"))
    for domain in ("shared.example", "pending.example", "tied.example", "won-a.example"):
        responses.append(client.post("/api/v1/registrations/", _customer(domain), format="json"))
    # then: nothing names, counts or points at another partner or its registrations
    own_ids = set(
        Registration.objects.filter(organisation=user.organisation).values_list("pk", flat=True)
    )
    for response in responses:
        path = response.request["PATH_INFO"]
        body = response.content.decode()
        for stranger in _strangers(cast, user):
            assert stranger not in body, (response.request["PATH_INFO"], stranger)
        if response["Content-Type"] != "application/json":
            continue
        for key, value in _pairs(response.json()):
            assert key not in {"deal", "partner_name", "referred_by", "winner", "candidates"}, (
                path,
                key,
            )
            if key == "partner":
                assert value == user.organisation_id, (path, value)
                assert value not in other_orgs
            if key == "registration" or (key == "id" and REGISTRATION_BODY.match(path)):
                assert value in own_ids, (path, key, value)


def test_staff_see_every_partner_on_a_shared_deal(cast: Cast) -> None:
    """The other side of the rule: the GS and partner ops see both partners on one deal."""
    mine = shared(cast)
    for staff in (cast.gs, cast.ops):
        detail = api_as(staff).get(f"/api/v1/deals/{mine.deal_id}/").json()
        assert {r["partner_name"] for r in detail["registrations"]} == {
            cast.org_a.name,
            cast.org_b.name,
            cast.provider.name,
        }


def test_poi_link_page_data_names_only_the_asking_partner(cast: Cast) -> None:
    mine = shared(cast)
    url = services.poi_url(_pending_poi(mine))
    response = api_as(None).post(f"/api/v1/poi/{token_of(url)}/", {"decision": "approve"})
    assert response.status_code == 200
    assert set(response.json()) == {"status", "decided_at"}
    assert cast.org_b.name not in response.content.decode()
