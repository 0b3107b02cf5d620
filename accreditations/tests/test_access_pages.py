"""Every accreditation page, called as every member of the cast and anonymously (rows for
tests/test_access_matrix.py). Another partner gets a 404 on every accreditation page."""

from __future__ import annotations

import pytest

from tests.cast import Cast, browser_as
from tests.test_access_matrix import EVERYONE, Case, statuses

from .test_access_api import waiting_for_the_board

PAGE_READERS = statuses(200, anon=302, gs=403, finance=403)
A_ONLY = dict(admin_b=404, member_b=404, provider_admin=404, gs=404, finance=404)
B_ONLY = dict(admin_a=404, member_a=404, provider_admin=404, pdm=404, gs=404, finance=404)
DECISION = {
    "verdict": "refuse",
    "reason": "Repeated complaints",
    "director": "Dana Director",
    "director_approved_on": "2026-07-01",
}

CASES: list[Case] = [
    Case("accreditations", "get", lambda c: "/accreditations/", PAGE_READERS, api=False),
    Case(
        "accreditations-apply",
        "post",
        lambda c: "/accreditations/apply/",
        statuses(403, anon=302, admin_a=302, admin_b=302, provider_admin=302),
        body=lambda c, who: {"kind": "data_migration"},
        api=False,
    ),
    Case(
        "accreditations-board",
        "get",
        lambda c: "/accreditations/board/",
        statuses(403, anon=302, ops=200),
        api=False,
    ),
    *(
        Case(
            "accreditations-detail",
            "get",
            url,
            statuses(200, anon=302, **others),
            api=False,
        )
        for url, others in (
            (lambda c: f"/accreditations/{waiting_for_the_board(c.org_a).pk}/", A_ONLY),
            (lambda c: f"/accreditations/{waiting_for_the_board(c.org_b).pk}/", B_ONLY),
        )
    ),
    *(
        Case(
            "accreditations-decide",
            "post",
            url,
            statuses(403, anon=302, ops=302, **others),
            body=lambda c, who: DECISION,
            api=False,
        )
        for url, others in (
            (lambda c: f"/accreditations/{waiting_for_the_board(c.org_a).pk}/decision/", A_ONLY),
            (lambda c: f"/accreditations/{waiting_for_the_board(c.org_b).pk}/decision/", B_ONLY),
        )
    ),
]


@pytest.mark.parametrize("who", [*EVERYONE, "anon"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.route}")
def test_every_accreditation_page_enforces_tenancy_and_role(
    cast: Cast, case: Case, who: str
) -> None:
    user = None if who == "anon" else cast.people()[who]
    url = case.url(cast)
    client = browser_as(user)
    response = client.get(url) if case.method == "get" else client.post(url, case.body(cast, who))
    assert response.status_code == case.expected[who], (who, url, response.content[-300:])
    body = response.content.decode()
    if user is not None and user.organisation is not None:
        for other in (cast.org_a, cast.org_b, cast.provider):
            if other != user.organisation:
                assert other.name not in body, (who, other.name)
