"""Every endpoint and page, called as every member of the cast and anonymously.

Partner users reach only their own organisation (404 otherwise, with nothing of the other
organisation in the body); a forbidden action on a visible object is a 403. The coverage
test at the bottom fails when a route is added without a row here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from .cast import Cast, api_as, browser_as

EVERYONE = (
    "admin_a",
    "member_a",
    "admin_b",
    "member_b",
    "provider_admin",
    "gs",
    "pdm",
    "ops",
    "finance",
)


@dataclass
class Case:
    route: str
    method: str
    url: Callable[[Cast], str]
    expected: dict[str, int]  # person -> status; "anon" included
    body: Callable[[Cast, str], dict[str, Any]] = field(default=lambda cast, who: {})
    api: bool = True


def statuses(default: int, anon: int = 401, **overrides: int) -> dict[str, int]:
    result = dict.fromkeys(EVERYONE, default)
    result["anon"] = anon
    result.update(overrides)
    return result


def _subscription_body(cast: Cast, who: str) -> dict[str, Any]:
    return {
        "customer_domain": f"{who}.example.org",
        "customer_name": "X",
        "country": "GB",
        "segment": "smb",
        "product_line": "marketing_hub",
        "edition": "professional",
        "mrr": "800.00",
        "currency": "USD",
        "seats": 2,
        "effective_from": "2026-01-01",
    }


def _activity_body(cast: Cast, who: str) -> dict[str, Any]:
    from tests.factories import CustomerFactory

    customer = CustomerFactory(domain=f"act-{who}.example.org")
    return {
        "partner": cast.org_a.pk,
        "customer_domain": customer.domain,
        "kind": "asset_created",
        "occurred_at": "2026-03-01T10:00:00Z",
    }


A_VISIBLE = dict(admin_b=404, member_b=404, provider_admin=404)


def _finance_home_status() -> int:
    """Finance lands on the quarters page of the commissions pages once they serve it."""
    try:
        reverse("commissions:quarters")
    except NoReverseMatch:
        return 200
    return 302


CASES = [
    Case("api-partners", "get", lambda c: "/api/v1/partners/", statuses(200)),
    Case(
        "api-partners",
        "post",
        lambda c: "/api/v1/partners/",
        statuses(403, ops=201),
        body=lambda c, who: {"name": f"New {who}", "kind": "partner", "country": "DE"},
    ),
    Case(
        "api-partner-detail",
        "get",
        lambda c: f"/api/v1/partners/{c.org_a.pk}/",
        statuses(200, **A_VISIBLE),
    ),
    Case(
        "api-partner-detail",
        "get",
        lambda c: f"/api/v1/partners/{c.org_b.pk}/",
        statuses(200, admin_a=404, member_a=404, provider_admin=404, pdm=404),
    ),
    Case(
        "api-partner-users",
        "post",
        lambda c: f"/api/v1/partners/{c.org_a.pk}/users/",
        statuses(403, ops=201, admin_a=201, **A_VISIBLE),
        body=lambda c, who: {"email": f"new-{who}@alpha.example", "role": "member"},
    ),
    Case(
        "api-subscription-changes",
        "post",
        lambda c: "/api/v1/subscription-changes/",
        statuses(403, ops=201),
        body=_subscription_body,
    ),
    Case(
        "api-activities",
        "post",
        lambda c: "/api/v1/activities/",
        statuses(403, ops=201),
        body=_activity_body,
    ),
    Case("api-audit-events", "get", lambda c: "/api/v1/audit-events/", statuses(403, ops=200)),
    # Tiers (issue 4): runs and Elite invitations are partner ops'; a tier is read by ops, the
    # partner's PDM and its own users (a GS or finance sees the partner but not its tier).
    Case(
        "api-tier-runs",
        "post",
        lambda c: "/api/v1/tier-runs/",
        statuses(403, ops=201),
        body=lambda c, who: {"as_of": "2026-03-15"},
    ),
    *(
        Case(
            route,
            "get",
            url,
            statuses(403, ops=200, pdm=200, admin_a=200, member_a=200, **A_VISIBLE),
        )
        for route, url in (
            ("api-partner-tier", lambda c: f"/api/v1/partners/{c.org_a.pk}/tier/"),
            (
                "api-partner-tier-assessments",
                lambda c: f"/api/v1/partners/{c.org_a.pk}/tier-assessments/",
            ),
        )
    ),
    *(
        Case(
            route,
            "get",
            url,
            statuses(
                403,
                ops=200,
                admin_b=200,
                member_b=200,
                admin_a=404,
                member_a=404,
                provider_admin=404,
                pdm=404,
            ),
        )
        for route, url in (
            ("api-partner-tier", lambda c: f"/api/v1/partners/{c.org_b.pk}/tier/"),
            (
                "api-partner-tier-assessments",
                lambda c: f"/api/v1/partners/{c.org_b.pk}/tier-assessments/",
            ),
        )
    ),
    Case(
        "api-partner-elite-invitation",
        "post",
        lambda c: f"/api/v1/partners/{c.org_a.pk}/elite-invitation/",
        statuses(403, ops=201, **A_VISIBLE),
        body=lambda c, who: {"reason": "Strong year"},
    ),
    Case(
        "api-partner-elite-invitation",
        "post",
        lambda c: f"/api/v1/partners/{c.org_b.pk}/elite-invitation/",
        statuses(403, ops=201, admin_a=404, member_a=404, provider_admin=404, pdm=404),
        body=lambda c, who: {"reason": "Strong year"},
    ),
    Case("api-schema", "get", lambda c: "/api/schema/", statuses(200, anon=200)),
    Case("api-docs", "get", lambda c: "/api/docs/", statuses(200, anon=200)),
    # Home: a growth specialist lands on the deals workspace, customer success and service
    # acceleration (not in the cast) on the review queue, finance on its quarters page once
    # the commissions pages serve it (tests/test_navigation.py): redirects.
    Case(
        "home",
        "get",
        lambda c: "/",
        statuses(200, anon=302, gs=302, finance=_finance_home_status()),
        api=False,
    ),
    Case(
        "partner-detail",
        "get",
        lambda c: f"/partners/{c.org_a.pk}/",
        statuses(200, anon=302, **A_VISIBLE),
        api=False,
    ),
    Case(
        "partner-detail",
        "get",
        lambda c: f"/partners/{c.org_b.pk}/",
        statuses(200, anon=302, admin_a=404, member_a=404, provider_admin=404, pdm=404),
        api=False,
    ),
    # Partner ops' Elite invitation from the partner's page (the cast's partners are not
    # Elite-qualified, so ops are sent back to the page with the reason in words).
    Case(
        "partner-elite-invite",
        "post",
        lambda c: f"/partners/{c.org_a.pk}/elite-invitation/",
        statuses(403, anon=302, ops=302, **A_VISIBLE),
        body=lambda c, who: {"reason": "Strong year", "confirm": "on"},
        api=False,
    ),
    Case(
        "partner-elite-invite",
        "post",
        lambda c: f"/partners/{c.org_b.pk}/elite-invitation/",
        statuses(403, anon=302, ops=302, admin_a=404, member_a=404, provider_admin=404, pdm=404),
        body=lambda c, who: {"reason": "Strong year", "confirm": "on"},
        api=False,
    ),
    Case("audit-list", "get", lambda c: "/audit/", statuses(403, anon=302, ops=200), api=False),
    Case("healthz", "get", lambda c: "/healthz", statuses(200, anon=200), api=False),
]


@pytest.mark.parametrize("who", [*EVERYONE, "anon"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.route}")
def test_every_endpoint_and_page_enforces_tenancy_and_role(
    cast: Cast, case: Case, who: str
) -> None:
    user = None if who == "anon" else cast.people()[who]
    client = api_as(user) if case.api else browser_as(user)
    url = case.url(cast)
    if case.method == "get":
        response = client.get(url)
    else:
        response = (
            client.post(url, case.body(cast, who), format="json")
            if case.api
            else client.post(url, case.body(cast, who))
        )
    assert response.status_code == case.expected[who], (who, url, response.content[:300])
    if response.status_code == 404 and user is not None and user.organisation is not None:
        body = response.content.decode()
        others = [o for o in (cast.org_a, cast.org_b, cast.provider) if o != user.organisation]
        for other in others:
            assert other.name not in body


def test_partner_lists_only_reveal_own_organisation(cast: Cast) -> None:
    for who in ("admin_a", "member_a"):
        data = api_as(cast.people()[who]).get("/api/v1/partners/").json()
        assert [row["id"] for row in data["results"]] == [cast.org_a.pk]
    pdm_rows = api_as(cast.pdm).get("/api/v1/partners/").json()["results"]
    assert [row["id"] for row in pdm_rows] == [cast.org_a.pk]
    page = browser_as(cast.admin_a).get("/").content.decode()
    assert cast.org_b.name not in page
    assert cast.provider.name not in page


def _route_names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith(("admin/", "accounts/")):
                continue  # Django admin and allauth: covered by their own tests below
            names |= _route_names(pattern, route)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


# Each app keeps its rows beside its tests, in a module with a `CASES` list of `Case`.
MATRIX_MODULES = (
    "tests.test_access_matrix",
    "deals.tests.test_access_api",
    "deals.tests.test_access_pages",
    "tiers.tests.test_access_pages",
    "escalations.tests.test_access",
    "accreditations.tests.test_access_api",
    "accreditations.tests.test_access_pages",
    "commissions.tests.test_access_api",
    "commissions.tests.test_access_pages",
)


def test_every_route_has_a_row_in_the_access_matrix() -> None:
    covered = {case.route for module in MATRIX_MODULES for case in import_module(module).CASES}
    missing = _route_names(get_resolver()) - covered
    assert not missing, f"Routes without access tests: {sorted(missing)}"


@pytest.mark.parametrize("who", EVERYONE)
def test_only_partner_ops_reach_the_django_admin(cast: Cast, who: str) -> None:
    response = browser_as(cast.people()[who]).get("/admin/")
    assert response.status_code == (200 if who == "ops" else 302)
