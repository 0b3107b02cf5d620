"""Every tier page, called as every member of the cast and anonymously (see
tests/test_access_matrix.py for the rules and the route-coverage test).

A tier is read by partner ops, the partner's PDM (the cast's PDM has partner A only) and the
partner's own users; a GS or finance sees the partner but not its tier (403); providers have
no tier (404). Both partners are assessed, so a page that leaks the other's lines or name
fails here."""

from __future__ import annotations

import pytest

from partnerportal.core.models import Organisation, User
from tests.cast import Cast, browser_as
from tests.test_access_matrix import EVERYONE, Case, statuses
from tiers import selectors, services
from tiers.models import TierAssessment
from tiers.tests.test_api import MARCH, line

NOT_A = dict(admin_b=404, member_b=404, provider_admin=404)
NOT_B = dict(admin_a=404, member_a=404, provider_admin=404, pdm=404)
A_TIER = statuses(403, anon=302, ops=200, pdm=200, admin_a=200, member_a=200, **NOT_A)
B_TIER = statuses(403, anon=302, ops=200, admin_b=200, member_b=200, **NOT_B)
# A provider: its own users and ops see it but it has no tier; a GS or finance may not read
# tiers at all; the others do not see it.
PROVIDER_TIER = statuses(
    404, anon=302, gs=403, finance=403, admin_a=404, member_a=404, admin_b=404, member_b=404
)

CASES: list[Case] = [
    *(
        Case(route, "get", url, expected, api=False)
        for route, suffix in (("tiers-partner", ""), ("tiers-partner-lines-csv", "lines.csv"))
        for url, expected in (
            (lambda c, s=suffix: f"/partners/{c.org_a.pk}/tier/{s}", A_TIER),  # type: ignore[misc]
            (lambda c, s=suffix: f"/partners/{c.org_b.pk}/tier/{s}", B_TIER),  # type: ignore[misc]
            (
                lambda c, s=suffix: f"/partners/{c.provider.pk}/tier/{s}",  # type: ignore[misc]
                PROVIDER_TIER,
            ),
        )
    ),
    Case(
        "tiers-partners",
        "get",
        lambda c: "/tiers/partners/",
        statuses(403, anon=302, ops=200, pdm=200),
        api=False,
    ),
]


@pytest.fixture
def both_assessed(cast: Cast) -> Cast:
    line(cast.org_a, mrr="2000.00", sold="sourced")
    line(cast.org_a, mrr="5000.00", managed=True)
    line(cast.org_b, mrr="3000.00", sold="sourced")
    line(cast.org_b, mrr="700.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)
    return cast


def _domains(organisation: Organisation) -> set[str]:
    return {
        line.customer.domain
        for assessment in TierAssessment.objects.filter(organisation=organisation)
        for line in selectors.assessment_lines(assessment)
    }


def _others(cast: Cast, user: User) -> list[Organisation]:
    return [o for o in (cast.org_a, cast.org_b, cast.provider) if o != user.organisation]


def _check(cast: Cast, case: Case, who: str) -> str | None:
    """Call the case as `who`; return what is wrong, or None."""
    user = None if who == "anon" else cast.people()[who]
    url = case.url(cast)
    response = browser_as(user).get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode()
    if response.status_code != case.expected[who]:
        return f"{who}: GET {url} -> {response.status_code}: {text[-300:]}"
    if user is not None and user.organisation is not None:
        # A partner's page never names another organisation or shows its customers.
        for other in _others(cast, user):
            leaked = [other.name] if other.name in text else []
            leaked += [d for d in _domains(other) if d in text]
            if leaked:
                return f"{who}: {url} ({response.status_code}) shows {leaked}"
    if response.status_code in (403, 404) and any(
        d in text for org in (cast.org_a, cast.org_b) for d in _domains(org)
    ):
        return f"{who}: {url} refused but shows a customer"
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.route}")
def test_every_tier_page_enforces_tenancy_and_role(both_assessed: Cast, case: Case) -> None:
    problems = [_check(both_assessed, case, who) for who in [*EVERYONE, "anon"]]
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)
