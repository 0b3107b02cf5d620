"""The escalation journey in a real browser: partner ops raise a complaint and take it through
all four steps to a mark on record (staff-only and partner-visible notes on the way); the
partner's pages then show the mark and the partner-visible notes only."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from escalations.models import Escalation, Mark
from tests.cast import Cast

from .test_deal_journeys import sign_in

pytestmark = pytest.mark.browser

STAFF_NOTE = "Staff only: invoices look padded"
SHARED_NOTES = [
    "Please send the customer a remediation plan",
    "Mediation failed: the customer refused the credit",
    "Partner ops found the partner at fault",
    "The board gives a mark on record",
]


def test_partner_ops_take_a_complaint_to_a_mark_and_the_partner_sees_it(
    live_server, page: Page, live_cast: Cast
) -> None:
    cast = live_cast
    sign_in(page, live_server.url, cast.ops)
    page.get_by_role("link", name="Escalations").click()
    expect(page.locator("h1")).to_have_text("Escalations")
    page.get_by_role("link", name="Raise a complaint").click()
    page.get_by_label("Partner", exact=True).select_option(label=cast.org_a.name)
    page.get_by_label("Customer domain").fill("https://www.Fabrikam.example/")
    page.get_by_label("What the customer complains of").fill("Onboarding never happened.")
    page.get_by_label("Note", exact=True).fill(STAFF_NOTE)
    page.get_by_role("button", name="Open the escalation").click()
    expect(page.locator("#case-where")).to_have_text("Complaint")
    expect(page.locator(".note-staff").first).to_contain_text("Staff only")

    # Forward through the steps, each with a partner-visible note; only allowed buttons show.
    for button, note, where in [
        ("Not resolved: go to mediation", SHARED_NOTES[0], "Mediation"),
        ("No agreement: escalate to partner ops", SHARED_NOTES[1], "Partner ops escalation"),
        (
            "The partner is at fault: send to the review board",
            SHARED_NOTES[2],
            "Mark on record review board",
        ),
    ]:
        moves = page.locator("#moves button")
        expect(moves).to_have_count(2)
        page.get_by_label("Note", exact=True).fill(note)
        page.get_by_label("The partner may read this note").check()
        page.get_by_role("button", name=button).click()
        expect(page.locator("#case-where")).to_have_text(where)

    expect(
        page.get_by_role("button", name="Mark on record: close the case", exact=True)
    ).to_be_visible()
    page.get_by_label("Note", exact=True).fill(SHARED_NOTES[3])
    page.get_by_label("The partner may read this note").check()
    # The board needs the director's approval: refused without it, on the page.
    page.get_by_role("button", name="Mark on record: close the case", exact=True).click()
    expect(page.locator("#moves")).to_contain_text("records the approving director")
    page.get_by_label("Approving director").fill("Dana Director")
    page.get_by_label("Note", exact=True).fill(SHARED_NOTES[3])
    page.get_by_label("The partner may read this note").check()
    page.get_by_role("button", name="Mark on record: close the case", exact=True).click()
    expect(page.locator("#case-where")).to_have_text("Closed: Mark on record")
    expect(page.locator("#moves")).to_have_count(0)
    expect(page.locator("#timeline li")).to_have_count(5)
    case = Escalation.objects.get()
    assert Mark.objects.get().escalation_id == case.pk
    page.screenshot(path="test-results/escalation-ops-mark.png", full_page=True)

    # The partner: its marks page shows the mark; the case shows partner-visible notes only.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, cast.admin_a)
    page.get_by_role("link", name="Escalations").click()
    expect(page.locator("h1")).to_have_text("Your escalations")
    page.get_by_role("link", name="Your marks on record").click()
    expect(page.locator("#marks")).to_contain_text(f"Escalation {case.pk}")
    page.locator("#marks").get_by_role("link", name=f"Escalation {case.pk}").click()
    expect(page.locator("#case-where")).to_have_text("Closed: Mark on record")
    for note in SHARED_NOTES:
        expect(page.locator("#timeline")).to_contain_text(note)
    expect(page.locator("body")).not_to_contain_text(STAFF_NOTE)
    expect(page.locator("body")).not_to_contain_text("Onboarding never happened")
    expect(page.locator("body")).not_to_contain_text(cast.ops.email)
    expect(page.locator(".note-staff")).to_have_count(0)
    page.screenshot(path="test-results/escalation-partner-mark.png", full_page=True)
