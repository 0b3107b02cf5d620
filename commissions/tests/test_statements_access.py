"""Every statements endpoint, called as every member of the cast and anonymously (rows for
tests/test_access_matrix.py, through commissions/tests/test_access_api.py). Finance reads every
statement; a partner's users read their own (another's is a 404, as a missing one); only
finance closes, exports, releases and marks paid (403 on a statement the caller can see)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cast import Cast, api_as
from tests.test_access_matrix import EVERYONE, Case, statuses

from .steps import a_statement

A_ONLY = dict(admin_b=404, member_b=404, provider_admin=404)
B_ONLY = dict(admin_a=404, member_a=404, provider_admin=404, pdm=404)  # the PDM has A only
PARTNERS_READ = dict(admin_a=200, member_a=200, admin_b=200, member_b=200, provider_admin=200)


def _payment(cast: Cast, who: str) -> dict[str, Any]:
    return {"payment_reference": f"ACH-{who}", "paid_on": "2026-05-20"}


CASES: list[Case] = [
    Case(
        "api-statements",
        "get",
        lambda c: "/api/v1/statements/?quarter=2026-Q1",
        statuses(403, finance=200, **PARTNERS_READ),
    ),
    Case(
        "api-statement",
        "get",
        lambda c: f"/api/v1/statements/{a_statement(c.org_a).pk}/",
        statuses(403, finance=200, admin_a=200, member_a=200, **A_ONLY),
    ),
    Case(
        "api-statement",
        "get",
        lambda c: f"/api/v1/statements/{a_statement(c.org_b).pk}/",
        statuses(403, finance=200, admin_b=200, member_b=200, **B_ONLY),
    ),
    Case(
        "api-statement-release",
        "post",
        lambda c: f"/api/v1/statements/{a_statement(c.org_a, held=True).pk}/release/",
        statuses(403, finance=200, **A_ONLY),
    ),
    Case(
        "api-statement-payment",
        "post",
        lambda c: f"/api/v1/statements/{a_statement(c.org_a).pk}/payment/",
        statuses(403, finance=200, **A_ONLY),
        body=_payment,
    ),
    Case(
        "api-statement-payment",
        "post",
        lambda c: f"/api/v1/statements/{a_statement(c.org_b).pk}/payment/",
        statuses(403, finance=200, **B_ONLY),
        body=_payment,
    ),
    Case(
        "api-quarter-closes",
        "post",
        lambda c: "/api/v1/quarter-closes/",
        statuses(403, finance=201),
        body=lambda c, who: {"quarter": "2025-Q4"},
    ),
    Case(
        "api-quarter-closes",
        "post",
        lambda c: "/api/v1/quarter-closes/",
        statuses(403, finance=200),
        body=lambda c, who: {"quarter": "2025-Q4", "dry_run": True},
    ),
    Case(
        "api-statements-export",
        "get",
        lambda c: f"/api/v1/statements/export/?quarter={a_statement(c.org_a).quarter}&format=csv",
        statuses(403, finance=200),
    ),
]


@pytest.mark.parametrize("who", [*EVERYONE, "anon"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.route}")
def test_every_statements_endpoint_enforces_tenancy_and_role(
    cast: Cast, case: Case, who: str
) -> None:
    user = None if who == "anon" else cast.people()[who]
    client = api_as(user)
    url = case.url(cast)
    if case.method == "get":
        response = client.get(url)
    else:
        response = client.post(url, case.body(cast, who), format="json")
    assert response.status_code == case.expected[who], (who, url, response.content[:300])
    body = response.content.decode(errors="replace")
    if user is not None and user.organisation is not None:
        for other in (cast.org_a, cast.org_b, cast.provider):
            if other != user.organisation:
                assert other.name not in body, (who, other.name)
