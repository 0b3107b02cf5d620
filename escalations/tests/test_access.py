"""Every escalation endpoint and page, called as every member of the cast and anonymously (see
tests/test_access_matrix.py for the rules and the route-coverage test).

The objects are partner A's: an open case at the complaint step (with a staff-only note), and a
consequence. Partner B and the provider get a 404 that says nothing of A; every staff member may
raise a case and read cases (SPEC 11: "staff"), a PDM only its partners'; only the owner of a
step moves a case (others who see it: 403). Each row builds its objects through the services
when its URL is asked for; building twice returns what exists."""

from __future__ import annotations

from datetime import date

import pytest

from escalations import services
from escalations.inputs import ConsequenceInput
from escalations.models import Consequence, Escalation
from escalations.rules import ConsequenceKind
from tests.cast import Cast, api_as, browser_as
from tests.test_access_matrix import EVERYONE, Case, statuses

from .steps import STAFF_SECRET, open_case

A_CASE = dict(ops=200, pdm=200, gs=200, finance=200, admin_a=200, member_a=200)
A_MARKS = dict(ops=200, pdm=200, admin_a=200, member_a=200)  # SPEC 11: ops, PDM, own users
NOT_THE_OWNER = dict(pdm=403, gs=403, finance=403, admin_a=403, member_a=403)
NOT_B = dict(admin_b=404, member_b=404, provider_admin=404)


def a_case(c: Cast) -> Escalation:
    found = Escalation.objects.filter(organisation=c.org_a).order_by("id").first()
    return found or open_case(c.ops, c.org_a)


def a_consequence(c: Cast) -> Consequence:
    found = Consequence.objects.filter(organisation=c.org_a).order_by("id").first()
    return found or services.consequence_apply(
        actor=c.ops,
        data=ConsequenceInput(
            partner=c.org_a,
            kind=ConsequenceKind.WARNING,
            reason="Late customer hand-over",
            effective_from=date(2026, 1, 1),
        ),
    )


def _open_body(c: Cast, who: str) -> dict[str, object]:
    return {"partner": c.org_a.pk, "customer_domain": f"{who}.example", "summary": "Complaint"}


CASES = [
    # API
    Case(
        "api-escalations",
        "get",
        lambda c: "/api/v1/escalations/",
        statuses(200),
    ),
    Case(
        "api-escalations",
        "post",
        lambda c: "/api/v1/escalations/",
        statuses(403, ops=201, gs=201, pdm=201, finance=201),
        body=_open_body,
    ),
    Case(
        "api-escalation-detail",
        "get",
        lambda c: f"/api/v1/escalations/{a_case(c).pk}/",
        statuses(404, **A_CASE),
    ),
    Case(
        "api-escalation-transitions",
        "post",
        lambda c: f"/api/v1/escalations/{a_case(c).pk}/transitions/",
        statuses(404, ops=201, **NOT_THE_OWNER),
        body=lambda c, who: {"to": "mediation", "note": "Not resolved"},
    ),
    Case(
        "api-partner-marks",
        "get",
        lambda c: f"/api/v1/partners/{c.org_a.pk}/marks/",
        statuses(403, **A_MARKS, **NOT_B),
    ),
    Case(
        "api-partner-marks",
        "get",
        lambda c: f"/api/v1/partners/{c.org_b.pk}/marks/",
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
    ),
    Case(
        "api-consequences",
        "get",
        lambda c: "/api/v1/consequences/",
        statuses(200, gs=403, finance=403),
    ),
    Case(
        "api-consequences",
        "post",
        lambda c: "/api/v1/consequences/",
        statuses(403, ops=201),
        body=lambda c, who: {
            "partner": c.org_a.pk,
            "kind": "warning",
            "reason": "Late hand-over",
            "effective_from": "2026-01-01",
        },
    ),
    Case(
        "api-consequence-end",
        "post",
        lambda c: f"/api/v1/consequences/{a_consequence(c).pk}/end/",
        statuses(404, ops=200, pdm=403, admin_a=403, member_a=403),
        body=lambda c, who: {"effective_until": "2026-02-01", "reason": "Made good"},
    ),
    # Pages
    Case(
        "escalations-list",
        "get",
        lambda c: "/escalations/",
        statuses(200, anon=302),
        api=False,
    ),
    Case(
        "escalations-queue",
        "get",
        lambda c: "/escalations/queue/",
        statuses(403, anon=302, ops=200),
        api=False,
    ),
    Case(
        "escalations-create",
        "get",
        lambda c: "/escalations/new/",
        statuses(403, anon=302, ops=200, gs=200, pdm=200, finance=200),
        api=False,
    ),
    Case(
        "escalations-create",
        "post",
        lambda c: "/escalations/new/",
        statuses(403, anon=302, ops=302, gs=302, pdm=302, finance=302),
        body=_open_body,
        api=False,
    ),
    Case(
        "escalations-case",
        "get",
        lambda c: f"/escalations/{a_case(c).pk}/",
        statuses(404, anon=302, **A_CASE),
        api=False,
    ),
    Case(
        "escalations-case-move",
        "post",
        lambda c: f"/escalations/{a_case(c).pk}/move/",
        statuses(404, anon=302, ops=302, **NOT_THE_OWNER),
        body=lambda c, who: {"move": "mediation", "note": "Not resolved"},
        api=False,
    ),
    Case(
        "escalations-consequence-create",
        "get",
        lambda c: "/escalations/consequences/new/",
        statuses(403, anon=302, ops=200),
        api=False,
    ),
    Case(
        "escalations-consequence-create",
        "post",
        lambda c: "/escalations/consequences/new/",
        statuses(403, anon=302, ops=302),
        body=lambda c, who: {
            "partner": c.org_a.pk,
            "kind": "warning",
            "reason": "Late hand-over",
            "effective_from": "2026-01-01",
        },
        api=False,
    ),
    Case(
        "escalations-marks",
        "get",
        lambda c: "/marks/",
        statuses(200, anon=302, gs=403, finance=403),
        api=False,
    ),
    Case(
        "escalations-marks",
        "get",
        lambda c: f"/marks/?partner={c.org_b.pk}",
        statuses(200, anon=302, gs=403, finance=403, pdm=404),
        api=False,
    ),
]


@pytest.mark.parametrize("who", [*EVERYONE, "anon"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.route}")
def test_every_escalation_endpoint_and_page_enforces_tenancy_and_role(
    cast: Cast, case: Case, who: str
) -> None:
    user = None if who == "anon" else cast.people()[who]
    client = api_as(user) if case.api else browser_as(user)
    url = case.url(cast)
    if case.method == "get":
        response = client.get(url)
    elif case.api:
        response = client.post(url, case.body(cast, who), format="json")
    else:
        response = client.post(url, case.body(cast, who))
    assert response.status_code == case.expected[who], (who, url, response.content[:300])
    text = response.content.decode()
    if user is not None and user.is_partner_user:
        # A partner never reads a staff-only note, nor another organisation's name or case.
        assert STAFF_SECRET not in text, (who, url)
        for other in (cast.org_a, cast.org_b, cast.provider):
            if other != user.organisation:
                assert other.name not in text, (who, url)
        if user.organisation != cast.org_a:
            assert "customer.example" not in text, (who, url)
