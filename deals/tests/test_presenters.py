"""Views that only present (issue 9): every code the rules store or refuse with has words, a
page offers an action exactly when the service allows it (one home for each precondition),
and paging one list of the workspace keeps the other list's page."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from deals import presenters, services
from deals.inputs import ClosedLineInput
from deals.models import Registration
from deals.rules import PoiLinkProblem, Rule
from tests.cast import Cast, browser_as
from tests.factories import RegistrationFactory

from .api_steps import start_clock
from .test_access_pages import QUOTE, answer_poi, approve, register

pytestmark = pytest.mark.django_db


# --- Words for every code --------------------------------------------------------------------


@pytest.mark.parametrize("rule", list(Rule))
def test_every_rule_code_has_words(rule: Rule) -> None:
    words = presenters.RULE_WORDS[rule]
    assert words.strip()
    assert words != rule.value
    assert presenters.rule_words(rule.value) == words


@pytest.mark.parametrize("problem", list(PoiLinkProblem))
def test_every_poi_link_problem_has_a_title_and_words(problem: PoiLinkProblem) -> None:
    assert presenters.POI_LINK_TITLES[problem].strip()
    assert presenters.POI_LINK_WORDS[problem].strip()


@pytest.mark.parametrize("outcome", list(presenters.Outcome))
def test_every_partner_outcome_has_words(outcome: presenters.Outcome) -> None:
    assert presenters.OUTCOME_WORDS[outcome].strip()


def test_secondary_no_credit_shows_in_words_on_the_deal_page(cast: Cast) -> None:
    # given: A sourced the deal and referred B, who acknowledged being secondary; both signed
    source = approve(cast.gs, register(cast.admin_a, "acme.example"))
    services.referral_create(actor=cast.admin_a, registration=source, partner_id=cast.org_b.pk)
    secondary = Registration.objects.get(deal=source.deal, organisation=cast.org_b)
    services.secondary_acknowledge(actor=cast.admin_b, registration=secondary)
    services.quote_save(actor=cast.gs, deal=source.deal, lines=QUOTE)
    answer_poi(source, "approve")
    answer_poi(secondary, "approve")
    # when: the GS closes without an onboarding choice (so step 3 does not apply)
    services.deal_close(
        actor=cast.gs,
        deal=source.deal,
        purchase_domain="acme.example",
        close_date=timezone.localdate(),
        lines=[ClosedLineInput(product_line="marketing_hub")],
    )
    # then: the deal page says why B is not a candidate, in words
    page = browser_as(cast.gs).get(f"/deals/{source.deal_id}/").content.decode()
    excluded = re.search(r'<ul id="resolution-excluded">(.*?)</ul>', page, re.S)
    assert excluded is not None
    assert html.unescape(presenters.RULE_WORDS[Rule.SECONDARY_NO_CREDIT]) in html.unescape(
        excluded.group(1)
    )


def test_a_refused_form_says_the_rule_in_words(cast: Cast) -> None:
    client = browser_as(cast.admin_a)
    body = {"customer_domain": "acme.example", "country": "GB", "segment": "smb"}
    assert client.post("/deals/", body).status_code == 302
    page = html.unescape(client.post("/deals/", body).content.decode())
    assert "one open deal per partner and customer domain" in page


# --- One home for each precondition ----------------------------------------------------------


def test_an_invitation_at_its_expiry_instant_is_offered_and_accepted(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an invitation, and the clock at its expiry instant (accepting then is in time)
    clock = start_clock(monkeypatch)
    deal = services.deal_create(
        actor=cast.gs, customer_domain="acme.example", customer_name="", country="GB", segment="smb"
    )
    invited = services.invitation_create(actor=cast.gs, deal=deal, partner_id=cast.org_a.pk)
    assert invited.expires_at is not None
    clock.set(invited.expires_at)
    client = browser_as(cast.admin_a)
    # when: the partner opens its registration
    page = client.get(f"/deals/registrations/{invited.pk}/").content.decode()
    # then: the page offers what the service allows, and the service allows it
    assert "Accept the invitation" in page
    assert "Invitation expired" not in page
    response = client.post(f"/deals/registrations/{invited.pk}/accept/")
    assert response.status_code == 302
    assert Registration.objects.get(pk=invited.pk).status == Registration.Status.ACCEPTED


def test_an_invitation_past_its_expiry_is_neither_offered_nor_accepted(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = start_clock(monkeypatch)
    deal = services.deal_create(
        actor=cast.gs, customer_domain="acme.example", customer_name="", country="GB", segment="smb"
    )
    invited = services.invitation_create(actor=cast.gs, deal=deal, partner_id=cast.org_a.pk)
    assert invited.expires_at is not None
    clock.set(invited.expires_at + timedelta(seconds=1))
    client = browser_as(cast.admin_a)
    page = client.get(f"/deals/registrations/{invited.pk}/").content.decode()
    assert "Accept the invitation" not in page
    assert "Invitation expired" in page
    assert client.post(f"/deals/registrations/{invited.pk}/accept/").status_code == 400


def test_a_referral_is_offered_only_where_the_service_takes_it(cast: Cast) -> None:
    # A pending request cannot refer yet; once approved, it can.
    pending = register(cast.admin_a, "acme.example")
    client = browser_as(cast.admin_a)
    page = client.get(f"/deals/registrations/{pending.pk}/").content.decode()
    assert "Find a partner to refer" not in page
    refused = client.post(
        f"/deals/registrations/{pending.pk}/referral/", {"partner": cast.org_b.pk}
    )
    assert refused.status_code == 400
    search = client.get(f"/deals/registrations/{pending.pk}/referral/?q=Bravo").content.decode()
    assert "Only an approved Partner Sourced registration can refer a partner." in search
    assert cast.org_b.name not in search
    approve(cast.gs, pending)
    page = client.get(f"/deals/registrations/{pending.pk}/").content.decode()
    assert "Find a partner to refer" in page


# --- Paging ----------------------------------------------------------------------------------


def test_paging_the_workspace_queue_keeps_the_open_deals_page(cast: Cast) -> None:
    # given: more than a page (25) of pending requests and of open deals for the GS
    for _ in range(26):
        RegistrationFactory(status="pending_approval", deal__growth_specialist=cast.gs)
    client = browser_as(cast.gs)
    # when: the GS is on page 2 of the open deals
    page = client.get("/deals/workspace/?page=2").content.decode()
    queue = re.search(r'<section class="card" id="queue">(.*?)</section>', page, re.S)
    assert queue is not None
    # then: the queue's next link keeps page=2 (and the deals' previous link keeps qpage)
    next_links = [html.unescape(href) for href in re.findall(r'href="([^"]*)"', queue.group(1))]
    assert "?page=2&qpage=2" in next_links
    page = client.get("/deals/workspace/?page=2&qpage=2").content.decode()
    deals = re.search(r'<section class="card grow" id="open-deals">(.*?)</section>', page, re.S)
    assert deals is not None
    links = [html.unescape(href) for href in re.findall(r'href="([^"]*)"', deals.group(1))]
    assert "?page=1&qpage=2" in links
