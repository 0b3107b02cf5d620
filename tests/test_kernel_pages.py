"""Home pages per role show real kernel data, in a bounded number of queries."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerportal.core.models import User

from .cast import Cast, api_as, browser_as
from .factories import (
    ActivityFactory,
    CustomerFactory,
    OrganisationFactory,
    SubscriptionVersionFactory,
)

pytestmark = pytest.mark.django_db


def _customers_with_lines(cast: Cast, count: int) -> None:
    for n in range(count):
        customer = CustomerFactory(domain=f"c{n}-{cast.org_a.pk}.example.com", name=f"Cust {n}")
        SubscriptionVersionFactory(subscription__customer=customer, effective_from=date(2025, 1, 1))
        ActivityFactory(organisation=cast.org_a, customer=customer)


def test_partner_home_shows_its_organisation_customers_and_subscriptions(cast: Cast) -> None:
    _customers_with_lines(cast, 2)
    other = CustomerFactory(domain="bravo-only.example.com", name="Bravo Secret Customer")
    ActivityFactory(organisation=cast.org_b, customer=other)
    page = browser_as(cast.member_a).get("/").content.decode()
    assert cast.org_a.name in page
    assert "Cust 0" in page
    assert "Marketing Hub" in page
    assert "800.00 USD" in page
    assert "Bravo Secret Customer" not in page
    assert cast.org_b.name not in page


def test_staff_home_lists_partners_they_may_see(cast: Cast) -> None:
    # Partner ops and PDMs land on the partners list (a growth specialist lands on the deals
    # workspace: tests/test_navigation.py).
    page = browser_as(cast.ops).get("/").content.decode()
    assert cast.org_a.name in page
    assert cast.org_b.name in page
    pdm_page = browser_as(cast.pdm).get("/").content.decode()
    assert cast.org_a.name in pdm_page
    assert cast.org_b.name not in pdm_page


#: Session, user, organisation, its country and PDM, customers and their lines (7); the
#: dashboard (issue 13) adds the deals' counts and latest deals, the statements and the
#: accreditations (11).
PARTNER_HOME_QUERIES = 11


@pytest.mark.parametrize("size", [2, 30])
def test_partner_home_query_count_is_bounded(cast: Cast, size: int) -> None:
    _customers_with_lines(cast, size)
    client = browser_as(cast.admin_a)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert len(queries) <= PARTNER_HOME_QUERIES, [q["sql"] for q in queries]


@pytest.mark.parametrize("size", [2, 60])
def test_staff_home_query_count_is_bounded(cast: Cast, size: int) -> None:
    for n in range(size):
        OrganisationFactory(name=f"Bulk {n}", pdm=cast.pdm)
    client = browser_as(cast.ops)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert len(queries) <= 9, [q["sql"] for q in queries]


def test_staff_without_a_second_factor_are_sent_to_enrol(db: None) -> None:
    staff = User.objects.create_user(email="gs2@vendor.example", role="growth_specialist")
    response = browser_as(staff).get("/")
    assert response.status_code == 302
    assert "/accounts/2fa/totp/activate" in response["Location"]


def test_partner_users_are_not_forced_to_enrol_a_second_factor(cast: Cast) -> None:
    assert browser_as(cast.admin_b).get("/").status_code == 200


def test_sign_in_page_and_no_self_signup(db: None) -> None:
    client = browser_as(None)
    assert client.get("/accounts/login/").status_code == 200
    signup = client.get("/accounts/signup/")
    assert "closed" in signup.content.decode().lower() or signup.status_code in (302, 403)


def test_audit_page_shows_events_to_partner_ops(cast: Cast) -> None:
    from partnerportal.core import services

    services.partner_create(actor=cast.ops, name="Foxtrot", kind="partner", country="GB")
    page = browser_as(cast.ops).get("/audit/?verb=core.partner").content.decode()
    assert "core.partner.created" in page
    assert cast.ops.email in page


def test_a_page_outside_your_reach_is_a_friendly_404(cast: Cast) -> None:
    response = browser_as(cast.admin_b).get(f"/partners/{cast.org_a.pk}/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "not yours to see" in body
    assert cast.org_a.name not in body


def test_an_oversized_audit_filter_is_refused_on_the_field_not_a_500(cast: Cast) -> None:
    response = browser_as(cast.ops).get("/audit/", {"verb": "x" * 100_000})
    assert response.status_code == 200
    assert "Ensure this value has at most 80 characters" in response.content.decode()


def test_an_id_beyond_any_row_is_a_404_not_a_500(cast: Cast) -> None:
    huge = 2**70
    assert browser_as(cast.ops).get(f"/partners/{huge}/").status_code == 404
    assert api_as(cast.ops).get(f"/api/v1/partners/{huge}/").status_code == 404
