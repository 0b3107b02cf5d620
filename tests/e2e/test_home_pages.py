"""A partner and a growth specialist sign in through the real sign-in form and see their
home pages."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.cast import Cast, current_totp_code
from tests.factories import (
    TEST_PASSWORD,
    ActivityFactory,
    CustomerFactory,
    SubscriptionVersionFactory,
)

pytestmark = pytest.mark.browser


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def test_partner_signs_in_and_sees_its_home_page(live_server, page: Page, live_cast: Cast) -> None:
    cast = live_cast
    customer = CustomerFactory(domain="acme-retail.co.uk", name="Acme Retail")
    SubscriptionVersionFactory(subscription__customer=customer, effective_from=date(2025, 1, 1))
    ActivityFactory(organisation=cast.org_a, customer=customer)
    sign_in(page, live_server.url, cast.admin_a.email)
    expect(page.locator("#organisation h1")).to_have_text(cast.org_a.name)
    expect(page.locator("#customers")).to_contain_text("Acme Retail")
    expect(page.locator("#customers")).to_contain_text("Marketing Hub")
    expect(page.locator("body")).not_to_contain_text(cast.org_b.name)
    page.screenshot(path="test-results/partner-home.png", full_page=True)


def test_growth_specialist_signs_in_with_a_second_factor_and_sees_partners(
    live_server, page: Page, live_cast: Cast
) -> None:
    cast = live_cast
    sign_in(page, live_server.url, cast.gs.email)
    expect(page.locator("h1")).to_have_text("Two-Factor Authentication")
    page.locator("input[name=code]").fill(current_totp_code())
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator("h1")).to_have_text("Partners")
    expect(page.locator("#partners")).to_contain_text(cast.org_a.name)
    expect(page.locator("#partners")).to_contain_text(cast.org_b.name)
    page.screenshot(path="test-results/gs-home.png", full_page=True)
