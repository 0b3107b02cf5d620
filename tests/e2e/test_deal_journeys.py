"""The deal journeys in a real browser, one per role: a partner registers a deal and answers
a question; a growth specialist approves, quotes and sees the POI link; the customer answers
the link (once); the GS closes and reads why the credit went where it went; partner ops decide
a tie. What a journey does not exercise is set up through the services."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from deals import services
from deals.models import Deal, Poi, Registration
from deals.tests.test_access_pages import answer_poi, approve, quoted_deal, register, tied_deal
from partnerportal.core.models import User
from tests.cast import Cast, current_totp_code
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Page, base_url: str, user: User) -> None:
    """The real sign-in form; staff then give their second factor."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if user.is_program_staff:
        expect(page.locator("h1")).to_have_text("Two-Factor Authentication")
        page.locator("input[name=code]").fill(current_totp_code())
        page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def on_live_server(link: str, base_url: str) -> str:
    """The POI link as sent (on PORTAL_BASE_URL), opened on the test server."""
    return base_url + urlsplit(link).path


def test_partner_registers_a_deal(live_server, page: Page, live_cast: Cast) -> None:
    cast = live_cast
    sign_in(page, live_server.url, cast.member_a)
    page.get_by_role("link", name="My deals").click()
    expect(page.locator("h1")).to_have_text("My deals")
    page.get_by_label("Customer domain").fill("https://www.Acme-Retail.co.uk/")
    page.get_by_label("Customer name").fill("Acme Retail")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_label("Segment").select_option(label="Mid-market")
    page.get_by_role("button", name="Register deal").click()

    expect(page.locator(".messages")).to_contain_text("Deal registered on acme-retail.co.uk")
    expect(page.locator("h1")).to_have_text("acme-retail.co.uk")
    expect(page.locator("#registration-status")).to_have_text("Awaiting GS approval")
    expect(page.locator("#next-step")).to_contain_text("growth specialist")
    # A second registration on the same domain is refused on the form, input kept.
    page.get_by_role("link", name="My deals").first.click()
    expect(page.locator("#my-deals")).to_contain_text("acme-retail.co.uk")
    page.get_by_label("Customer domain").fill("acme-retail.co.uk")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_role("button", name="Register deal").click()
    expect(page.locator("#register")).to_contain_text(
        "(program rule: one open deal per partner and customer domain)"
    )
    expect(page.locator("#register")).not_to_contain_text("duplicate_registration")
    expect(page.get_by_label("Customer domain")).to_have_value("acme-retail.co.uk")
    expect(page.locator("body")).not_to_contain_text(cast.org_b.name)
    page.screenshot(path="test-results/deal-partner-registers.png", full_page=True)


def test_gs_approves_writes_a_quote_and_sees_the_poi_link(
    live_server, page: Page, live_cast: Cast
) -> None:
    cast = live_cast
    pending = register(cast.admin_a, "acme.example")
    sign_in(page, live_server.url, cast.gs)
    page.get_by_role("link", name="Deals workspace").click()
    row = page.locator(f"#request-{pending.pk}")
    expect(row).to_contain_text(cast.org_a.name)
    row.get_by_label("Note").fill("Known partner in the region")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text(f"Approved {cast.org_a.name}")
    expect(page.locator("#queue")).to_contain_text("No requests waiting")

    page.locator("#open-deals").get_by_role("link", name="acme.example").click()
    expect(page.locator(f"#registration-{pending.pk}")).to_contain_text("Approved")
    editor = page.locator("#quote-editor")
    line = editor.locator("tr.quote-line").first
    line.locator("select[name$=product_line]").select_option(label="Marketing Hub")
    line.locator("select[name$=edition]").select_option(label="Professional")
    line.locator("input[name$=seats]").fill("3")
    line.locator("input[name$=mrr]").fill("800.00")
    line.locator("select[name$=currency]").select_option("USD")
    editor.get_by_role("button", name="Save quote").click()

    expect(page.locator(".messages")).to_contain_text(
        "Quote version 1 saved. 1 proof-of-involvement link generated"
    )
    link = page.get_by_label(f"POI link for {cast.org_a.name}")
    expect(link).to_have_value(
        services.poi_url(Poi.objects.get(registration=pending), base_url=live_server.url)
    )
    expect(page.locator("#quote-current")).to_contain_text("Marketing Hub")
    page.screenshot(path="test-results/deal-gs-quote.png", full_page=True)


def test_customer_approves_through_the_poi_link_and_a_used_link_is_explained(
    live_server, page: Page, browser: Browser, live_cast: Cast
) -> None:
    cast = live_cast
    mine = quoted_deal(cast, "acme.example")
    # The partner copies its link from its deal page ...
    sign_in(page, live_server.url, cast.admin_a)
    page.goto(f"{live_server.url}/deals/registrations/{mine.pk}/")
    link = page.get_by_label("Link to send to the customer").input_value()

    # ... and the customer, with no account, opens it.
    customer = browser.new_page()
    customer.goto(on_live_server(link, live_server.url))
    expect(customer.locator("h1")).to_have_text(
        f"Is {cast.org_a.name} helping you with this purchase?"
    )
    expect(customer.locator("table")).to_contain_text("Marketing Hub")
    customer.get_by_role("button", name=f"Yes, {cast.org_a.name} is involved").click()
    expect(customer.locator("h1")).to_contain_text(f"you confirmed {cast.org_a.name}")
    customer.goto(on_live_server(link, live_server.url))
    expect(customer.locator("h1")).to_have_text("Already answered")
    expect(customer.locator("body")).to_contain_text("already been answered")
    customer.screenshot(path="test-results/deal-poi-used.png", full_page=True)
    customer.close()

    page.reload()
    expect(page.locator("#poi-status")).to_have_text("Approved by the customer")
    expect(page.get_by_label("Link to send to the customer")).to_have_count(0)


