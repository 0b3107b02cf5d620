"""Each role lands on the page it works from, and the pages link where people go next
(issue 13).

- A growth specialist lands on the deals workspace; customer success and service acceleration
  on the review queue; finance on its quarters page (`commissions:quarters`) once the
  commissions pages serve it; PDMs and partner ops on the partners list.
- A partner's Home is a dashboard (deals, statements, accreditations, a link to its tier),
  distinct from its Tier page.
- The partner page links to the partner's tier page, and offers partner ops the Elite
  invitation when the partner's latest tier run found the Elite points.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import include, path

from partnerportal import urls as project_urls
from partnerportal.core.models import AuditEvent, Organisation, Role, User
from partnerportal.views import optional_url
from tests.cast import Cast, browser_as, enrol_totp
from tiers.models import EliteInvitation, TierAssessment, TierRuleSet

from .test_words_and_links import visible_text

pytestmark = pytest.mark.django_db


# --- Landing pages -----------------------------------------------------------------------------


def test_a_growth_specialist_lands_on_the_deals_workspace(cast: Cast) -> None:
    response = browser_as(cast.gs).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/deals/workspace/"


@pytest.mark.parametrize("role", [Role.CUSTOMER_SUCCESS, Role.SERVICE_ACCELERATION])
def test_the_escalation_roles_land_on_the_review_queue(db: None, role: Role) -> None:
    person = User.objects.create_user(email=f"{role}@vendor.example", role=role)
    enrol_totp(person)
    response = browser_as(person).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/escalations/queue/"


@pytest.mark.parametrize("who", ["pdm", "ops"])
def test_pdms_and_partner_ops_land_on_the_partners_list(cast: Cast, who: str) -> None:
    response = browser_as(cast.people()[who]).get("/")
    assert response.status_code == 200
    assert 'id="partners"' in response.content.decode()


def _quarters_page(request: object) -> None:  # pragma: no cover - only resolved, never called
    raise AssertionError


# The project's URLs plus a finance quarters page under the name the commissions pages use.
urlpatterns = [
    path(
        "",
        include(
            ([path("finance/quarters/", _quarters_page, name="quarters")], "commissions"),
            namespace="commissions",
        ),
    ),
    *project_urls.urlpatterns,
]


@override_settings(ROOT_URLCONF=__name__)
def test_finance_lands_on_the_finance_quarters_page(cast: Cast) -> None:
    response = browser_as(cast.finance).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/finance/quarters/"


def test_a_landing_page_not_served_yet_is_no_link() -> None:
    assert optional_url("commissions:no-such-page") is None
    assert optional_url("deals-workspace") == "/deals/workspace/"


# --- A partner's Home ------------------------------------------------------------------------


def test_a_partners_home_is_a_dashboard_distinct_from_its_tier_page(cast: Cast) -> None:
    client = browser_as(cast.admin_a)
    home = client.get("/").content.decode()
    for section in ("dashboard-deals", "dashboard-statements", "dashboard-accreditations"):
        assert f'id="{section}"' in home, section
    assert f'href="/partners/{cast.org_a.pk}/tier/" id="tier-link"' in home
    assert "Customers and subscriptions" in home
    assert 'id="what-if"' not in home
    tier = client.get(f"/partners/{cast.org_a.pk}/tier/").content.decode()
    assert 'id="dashboard-deals"' not in tier
    assert "Customers and subscriptions" not in tier


def test_the_dashboard_counts_what_waits_for_the_partner(cast: Cast) -> None:
    from deals.tests.test_access_pages import approve, register

    register(cast.admin_a, "pending.example")
    approve(cast.gs, register(cast.admin_a, "approved.example"))
    register(cast.admin_b, "theirs.example")  # another partner's: never counted or shown
    words = visible_text(browser_as(cast.member_a).get("/").content.decode())
    assert "1 awaiting the growth specialist's approval" in words
    assert "1 open deal you take part in" in words
    assert "0 deals credited to you" in words
    assert "pending.example" in words
    assert "theirs.example" not in words


def test_a_providers_home_has_no_tier_link(cast: Cast) -> None:
    home = browser_as(cast.provider_admin).get("/").content.decode()
    assert 'id="dashboard-deals"' in home
    assert 'id="tier-link"' not in home


# --- The partner page --------------------------------------------------------------------------


def test_the_pdms_partner_page_links_to_the_partners_tier(cast: Cast) -> None:
    page = browser_as(cast.pdm).get(f"/partners/{cast.org_a.pk}/").content.decode()
    assert f'href="/partners/{cast.org_a.pk}/tier/" id="tier-link"' in page
    provider = browser_as(cast.ops).get(f"/partners/{cast.provider.pk}/").content.decode()
    assert 'id="tier-link"' not in provider


def _assessed(organisation: Organisation, *, elite_qualified: bool) -> TierAssessment:
    """A tier run's outcome for `organisation` (the run itself is tested in tiers/)."""
    points = Decimal("9200") if elite_qualified else Decimal("100")
    return TierAssessment.objects.create(
        organisation=organisation,
        as_of=date(2026, 3, 15),
        rule_set=TierRuleSet.objects.order_by("effective_from").first(),
        sourced_points=points,
        assisted_points=0,
        managed_points=0,
        total_points=points,
        sold_source="associations",
        tier_before="untiered",
        qualified_tier="untiered",
        tier_after="untiered",
        at_risk=False,
        elite_qualified=elite_qualified,
    )


