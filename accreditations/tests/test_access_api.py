"""Every accreditation endpoint, called as every member of the cast and anonymously (see
tests/test_access_matrix.py for the rules and the route-coverage test). Another partner gets a
404 on every accreditation and certification, and learns nothing of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accreditations.models import Accreditation
from partnerportal.core.models import Organisation
from tests.cast import Cast, api_as
from tests.test_access_matrix import EVERYONE, Case, statuses

#: Readers: ops, the partner's PDM (partner A only) and the partner's own users.
READERS = statuses(
    403,
    ops=200,
    pdm=200,
    admin_a=200,
    member_a=200,
    admin_b=200,
    member_b=200,
    provider_admin=200,
)
A_ONLY = dict(admin_b=404, member_b=404, provider_admin=404, gs=404, finance=404)
B_ONLY = dict(admin_a=404, member_a=404, provider_admin=404, pdm=404, gs=404, finance=404)


def waiting_for_the_board(org: Organisation) -> Accreditation:
    """An accreditation of `org` in the board's queue (an application with four marks)."""
    applicant = org.members.filter(role="partner_admin").first()
    accreditation, _ = Accreditation.objects.get_or_create(
        organisation=org,
        kind="onboarding",
        status="board_review",
        defaults={"reasons": ["too_many_marks:4"], "applied_by": applicant},
    )
    return accreditation


def _decision(cast: Cast, who: str) -> dict[str, Any]:
    return {
        "verdict": "grant",
        "reason": "Remedied",
        "director": "Dana Director",
        "director_approved_on": "2026-07-01",
    }


def _certification(cast: Cast, who: str) -> dict[str, Any]:
    return {
        "partner": cast.org_a.pk,
        "code": "inbound",
        "kind": "software",
        "holder_email": f"{who}@alpha.example",
    }


CASES: list[Case] = [
    Case("api-certifications", "get", lambda c: "/api/v1/certifications/", READERS),
    Case(
        "api-certifications",
        "post",
        lambda c: "/api/v1/certifications/",
        statuses(403, ops=201),
        body=_certification,
    ),
    Case("api-accreditations", "get", lambda c: "/api/v1/accreditations/", READERS),
    Case(
        "api-accreditations",
        "post",
        lambda c: "/api/v1/accreditations/",
        statuses(403, admin_a=201, admin_b=201, provider_admin=201),
        body=lambda c, who: {"kind": "onboarding"},
    ),
    Case(
        "api-accreditation-detail",
        "get",
        lambda c: f"/api/v1/accreditations/{waiting_for_the_board(c.org_a).pk}/",
        statuses(200, **A_ONLY),
    ),
    Case(
        "api-accreditation-detail",
        "get",
        lambda c: f"/api/v1/accreditations/{waiting_for_the_board(c.org_b).pk}/",
        statuses(200, **B_ONLY),
    ),
    Case(
        "api-accreditation-decision",
        "post",
        lambda c: f"/api/v1/accreditations/{waiting_for_the_board(c.org_a).pk}/decision/",
        statuses(403, ops=201, **A_ONLY),
        body=_decision,
    ),
    Case(
        "api-accreditation-decision",
        "post",
        lambda c: f"/api/v1/accreditations/{waiting_for_the_board(c.org_b).pk}/decision/",
        statuses(403, ops=201, **B_ONLY),
        body=_decision,
    ),
    Case(
        "api-accreditation-reviews",
        "post",
        lambda c: "/api/v1/accreditation-reviews/",
        statuses(403, ops=201),
        body=lambda c, who: {"as_of": "2026-07-15"},
    ),
]


@pytest.mark.parametrize("who", [*EVERYONE, "anon"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.route}")
def test_every_accreditation_endpoint_enforces_tenancy_and_role(
    cast: Cast, case: Case, who: str
) -> None:
    user = None if who == "anon" else cast.people()[who]
    url = case.url(cast)
    client = api_as(user)
    if case.method == "get":
        response = client.get(url)
    else:
        response = client.post(url, case.body(cast, who), format="json")
    assert response.status_code == case.expected[who], (who, url, response.content[:300])
    body = response.content.decode()
    if response.status_code in (403, 404):
        assert set(json.loads(body)) == {"detail"}, body
    if user is not None and user.organisation is not None:
        # A partner never reads another partner's name, accreditation or certification.
        for other in (cast.org_a, cast.org_b, cast.provider):
            if other != user.organisation:
                assert other.name not in body, (who, other.name)
                assert f'"partner":{other.pk},' not in body.replace(" ", ""), (who, body[:300])
