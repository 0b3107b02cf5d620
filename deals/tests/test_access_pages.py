"""Every deal page, called as every member of the cast and anonymously (see
tests/test_access_matrix.py for the rules and the route-coverage test).

The `world` fixture builds, through the services, one deal in each state the pages show; the
rows find its objects by customer domain. Partner A is on every deal; partner B is on some of
the same deals, so a partner A page that names B (or the other way round) fails here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from deals import services
from deals.inputs import ClosedLineInput, PoiDecision, QuoteLineInput
from deals.models import Deal, Inquiry, Poi, Referral, Registration
from partnerportal.core.models import Organisation, User
from tests.cast import Cast, browser_as
from tests.test_access_matrix import EVERYONE, Case, statuses

QUOTE = [
    QuoteLineInput(
        product_line="marketing_hub",
        edition="professional",
        mrr=Decimal("800.00"),
        currency="USD",
        seats=3,
    )
]
DOMAINS = (
    "pending.example",
    "quoted.example",
    "invited.example",
    "referred.example",
    "tie.example",
)


def register(user: User, domain: str) -> Registration:
    return services.registration_create(
        actor=user, customer_domain=domain, customer_name=domain, country="GB", segment="smb"
    )


def approve(gs: User, registration: Registration) -> Registration:
    return services.registration_decide(actor=gs, registration=registration, approve=True)


def live_poi(registration: Registration) -> Poi:
    return Poi.objects.get(registration=registration, status__in=["pending", "approved"])


def answer_poi(registration: Registration, decision: str) -> Poi:
    return services.poi_decide(
        token=services.poi_token(live_poi(registration)), decision=PoiDecision(decision)
    )


def quoted_deal(cast: Cast, domain: str, *, with_b: bool = False) -> Registration:
    """Partner A registered, approved, quoted; optionally partner B on the same deal."""
    mine = approve(cast.gs, register(cast.admin_a, domain))
    if with_b:
        approve(cast.gs, register(cast.admin_b, domain))
    services.quote_save(actor=cast.gs, deal=mine.deal, lines=QUOTE)
    return mine


def tied_deal(cast: Cast, domain: str) -> Deal:
    """A deal closed today with two signed POIs and no onboarding: awaiting ops."""
    mine = quoted_deal(cast, domain, with_b=True)
    for registration in mine.deal.registrations.all():
        answer_poi(registration, "approve")
    return services.deal_close(
        actor=cast.gs,
        deal=mine.deal,
        purchase_domain=domain,
        close_date=timezone.localdate(),
        lines=[ClosedLineInput(product_line="marketing_hub", mrr=Decimal("800.00"))],
    )


@dataclass
class World:
    pending: Registration
    quoted: Registration
    invited: Registration
    referred: Registration
    inquiry: Inquiry
    tie: Deal


def build_world(cast: Cast) -> World:
    pending = register(cast.admin_a, "pending.example")
    # Quoted: A's POI rejected by the customer (a manual POI is allowed), B's still pending,
    # and a GS question to A awaiting its answer.
    quoted = quoted_deal(cast, "quoted.example", with_b=True)
    answer_poi(quoted, "reject")
    inquiry = services.inquiry_ask(
        actor=cast.gs, registration=quoted, question="Who is your sponsor at the customer?"
    )
    vendor = services.deal_create(
        actor=cast.gs,
        customer_domain="invited.example",
        customer_name="Invited Ltd",
        country="GB",
        segment="smb",
    )
    invited = services.invitation_create(actor=cast.gs, deal=vendor, partner_id=cast.org_a.pk)
    sourcing = approve(cast.gs, register(cast.admin_b, "referred.example"))
    services.referral_create(actor=cast.admin_b, registration=sourcing, partner_id=cast.org_a.pk)
    referred = Registration.objects.get(deal=sourcing.deal, organisation=cast.org_a)
    tie = tied_deal(cast, "tie.example")
    return World(pending, quoted, invited, referred, inquiry, tie)


@pytest.fixture
def world(cast: Cast) -> World:
    return build_world(cast)


def _reg(cast: Cast, domain: str, organisation: Organisation | None = None) -> Registration:
    return Registration.objects.get(
        registered_domain=domain, organisation=organisation or cast.org_a
    )


def _deal(domain: str) -> Deal:
    return Deal.objects.get(customer__domain=domain)


def _token(cast: Cast) -> str:
    return services.poi_token(live_poi(_reg(cast, "quoted.example", cast.org_b)))


# Who gets what (anon: the sign-in redirect).
PARTNERS = ("admin_a", "member_a", "admin_b", "member_b", "provider_admin")
A_PAGE = statuses(404, anon=302, admin_a=200, member_a=200, gs=302, ops=302)
A_ACTION = statuses(404, anon=302, admin_a=302, member_a=302, gs=403, ops=403)
GS_ON_A = statuses(404, anon=302, gs=302, ops=403, admin_a=403, member_a=403)
GS_DEAL = statuses(404, anon=302, gs=302, ops=403)
# The close form's first answer is the preview of the close (a dry run), on the deal page.
GS_DEAL_PREVIEW = statuses(404, anon=302, gs=200, ops=403)
OPS_DEAL = statuses(404, anon=302, ops=302, gs=403)
STAFF_DEAL_PAGE = statuses(404, anon=302, gs=200, ops=200)


def _register_body(cast: Cast, who: str) -> dict[str, Any]:
    return {
        "customer_domain": f"new-{who.replace('_', '-')}.example",
        "customer_name": "New",
        "country": "GB",
        "segment": "smb",
    }


def _create_body(cast: Cast, who: str) -> dict[str, Any]:
    return {
        **_register_body(cast, who),
        "customer_domain": f"vendor-{who.replace('_', '-')}.example",
    }


def _quote_body(cast: Cast, who: str) -> dict[str, Any]:
    return {
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product_line": "marketing_hub",
        "lines-0-edition": "enterprise",
        "lines-0-seats": "3",
        "lines-0-mrr": "1200.00",
        "lines-0-currency": "USD",
        "expected_close_date": "",
    }


def _close_body(cast: Cast, who: str) -> dict[str, Any]:
    return {
        "purchase_domain": "quoted.example",
        "close_date": timezone.localdate().isoformat(),
        "buy_marketing_hub": "on",
        "mrr_marketing_hub": "800.00",
    }


def _decide_body(cast: Cast, who: str) -> dict[str, Any]:
    return {
        "registration": str(_reg(cast, "tie.example").pk),
        "reason": "The customer's sponsor named Alpha.",
        "from": "ties",
    }


CASES: list[Case] = [
    # Partners
    Case(
        "deals-mine",
        "get",
        lambda c: "/deals/",
        statuses(403, anon=302, gs=302, ops=302, **dict.fromkeys(PARTNERS, 200)),
        api=False,
    ),
    Case(
        "deals-mine",
        "post",
        lambda c: "/deals/",
        statuses(403, anon=302, **dict.fromkeys(PARTNERS, 302)),
        body=_register_body,
        api=False,
    ),
    *[
        Case(
            "deals-registration",
            "get",
            lambda c, d=domain: f"/deals/registrations/{_reg(c, d).pk}/",  # type: ignore[misc]
            A_PAGE,
            api=False,
        )
        for domain in DOMAINS
    ],
    Case(
        "deals-registration-accept",
        "post",
        lambda c: f"/deals/registrations/{_reg(c, 'invited.example').pk}/accept/",
        A_ACTION,
        api=False,
    ),
    Case(
        "deals-registration-poi",
        "post",
        lambda c: f"/deals/registrations/{_reg(c, 'quoted.example').pk}/poi/",
        A_ACTION,
        body=lambda c, who: {"lines": ["marketing_hub"], "provides_onboarding": "on"},
        api=False,
    ),
    Case(
        "deals-registration-referral",
        "get",
        lambda c: f"/deals/registrations/{_reg(c, 'quoted.example').pk}/referral/",
        statuses(404, anon=302, admin_a=200, member_a=200, gs=403, ops=403),
        api=False,
    ),
    Case(
        "deals-registration-referral",
        "post",
        lambda c: f"/deals/registrations/{_reg(c, 'quoted.example').pk}/referral/",
        A_ACTION,
        body=lambda c, who: {"partner": str(c.provider.pk)},
        api=False,
    ),
    Case(
        "deals-registration-acknowledge",
        "post",
        lambda c: f"/deals/registrations/{_reg(c, 'referred.example').pk}/acknowledge/",
        A_ACTION,
        body=lambda c, who: {"statement": "We are the secondary partner."},
        api=False,
    ),
    Case(
        "deals-inquiry-answer",
        "post",
        lambda c: f"/deals/inquiries/{Inquiry.objects.get().pk}/answer/",
        A_ACTION,
        body=lambda c, who: {"answer": "Jane, the CMO."},
        api=False,
    ),
    # Growth specialists (partner ops read)
    Case(
        "deals-workspace",
        "get",
        lambda c: "/deals/workspace/",
        statuses(403, anon=302, gs=200, ops=200),
        api=False,
    ),
    Case(
        "deals-create",
        "post",
        lambda c: "/deals/new/",
        statuses(403, anon=302, gs=302),
        body=_create_body,
        api=False,
    ),
    Case(
        "deals-registration-decide",
        "post",
        lambda c: f"/deals/registrations/{_reg(c, 'pending.example').pk}/decide/",
        GS_ON_A,
        body=lambda c, who: {"decision": "approve", "note": "Known partner"},
        api=False,
    ),
    Case(
        "deals-registration-ask",
        "post",
        lambda c: f"/deals/registrations/{_reg(c, 'quoted.example').pk}/inquiries/",
        GS_ON_A,
        body=lambda c, who: {"question": "When is the customer's board meeting?"},
        api=False,
    ),
    *[
        Case(
            "deals-deal",
            "get",
            lambda c, d=domain: f"/deals/{_deal(d).pk}/",  # type: ignore[misc]
            STAFF_DEAL_PAGE,
            api=False,
        )
        for domain in DOMAINS
    ],
    Case(
        "deals-deal-invite",
        "post",
        lambda c: f"/deals/{_deal('quoted.example').pk}/invite/",
        GS_DEAL,
        body=lambda c, who: {"partner": str(c.provider.pk)},
        api=False,
    ),
    Case(
        "deals-deal-quote",
        "post",
        lambda c: f"/deals/{_deal('quoted.example').pk}/quote/",
        GS_DEAL,
        body=_quote_body,
        api=False,
    ),
    Case(
        "deals-deal-close",
        "post",
        lambda c: f"/deals/{_deal('quoted.example').pk}/close/",
        GS_DEAL_PREVIEW,
        body=_close_body,
        api=False,
    ),
    # Partner ops
    Case(
        "deals-deal-decide",
        "post",
        lambda c: f"/deals/{_deal('tie.example').pk}/decide/",
        OPS_DEAL,
        body=_decide_body,
        api=False,
    ),
    Case(
        "deals-ties", "get", lambda c: "/deals/ties/", statuses(403, anon=302, ops=200), api=False
    ),
    # The customer's link: whoever holds it, signed in or not.
    Case("poi-answer", "get", lambda c: f"/poi/{_token(c)}/", statuses(200, anon=200), api=False),
    Case(
        "poi-answer",
        "post",
        lambda c: f"/poi/{_token(c)}/",
        statuses(200, anon=200),
        body=lambda c, who: {"decision": "approve"},
        api=False,
    ),
    Case("poi-answer", "get", lambda c: "/poi/forged:abc/", statuses(404, anon=404), api=False),
]


def _others(cast: Cast, user: User) -> list[Organisation]:
    return [o for o in (cast.org_a, cast.org_b, cast.provider) if o != user.organisation]


def _check(cast: Cast, case: Case, who: str) -> str | None:
    """Call the case as `who`; return what is wrong, or None."""
    user = None if who == "anon" else cast.people()[who]
    client = browser_as(user)
    url = case.url(cast)
    response = client.get(url) if case.method == "get" else client.post(url, case.body(cast, who))
    body = response.content.decode()
    if response.status_code != case.expected[who]:
        return f"{who}: {case.method.upper()} {url} -> {response.status_code}: {body[-400:]}"
    if response.status_code == 404:
        # Nothing of the deal or of anyone on it.
        leaked = [domain for domain in DOMAINS if domain in body]
        if leaked:
            return f"{who}: {url} 404 names {leaked}"
    if user is not None and user.organisation is not None and case.route != "poi-answer":
        # A partner page never names another partner, whatever the status.
        leaked = [o.name for o in _others(cast, user) if o.name in body]
        if leaked:
            return f"{who}: {url} names {leaked}"
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.route}")
def test_every_deal_page_enforces_tenancy_and_role(cast: Cast, world: World, case: Case) -> None:
    """Each row as every member of the cast and anonymously. The world is built once per row
    and each call runs in a savepoint rolled back afterwards, so every caller sees the same
    state (a GS's approval does not change what partner ops get)."""
    problems = []
    for who in [*EVERYONE, "anon"]:
        savepoint = transaction.savepoint()
        try:
            problems.append(_check(cast, case, who))
        finally:
            transaction.savepoint_rollback(savepoint)
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)


@pytest.mark.parametrize("who", ["admin_a", "member_a", "admin_b", "member_b"])
def test_partner_pages_never_name_the_other_partner_on_shared_deals(
    cast: Cast, world: World, who: str
) -> None:
    user = cast.people()[who]
    client = browser_as(user)
    pages = ["/deals/"] + [
        f"/deals/registrations/{r.pk}/"
        for r in Registration.objects.filter(organisation=user.organisation)
    ]
    # A sourcing partner's page lists the partners it referred: names it chose itself from the
    # public partner directory, so they tell it nothing. Any other name is a leak.
    chose = set(
        Referral.objects.filter(registration__organisation=user.organisation).values_list(
            "organisation", flat=True
        )
    )
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        for other in _others(cast, user):
            if other.pk in chose:
                continue
            assert other.name not in response.content.decode(), (url, other.name)
    if who in ("admin_b", "member_b"):
        assert chose == {cast.org_a.pk}  # B referred A on referred.example