def test_partner_ops_are_offered_the_elite_invitation_only_when_elite_qualified(
    cast: Cast,
) -> None:
    _assessed(cast.org_a, elite_qualified=True)
    _assessed(cast.org_b, elite_qualified=False)
    ops = browser_as(cast.ops)
    qualified = ops.get(f"/partners/{cast.org_a.pk}/").content.decode()
    not_qualified = ops.get(f"/partners/{cast.org_b.pk}/").content.decode()
    assert "Invite to Elite" in qualified
    assert f'action="/partners/{cast.org_a.pk}/elite-invitation/"' in qualified
    assert "Invite to Elite" not in not_qualified
    assert "did not find the Elite points" in visible_text(not_qualified)
    # the PDM reads the page, without the action
    assert (
        "Invite to Elite"
        not in browser_as(cast.pdm).get(f"/partners/{cast.org_a.pk}/").content.decode()
    )


def test_partner_ops_invite_a_partner_to_elite_from_its_page(cast: Cast) -> None:
    # given
    _assessed(cast.org_a, elite_qualified=True)
    ops = browser_as(cast.ops)
    url = f"/partners/{cast.org_a.pk}/elite-invitation/"
    # when: confirmed, with a reason
    response = ops.post(url, {"reason": "Strongest book in EMEA", "confirm": "on"}, follow=True)
    # then: the invitation through the service (audited), and the result in words
    invitation = EliteInvitation.objects.get(organisation=cast.org_a)
    assert invitation.invited_by == cast.ops
    assert invitation.reason == "Strongest book in EMEA"
    assert (
        AuditEvent.objects.filter(verb="tiers.elite.invited", organisation=cast.org_a).count() == 1
    )
    words = visible_text(response.content.decode())
    assert f"{cast.org_a.name} is invited to Elite" in words
    assert "Invited to Elite on" in words
    assert "Invite to Elite" not in words  # offered once


def test_an_unconfirmed_elite_invitation_is_not_made(cast: Cast) -> None:
    _assessed(cast.org_a, elite_qualified=True)
    response = browser_as(cast.ops).post(
        f"/partners/{cast.org_a.pk}/elite-invitation/", {"reason": "Strong year"}
    )
    assert response.status_code == 400
    assert "Tick the box to confirm the invitation." in visible_text(response.content.decode())
    assert not EliteInvitation.objects.filter(organisation=cast.org_a).exists()


def test_an_elite_invitation_without_a_reason_says_so_in_words(cast: Cast) -> None:
    _assessed(cast.org_a, elite_qualified=True)
    response = browser_as(cast.ops).post(
        f"/partners/{cast.org_a.pk}/elite-invitation/", {"reason": "", "confirm": "on"}
    )
    assert response.status_code == 400
    assert not EliteInvitation.objects.filter(organisation=cast.org_a).exists()


def test_a_partner_not_elite_qualified_cannot_be_invited_from_the_page(cast: Cast) -> None:
    _assessed(cast.org_b, elite_qualified=False)
    response = browser_as(cast.ops).post(
        f"/partners/{cast.org_b.pk}/elite-invitation/",
        {"reason": "Strong year", "confirm": "on"},
        follow=True,
    )
    assert not EliteInvitation.objects.filter(organisation=cast.org_b).exists()
    assert "did not find the Elite points, so it cannot be invited yet" in visible_text(
        response.content.decode()
    )


def test_only_partner_ops_invite_to_elite(cast: Cast) -> None:
    _assessed(cast.org_a, elite_qualified=True)
    url = f"/partners/{cast.org_a.pk}/elite-invitation/"
    body = {"reason": "Strong year", "confirm": "on"}
    assert browser_as(cast.pdm).post(url, body).status_code == 403
    assert browser_as(cast.admin_a).post(url, body).status_code == 403
    assert browser_as(cast.admin_b).post(url, body).status_code == 404
    assert not EliteInvitation.objects.exists()
