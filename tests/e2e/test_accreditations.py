"""Accreditations in a real browser: a partner admin applies for an accreditation it does
not meet and reads the reasons of the rejection; then, certified and Platinum, applies again
and sees it active with its expiry."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accreditations.tests.helpers import certify
from partnerportal.core.models import Organisation
from tests.cast import Cast

from .test_tier_page import sign_in

pytestmark = pytest.mark.browser


def test_a_partner_admin_applies_and_sees_the_reasons_of_a_rejection(
    live_server, page: Page, live_cast: Cast
) -> None:
    cast = live_cast
    certify(cast.org_a, "solutions_partner")  # Gold, without the CRM Implementation cert.
    Organisation.objects.filter(pk=cast.org_a.pk).update(tier="gold")

    sign_in(page, live_server.url, cast.admin_a)
    page.get_by_role("link", name="Accreditations", exact=True).click()
    section = page.locator("#kind-crm_implementation")
    expect(section.locator(".missing")).to_contain_text("below Platinum")
    section.get_by_role("button", name="Apply for CRM Implementation").click()

    expect(page.locator(".messages")).to_contain_text("your application was rejected")
    section = page.locator("#kind-crm_implementation")
    expect(section.locator(".status")).to_have_text("Rejected")
    reasons = section.locator(".reasons")
    expect(reasons).to_contain_text("The partner's tier is below Platinum.")
    expect(reasons).to_contain_text(
        "No current member of the team holds the CRM Implementation certification."
    )
    expect(reasons).not_to_contain_text("below_platinum")

    # Certified and Platinum, it applies again and is accredited for two years.
    certify(cast.org_a, "crm_implementation", holder="lead@alpha.example")
    Organisation.objects.filter(pk=cast.org_a.pk).update(tier="platinum")
    page.reload()
    page.locator("#kind-crm_implementation").get_by_role(
        "button", name="Apply for CRM Implementation"
    ).click()
    section = page.locator("#kind-crm_implementation")
    expect(section.locator(".status")).to_have_text("Active")
    expect(section).to_contain_text("valid until")
    expect(section.get_by_role("button")).to_have_count(0)