def test_gs_closes_and_sees_the_resolution_explained(
    live_server, page: Page, live_cast: Cast
) -> None:
    cast = live_cast
    mine = quoted_deal(cast, "acme.example", with_b=True)
    answer_poi(mine, "approve")
    sign_in(page, live_server.url, cast.gs)
    page.goto(f"{live_server.url}/deals/{mine.deal_id}/")
    close = page.locator("#close")
    expect(close.get_by_label("Purchase domain")).to_have_value("acme.example")
    expect(close.get_by_label("Close date")).to_have_value(timezone.localdate().isoformat())
    expect(close.get_by_label("Marketing Hub", exact=True)).to_be_checked()
    # Issue 10: a close is previewed (the same rules, nothing written), then confirmed.
    close.get_by_role("button", name="Preview the close").click()
    preview = page.locator("#close-preview")
    expect(preview.locator("#preview-rule")).to_contain_text("Single candidate")
    expect(preview.locator("#preview-winner")).to_contain_text(cast.org_a.name)
    expect(page.locator("#deal-status")).to_have_text("Open")
    preview.get_by_role("button", name="Confirm and close deal as won").click()

    resolution = page.locator("#resolution")
    expect(page.locator("#deal-status")).to_have_text("Closed won")
    expect(page.locator("#resolution-rule")).to_contain_text("Single candidate")
    expect(page.locator("#resolution-winner")).to_contain_text(cast.org_a.name)
    expect(page.locator("#resolution-explanation")).to_contain_text(
        "One partner eligible for sold credit has a proof of involvement approved"
    )
    expect(page.locator("#resolution-excluded")).to_contain_text(cast.org_b.name)
    expect(page.locator("#resolution-excluded")).to_contain_text("not approved by the customer")
    expect(resolution).to_contain_text("Credited")
    page.screenshot(path="test-results/deal-gs-resolution.png", full_page=True)


def test_ops_decide_a_tie(live_server, page: Page, live_cast: Cast) -> None:
    cast = live_cast
    tie = tied_deal(cast, "tie.example")
    chosen = Registration.objects.get(deal=tie, organisation=cast.org_b)
    sign_in(page, live_server.url, cast.ops)
    page.get_by_role("link", name="Ties to decide").click()
    card = page.locator(f"#tie-{tie.pk}")
    expect(card).to_contain_text(cast.org_a.name)
    expect(card).to_contain_text(cast.org_b.name)
    card.get_by_role("button", name="Record the decision").click()
    # Nothing chosen, no reason: the browser asks for both before anything is sent.
    expect(card.locator("textarea:invalid")).to_have_count(1)
    assert Deal.objects.get(pk=tie.pk).status == Deal.Status.AWAITING_DECISION
    card.get_by_label(cast.org_b.name, exact=False).check()
    card.get_by_label("Reason").fill("Bravo runs the onboarding workshops.")
    card.get_by_role("button", name="Record the decision").click()

    expect(page.locator(".messages")).to_contain_text(f"{cast.org_b.name} is credited")
    expect(page.locator("body")).to_contain_text("No ties waiting")
    page.goto(f"{live_server.url}/deals/{tie.pk}/")
    expect(page.locator("#resolution-rule")).to_contain_text("Decided by partner ops")
    expect(page.locator("#resolution-winner")).to_contain_text(cast.org_b.name)
    expect(page.locator("#resolution")).to_contain_text("Bravo runs the onboarding workshops.")
    assert Deal.objects.get(pk=tie.pk).winner_id == chosen.pk
    page.screenshot(path="test-results/deal-ops-tie.png", full_page=True)


def test_partner_answers_an_inquiry(live_server, page: Page, live_cast: Cast) -> None:
    cast = live_cast
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    services.inquiry_ask(actor=cast.gs, registration=mine, question="Who signs at the customer?")
    sign_in(page, live_server.url, cast.admin_a)
    page.get_by_role("link", name="My deals").click()
    expect(page.locator("#my-deals")).to_contain_text("1 to answer")
    page.locator("#my-deals").get_by_role("link", name="1 to answer").click()
    inquiries = page.locator("#inquiries")
    expect(inquiries).to_contain_text("Who signs at the customer?")
    inquiries.get_by_role("button", name="Send answer").click()
    expect(inquiries.locator("textarea:invalid")).to_have_count(1)
    inquiries.get_by_label("Your answer").fill("Dana Reyes, the COO.")
    inquiries.get_by_role("button", name="Send answer").click()
    expect(page.locator(".messages")).to_contain_text("Answer sent")
    expect(page.locator("#inquiries blockquote")).to_have_text("Dana Reyes, the COO.")
    expect(page.locator("body")).not_to_contain_text(cast.org_b.name)
    page.screenshot(path="test-results/deal-partner-inquiry.png", full_page=True)
