"""The deal pages: what each role sees and does, refused input re-rendered with its messages
(400, input kept, nothing written), and a bounded number of queries per page."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from deals import presenters, services
from deals.models import Deal, Inquiry, Poi, QuoteVersion, Registration
from deals.rules import Rule
from partnerportal.core.models import AuditEvent
from tests.cast import Cast, browser_as
from tests.factories import InquiryFactory, OrganisationFactory, RegistrationFactory

from .test_access_pages import (
    QUOTE,
    answer_poi,
    approve,
    live_poi,
    quoted_deal,
    register,
    tied_deal,
)

pytestmark = pytest.mark.django_db

#: The test client's address: pages build POI links from the request (issue 13).
TEST_SERVER = "http://testserver"


def _register_form(domain: str = "acme.example", **extra: str) -> dict[str, str]:
    return {
        "customer_domain": domain,
        "customer_name": "Acme",
        "country": "GB",
        "segment": "smb",
        **extra,
    }


def _quote_form(*lines: dict[str, Any], close: str = "") -> dict[str, str]:
    data = {
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "expected_close_date": close,
    }
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = str(value)
    return data


PRO_LINE = {
    "product_line": "marketing_hub",
    "edition": "professional",
    "seats": 3,
    "mrr": "800.00",
    "currency": "USD",
}


# --- Partner: My deals -----------------------------------------------------------------------


def test_partner_registers_a_deal_and_lands_on_its_page(cast: Cast) -> None:
    client = browser_as(cast.member_a)
    response = client.post("/deals/", _register_form("https://www.Acme.example/"), follow=True)
    registration = Registration.objects.get(organisation=cast.org_a)
    assert response.redirect_chain[-1][0] == f"/deals/registrations/{registration.pk}/"
    page = response.content.decode()
    assert "Deal registered on acme.example" in page
    assert "Awaiting GS approval" in page
    assert "growth specialist" in page  # what happens next


def test_a_bad_domain_is_refused_on_the_field_with_the_input_kept(cast: Cast) -> None:
    response = browser_as(cast.admin_a).post("/deals/", _register_form("not a domain!"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a valid domain name" in page
    assert 'value="not a domain!"' in page
    assert 'value="Acme"' in page
    assert not Registration.objects.exists()


def test_a_second_open_registration_on_a_domain_names_the_rule(cast: Cast) -> None:
    client = browser_as(cast.admin_a)
    assert client.post("/deals/", _register_form()).status_code == 302
    response = client.post("/deals/", _register_form("acme.example"))
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    # the rule in words, never its code (issue 13)
    assert "(program rule: one open deal per partner and customer domain)" in page
    assert "duplicate_registration" not in page
    assert Registration.objects.count() == 1


def test_my_deals_lists_status_poi_and_questions_to_answer(cast: Cast) -> None:
    register(cast.admin_a, "pending.example")
    quoted = quoted_deal(cast, "quoted.example", with_b=True)
    InquiryFactory(registration=quoted, asked_by=cast.gs)
    InquiryFactory(
        registration=quoted,
        asked_by=cast.gs,
        asked_at=timezone.now() - timedelta(days=10),
    )
    page = browser_as(cast.admin_a).get("/deals/").content.decode()
    assert "pending.example" in page
    assert "Awaiting GS approval" in page
    assert "Waiting for the customer" in page
    assert "2 to answer" in page
    assert "1 overdue" in page
    assert f"#{cast.org_a.pk}" in page
    assert cast.org_b.name not in page


@pytest.mark.parametrize("size", [2, 30])
def test_my_deals_query_count_is_bounded(
    cast: Cast, size: int, django_assert_max_num_queries: Any
) -> None:
    for _ in range(size):
        registration = RegistrationFactory(organisation=cast.org_a, created_by=cast.admin_a)
        InquiryFactory(registration=registration, asked_by=cast.gs)
    client = browser_as(cast.admin_a)
    # User, count, page, its POIs, its open questions, the organisation, the countries (for
    # the blank form, when its rendering is not cached yet); the session is read from the cache.
    with django_assert_max_num_queries(7):
        assert client.get("/deals/").status_code == 200


# --- Partner: one registration ---------------------------------------------------------------


def test_the_poi_link_shows_only_while_the_customer_can_answer_it(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    client = browser_as(cast.admin_a)
    url = f"/deals/registrations/{mine.pk}/"
    page = client.get(url).content.decode()
    link = services.poi_url(live_poi(mine), base_url=TEST_SERVER)
    assert link in page
    assert "Copy the link below" in page
    answer_poi(mine, "approve")
    page = client.get(url).content.decode()
    assert link not in page
    assert "The customer confirmed your involvement" in page


def test_a_partner_creates_a_manual_poi_after_the_customer_rejected(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    answer_poi(mine, "reject")
    client = browser_as(cast.admin_a)
    page = client.get(f"/deals/registrations/{mine.pk}/").content.decode()
    assert "Create a manual POI" in page
    refused = client.post(f"/deals/registrations/{mine.pk}/poi/", {"provides_onboarding": "on"})
    assert refused.status_code == 400
    assert "This field is required" in refused.content.decode()
    assert Poi.objects.filter(registration=mine).count() == 1
    response = client.post(
        f"/deals/registrations/{mine.pk}/poi/",
        {"lines": ["marketing_hub"], "provides_onboarding": "on"},
        follow=True,
    )
    manual = live_poi(mine)
    assert manual.kind == Poi.Kind.MANUAL
    assert manual.provides_onboarding
    assert services.poi_url(manual, base_url=TEST_SERVER) in response.content.decode()


def test_a_provider_cannot_tick_onboarding_on_a_manual_poi(cast: Cast) -> None:
    mine = approve(cast.gs, register(cast.provider_admin, "acme.example"))
    services.quote_save(actor=cast.gs, deal=mine.deal, lines=QUOTE)
    answer_poi(mine, "reject")
    client = browser_as(cast.provider_admin)
    page = client.get(f"/deals/registrations/{mine.pk}/").content.decode()
    assert "Solutions providers cannot waive" in page
    client.post(
        f"/deals/registrations/{mine.pk}/poi/",
        {"lines": ["marketing_hub"], "provides_onboarding": "on"},
    )
    assert live_poi(mine).provides_onboarding is False


def test_an_invited_partner_sees_the_expiry_and_accepts(cast: Cast) -> None:
    deal = services.deal_create(
        actor=cast.gs, customer_domain="acme.example", customer_name="", country="GB", segment="smb"
    )
    invited = services.invitation_create(actor=cast.gs, deal=deal, partner_id=cast.org_a.pk)
    client = browser_as(cast.admin_a)
    page = client.get(f"/deals/registrations/{invited.pk}/").content.decode()
    assert "Accept the invitation" in page
    assert "Accept before" in page
    response = client.post(f"/deals/registrations/{invited.pk}/accept/", follow=True)
    assert "Invitation accepted" in response.content.decode()
    assert Registration.objects.get(pk=invited.pk).status == Registration.Status.ACCEPTED


def test_accepting_a_lapsed_invitation_explains_why_with_a_400(cast: Cast) -> None:
    deal = services.deal_create(
        actor=cast.gs, customer_domain="acme.example", customer_name="", country="GB", segment="smb"
    )
    invited = services.invitation_create(actor=cast.gs, deal=deal, partner_id=cast.org_a.pk)
    Registration.objects.filter(pk=invited.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    client = browser_as(cast.admin_a)
    page = client.get(f"/deals/registrations/{invited.pk}/").content.decode()
    assert "Invitation expired" in page
    assert "Accept the invitation" not in page
    response = client.post(f"/deals/registrations/{invited.pk}/accept/")
    assert response.status_code == 400
    assert "lapsed" in response.content.decode()


def test_a_sourcing_partner_refers_and_the_referred_partner_acknowledges(cast: Cast) -> None:
    sourcing = approve(cast.gs, register(cast.admin_a, "acme.example"))
    client_a = browser_as(cast.admin_a)
    url = f"/deals/registrations/{sourcing.pk}/referral/"
    # find the partner by name in the directory, read its name on the confirmation step ...
    found = client_a.get(url, {"q": "bravo"}).content.decode()
    assert cast.org_b.name in found
    assert f"{url}?partner={cast.org_b.pk}" in found
    confirm = client_a.get(url, {"partner": cast.org_b.pk}).content.decode()
    assert "Confirm the referral" in confirm
    assert f"Refer {cast.org_b.name}" in confirm
    assert not Registration.objects.filter(organisation=cast.org_b).exists()  # not yet
    # ... then confirm
    response = client_a.post(url, {"partner": cast.org_b.pk}, follow=True)
    page = response.content.decode()
    assert "Referral recorded" in page
    assert f"You referred: {cast.org_b.name}." in page

    referred = Registration.objects.get(organisation=cast.org_b)
    client_b = browser_as(cast.member_b)
    page = client_b.get(f"/deals/registrations/{referred.pk}/").content.decode()
    assert "Acknowledge that you are the secondary partner" in page
    assert cast.org_a.name not in page
    response = client_b.post(
        f"/deals/registrations/{referred.pk}/acknowledge/",
        {"statement": "We are secondary on this deal."},
        follow=True,
    )
    assert "Acknowledgement recorded" in response.content.decode()
    referred.refresh_from_db()
    assert referred.status == Registration.Status.APPROVED
    assert referred.acknowledgement == "We are secondary on this deal."


def test_a_referral_page_answers_alike_for_unknown_and_unlisted_partners(cast: Cast) -> None:
    """The directory lists partners in the program; one suspended, or an id that names nobody,
    reads the same on every step, and a confirmation naming it refers nobody."""
    sourcing = approve(cast.gs, register(cast.admin_a, "acme.example"))
    suspended = OrganisationFactory(name="Echo Agency", standing="suspended")
    unknown = suspended.pk + 1000
    client = browser_as(cast.admin_a)
    url = f"/deals/registrations/{sourcing.pk}/referral/"
    assert "Echo Agency" not in client.get(url, {"q": "echo"}).content.decode()
    pages = [client.get(url, {"partner": pk}) for pk in (suspended.pk, unknown)]
    assert [p.status_code for p in pages] == [200, 200]
    # (the CSRF token is masked afresh on every page)
    bodies = [
        re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", p.content.decode()) for p in pages
    ]
    assert bodies[0] == bodies[1]
    assert "No partner in the directory has this reference" in bodies[0]
    answers = [client.post(url, {"partner": pk}) for pk in (suspended.pk, unknown, cast.org_b.pk)]
    assert [a.status_code for a in answers] == [302, 302, 302]
    assert len({a["Location"] for a in answers}) == 1
    assert not Registration.objects.filter(organisation=suspended).exists()
    assert Registration.objects.filter(organisation=cast.org_b).exists()


def test_a_partner_answers_an_inquiry_once(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    inquiry = services.inquiry_ask(actor=cast.gs, registration=mine, question="Who decides?")
    client = browser_as(cast.admin_a)
    page = client.get(f"/deals/registrations/{mine.pk}/").content.decode()
    assert "Who decides?" in page
    assert "awaiting your answer" in page
    blank = client.post(f"/deals/inquiries/{inquiry.pk}/answer/", {"answer": "  "})
    assert blank.status_code == 400
    response = client.post(
        f"/deals/inquiries/{inquiry.pk}/answer/", {"answer": "The CMO."}, follow=True
    )
    assert "Answer sent" in response.content.decode()
    again = client.post(f"/deals/inquiries/{inquiry.pk}/answer/", {"answer": "Again"})
    assert again.status_code == 400
    assert "already been answered" in again.content.decode()
    assert Inquiry.objects.get().answer == "The CMO."


def test_a_tied_partner_reads_awaiting_a_decision_until_ops_decide(cast: Cast) -> None:
    """During an undecided tie each tied partner reads that the credit awaits a decision (not
    "no credit"), in words that name and count no one; once decided, the outcome is final."""
    tie = tied_deal(cast, "tie.example")
    tied_a = Registration.objects.get(deal=tie, organisation=cast.org_a)
    tied_b = Registration.objects.get(deal=tie, organisation=cast.org_b)
    for user, registration in ((cast.admin_a, tied_a), (cast.admin_b, tied_b)):
        page = browser_as(user).get(f"/deals/registrations/{registration.pk}/").content.decode()
        assert "Awaiting a decision" in page
        assert "reviewing who is credited with it" in page
        assert "No credit is recorded for you" not in page
        for other in (cast.org_a, cast.org_b):
            if other != user.organisation:
                assert other.name not in page
        assert "Closed: awaiting a decision" in browser_as(user).get("/deals/").content.decode()
    services.deal_decide(actor=cast.ops, deal=tie, registration_id=tied_b.pk, reason="B onboards")
    lost = browser_as(cast.admin_a).get(f"/deals/registrations/{tied_a.pk}/").content.decode()
    assert "No credit is recorded for you" in lost
    assert cast.org_b.name not in lost
    won = browser_as(cast.admin_b).get(f"/deals/registrations/{tied_b.pk}/").content.decode()
    assert "Credited to you" in won


def test_a_partner_no_decision_can_credit_reads_its_final_outcome_during_a_tie(
    cast: Cast,
) -> None:
    """The provider is on the tied deal without a signed POI: the decision cannot credit it,
    so it reads what any partner reads after a close without credit, and learns of no tie."""
    mine = quoted_deal(cast, "tie.example", with_b=True)
    provider = approve(cast.gs, register(cast.provider_admin, "tie.example"))
    for registration in (mine, Registration.objects.get(deal=mine.deal, organisation=cast.org_b)):
        answer_poi(registration, "approve")
    tie = services.deal_close(
        actor=cast.gs,
        deal=mine.deal,
        purchase_domain="tie.example",
        close_date=timezone.localdate(),
        lines=[services.ClosedLineInput(product_line="marketing_hub")],
    )
    assert tie.status == Deal.Status.AWAITING_DECISION
    page = browser_as(cast.provider_admin).get(f"/deals/registrations/{provider.pk}/")
    text = page.content.decode()
    assert "No credit is recorded for you" in text
    assert "Awaiting a decision" not in text


@pytest.mark.parametrize("inquiries", [1, 20])
def test_registration_page_query_count_is_bounded(
    cast: Cast, inquiries: int, django_assert_max_num_queries: Any
) -> None:
    mine = quoted_deal(cast, "acme.example", with_b=True)
    for _ in range(inquiries):
        InquiryFactory(registration=mine, asked_by=cast.gs)
    client = browser_as(cast.admin_a)
    with django_assert_max_num_queries(14):
        assert client.get(f"/deals/registrations/{mine.pk}/").status_code == 200


# --- Growth specialist: workspace and deal page ----------------------------------------------


def test_gs_approves_from_the_workspace_queue(cast: Cast) -> None:
    pending = register(cast.admin_a, "acme.example")
    client = browser_as(cast.gs)
    page = client.get("/deals/workspace/").content.decode()
    assert cast.org_a.name in page
    assert "acme.example" in page
    response = client.post(
        f"/deals/registrations/{pending.pk}/decide/",
        {"decision": "approve", "note": "Known partner", "from": "workspace"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/deals/workspace/"
    assert f"Approved {cast.org_a.name} on acme.example" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Registration.Status.APPROVED
    assert pending.decision_note == "Known partner"


def test_deciding_twice_shows_the_conflict_and_keeps_the_note(cast: Cast) -> None:
    pending = register(cast.admin_a, "acme.example")
    services.registration_decide(actor=cast.gs, registration=pending, approve=False)
    response = browser_as(cast.gs).post(
        f"/deals/registrations/{pending.pk}/decide/",
        {"decision": "approve", "note": "second try", "from": "deal"},
    )
    assert response.status_code == 400
    assert "already been decided" in response.content.decode()


def test_partner_ops_see_the_workspace_read_only(cast: Cast) -> None:
    register(cast.admin_a, "acme.example")
    page = browser_as(cast.ops).get("/deals/workspace/").content.decode()
    assert cast.org_a.name in page
    assert ">Approve<" not in page
    assert "New vendor-owned deal" not in page


def test_gs_opens_a_vendor_owned_deal_and_invites_a_partner(cast: Cast) -> None:
    client = browser_as(cast.gs)
    duplicate_domain = register(cast.admin_a, "taken.example").registered_domain
    refused = client.post("/deals/new/", _register_form(duplicate_domain))
    assert refused.status_code == 400
    assert "already open" in refused.content.decode()
    response = client.post("/deals/new/", _register_form("vendor.example"), follow=True)
    deal = Deal.objects.get(customer__domain="vendor.example")
    assert deal.vendor_owned
    page = response.content.decode()
    assert 'id="invite"' in page
    response = client.post(f"/deals/{deal.pk}/invite/", {"partner": cast.org_b.pk}, follow=True)
    assert f"{cast.org_b.name} invited" in response.content.decode()
    assert Registration.objects.get(deal=deal).status == Registration.Status.INVITED


def test_gs_writes_a_quote_and_sees_the_poi_links(cast: Cast) -> None:
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    approve(cast.gs, register(cast.admin_b, "acme.example"))
    client = browser_as(cast.gs)
    response = client.post(f"/deals/{mine.deal_id}/quote/", _quote_form(PRO_LINE), follow=True)
    page = response.content.decode()
    assert "Quote version 1 saved. 2 proof-of-involvement links generated" in page
    for poi in Poi.objects.filter(registration__deal=mine.deal):
        assert services.poi_url(poi, base_url=TEST_SERVER) in page
    assert cast.org_a.name in page
    assert cast.org_b.name in page


def test_a_quote_change_shows_history_and_voids_the_signature(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    answer_poi(mine, "approve")
    client = browser_as(cast.gs)
    enterprise = {**PRO_LINE, "edition": "enterprise", "mrr": "1500.00"}
    client.post(f"/deals/{mine.deal_id}/quote/", _quote_form(enterprise))
    page = client.get(f"/deals/{mine.deal_id}/").content.decode()
    assert "version 2" in page
    assert "Earlier versions (1)" in page
    assert Poi.objects.get(registration=mine, status=Poi.Status.VOIDED).status_before_void == (
        "approved"
    )
    assert services.poi_url(live_poi(mine), base_url=TEST_SERVER) in page


def test_an_ineligible_quote_names_the_rule_and_keeps_the_lines(cast: Cast) -> None:
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    starter = {**PRO_LINE, "edition": "starter", "mrr": "45.00"}
    response = browser_as(cast.gs).post(f"/deals/{mine.deal_id}/quote/", _quote_form(starter))
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert f"(program rule: {presenters.RULE_WORDS[Rule.STARTER_ONLY]})" in page
    assert "starter_only" not in page
    assert 'value="45.00"' in page
    assert not QuoteVersion.objects.exists()


def test_a_bad_quote_line_is_flagged_on_its_row(cast: Cast) -> None:
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    discounted = {**PRO_LINE, "discount_pct": "20"}
    blank_row = {"product_line": "", "mrr": ""}
    credits = {"product_line": "credits", "edition": "professional", "mrr": "10", "currency": "USD"}
    client = browser_as(cast.gs)
    response = client.post(f"/deals/{mine.deal_id}/quote/", _quote_form(blank_row, discounted))
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert f"(program rule: {presenters.RULE_WORDS[Rule.DISCOUNT_NOT_APPROVED]})" in page
    assert "discount_not_approved" not in page
    response = client.post(f"/deals/{mine.deal_id}/quote/", _quote_form(PRO_LINE, credits))
    assert response.status_code == 400
    assert "has no editions" in response.content.decode()
    negative = {**PRO_LINE, "mrr": "-5"}
    response = client.post(f"/deals/{mine.deal_id}/quote/", _quote_form(negative))
    assert response.status_code == 400
    assert not QuoteVersion.objects.exists()


def test_add_a_line_and_remove_a_line(cast: Cast) -> None:
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    client = browser_as(cast.gs)
    data = _quote_form(PRO_LINE)
    response = client.post(f"/deals/{mine.deal_id}/quote/", {**data, "add_line": "1"})
    assert response.status_code == 200
    assert response.content.decode().count('class="quote-line"') == 2
    assert not QuoteVersion.objects.exists()
    sales = {**PRO_LINE, "product_line": "sales_hub", "DELETE": "on"}
    client.post(f"/deals/{mine.deal_id}/quote/", _quote_form(PRO_LINE, sales))
    assert list(QuoteVersion.objects.get().lines.values_list("product_line_id", flat=True)) == [
        "marketing_hub"
    ]


def test_gs_asks_a_partner_and_sees_due_time_and_breach(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    client = browser_as(cast.gs)
    response = client.post(
        f"/deals/registrations/{mine.pk}/inquiries/", {"question": "Budget?"}, follow=True
    )
    assert "Question sent" in response.content.decode()
    assert "awaiting answer" in response.content.decode()
    late = InquiryFactory(
        registration=mine, asked_by=cast.gs, asked_at=timezone.now() - timedelta(days=10)
    )
    page = client.get(f"/deals/{mine.deal_id}/").content.decode()
    assert "overdue" in page
    services.inquiry_answer(actor=cast.admin_a, inquiry=late, answer="Sorry, late.")
    page = client.get(f"/deals/{mine.deal_id}/").content.decode()
    assert "breach: answered late" in page


def _previewed(page: str) -> str:
    found = re.search(r'name="previewed" value="([0-9a-f]+)"', page)
    assert found, "no preview on the page"
    return found.group(1)


def test_gs_previews_the_close_then_confirms_and_sees_the_resolution_explained(
    cast: Cast,
) -> None:
    mine = quoted_deal(cast, "acme.example", with_b=True)
    answer_poi(mine, "approve")
    client = browser_as(cast.gs)
    close = {
        "purchase_domain": "acme.example",
        "close_date": timezone.localdate().isoformat(),
        "mrr_marketing_hub": "800.00",
    }
    refused = client.post(f"/deals/{mine.deal_id}/close/", close)
    assert refused.status_code == 400
    assert "Tick at least one purchased line" in refused.content.decode()
    # the first answer is the preview: what Best Partner Wins would decide, nothing written
    close["buy_marketing_hub"] = "on"
    preview = client.post(f"/deals/{mine.deal_id}/close/", close)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "If you close now" in page
    assert "Single candidate" in page
    assert re.search(r'id="preview-winner">\s*' + re.escape(cast.org_a.name), page)
    assert "its proof of involvement was not approved by the customer" in page
    assert "Confirm and close deal as won" in page
    assert Deal.objects.get(pk=mine.deal_id).status == Deal.Status.OPEN
    # the confirmation closes exactly what was shown
    response = client.post(
        f"/deals/{mine.deal_id}/close/",
        {**close, "confirm": "1", "previewed": _previewed(page)},
        follow=True,
    )
    page = response.content.decode()
    assert "Deal closed." in page
    assert "single_candidate" in page
    assert "One partner eligible for sold credit has a proof of involvement approved" in page
    assert "Not candidates" in page
    assert "was not approved by the customer" in page
    assert Deal.objects.get(pk=mine.deal_id).winner_id == mine.pk


def test_confirming_a_close_that_changed_since_its_preview_shows_the_new_preview(
    cast: Cast,
) -> None:
    mine = quoted_deal(cast, "acme.example", with_b=True)
    client = browser_as(cast.gs)
    close = {
        "purchase_domain": "acme.example",
        "close_date": timezone.localdate().isoformat(),
        "buy_marketing_hub": "on",
        "mrr_marketing_hub": "800.00",
    }
    previewed = _previewed(client.post(f"/deals/{mine.deal_id}/close/", close).content.decode())
    # the customer signs A's POI after the GS read "no candidate": the outcome changed
    answer_poi(mine, "approve")
    again = client.post(
        f"/deals/{mine.deal_id}/close/", {**close, "confirm": "1", "previewed": previewed}
    )
    page = again.content.decode()
    assert again.status_code == 200
    assert "changed since the preview you confirmed" in page
    assert "Single candidate" in page
    assert Deal.objects.get(pk=mine.deal_id).status == Deal.Status.OPEN
    # a forged or stale fingerprint never closes either
    forged = client.post(
        f"/deals/{mine.deal_id}/close/", {**close, "confirm": "1", "previewed": "0" * 32}
    )
    assert forged.status_code == 200
    assert Deal.objects.get(pk=mine.deal_id).status == Deal.Status.OPEN
    closed = client.post(
        f"/deals/{mine.deal_id}/close/", {**close, "confirm": "1", "previewed": _previewed(page)}
    )
    assert closed.status_code == 302
    assert Deal.objects.get(pk=mine.deal_id).winner_id == mine.pk


def test_a_close_dated_before_the_deal_opened_is_refused_on_the_field(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    response = browser_as(cast.gs).post(
        f"/deals/{mine.deal_id}/close/",
        {
            "purchase_domain": "acme.example",
            "close_date": "2019-06-30",
            "buy_marketing_hub": "on",
            "mrr_marketing_hub": "800.00",
        },
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "The close date is before the deal opened on" in page
    assert f"(program rule: {presenters.RULE_WORDS[Rule.CLOSE_DATE_BEFORE_OPENING]})" in page
    assert "close_date_before_opening" not in page
    assert 'value="2019-06-30"' in page  # the input is kept
    assert Deal.objects.get(pk=mine.deal_id).status == Deal.Status.OPEN


def test_a_foreign_purchase_domain_is_closed_only_with_a_reason(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    client = browser_as(cast.gs)
    close = {
        "purchase_domain": "unrelated.example",
        "close_date": timezone.localdate().isoformat(),
        "buy_marketing_hub": "on",
        "mrr_marketing_hub": "800.00",
    }
    refused = client.post(f"/deals/{mine.deal_id}/close/", close)
    assert refused.status_code == 400
    assert "unrelated.example is not a domain registered on this deal" in refused.content.decode()
    reason = "Bought through the parent company."
    preview = client.post(
        f"/deals/{mine.deal_id}/close/", {**close, "domain_mismatch_reason": reason}
    ).content.decode()
    assert "Your reason is recorded with the close" in preview
    response = client.post(
        f"/deals/{mine.deal_id}/close/",
        {
            **close,
            "domain_mismatch_reason": reason,
            "confirm": "1",
            "previewed": _previewed(preview),
        },
    )
    assert response.status_code == 302
    deal = Deal.objects.get(pk=mine.deal_id)
    assert (deal.status, deal.purchase_domain) == (Deal.Status.WON, "unrelated.example")
    event = AuditEvent.objects.get(verb="deals.deal.closed")
    assert event.data["domain_mismatch_reason"] == reason


def test_an_expected_close_date_beyond_the_horizon_is_refused_on_the_field(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    client = browser_as(cast.gs)
    page = client.get(f"/deals/{mine.deal_id}/").content.decode()
    latest = timezone.localdate() + timedelta(days=730)
    assert f'max="{latest.isoformat()}"' in page  # the date picker offers the horizon only
    response = client.post(
        f"/deals/{mine.deal_id}/quote/", _quote_form(PRO_LINE, close="9999-12-31")
    )
    assert response.status_code == 400
    assert "The expected close date is more than 730 days away" in response.content.decode()
    assert QuoteVersion.objects.filter(deal=mine.deal).count() == 1


def test_a_close_with_a_future_date_is_refused_on_the_field(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    response = browser_as(cast.gs).post(
        f"/deals/{mine.deal_id}/close/",
        {
            "purchase_domain": "acme.example",
            "close_date": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "buy_marketing_hub": "on",
            "mrr_marketing_hub": "800.00",
        },
    )
    assert response.status_code == 400
    assert "future date" in response.content.decode()
    assert Deal.objects.get(pk=mine.deal_id).status == Deal.Status.OPEN


@pytest.mark.parametrize("partners", [2, 15])
def test_deal_page_query_count_is_bounded(
    cast: Cast, partners: int, django_assert_max_num_queries: Any
) -> None:
    mine = quoted_deal(cast, "acme.example")
    for _ in range(partners):
        other = RegistrationFactory(deal=mine.deal, organisation=OrganisationFactory())
        InquiryFactory(registration=other, asked_by=cast.gs)
    services.quote_save(actor=cast.gs, deal=mine.deal, lines=QUOTE)
    client = browser_as(cast.gs)
    with django_assert_max_num_queries(26):
        assert client.get(f"/deals/{mine.deal_id}/").status_code == 200


@pytest.mark.parametrize("size", [2, 30])
def test_workspace_query_count_is_bounded(
    cast: Cast, size: int, django_assert_max_num_queries: Any
) -> None:
    for _ in range(size):
        RegistrationFactory(status="pending_approval", deal__growth_specialist=cast.gs)
        RegistrationFactory(deal__growth_specialist=cast.gs)
    for who in (cast.gs, cast.ops):
        client = browser_as(who)
        # User, second factor, requests' count and page, open deals' count and page, ties'
        # count (ops), countries (for the blank form, when its rendering is not cached yet).
        with django_assert_max_num_queries(8):
            assert client.get("/deals/workspace/").status_code == 200


# --- Partner ops: ties -----------------------------------------------------------------------


def test_ops_decide_a_tie_with_a_reason(cast: Cast) -> None:
    tie = tied_deal(cast, "tie.example")
    chosen = Registration.objects.get(deal=tie, organisation=cast.org_b)
    client = browser_as(cast.ops)
    page = client.get("/deals/ties/").content.decode()
    assert cast.org_a.name in page
    assert cast.org_b.name in page
    no_reason = client.post(
        f"/deals/{tie.pk}/decide/", {"registration": chosen.pk, "reason": "", "from": "ties"}
    )
    assert no_reason.status_code == 400
    assert "This field is required" in no_reason.content.decode()
    response = client.post(
        f"/deals/{tie.pk}/decide/",
        {"registration": chosen.pk, "reason": "Bravo onboards the team", "from": "ties"},
        follow=True,
    )
    assert f"{cast.org_b.name} is credited on tie.example" in response.content.decode()
    assert "No ties waiting" in response.content.decode()
    page = client.get(f"/deals/{tie.pk}/").content.decode()
    assert "Decided by partner ops" in page
    assert "Bravo onboards the team" in page


def test_a_registration_not_tied_cannot_be_chosen(cast: Cast) -> None:
    tie = tied_deal(cast, "tie.example")
    response = browser_as(cast.ops).post(
        f"/deals/{tie.pk}/decide/", {"registration": "999999", "reason": "Because", "from": "deal"}
    )
    assert response.status_code == 400
    assert Deal.objects.get(pk=tie.pk).status == Deal.Status.AWAITING_DECISION


@pytest.mark.parametrize("size", [1, 8])
def test_ties_query_count_is_bounded(
    cast: Cast, size: int, django_assert_max_num_queries: Any
) -> None:
    for n in range(size):
        tied_deal(cast, f"tie{n}.example")
    client = browser_as(cast.ops)
    with django_assert_max_num_queries(10):
        assert client.get("/deals/ties/").status_code == 200


# --- Every page ------------------------------------------------------------------------------


def test_forms_refuse_a_post_without_the_csrf_token(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.admin_a, backend="partnerportal.core.auth.ModelBackend")
    assert client.post("/deals/", _register_form()).status_code == 403
    assert "csrfmiddlewaretoken" in client.get("/deals/").content.decode()


@pytest.mark.parametrize(
    ("who", "links"),
    [
        ("admin_a", ["My deals"]),
        ("gs", ["Deals workspace"]),
        ("ops", ["Deals workspace", "Ties to decide"]),
        ("finance", []),
    ],
)
def test_the_nav_links_each_role_to_its_deal_pages(cast: Cast, who: str, links: list[str]) -> None:
    # (a growth specialist's Home is the workspace: the redirect is followed)
    page = browser_as(cast.people()[who]).get("/", follow=True).content.decode()
    for label in ("My deals", "Deals workspace", "Ties to decide"):
        assert (f">{label}</a>" in page) == (label in links), label


def test_garbage_input_is_a_400_never_a_500(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    tie = tied_deal(cast, "tie.example")
    gs, ops, partner = browser_as(cast.gs), browser_as(cast.ops), browser_as(cast.admin_a)
    garbage = {"lines-TOTAL_FORMS": "x", "lines-0-mrr": "1e999", "close_date": "31/02/2026"}
    for client, url, data in [
        (gs, f"/deals/{mine.deal_id}/quote/", {}),
        (gs, f"/deals/{mine.deal_id}/quote/", garbage),
        (gs, f"/deals/{mine.deal_id}/close/", garbage),
        (
            gs,
            f"/deals/{mine.deal_id}/close/",
            {"buy_marketing_hub": "on", "mrr_marketing_hub": "-1"},
        ),
        (gs, f"/deals/{mine.deal_id}/invite/", {"partner": "nope"}),
        (gs, "/deals/new/", {"customer_domain": "a" * 400, "country": "ZZ"}),
        (gs, f"/deals/registrations/{mine.pk}/decide/", {"decision": "maybe"}),
        (gs, f"/deals/registrations/{mine.pk}/inquiries/", {}),
        (ops, f"/deals/{tie.pk}/decide/", {"registration": "x", "reason": "r", "from": "ties"}),
        (partner, "/deals/", {"customer_domain": "acme.example", "country": "GB"}),
        (partner, f"/deals/registrations/{mine.pk}/poi/", {"lines": ["nope"]}),
        (partner, f"/deals/registrations/{mine.pk}/referral/", {"partner": "-3"}),
        (partner, f"/deals/registrations/{mine.pk}/acknowledge/", {"statement": "x"}),
        (partner, f"/deals/registrations/{mine.pk}/accept/", {}),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400, (url, data, response.status_code)


def test_the_deal_pages_render_no_inline_script_or_style(cast: Cast) -> None:
    """What the browser gets, forms and widgets rendered: nothing a strict CSP would block
    (the templates are checked one by one in test_architecture.py)."""
    from .test_architecture import INLINE

    mine = quoted_deal(cast, "acme.example", with_b=True)
    partner = browser_as(cast.admin_a)
    staff = browser_as(cast.gs)
    pages = [
        partner.get("/deals/"),
        partner.get(f"/deals/registrations/{mine.pk}/"),
        partner.get(f"/deals/registrations/{mine.pk}/referral/", {"q": "bravo"}),
        partner.get(f"/deals/registrations/{mine.pk}/referral/", {"partner": cast.org_b.pk}),
        staff.get("/deals/workspace/"),
        staff.get(f"/deals/{mine.deal_id}/"),
        staff.post(
            f"/deals/{mine.deal_id}/close/",
            {
                "purchase_domain": "acme.example",
                "close_date": timezone.localdate().isoformat(),
                "buy_marketing_hub": "on",
                "mrr_marketing_hub": "800.00",
            },
        ),
    ]
    for response in pages:
        assert response.status_code == 200
        assert INLINE.findall(response.content.decode()) == [], response.request["PATH_INFO"]
    assert 'src="/static/js/deals-copy.js"' in pages[1].content.decode()
